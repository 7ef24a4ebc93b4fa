package notify

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
)

// A Mail is a message other than the daily briefing: an alert to the
// maintainer, a note or digest to a client. The caller renders both parts;
// ComposeMail makes the headers safe and builds the MIME message the same
// way as the briefing's.
type Mail struct {
	From string   // "reciprocal <me@example.com>"
	To   []string // addresses, "Jane Roe <jane@acme.example>" allowed
	Cc   []string
	// Subject may carry tracker text: it is made one bounded line.
	Subject string
	// Name gives the Message-ID: name.reciprocal@domain-of-From. Only
	// letters, digits, '.', '-' and '_' are kept.
	Name string
	Date time.Time
	// InReplyTo, if set, is the Message-ID (without brackets) this one
	// follows up: it sets In-Reply-To and References, so that mail
	// clients thread the follow-up under the first message.
	InReplyTo string
	Text      string // the plain text part, already safe
	HTML      string // the HTML part, already escaped
	// Auto marks the message Auto-Submitted (mail the program sends by
	// itself, like alerts); notes a person reviewed and sent are not.
	Auto bool
}

// ComposeMail builds m as a multipart/alternative message. The same Mail
// always gives the same bytes.
func ComposeMail(m Mail) (*Message, error) {
	if m.Date.IsZero() {
		return nil, errors.New("notify: compose: the message has no date")
	}
	from, err := parseAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("notify: compose: from %q: %w", m.From, err)
	}
	addrs := func(list []string, what string) ([]*mail.Address, error) {
		var out []*mail.Address
		for _, s := range list {
			a, err := parseAddress(s)
			if err != nil {
				return nil, fmt.Errorf("notify: compose: %s %q: %w", what, oneLine(s), err)
			}
			out = append(out, a)
		}
		return out, nil
	}
	to, err := addrs(m.To, "to")
	if err != nil {
		return nil, err
	}
	cc, err := addrs(m.Cc, "cc")
	if err != nil {
		return nil, err
	}
	if len(to) == 0 {
		return nil, errors.New("notify: compose: no recipient")
	}
	msg := &Message{
		Date:      DateOf(m.Date),
		MessageID: MessageIDFor(m.Name, from.Address),
		Subject:   headerValue(m.Subject),
		From:      from.Address,
		Text:      m.Text,
	}
	for _, a := range append(to, cc...) {
		msg.To = append(msg.To, a.Address)
	}
	var h mail.Header
	h.SetDate(m.Date)
	h.SetAddressList("From", []*mail.Address{from})
	h.SetAddressList("To", to)
	if len(cc) > 0 {
		h.SetAddressList("Cc", cc)
	}
	h.SetSubject(msg.Subject)
	h.SetMessageID(msg.MessageID)
	if m.InReplyTo != "" {
		ref := "<" + idName(m.InReplyTo) + ">"
		h.Set("In-Reply-To", ref)
		h.Set("References", ref)
	}
	if m.Auto {
		h.Set("Auto-Submitted", "auto-generated")
	}
	msg.Raw, err = buildMIME(h, m.Text, m.HTML)
	if err != nil {
		return nil, fmt.Errorf("notify: compose: %w", err)
	}
	return msg, nil
}

// MessageIDFor returns the Message-ID (without angle brackets) of the
// message called name sent from address: name.reciprocal@domain.
func MessageIDFor(name, address string) string {
	_, domain, _ := strings.Cut(address, "@")
	return idName(name) + ".reciprocal@" + idDomain(domain)
}

// idName keeps the characters a Message-ID's left part may safely hold.
func idName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_', r == '@':
			return r
		}
		return -1
	}, s)
	if s = strings.Trim(s, ".-@"); s == "" {
		return "message"
	}
	return s
}

// idDomain keeps the characters of a domain, lower-cased; localhost when
// nothing is left.
func idDomain(domain string) string {
	domain = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return -1
	}, domain)
	domain = strings.Trim(domain, ".-")
	if domain == "" {
		domain = "localhost"
	}
	return domain
}

// OneLine returns untrusted text as one safe line (see oneLine): for
// reports rendered outside this package.
func OneLine(s string) string { return oneLine(s) }

// Paragraphs returns untrusted text with its line breaks kept and every
// other control character removed.
func Paragraphs(s string) string { return paragraphs(s) }

// Wrap breaks text into lines of at most width runes, every line but the
// first prefixed with indent.
func Wrap(text string, width int, indent string) string { return wrap(text, width, indent) }

// Href returns u if it is an http or https URL, safe in an href; else "".
func Href(u string) string { return href(u) }
