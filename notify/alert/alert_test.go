package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/sla"
	"github.com/reciprocal-access/reciprocal/watcher"
)

// sender records what it is asked to send and answers with err.
type sender struct {
	sent [][]byte
	err  error
}

func (s *sender) Send(_ context.Context, _ string, _ []string, raw []byte) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	s.sent = append(s.sent, raw)
	return "250 ok", nil
}

func osv(id, published, modified, module, pkg, fixed, summary string) string {
	e := map[string]any{
		"schema_version": "1.3.1", "id": id, "modified": modified, "published": published,
		"summary": summary, "details": "Details of " + id + ".",
		"affected": []any{map[string]any{
			"package":            map[string]string{"name": module, "ecosystem": "Go"},
			"ranges":             []any{map[string]any{"type": "SEMVER", "events": []any{map[string]string{"introduced": "0"}, map[string]string{"fixed": fixed}}}},
			"ecosystem_specific": map[string]any{"imports": []any{map[string]string{"path": pkg}}},
		}},
		"database_specific": map[string]string{"url": "https://pkg.go.dev/vuln/" + id},
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// parsed is a received message taken apart.
type parsed struct {
	Header     mail.Header
	Subject    string
	Text, HTML string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{Header: r.Header}
	p.Subject, _ = r.Header.Subject()
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part.Body)
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		if ct, _, _ := part.Header.(*mail.InlineHeader).ContentType(); ct == "text/html" {
			p.HTML = string(b)
		} else {
			p.Text = string(b)
		}
	}
	return p
}

type fixture struct {
	t  testing.TB
	d  *watcher.Data
	al *Alerter
}

func newFixture(t testing.TB) *fixture {
	d, err := watcher.OpenData(t.TempDir(), false, &watcher.Normalizer{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	cfg := configs.Default()
	profiles := configs.Profiles{
		{ID: "acme", Name: "Acme CDN", Tier: "gold", Contacts: []string{"Jane Roe <jane@acme.example>"},
			Concerns: []configs.Concern{{ID: "tls", Summary: "Resume TLS sessions <b>fleet-wide</b>", Told: configs.Date{Time: time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)}, Via: "call", Packages: []string{"crypto/tls"}}}},
		{ID: "initech", Name: "Initech", Tier: "silver", SLA: configs.ClientSLA{Off: true},
			Concerns: []configs.Concern{{ID: "http", Summary: "HTTP", Packages: []string{"net/http"}}}},
	}
	mb := notify.NewMailbox(d.Store)
	return &fixture{t: t, d: d, al: &Alerter{
		Data: d, Policy: &sla.Policy{Config: cfg, Profiles: profiles}, Mailbox: mb,
		From: "reciprocal <me@example.com>", To: []string{"me@example.com"}, Location: time.UTC,
	}}
}

func (f *fixture) load(lines ...string) {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.d.Import(ctx, "test.jsonl", strings.NewReader(strings.Join(lines, "\n")+"\n"), watcher.ImportOptions{}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.d.IndexPending(ctx); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) pass(now time.Time, s notify.Sender) Result {
	f.t.Helper()
	res, err := f.al.Pass(context.Background(), now, s)
	if err != nil {
		f.t.Fatalf("pass at %v: %v", now, err)
	}
	return res
}

var monday = time.Date(2026, 11, 23, 18, 31, 0, 0, time.UTC)

func TestAlertOnce(t *testing.T) {
	f := newFixture(t)
	f.load(
		osv("GO-2026-4951", "2026-11-23T18:31:00Z", "2026-11-23T18:31:00Z", "stdlib", "crypto/tls", "1.26.10", "Session tickets reused across Configs"),
		// Published long before the window: a first sync of history.
		osv("GO-2024-0001", "2024-01-01T00:00:00Z", "2026-11-23T10:00:00Z", "stdlib", "crypto/tls", "1.21.6", "Old"),
		// Third-party, touching no concern.
		osv("GO-2026-4960", "2026-11-23T18:00:00Z", "2026-11-23T18:00:00Z", "github.com/other/thing", "github.com/other/thing", "1.0.1", "Third party"),
	)
	s := &sender{}
	res := f.pass(monday.Add(10*time.Minute), s)
	if len(res.Composed) != 1 || res.Composed[0].ID != "GO-2026-4951" || len(s.sent) != 1 {
		t.Fatalf("first pass: composed %+v, sent %d", res.Composed, len(s.sent))
	}
	m := parse(t, s.sent[0])
	if want := "reciprocal: GO-2026-4951: Session tickets reused across Configs"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if id := m.Header.Get("Message-Id"); id != "<alert-GO-2026-4951.reciprocal@example.com>" {
		t.Errorf("Message-Id %q", id)
	}
	if m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("not marked auto-submitted")
	}
	for _, want := range []string{
		"stdlib (crypto/tls): before 1.26.10",
		"Upgrade to: Go 1.26.10",
		"* Acme CDN (gold): may ask until Tue 24 Nov 18:31 UTC, 6h response per request",
		"touches tls: On 2026-03-12 they told you: \"Resume TLS sessions <b>fleet-wide</b>\" (call)",
		"contacts: Jane Roe <jane@acme.example>",
	} {
		if !strings.Contains(strings.Join(strings.Fields(m.Text), " "), want) {
			t.Errorf("alert text lacks %q in\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, "&lt;b&gt;fleet-wide&lt;/b&gt;") {
		t.Errorf("HTML does not escape the concern")
	}
	if strings.Contains(m.Text, "Initech") {
		t.Errorf("the alert names Initech, who has no SLA")
	}

	// Later passes send nothing more, even as the entry is re-synced.
	for _, at := range []time.Duration{time.Hour, 5 * time.Hour} {
		if res := f.pass(monday.Add(at), s); len(res.Composed) != 0 || len(s.sent) != 1 {
			t.Fatalf("pass +%v: composed %+v, sent %d", at, res.Composed, len(s.sent))
		}
	}

	// An amendment that adds a symbol only: no follow-up.
	f.load(strings.Replace(osv("GO-2026-4951", "2026-11-23T18:31:00Z", "2026-11-24T08:00:00Z", "stdlib", "crypto/tls", "1.26.10", "Session tickets reused across Configs"), `"path":"crypto/tls"`, `"path":"crypto/tls","symbols":["Conn.Read"]`, 1))
	if res := f.pass(monday.Add(14*time.Hour), s); len(res.Composed) != 0 {
		t.Fatalf("symbol-only amendment: composed %+v", res.Composed)
	}
	// One that changes the fixed versions: one follow-up, threaded.
	f.load(osv("GO-2026-4951", "2026-11-23T18:31:00Z", "2026-11-24T09:00:00Z", "stdlib", "crypto/tls", "1.26.11", "Session tickets reused across Configs"))
	res = f.pass(monday.Add(15*time.Hour), s)
	if len(res.Composed) != 1 || !res.Composed[0].FollowUp || len(s.sent) != 2 {
		t.Fatalf("amendment: composed %+v, sent %d", res.Composed, len(s.sent))
	}
	follow := parse(t, s.sent[1])
	if follow.Header.Get("In-Reply-To") != "<alert-GO-2026-4951.reciprocal@example.com>" || follow.Header.Get("Message-Id") != "<alert-GO-2026-4951.amended.reciprocal@example.com>" {
		t.Errorf("follow-up headers: %v", follow.Header)
	}
	if !strings.HasPrefix(follow.Subject, "reciprocal: GO-2026-4951 amended") {
		t.Errorf("follow-up subject %q", follow.Subject)
	}
	for _, want := range []string{"AMENDED", "fixed in 1.26.11"} {
		if !strings.Contains(follow.Text, want) {
			t.Errorf("follow-up lacks %q", want)
		}
	}
	// A second amendment: no second follow-up.
	f.load(osv("GO-2026-4951", "2026-11-23T18:31:00Z", "2026-11-24T10:00:00Z", "stdlib", "crypto/tls", "1.26.12", "Session tickets reused across Configs"))
	if res := f.pass(monday.Add(16*time.Hour), s); len(res.Composed) != 0 || len(s.sent) != 2 {
		t.Fatalf("second amendment: composed %+v, sent %d", res.Composed, len(s.sent))
	}
}

func TestAlertRetryAndRefusal(t *testing.T) {
	f := newFixture(t)
	f.load(osv("GO-2026-4951", "2026-11-23T18:31:00Z", "2026-11-23T18:31:00Z", "stdlib", "crypto/tls", "1.26.10", "Tickets"))

	// The server is down: the alert stays pending and the pass says so.
	down := &sender{err: &notify.SendError{Step: "connect", Server: "smtp:587", Err: errors.New("connection refused")}}
	res, err := f.al.Pass(context.Background(), monday.Add(time.Minute), down)
	if err == nil || len(res.Composed) != 1 || res.Delivered[0].State != notify.StatePending {
		t.Fatalf("down: %+v, %v", res, err)
	}
	first, _ := f.al.Mailbox.Raw("alert/GO-2026-4951")

	// The next pass sends the same bytes, and composes nothing new.
	up := &sender{}
	res = f.pass(monday.Add(16*time.Minute), up)
	if len(res.Composed) != 0 || len(up.sent) != 1 || !bytes.Equal(up.sent[0], first) {
		t.Fatalf("retry: composed %+v, sent %d, same bytes %v", res.Composed, len(up.sent), len(up.sent) == 1 && bytes.Equal(up.sent[0], first))
	}
	e, _, _ := f.al.Mailbox.Entry("alert/GO-2026-4951")
	if e.State != notify.StateSent || e.Attempts != 2 {
		t.Errorf("entry after retry: %+v", e)
	}

	// A refusal marks it failed; later passes leave it alone.
	f.load(osv("GO-2026-4952", "2026-11-23T19:00:00Z", "2026-11-23T19:00:00Z", "stdlib", "net/http", "1.26.10", "HTTP"))
	refuse := &sender{err: &notify.SendError{Step: "data", Code: 554, Reply: "554 no", Permanent: true}}
	f.al.Pass(context.Background(), monday.Add(time.Hour), refuse)
	e, _, _ = f.al.Mailbox.Entry("alert/GO-2026-4952")
	if e.State != notify.StateFailed {
		t.Fatalf("refused: %+v", e)
	}
	res = f.pass(monday.Add(2*time.Hour), up)
	if len(res.Composed) != 0 || len(res.Delivered) != 0 || len(up.sent) != 1 {
		t.Errorf("after refusal: %+v, sent %d", res, len(up.sent))
	}
}

func TestAlertHostileText(t *testing.T) {
	f := newFixture(t)
	hostile := "x\r\nBcc: victim@example.com <script>alert(1)</script>\x1b[2J\u202e"
	line := osv("GO-2026-4951", "2026-11-23T18:31:00Z", "2026-11-23T18:31:00Z", "stdlib", "crypto/tls", "1.26.10", hostile)
	f.load(line)
	s := &sender{}
	f.pass(monday.Add(time.Minute), s)
	if len(s.sent) != 1 {
		t.Fatalf("sent %d", len(s.sent))
	}
	head, _, _ := strings.Cut(string(s.sent[0]), "\r\n\r\n")
	if strings.Contains(head, "\r\nBcc:") {
		t.Errorf("header injection:\n%s", head)
	}
	m := parse(t, s.sent[0])
	if m.Header.Has("Bcc") || strings.ContainsAny(m.Subject, "\r\n\x1b\u202e") {
		t.Errorf("subject %q", m.Subject)
	}
	for _, bad := range []string{"<script>", "\x1b", "\u202e"} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	for _, bad := range []string{"\x1b", "\u202e", "\r", "\nBcc: victim"} {
		if strings.Contains(m.Text, bad) {
			t.Errorf("text contains %q", bad)
		}
	}
	if !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Errorf("HTML part does not show the escaped text")
	}
}
