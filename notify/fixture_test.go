package notify

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/reciprocal-access/reciprocal/index"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// testSLA is the default SLA of configs.
func testSLA(tier string) time.Duration {
	switch tier {
	case "platinum":
		return 6 * time.Hour
	case "gold":
		return 24 * time.Hour
	}
	return 72 * time.Hour
}

func testOptions(loc *time.Location) Options {
	return Options{
		From:         "reciprocal <me@example.com>",
		To:           []string{"me@example.com"},
		Location:     loc,
		SLA:          testSLA,
		CloseCommand: "reciprocal close",
	}
}

// sampleBriefing is a briefing with something in every section, given out
// of order so that Compose has to sort it. now is 09:00 on Tue 24 Nov 2026
// in Rome.
func sampleBriefing(t testing.TB) *Briefing {
	rome := mustLoad(t, "Europe/Rome")
	at := func(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, rome) }
	return &Briefing{
		Now: at(24, 9, 0),
		Vulns: []VulnAlert{{
			ID:        "GO-2026-4321",
			Aliases:   []string{"CVE-2026-12345"},
			Summary:   "Session ticket keys leak through resumption in crypto/tls",
			URL:       "https://pkg.go.dev/vuln/GO-2026-4321",
			Packages:  []string{"crypto/tls"},
			Published: at(24, 6, 10),
			Clients: []VulnClient{
				{Client: "Globex", Tier: "gold", Concern: "TLS 1.3 resumption on edge proxies"},
				{Client: "Acme", Tier: "platinum", Concern: "session resumption across a fleet"},
				{Client: "Initech", Tier: "silver", Concern: "ticket rotation", Deadline: at(24, 7, 0)},
			},
		}},
		Clients: []ClientPrompts{
			{
				Client: "Globex", Tier: "gold", Contacts: []string{"hank@globex.example"},
				Prompts: []Prompt{{
					ID: "p-21", ItemID: "golang/go#70001", Title: "crypto/rsa: deprecate PKCS #1 v1.5 encryption",
					URL: "https://github.com/golang/go/issues/70001", Kind: "proposal", State: "open", Stage: "active",
					Trigger: "new proposal", Concern: "RSA decryption speed",
					Told: "RSA decryption speed matters more to us than encryption", ToldOn: at(3, 15, 0), ToldVia: "email",
					Packages: []string{"crypto/rsa"}, Terms: []string{"decrypt"},
					Queued: at(23, 20, 0),
				}},
			},
			{
				Client: "Acme", Tier: "platinum", Contacts: []string{"alice@acme.example", "bob@acme.example"},
				Prompts: []Prompt{
					{
						ID: "p-17", ItemID: "go-review:go/815480", Title: "crypto/tls: rotate ticket keys hourly",
						URL: "https://go-review.googlesource.com/c/go/+/815480", Kind: "change", State: "new",
						Trigger: "new change", Concern: "session resumption across a fleet",
						Told: "we resume TLS sessions across restarts with shared ticket keys", ToldOn: at(10, 11, 0), ToldVia: "call",
						Packages: []string{"crypto/tls"}, Queued: at(24, 1, 0),
					},
					{
						ID: "p-12", ItemID: "golang/go#60105", Title: "proposal: crypto/tls: control the content of session tickets",
						URL: "https://github.com/golang/go/issues/60105", Kind: "proposal", State: "open", Stage: "likely-accept",
						Priority: PriorityHigh, Trigger: "moved to likely-accept", Concern: "session resumption across a fleet",
						Told: "we resume TLS sessions across restarts with shared ticket keys", ToldOn: at(10, 11, 0), ToldVia: "call",
						Packages: []string{"crypto/tls"}, Terms: []string{"session", "ticket"},
						Snippet: index.Snippet("keys shared by all servers make \x01session\x02 \x01ticket\x02 resumption work"),
						Queued:  at(24, 2, 0),
					},
				},
			},
			{
				Client: "Initech", Tier: "silver",
				Prompts: []Prompt{{
					ID: "p-30", ItemID: "golang/go#70123", Title: "x/crypto/ssh: agent forwarding over ProxyJump",
					URL: "https://github.com/golang/go/issues/70123", Kind: "issue", State: "open",
					Trigger: "new issue", Concern: "ssh agent", Packages: []string{"golang.org/x/crypto/ssh/agent"},
					Queued: at(24, 3, 0),
				}},
			},
		},
		StageChanges: []StageChange{{
			ItemID: "golang/go#60105", Title: "proposal: crypto/tls: control the content of session tickets",
			URL: "https://github.com/golang/go/issues/60105", From: "active", To: "likely-accept", At: at(23, 18, 2),
			Packages: []string{"crypto/tls"}, Clients: []string{"Acme", "Globex"},
		}},
		Health: []SourceHealth{
			{Source: "gerrit go-review", LastSuccess: at(23, 13, 0), LastError: "503 Service Unavailable", FailingSince: at(23, 14, 0)},
			{Source: "github golang/go", LastSuccess: at(24, 8, 55)},
		},
	}
}

// A parsedMessage is a received message taken apart with go-message.
type parsedMessage struct {
	Header mail.Header
	Text   string
	HTML   string
	Parts  []string // content types, in order
}

func parseMessage(t testing.TB, raw []byte) *parsedMessage {
	t.Helper()
	r, err := mail.CreateReader(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	pm := &parsedMessage{Header: r.Header}
	if ct, _, _ := r.Header.ContentType(); ct != "multipart/alternative" {
		t.Errorf("Content-Type = %q, want multipart/alternative", ct)
	}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		h, ok := p.Header.(*mail.InlineHeader)
		if !ok {
			t.Fatalf("part is %T, want inline", p.Header)
		}
		ct, params, _ := h.ContentType()
		if params["charset"] != "utf-8" {
			t.Errorf("%s charset = %q, want utf-8", ct, params["charset"])
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("read %s: %v", ct, err)
		}
		pm.Parts = append(pm.Parts, ct)
		// Text travels in canonical form, with CRLF line endings.
		text := strings.ReplaceAll(string(body), "\r\n", "\n")
		switch ct {
		case "text/plain":
			pm.Text = text
		case "text/html":
			pm.HTML = text
		}
	}
	if fmt.Sprint(pm.Parts) != "[text/plain text/html]" {
		t.Errorf("parts = %v, want [text/plain text/html]", pm.Parts)
	}
	return pm
}

// subjectOf decodes the Subject header.
func subjectOf(t testing.TB, h mail.Header) string {
	t.Helper()
	s, err := h.Subject()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// inOrder checks that the needles appear in s in this order.
func inOrder(t testing.TB, what, s string, needles ...string) {
	t.Helper()
	pos := 0
	for _, n := range needles {
		i := strings.Index(s[pos:], n)
		if i < 0 {
			if strings.Contains(s, n) {
				t.Errorf("%s: %q appears, but out of order (before %q)", what, n, s[max(0, pos-40):pos])
			} else {
				t.Errorf("%s: missing %q", what, n)
			}
			continue
		}
		pos += i + len(n)
	}
}
