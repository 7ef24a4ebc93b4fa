package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/reciprocal-access/reciprocal/configs"
)

// ErrNothingToSend is returned by Compose for a briefing with nothing in it
// when Options.SkipEmpty is set.
var ErrNothingToSend = errors.New("nothing to send today")

// Options control how a briefing is composed.
type Options struct {
	// From is the sender, as an RFC 5322 address: "reciprocal <me@example.com>".
	// Its domain names the Message-ID.
	From string
	// To are the recipients' addresses.
	To []string
	// Location is the time zone of the Date header and of the times the
	// briefing shows; nil means the location of Briefing.Now.
	Location *time.Location
	// SkipEmpty makes Compose return ErrNothingToSend for an empty
	// briefing instead of a "nothing needs you today" message.
	SkipEmpty bool
	// SLA, if set, gives the window of a client of a tier; it fills the
	// deadlines a VulnClient leaves zero.
	SLA func(tier string) time.Duration
	// CloseCommand, if set, is shown before a prompt's ID as the command
	// that closes it ("reciprocal close").
	CloseCommand string
}

// fallbackFrom is the sender used when no [smtp] section names one (for
// previews).
const fallbackFrom = "reciprocal <reciprocal@localhost>"

// OptionsFrom returns the compose options set by cfg: sender and
// recipients from [smtp], the time zone and skip_empty from [briefing].
func OptionsFrom(cfg *configs.Config) Options {
	o := Options{From: fallbackFrom, Location: cfg.Location(), SkipEmpty: cfg.Briefing.SkipEmpty}
	if cfg.SMTP != nil {
		o.From = cfg.SMTP.From
		o.To = cfg.SMTP.To
	}
	return o
}

// A Message is a composed briefing, ready to send.
type Message struct {
	Date      Date
	MessageID string // without angle brackets
	Subject   string
	From      string   // envelope sender address
	To        []string // envelope recipient addresses
	Raw       []byte   // the RFC 5322 message, CRLF line endings
	Text      string   // the plain text part, for previews
}

// Compose composes the briefing b as a multipart/alternative message with
// a plain text and an HTML part. It returns ErrNothingToSend if b is empty
// and opts.SkipEmpty is set. b is not modified.
func Compose(b *Briefing, opts Options) (*Message, error) {
	if b.Now.IsZero() {
		return nil, errors.New("notify: compose: the briefing has no time (Briefing.Now)")
	}
	if b.Empty() && opts.SkipEmpty {
		return nil, ErrNothingToSend
	}
	loc := opts.Location
	if loc == nil {
		loc = b.Now.Location()
	}
	now := b.Now.In(loc)
	day := b.Date
	if day.IsZero() {
		day = DateOf(now)
	}
	from, err := parseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("notify: compose: from %q: %w", opts.From, err)
	}
	var to []*mail.Address
	for _, s := range opts.To {
		a, err := parseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("notify: compose: to %q: %w", s, err)
		}
		to = append(to, a)
	}

	s := b.sorted(opts.SLA)
	v := newView(s, day, now, opts)
	text := renderText(v)
	var html bytes.Buffer
	if err := htmlTemplate().Execute(&html, v); err != nil {
		return nil, fmt.Errorf("notify: compose: %w", err)
	}

	m := &Message{
		Date:      day,
		MessageID: messageID(day, 0, from.Address),
		Subject:   v.Subject,
		From:      from.Address,
		Text:      text,
	}
	for _, a := range to {
		m.To = append(m.To, a.Address)
	}

	var h mail.Header
	h.SetDate(now)
	h.SetAddressList("From", []*mail.Address{from})
	h.SetAddressList("To", to)
	h.SetSubject(headerValue(v.Subject))
	h.SetMessageID(m.MessageID)
	h.Set("Auto-Submitted", "auto-generated")
	m.Raw, err = buildMIME(h, text, html.String())
	if err != nil {
		return nil, fmt.Errorf("notify: compose: %w", err)
	}
	return m, nil
}

// parseAddress parses an RFC 5322 address after stripping control
// characters from it, so that no CR or LF reaches a header.
func parseAddress(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(oneLine(s))
	if err != nil {
		return nil, err
	}
	a.Name = headerValue(a.Name)
	return a, nil
}

// messageID returns the Message-ID (without angle brackets) of the
// briefing of day sent from address: briefing-2026-11-24.reciprocal@example.com,
// with ".resend-N" after the date for the Nth resend.
func messageID(day Date, resend int, address string) string {
	_, domain, _ := strings.Cut(address, "@")
	id := "briefing-" + day.String()
	if resend > 0 {
		id += ".resend-" + strconv.Itoa(resend)
	}
	return id + ".reciprocal@" + idDomain(domain)
}

// buildMIME writes the message: header h, then a multipart/alternative body
// with the text and HTML parts.
//
// The boundary is derived from the content, so that the same briefing
// always gives the same bytes. It starts with "=_", which quoted-printable
// and base64 output can never contain, so no tracker text can end a part
// early.
func buildMIME(h mail.Header, text, html string) ([]byte, error) {
	sum := sha256.Sum256([]byte(text + "\x00" + html))
	boundary := "=_reciprocal_" + hex.EncodeToString(sum[:12])
	h.SetContentType("multipart/alternative", map[string]string{"boundary": boundary})

	var buf bytes.Buffer
	buf.Grow(len(text) + len(html) + len(html)/8 + 1024)
	w, err := message.CreateWriter(&buf, h.Header)
	if err != nil {
		return nil, err
	}
	for _, p := range []struct{ ctype, body string }{{"text/plain", text}, {"text/html", html}} {
		var ph mail.InlineHeader
		ph.SetContentType(p.ctype, map[string]string{"charset": "utf-8"})
		ph.Set("Content-Disposition", "inline")
		enc := transferEncoding(p.body)
		ph.Set("Content-Transfer-Encoding", enc)
		pw, err := w.CreatePart(ph.Header)
		if err != nil {
			return nil, err
		}
		body := p.body
		if enc == "base64" {
			body = strings.ReplaceAll(body, "\n", "\r\n") // canonical form before encoding
		}
		if _, err := pw.Write([]byte(body)); err != nil {
			return nil, err
		}
		if err := pw.Close(); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// transferEncoding chooses quoted-printable for mostly-ASCII text, which
// stays readable and compact, and base64 for text that is mostly not.
func transferEncoding(s string) string {
	high := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			high++
		}
	}
	if high*4 > len(s) {
		return "base64"
	}
	return "quoted-printable"
}

// subject returns the subject line: counts only, never tracker text.
func subject(b *Briefing, day Date) string {
	var parts []string
	count := func(n int, one, many string) {
		if n == 1 {
			parts = append(parts, "1 "+one)
		} else if n > 1 {
			parts = append(parts, strconv.Itoa(n)+" "+many)
		}
	}
	count(len(b.Requests), "SLA request open", "SLA requests open")
	count(b.PromptCount(), "consult prompt", "consult prompts")
	count(len(b.Vulns), "vulnerability in its SLA window", "vulnerabilities in their SLA window")
	count(len(b.StageChanges), "stage change", "stage changes")
	count(len(b.Failing()), "source failing to sync", "sources failing to sync")
	count(b.HistoryRecorded, "past match recorded", "past matches recorded")
	count(len(b.Digests), "digest due", "digests due")
	count(len(b.Held)+b.HeldMore, "match held back", "matches held back")
	what := strings.Join(parts, ", ")
	if what == "" {
		what = "nothing needs you today"
	}
	return "reciprocal: " + what + " — " + dayTime(day).Format("Mon 2 Jan")
}

func dayTime(d Date) time.Time { return d.Time(12, 0, time.UTC) }

// The view is the briefing as both renderers show it: sorted, sanitized
// and formatted once.
type view struct {
	Subject  string
	Heading  string
	Summary  string
	Empty    bool
	History  string
	Requests []requestView
	Vulns    []vulnView
	Clients  []clientView
	Stages   []stageView
	Digests  []DigestDue
	Held     []HeldPrompt
	HeldMore int
	Health   []healthView
	SyncOK   string // one line when every source is syncing
}

type requestView struct {
	ID, Client, Vuln, Summary string
	Note, Asked, Deadline     string
	Left                      string
	Overdue                   bool
}

type vulnView struct {
	ID, Summary, URL, Href string
	Published, Aliases     string
	Packages               string
	Clients                []vulnClientView
}

type vulnClientView struct {
	Client, Tier, Concern string
	Deadline, Left        string
	Overdue, NoDeadline   bool
}

type clientView struct {
	Client, Tier, Contacts string
	Count                  string
	Accent                 template.CSS
	Prompts                []promptView
}

type promptView struct {
	N                  int
	ID, Close          string
	ItemID, Title      string
	URL, Href          string
	Kind, Status       string
	High, Low          bool
	Trigger, Concern   string
	Told, ToldMeta     string
	Packages, Terms    string
	SnippetText        string
	SnippetHTML        template.HTML
	Matched            bool
	HasTold, HasReason bool
	Members            []memberView
}

type memberView struct {
	ItemID, Title, Kind, Status, Why string
}

type stageView struct {
	ItemID, Title, URL, Href string
	From, To, At             string
	Clients, Packages        string
}

type healthView struct {
	Source  string
	Failing bool
	Status  string // "ok, last synced …" or "failing since …"
	Error   string
}

// Time layouts in the briefing.
const (
	layoutWhen = "Mon 2 Jan 15:04"
	layoutDay  = "2006-01-02"
)

var tierAccent = map[int]template.CSS{0: "#6e40c9", 1: "#bf8700", 2: "#8c959f", 3: "#d0d7de"}

func newView(b *Briefing, day Date, now time.Time, opts Options) *view {
	loc := now.Location()
	when := func(t time.Time) string {
		if t.IsZero() {
			return "unknown"
		}
		return t.In(loc).Format(layoutWhen)
	}
	v := &view{
		Subject: subject(b, day),
		Heading: "Briefing for " + dayTime(day).Format("Monday 2 January 2006"),
		Empty:   b.Empty(),
	}
	var summary []string
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	if n := len(b.Requests); n > 0 {
		summary = append(summary, plural(n, "SLA request open", "SLA requests open"))
	}
	if n := len(b.Vulns); n > 0 {
		summary = append(summary, plural(n, "vulnerability in its SLA window", "vulnerabilities in their SLA window"))
	}
	if n := b.PromptCount(); n > 0 {
		clients := 0
		for _, c := range b.Clients {
			if len(c.Prompts) > 0 {
				clients++
			}
		}
		summary = append(summary, plural(n, "consult prompt", "consult prompts")+" for "+plural(clients, "client", "clients"))
	}
	if n := len(b.StageChanges); n > 0 {
		summary = append(summary, plural(n, "proposal changing stage", "proposals changing stage"))
	}
	if n := len(b.Failing()); n > 0 {
		summary = append(summary, plural(n, "source failing to sync", "sources failing to sync"))
	}
	if len(summary) > 0 {
		v.Summary = strings.Join(summary, ", ") + "."
	}
	if b.HistoryRecorded > 0 {
		v.History = fmt.Sprintf("First run: %d older matches were recorded as history rather than prompted. 'reciprocal client ID' shows them.",
			b.HistoryRecorded)
		if b.HistoryRecorded == 1 {
			v.History = "First run: 1 older match was recorded as history rather than prompted. 'reciprocal client ID' shows it."
		}
	}

	for _, dd := range b.Digests {
		v.Digests = append(v.Digests, DigestDue{Client: oneLine(dd.Client), Period: oneLine(dd.Period), Command: oneLine(dd.Command)})
	}
	for _, h := range b.Held {
		v.Held = append(v.Held, HeldPrompt{ID: oneLine(h.ID), Client: oneLine(h.Client), Concern: oneLine(h.Concern),
			ItemID: oneLine(h.ItemID), Title: oneLine(h.Title), Reason: oneLine(h.Reason)})
	}
	v.HeldMore = b.HeldMore
	for _, r := range b.Requests {
		left := r.Deadline.Sub(now)
		v.Requests = append(v.Requests, requestView{
			ID:       oneLine(r.ID),
			Client:   oneLine(r.Client),
			Vuln:     oneLine(r.Vuln),
			Summary:  oneLine(r.Summary),
			Note:     oneLine(r.Note),
			Asked:    when(r.Asked),
			Deadline: when(r.Deadline),
			Left:     formatDuration(left),
			Overdue:  left < 0,
		})
	}

	for _, a := range b.Vulns {
		vv := vulnView{
			ID:        oneLine(a.ID),
			Summary:   oneLine(a.Summary),
			URL:       oneLine(a.URL),
			Href:      href(a.URL),
			Published: when(a.Published),
			Aliases:   joinClean(a.Aliases, ", "),
			Packages:  joinClean(a.Packages, ", "),
		}
		for _, c := range a.Clients {
			cv := vulnClientView{Client: oneLine(c.Client), Tier: oneLine(c.Tier), Concern: oneLine(c.Concern)}
			if c.Deadline.IsZero() {
				cv.NoDeadline = true
			} else {
				left := c.Remaining(now)
				cv.Deadline = when(c.Deadline)
				cv.Overdue = left < 0
				cv.Left = formatDuration(left)
			}
			vv.Clients = append(vv.Clients, cv)
		}
		v.Vulns = append(v.Vulns, vv)
	}

	n := 0
	for _, c := range b.Clients {
		if len(c.Prompts) == 0 {
			continue
		}
		cv := clientView{
			Client:   oneLine(c.Client),
			Tier:     oneLine(c.Tier),
			Contacts: joinClean(c.Contacts, ", "),
			Count:    plural(len(c.Prompts), "prompt", "prompts"),
			Accent:   tierAccent[tierRank(c.Tier)],
		}
		for _, p := range c.Prompts {
			n++
			pv := promptView{
				N:        n,
				ID:       oneLine(p.ID),
				ItemID:   oneLine(p.ItemID),
				Title:    oneLine(p.Title),
				URL:      oneLine(p.URL),
				Href:     href(p.URL),
				Kind:     oneLine(p.Kind),
				High:     p.Priority > PriorityNormal,
				Low:      p.Priority < PriorityNormal,
				Trigger:  oneLine(p.Trigger),
				Concern:  oneLine(p.Concern),
				Told:     paragraphs(p.Told),
				Packages: joinClean(p.Packages, ", "),
				Terms:    joinClean(p.Terms, ", "),
			}
			if pv.ID != "" && opts.CloseCommand != "" {
				pv.Close = oneLine(opts.CloseCommand) + " " + pv.ID
			} else {
				pv.Close = pv.ID
			}
			status := oneLine(p.Stage)
			if status == "" {
				status = oneLine(p.State)
			}
			pv.Status = status
			var meta []string
			if !p.ToldOn.IsZero() {
				meta = append(meta, p.ToldOn.In(loc).Format(layoutDay))
			}
			if via := oneLine(p.ToldVia); via != "" {
				meta = append(meta, via)
			}
			pv.ToldMeta = strings.Join(meta, ", ")
			if p.Snippet != "" {
				pv.SnippetText = p.Snippet.Text()
				pv.SnippetHTML = template.HTML(p.Snippet.HTML()) // Snippet.HTML escapes the tracker's text
			}
			for _, m := range p.Members {
				pv.Members = append(pv.Members, memberView{
					ItemID: oneLine(m.ItemID), Title: oneLine(m.Title), Kind: oneLine(m.Kind),
					Status: oneLine(m.Status), Why: oneLine(m.Why),
				})
			}
			pv.HasTold = pv.Told != ""
			pv.Matched = pv.Packages != "" || pv.Terms != "" || pv.SnippetText != ""
			pv.HasReason = pv.Trigger != "" || pv.Concern != ""
			cv.Prompts = append(cv.Prompts, pv)
		}
		v.Clients = append(v.Clients, cv)
	}

	for _, s := range b.StageChanges {
		from := oneLine(s.From)
		if from == "" {
			from = "new"
		}
		v.Stages = append(v.Stages, stageView{
			ItemID:   oneLine(s.ItemID),
			Title:    oneLine(s.Title),
			URL:      oneLine(s.URL),
			Href:     href(s.URL),
			From:     from,
			To:       oneLine(s.To),
			At:       when(s.At),
			Clients:  joinClean(s.Clients, ", "),
			Packages: joinClean(s.Packages, ", "),
		})
	}

	var last time.Time
	allOK := true
	for _, h := range b.Health {
		hv := healthView{Source: oneLine(h.Source), Failing: h.Failing()}
		if hv.Failing {
			allOK = false
			since := h.FailingSince
			hv.Status = "FAILING"
			if !since.IsZero() {
				hv.Status += " since " + when(since)
			}
			if h.LastSuccess.IsZero() {
				hv.Status += ", never synced"
			} else {
				hv.Status += ", last success " + when(h.LastSuccess)
			}
			hv.Error = headerValue(h.LastError)
		} else {
			hv.Status = "ok, last synced " + when(h.LastSuccess)
			if h.LastSuccess.After(last) {
				last = h.LastSuccess
			}
		}
		v.Health = append(v.Health, hv)
	}
	switch {
	case len(b.Health) == 0:
		v.SyncOK = "No syncs recorded yet: run 'reciprocal sync'."
	case allOK:
		v.SyncOK = plural(len(b.Health), "source", "sources") + " syncing normally, last at " + when(last) + "."
		v.Health = nil
	}
	return v
}

// href returns u if it is an http or https URL, for links; "" otherwise.
func href(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return ""
	}
	return p.String()
}

func joinClean(list []string, sep string) string {
	var out []string
	for _, s := range list {
		if s = oneLine(s); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, sep)
}

// formatDuration formats d (its absolute value) for a person: "2d 4h",
// "3h 20m", "45m", "under a minute".
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case hours > 0 && mins > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	case hours > 0:
		return fmt.Sprintf("%dh", hours)
	case mins > 0:
		return fmt.Sprintf("%dm", mins)
	}
	return "under a minute"
}
