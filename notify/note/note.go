// Package note writes the drafts of messages to clients (a note about a
// vulnerability, a periodic digest) and turns a reviewed draft into the
// message that 'reciprocal send' delivers.
//
// Nothing goes to a client without the maintainer: a draft is a text file
// to read and edit, and only an explicit send delivers it, once.
//
// # The draft file
//
// A draft is a header block, a blank line and the body, in UTF-8 plain
// text:
//
//	To: Jane Roe <jane.roe@acme.example>, Edge Platform team <edge@acme.example>
//	Subject: GO-2026-4951: Session tickets reused across Configs in crypto/tls
//	Reciprocal-Key: note/GO-2026-4951/acme
//
//	Hi Acme CDN team,
//	…
//
// To, Cc and Subject may be edited; Reciprocal-Key names the message in the
// mailbox (so that sending the same draft twice sends it once) and must be
// kept. The body is sent as written, as the plain text part; the HTML part
// is the same text, escaped, with its web links made clickable. A body that
// still holds the mitigation placeholder (Placeholder) is refused.
package note

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/reciprocal-access/reciprocal/notify"
)

// Placeholder starts the line a note's author must fill in before the note
// can be sent.
const Placeholder = "[MITIGATION:"

// A Draft is one message to a client, before review.
type Draft struct {
	Client  string // client ID
	Key     string // mailbox key: note/GO-2026-4951/acme, digest/acme/2026-Q4
	To      []string
	Cc      []string
	Subject string
	Body    string
}

// Format writes the draft file.
func (d *Draft) Format() []byte {
	var b bytes.Buffer
	b.WriteString("To: " + strings.Join(cleanAll(d.To), ", ") + "\n")
	if len(d.Cc) > 0 {
		b.WriteString("Cc: " + strings.Join(cleanAll(d.Cc), ", ") + "\n")
	}
	b.WriteString("Subject: " + notify.OneLine(d.Subject) + "\n")
	b.WriteString("Reciprocal-Key: " + notify.OneLine(d.Key) + "\n")
	b.WriteString("\n")
	b.WriteString(strings.TrimRight(d.Body, "\n") + "\n")
	return b.Bytes()
}

func cleanAll(list []string) []string {
	var out []string
	for _, s := range list {
		if s = notify.OneLine(s); s != "" {
			out = append(out, strings.ReplaceAll(s, ",", " "))
		}
	}
	return out
}

// keyPattern is what a draft's key looks like.
var keyPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(note|digest)/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$`) })

// Parse reads a draft file named name. Errors name the file and line.
func Parse(name string, data []byte) (*Draft, error) {
	d := &Draft{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	var body []string
	inBody := false
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if inBody {
			body = append(body, line)
			continue
		}
		if line == "" {
			inBody = true
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want a header like \"To: Jane Roe <jane@example.com>\", then a blank line and the text", name, n)
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "to":
			d.To = splitAddresses(v)
		case "cc":
			d.Cc = splitAddresses(v)
		case "subject":
			d.Subject = v
		case "reciprocal-key":
			d.Key = v
		default:
			return nil, fmt.Errorf("%s:%d: unknown header %q (a draft has To, Cc, Subject and Reciprocal-Key)", name, n, k)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	switch {
	case !inBody:
		return nil, fmt.Errorf("%s: no blank line between the headers and the text: is this a draft from 'reciprocal draft' or 'reciprocal digest'?", name)
	case d.Key == "":
		return nil, fmt.Errorf("%s: no Reciprocal-Key header: keep the one the draft was written with", name)
	case !keyPattern().MatchString(d.Key):
		return nil, fmt.Errorf("%s: Reciprocal-Key %q is not one reciprocal writes (note/… or digest/…)", name, d.Key)
	case len(d.To) == 0:
		return nil, fmt.Errorf("%s: no recipient: add the client's contacts to To (the profile's contacts key fills it)", name)
	case strings.TrimSpace(d.Subject) == "":
		return nil, fmt.Errorf("%s: empty Subject", name)
	}
	d.Body = strings.TrimRight(strings.Join(body, "\n"), "\n") + "\n"
	for i, l := range strings.Split(d.Body, "\n") {
		if strings.Contains(l, Placeholder) {
			return nil, &UnfilledError{File: name, Line: n - len(body) + i + 1}
		}
	}
	if strings.TrimSpace(d.Body) == "" {
		return nil, fmt.Errorf("%s: the text is empty", name)
	}
	return d, nil
}

// UnfilledError reports a draft whose mitigation line is still the
// placeholder.
type UnfilledError struct {
	File string
	Line int
}

func (e *UnfilledError) Error() string {
	return fmt.Sprintf("%s:%d: the mitigation line is still the placeholder: write what the client should do (or delete the line), then send it", e.File, e.Line)
}

// ErrUnfilled is what an *UnfilledError matches with errors.Is.
var ErrUnfilled = errors.New("the mitigation line is not filled in")

func (e *UnfilledError) Is(target error) bool { return target == ErrUnfilled }

// splitAddresses splits a header's address list at commas outside quotes
// and angle brackets.
func splitAddresses(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case quoted:
		case r == '<':
			depth++
		case r == '>':
			depth--
		case r == ',' && depth == 0:
			if a := strings.TrimSpace(s[start:i]); a != "" {
				out = append(out, a)
			}
			start = i + 1
		}
	}
	if a := strings.TrimSpace(s[start:]); a != "" {
		out = append(out, a)
	}
	return out
}

// Compose makes the message of a reviewed draft, from the maintainer's
// address, dated now. The body is the plain text part as written (control
// characters removed); the HTML part is the same text escaped, with http
// and https links made clickable.
func Compose(d *Draft, from string, now time.Time) (*notify.Message, error) {
	text := CleanText(d.Body)
	var html bytes.Buffer
	if err := htmlTemplate().Execute(&html, struct {
		Subject string
		Paras   []template.HTML
	}{notify.OneLine(d.Subject), htmlParagraphs(text)}); err != nil {
		return nil, err
	}
	return notify.ComposeMail(notify.Mail{
		From: from, To: d.To, Cc: d.Cc, Subject: d.Subject,
		Name: strings.ReplaceAll(d.Key, "/", "."), Date: now,
		Text: text, HTML: html.String(),
	})
}

// CleanText removes from the body every control character but line
// breaks and tabs (escape sequences, bidirectional overrides), keeping its
// layout, and ends it with one newline.
func CleanText(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\r\n", "\n"), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029:
			return -1
		}
		return r
	}, s)
	return strings.TrimRight(s, "\n") + "\n"
}

var linkPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)]`) })

// htmlParagraphs escapes text paragraph by paragraph and makes web links
// clickable; the paragraphs keep their line breaks and indentation
// (white-space: pre-wrap).
func htmlParagraphs(text string) []template.HTML {
	var out []template.HTML
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		var b strings.Builder
		last := 0
		for _, m := range linkPattern().FindAllStringIndex(p, -1) {
			b.WriteString(template.HTMLEscapeString(p[last:m[0]]))
			u := p[m[0]:m[1]]
			if h := notify.Href(u); h != "" {
				fmt.Fprintf(&b, `<a href="%s">%s</a>`, template.HTMLEscapeString(h), template.HTMLEscapeString(u))
			} else {
				b.WriteString(template.HTMLEscapeString(u))
			}
			last = m[1]
		}
		b.WriteString(template.HTMLEscapeString(p[last:]))
		out = append(out, template.HTML(b.String()))
	}
	return out
}

var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("note").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1f2328;max-width:680px;margin:0 auto;padding:16px;">
{{- range .Paras}}
<p style="white-space:pre-wrap;">{{.}}</p>
{{- end}}
</body>
</html>
`))
})
