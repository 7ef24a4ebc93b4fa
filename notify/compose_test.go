package notify

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
)

func TestComposeSections(t *testing.T) {
	b := sampleBriefing(t)
	rome := b.Now.Location()
	m, err := Compose(b, testOptions(rome))
	if err != nil {
		t.Fatal(err)
	}
	pm := parseMessage(t, m.Raw)

	wantSubject := "reciprocal: 4 consult prompts, 1 vulnerability in its SLA window, 1 stage change, 1 source failing to sync — Tue 24 Nov"
	if got := subjectOf(t, pm.Header); got != wantSubject || m.Subject != wantSubject {
		t.Errorf("subject = %q (Message.Subject %q)\nwant %q", got, m.Subject, wantSubject)
	}
	if id, _ := pm.Header.MessageID(); id != "briefing-2026-11-24.reciprocal@example.com" || m.MessageID != id {
		t.Errorf("Message-ID = %q (Message.MessageID %q)", id, m.MessageID)
	}
	date, err := pm.Header.Date()
	if err != nil || !date.Equal(b.Now) {
		t.Errorf("Date = %v, %v; want %v", date, err, b.Now)
	}
	if raw := pm.Header.Get("Date"); !strings.HasSuffix(raw, "+0100") {
		t.Errorf("Date header %q is not in the configured zone (+0100)", raw)
	}
	if from := pm.Header.Get("From"); from != `"reciprocal" <me@example.com>` && from != "reciprocal <me@example.com>" {
		t.Errorf("From = %q", from)
	}
	if to := pm.Header.Get("To"); to != "<me@example.com>" && to != "me@example.com" {
		t.Errorf("To = %q", to)
	}
	if m.From != "me@example.com" || len(m.To) != 1 || m.To[0] != "me@example.com" {
		t.Errorf("envelope %q → %q", m.From, m.To)
	}
	if got := pm.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	if m.Text != pm.Text {
		t.Errorf("Message.Text differs from the text part")
	}

	// Vulnerabilities first, clients by deadline; prompts grouped by
	// client, platinum first and high priority first within a client;
	// then stage changes; then the footer.
	inOrder(t, "text", pm.Text,
		"Briefing for Tuesday 24 November 2026",
		"1 vulnerability in its SLA window, 4 consult prompts for 3 clients, 1\nproposal changing stage, 1 source failing to sync.",
		"VULNERABILITIES IN THEIR SLA WINDOW",
		"GO-2026-4321: Session ticket keys leak through resumption in crypto/tls",
		"published Tue 24 Nov 06:10 · CVE-2026-12345 · crypto/tls",
		"https://pkg.go.dev/vuln/GO-2026-4321",
		"* Initech (silver): window closed Tue 24 Nov 07:00",
		"* Acme (platinum): may ask until Tue 24 Nov 12:10, 3h 10m left",
		"concern: session resumption across a fleet",
		"* Globex (gold): may ask until Wed 25 Nov 06:10, 21h 10m left",
		"CONSULT PROMPTS",
		"Acme (platinum) · 2 prompts",
		"ask: alice@acme.example, bob@acme.example",
		"1. proposal: crypto/tls: control the content of session tickets  [high priority]",
		"proposal golang/go#60105, likely-accept",
		"https://github.com/golang/go/issues/60105",
		"why now:   moved to likely-accept",
		"concern:   session resumption across a fleet",
		`they said: "we resume TLS sessions across restarts with shared`,
		"           ticket keys\" (2026-11-10, call)",
		"matched:   crypto/tls; terms session, ticket",
		"keys shared by all servers make «session» «ticket»\n                resumption work",
		"close:     reciprocal close p-12",
		"2. crypto/tls: rotate ticket keys hourly",
		"change go-review:go/815480, new",
		"close:     reciprocal close p-17",
		"Globex (gold) · 1 prompt",
		"3. crypto/rsa: deprecate PKCS #1 v1.5 encryption",
		"Initech (silver) · 1 prompt",
		"4. x/crypto/ssh: agent forwarding over ProxyJump",
		"PROPOSALS CHANGING STAGE",
		"golang/go#60105: proposal: crypto/tls: control the content of session tickets",
		"active → likely-accept, Mon 23 Nov 18:02 · watched by Acme, Globex",
		"\n-- \n",
		"Sync: gerrit go-review: FAILING since Mon 23 Nov 14:00, last success Mon 23 Nov 13:00",
		"503 Service Unavailable",
		"Sync: github golang/go: ok, last synced Tue 24 Nov 08:55",
	)
	for _, line := range strings.Split(pm.Text, "\n") {
		if n := len([]rune(line)); n > 100 && !strings.Contains(line, "http") {
			t.Errorf("text line of %d columns: %q", n, line)
		}
	}

	inOrder(t, "html", pm.HTML,
		"<title>reciprocal: 4 consult prompts",
		"Vulnerabilities in their SLA window",
		`<a href="https://pkg.go.dev/vuln/GO-2026-4321"`,
		"<strong>Initech</strong> (silver)", "window closed Tue 24 Nov 07:00",
		"<strong>Acme</strong> (platinum)", "may ask until Tue 24 Nov 12:10", "3h 10m left",
		"<strong>Globex</strong> (gold)",
		"Consult prompts",
		"Acme", "ask: alice@acme.example, bob@acme.example",
		"1. ", "proposal: crypto/tls: control the content of session tickets", "high priority",
		"moved to likely-accept",
		"we resume TLS sessions across restarts with shared ticket keys", "(2026-11-10, call)",
		"<mark>session</mark> <mark>ticket</mark>",
		"reciprocal close p-12",
		"2. ", "crypto/tls: rotate ticket keys hourly",
		"Globex", "3. ", "crypto/rsa: deprecate PKCS #1 v1.5 encryption",
		"Initech", "4. ", "x/crypto/ssh: agent forwarding over ProxyJump",
		"Proposals changing stage",
		"active → <strong>likely-accept</strong>, Mon 23 Nov 18:02 · watched by Acme, Globex",
		"Sync: gerrit go-review", "FAILING since Mon 23 Nov 14:00", "503 Service Unavailable",
		"Sync: github golang/go: ok, last synced Tue 24 Nov 08:55",
	)
	if strings.Contains(pm.HTML, "<style") || strings.Contains(pm.HTML, "<script") {
		t.Errorf("HTML has a style or script element")
	}

	// The caller's briefing is not modified.
	if !b.Vulns[0].Clients[0].Deadline.IsZero() || b.Clients[0].Client != "Globex" || b.Clients[1].Prompts[0].ID != "p-17" {
		t.Errorf("Compose modified its input")
	}
}

func TestComposeIsDeterministic(t *testing.T) {
	b := sampleBriefing(t)
	opts := testOptions(b.Now.Location())
	m1, err := Compose(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Compose(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m1.Raw, m2.Raw) {
		t.Errorf("two compositions of the same briefing differ")
	}
	// A later run the same day keeps the Message-ID.
	b.Now = b.Now.Add(3 * time.Hour)
	m3, err := Compose(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	if m3.MessageID != m1.MessageID {
		t.Errorf("Message-ID changed within the day: %q then %q", m1.MessageID, m3.MessageID)
	}
	if !bytes.Contains(m1.Raw, []byte("\r\n\r\n")) || bytes.Contains(bytes.ReplaceAll(m1.Raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Errorf("message does not use CRLF line endings throughout")
	}
}

func TestComposeEmpty(t *testing.T) {
	rome := mustLoad(t, "Europe/Rome")
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, rome)
	b := &Briefing{Now: now, Health: []SourceHealth{{Source: "vulndb", LastSuccess: now.Add(-5 * time.Minute)}}}
	opts := testOptions(rome)

	m, err := Compose(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	pm := parseMessage(t, m.Raw)
	if s := subjectOf(t, pm.Header); s != "reciprocal: nothing needs you today — Tue 24 Nov" {
		t.Errorf("subject = %q", s)
	}
	if !strings.HasPrefix(pm.Text, "Nothing needs you today.\n") {
		t.Errorf("text = %q", pm.Text)
	}
	if !strings.Contains(pm.Text, "Sync: 1 source syncing normally, last at Tue 24 Nov 07:55.") {
		t.Errorf("text lacks the sync line:\n%s", pm.Text)
	}
	if !strings.Contains(pm.HTML, "Nothing needs you today.") {
		t.Errorf("html lacks the line")
	}

	opts.SkipEmpty = true
	if _, err := Compose(b, opts); !errors.Is(err, ErrNothingToSend) {
		t.Errorf("skip_empty: err = %v, want ErrNothingToSend", err)
	}

	// A failing source is worth a message even with skip_empty.
	b.Health = append(b.Health, SourceHealth{Source: "github golang/go", LastError: "401 Bad credentials", FailingSince: now.Add(-time.Hour)})
	m, err = Compose(b, opts)
	if err != nil {
		t.Fatalf("failing source with skip_empty: %v", err)
	}
	if m.Subject != "reciprocal: 1 source failing to sync — Tue 24 Nov" {
		t.Errorf("subject = %q", m.Subject)
	}
}

func TestSubject(t *testing.T) {
	day := Date{2026, time.November, 23}
	prompts := func(n int) []ClientPrompts { return []ClientPrompts{{Client: "A", Prompts: make([]Prompt, n)}} }
	for _, tc := range []struct {
		b    Briefing
		want string
	}{
		{Briefing{}, "reciprocal: nothing needs you today — Mon 23 Nov"},
		{Briefing{Clients: prompts(1)}, "reciprocal: 1 consult prompt — Mon 23 Nov"},
		{Briefing{Clients: prompts(5), Vulns: make([]VulnAlert, 1)}, "reciprocal: 5 consult prompts, 1 vulnerability in its SLA window — Mon 23 Nov"},
		{Briefing{Vulns: make([]VulnAlert, 2)}, "reciprocal: 2 vulnerabilities in their SLA window — Mon 23 Nov"},
		{Briefing{StageChanges: make([]StageChange, 1)}, "reciprocal: 1 stage change — Mon 23 Nov"},
		{Briefing{StageChanges: make([]StageChange, 3), Clients: prompts(0)}, "reciprocal: 3 stage changes — Mon 23 Nov"},
		{Briefing{HistoryRecorded: 1}, "reciprocal: 1 past match recorded — Mon 23 Nov"},
		{Briefing{HistoryRecorded: 40, Clients: prompts(2)}, "reciprocal: 2 consult prompts, 40 past matches recorded — Mon 23 Nov"},
		{Briefing{Health: []SourceHealth{{Source: "a", LastError: "x"}, {Source: "b", LastError: "y"}}}, "reciprocal: 2 sources failing to sync — Mon 23 Nov"},
	} {
		if got := subject(&tc.b, day); got != tc.want {
			t.Errorf("subject = %q, want %q", got, tc.want)
		}
	}
}

func TestComposeHistory(t *testing.T) {
	rome := mustLoad(t, "Europe/Rome")
	b := &Briefing{Now: time.Date(2026, 11, 24, 8, 0, 0, 0, rome), HistoryRecorded: 37}
	m, err := Compose(b, testOptions(rome))
	if err != nil {
		t.Fatal(err)
	}
	pm := parseMessage(t, m.Raw)
	for what, body := range map[string]string{"text": pm.Text, "html": pm.HTML} {
		if !strings.Contains(body, "37 older matches were recorded as history") || !strings.Contains(body, "reciprocal client ID") {
			t.Errorf("%s lacks the history note:\n%s", what, body)
		}
	}
}

// TestHostileTrackerText feeds markup and header injections through every
// field that can carry tracker text.
func TestHostileTrackerText(t *testing.T) {
	const (
		script = "<script>alert(1)</script>"
		img    = `"><img src=x onerror=alert(1)>`
		crlf   = "innocent\r\nBcc: victim@example.com\r\nX-Injected: yes"
		esc    = "\x1b[2J\x1b]8;;http://evil.example\x07click\x1b]8;;\x07"
		bidi   = "safe\u202Egnp.exe"
	)
	rome := mustLoad(t, "Europe/Rome")
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, rome)
	b := &Briefing{
		Now: now,
		Vulns: []VulnAlert{{
			ID: "GO-2026-0001" + crlf, Summary: script + img, URL: "javascript:alert(1)",
			Packages: []string{crlf}, Aliases: []string{img}, Published: now.Add(-time.Hour),
			Clients: []VulnClient{{Client: "Acme" + crlf, Tier: "platinum", Concern: script}},
		}},
		Clients: []ClientPrompts{{
			Client: "Acme" + crlf, Tier: "platinum", Contacts: []string{crlf, img},
			Prompts: []Prompt{{
				ID: "p-1" + crlf, ItemID: "golang/go#1" + img, Title: crlf + script + esc + bidi,
				URL: `https://github.com/golang/go/issues/1"><script>alert(1)</script>`, Kind: "issue", State: "open" + script,
				Trigger: img, Concern: script, Told: img + "\n\n" + script, ToldVia: crlf,
				Packages: []string{script}, Terms: []string{img},
				Snippet: index.Snippet("before \x01" + script + "\x02 after " + img),
			}},
		}},
		StageChanges: []StageChange{{ItemID: "golang/go#2", Title: crlf + script, URL: "data:text/html,<script>alert(1)</script>", From: img, To: script, At: now, Clients: []string{crlf}}},
		Health:       []SourceHealth{{Source: "github" + crlf, LastError: script + crlf + esc, FailingSince: now}},
		Requests:     []SLARequest{{ID: "r1" + crlf, Client: "Acme" + img, Vuln: "GO-1" + esc, Summary: script, Note: crlf + bidi, Asked: now, Deadline: now.Add(time.Hour)}},
	}
	opts := testOptions(rome)
	opts.From = "\"evil\r\nBcc: victim@example.com\" <me@example.com>"
	m, err := Compose(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	pm := parseMessage(t, m.Raw)

	for _, k := range []string{"Bcc", "Cc", "X-Injected"} {
		if pm.Header.Has(k) {
			t.Errorf("message has a %s header: %q", k, pm.Header.Get(k))
		}
	}
	fields := pm.Header.Fields()
	for fields.Next() {
		if v := fields.Value(); strings.ContainsAny(v, "\r\n") {
			t.Errorf("header %s has a line break: %q", fields.Key(), v)
		}
		switch fields.Key() {
		case "From", "To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type", "Auto-Submitted":
		default:
			t.Errorf("unexpected header %s: %q", fields.Key(), fields.Value())
		}
	}
	// The raw header block is only the fields above.
	head, _, _ := bytes.Cut(m.Raw, []byte("\r\n\r\n"))
	if bytes.Contains(head, []byte("\r\nBcc:")) || bytes.Contains(head, []byte("\nX-Injected")) {
		t.Errorf("raw header block carries an injected field:\n%s", head)
	}

	low := strings.ToLower(pm.HTML)
	for _, bad := range []string{"<script", "<img", "onerror=alert(1)>", "javascript:", `href="data:`, "\x1b", "\u202e"} {
		if strings.Contains(low, strings.ToLower(bad)) {
			t.Errorf("HTML part contains %q", bad)
		}
	}
	if !strings.Contains(pm.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("HTML part does not show the escaped script text")
	}
	if !strings.Contains(pm.HTML, "<mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark>") {
		t.Errorf("snippet is not escaped inside its marks")
	}
	for _, bad := range []string{"\x1b", "\r", "\a", "\u202e"} {
		if strings.Contains(pm.Text, bad) {
			t.Errorf("text part contains control character %q", bad)
		}
	}
	// Tracker text stays on its line in the plain text.
	for _, line := range strings.Split(pm.Text, "\n") {
		if strings.HasPrefix(line, "Bcc:") || strings.HasPrefix(line, "X-Injected") {
			t.Errorf("text part has an injected line %q", line)
		}
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                 "plain",
		"  two   spaces  ":      "two spaces",
		"a\r\nBcc: x":           "a Bcc: x",
		"tab\there":             "tab here",
		"esc\x1b[31mred":        "esc [31mred",
		"bidi\u202Etxt.exe":     "bidi txt.exe",
		"bad\xffutf8":           "bad\uFFFDutf8",
		"nbsp\u00a0sep\u2028ls": "nbsp sep ls",
		"ünïcode ok":            "ünïcode ok",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
	if got := paragraphs("one\r\n\r\n\r\ntwo\x1b\nthree"); got != "one\n\ntwo\nthree" {
		t.Errorf("paragraphs = %q", got)
	}
	if got := wrap("aaa bbb ccc ddd", 7, "  "); got != "aaa bbb\n  ccc ddd" {
		t.Errorf("wrap = %q", got)
	}
	if got := headerValue(strings.Repeat("é", 300)); len(got) > 204 || !strings.HasSuffix(got, "…") {
		t.Errorf("headerValue did not bound a long value: %d bytes", len(got))
	}
}

func TestMessageID(t *testing.T) {
	day := Date{2026, time.November, 24}
	for _, tc := range []struct {
		addr   string
		resend int
		want   string
	}{
		{"me@example.com", 0, "briefing-2026-11-24.reciprocal@example.com"},
		{"me@Mail.Example.COM", 0, "briefing-2026-11-24.reciprocal@mail.example.com"},
		{"me@example.com", 2, "briefing-2026-11-24.resend-2.reciprocal@example.com"},
		{"me@ex>ample.com\r\n", 0, "briefing-2026-11-24.reciprocal@example.com"},
		{"nobody", 0, "briefing-2026-11-24.reciprocal@localhost"},
	} {
		if got := messageID(day, tc.resend, tc.addr); got != tc.want {
			t.Errorf("messageID(%q, %d) = %q, want %q", tc.addr, tc.resend, got, tc.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second:                  "under a minute",
		45 * time.Minute:                  "45m",
		3*time.Hour + 10*time.Minute:      "3h 10m",
		-2 * time.Hour:                    "2h",
		50 * time.Hour:                    "2d 2h",
		72 * time.Hour:                    "3d",
		3*time.Hour + 29*time.Second:      "3h",
		23*time.Hour + 59*time.Minute:     "23h 59m",
		-(5*time.Minute + 31*time.Second): "6m",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSummaryCountsClientsWithPrompts(t *testing.T) {
	b := sampleBriefing(t)
	b.Clients = append(b.Clients, ClientPrompts{Client: "Quiet Corp", Tier: "platinum"})
	m, err := Compose(b, testOptions(b.Now.Location()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "4 consult prompts for 3 clients") || strings.Contains(m.Text, "Quiet Corp") {
		t.Errorf("a client without prompts is counted or shown:\n%s", m.Text)
	}
}

func TestComposeSLARequests(t *testing.T) {
	rome := mustLoad(t, "Europe/Rome")
	now := time.Date(2026, 11, 24, 13, 0, 0, 0, rome)
	b := &Briefing{Now: now, Requests: []SLARequest{
		{ID: "r2", Client: "Globex", Vuln: "GO-2026-4952", Summary: "HTTP/2 flood", Asked: now.Add(-7 * time.Hour), Deadline: now.Add(-time.Hour)},
		{ID: "r1", Client: "Acme CDN", Vuln: "GO-2026-4951", Summary: "Ticket reuse", Note: "are we affected?", Asked: now.Add(-2 * time.Hour), Deadline: now.Add(4 * time.Hour)},
	}}
	m, err := Compose(b, testOptions(rome))
	if err != nil {
		t.Fatal(err)
	}
	if want := "reciprocal: 2 SLA requests open — Tue 24 Nov"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	pm := parseMessage(t, m.Raw)
	// The overdue one first, then by deadline.
	inOrder(t, "text", pm.Text,
		"SLA REQUESTS OPEN",
		"r2  Globex about GO-2026-4952: HTTP/2 flood",
		"  OVERDUE by 1h (answer was due Tue 24 Nov 12:00; asked Tue 24 Nov 06:00)",
		"r1  Acme CDN about GO-2026-4951: Ticket reuse",
		"  answer by Tue 24 Nov 17:00, 4h left (asked Tue 24 Nov 11:00)",
		"  they asked: are we affected?",
		"  close it:   reciprocal sla answer r1 --note ...",
	)
	inOrder(t, "html", pm.HTML, "SLA requests open", "overdue by 1h", "answer by Tue 24 Nov 17:00", "4h left")
}
