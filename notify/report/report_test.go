package report_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/report"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/match"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Tuesday 12 March 2024, 09:00 UTC: a day after the fixtures' activity.
var t0 = time.Date(2024, 3, 12, 9, 0, 0, 0, time.UTC)

const acme = `id = "acme"
name = "Acme CDN"
tier = "gold"
contacts = ["Jane Roe <jane@acme.example>"]

[[concern]]
id = "tickets"
summary = "Resume TLS sessions across the fleet"
told = 2024-01-10
packages = ["crypto/tls"]
`

const globex = `id = "globex"
name = "Globex Payments"
tier = "platinum"

[[concern]]
id = "rsa"
summary = "RSA private-key performance"
told = 2024-02-01
packages = ["crypto/rsa"]
`

// newEnv imports the watcher fixtures into a new data directory, records
// one healthy and one failing sync at syncedAt, and matches them against
// two clients' concerns at t0 (newEnvAt: at now).
func newEnv(t *testing.T, syncedAt time.Time) *report.Env {
	return newEnvAt(t, t0, syncedAt)
}

// newEnvAt is newEnv with the clock at now.
func newEnvAt(t *testing.T, now, syncedAt time.Time) *report.Env {
	t.Helper()
	ctx := context.Background()
	d, err := watcher.OpenData(t.TempDir(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	for _, f := range []string{"issues.jsonl", "changes.jsonl", "vulns.jsonl"} {
		r, err := os.Open(filepath.Join("..", "..", "watcher", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Import(ctx, f, r, watcher.ImportOptions{})
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	defer slog.SetDefault(old)
	d.SyncAll(ctx, []source.Source{
		fakeSource{name: "github golang/go"},
		fakeSource{name: "gerrit go-review", err: errors.New("503 Service Unavailable")},
	}, source.Options{Now: func() time.Time { return syncedAt }})

	dir := t.TempDir()
	for name, text := range map[string]string{"acme.toml": acme, "globex.toml": globex} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	profiles, err := configs.LoadProfiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := configs.Default()
	clock := func() time.Time { return now }
	if _, err := match.Run(ctx, d, profiles, match.Options{Now: clock, Lookback: time.Duration(cfg.Matching.Lookback), Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	return &report.Env{Data: d, Config: cfg, Profiles: profiles, Now: clock}
}

type fakeSource struct {
	name string
	err  error
}

func (s fakeSource) Name() string { return s.name }
func (s fakeSource) Sync(context.Context, *store.Store, source.Options) (source.Stats, error) {
	return source.Stats{}, s.err
}

func TestBriefing(t *testing.T) {
	// The morning after GO-2024-2601 (crypto/tls) was published, at
	// 20:00 UTC on 5 March 2024: its SLA window is still open.
	now := time.Date(2024, 3, 6, 9, 0, 0, 0, time.UTC)
	e := newEnvAt(t, now, now.Add(-time.Hour))
	b, err := e.Briefing(notify.Date{Year: 2024, Month: 3, Day: 6})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Now.Equal(now) {
		t.Errorf("composed at %v, want the Env's clock %v", b.Now, now)
	}

	// A vulnerability in Go itself opens every covered client's window,
	// quoting the concern it touches.
	if len(b.Vulns) != 1 || b.Vulns[0].ID != "GO-2024-2601" {
		t.Fatalf("vulnerabilities in their window: %+v, want GO-2024-2601 only", b.Vulns)
	}
	vuln := b.Vulns[0]
	clients := map[string]notify.VulnClient{}
	for _, c := range vuln.Clients {
		clients[c.Client] = c
	}
	if c := clients["Acme CDN"]; c.Concern != "Resume TLS sessions across the fleet" || !c.Deadline.Equal(vuln.Published.Add(24*time.Hour)) {
		t.Errorf("Acme's window: %+v, want its concern and 24h after publication (%v)", c, vuln.Published)
	}
	if c, ok := clients["Globex Payments"]; !ok || c.Concern != "" {
		t.Errorf("Globex's window: %+v (present %v), want one without a concern", c, ok)
	}

	// Open prompts come grouped by client, with what the client told.
	byClient := map[string]notify.ClientPrompts{}
	for _, c := range b.Clients {
		byClient[c.Client] = c
	}
	for name, pkg := range map[string]string{"Acme CDN": "crypto/tls", "Globex Payments": "crypto/rsa"} {
		c, ok := byClient[name]
		if !ok || len(c.Prompts) == 0 {
			t.Errorf("no open prompts for %s: %+v", name, b.Clients)
			continue
		}
		for _, p := range c.Prompts {
			if !strings.Contains(strings.Join(p.Packages, " "), pkg) || p.Told == "" {
				t.Errorf("%s prompt %s: packages %v, told %q", name, p.ItemID, p.Packages, p.Told)
			}
		}
	}
	if len(b.Clients) != 2 {
		t.Errorf("%d client groups, want 2", len(b.Clients))
	}

	// Sync health, from what the store recorded.
	health := map[string]notify.SourceHealth{}
	for _, h := range b.Health {
		health[h.Source] = h
	}
	if h := health["gerrit go-review"]; h.LastError == "" || h.FailingSince.IsZero() {
		t.Errorf("failing source: %+v", h)
	}
	if h := health["github golang/go"]; h.LastError != "" || h.LastSuccess.IsZero() {
		t.Errorf("healthy source: %+v", h)
	}
}

func TestBriefingSince(t *testing.T) {
	e := newEnv(t, t0)
	day := notify.Date{Year: 2024, Month: 3, Day: 12}
	since, err := e.BriefingSince(day, t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(-report.BriefingWindow); !since.Equal(want) {
		t.Errorf("without an earlier briefing: since %v, want %v", since, want)
	}

	// Yesterday's briefing, composed at 08:00, bounds what is new today.
	yesterday := time.Date(2024, 3, 11, 8, 0, 0, 0, time.UTC)
	ob := e.Outbox()
	ob.Now = func() time.Time { return yesterday }
	compose := func() (*notify.Message, error) {
		b, err := e.Briefing(notify.Date{Year: 2024, Month: 3, Day: 11})
		if err != nil {
			return nil, err
		}
		return notify.Compose(b, notify.OptionsFrom(e.Config))
	}
	if _, err := ob.Deliver(context.Background(), notify.Date{Year: 2024, Month: 3, Day: 11}, compose, failingSender{}); err == nil {
		t.Fatal("delivery through a failing sender succeeded")
	}
	if since, err = e.BriefingSince(day, t0); err != nil {
		t.Fatal(err)
	}
	if !since.Equal(yesterday) {
		t.Errorf("after yesterday's briefing: since %v, want %v", since, yesterday)
	}
}

// failingSender refuses every message for now: the briefing stays in the
// outbox, composed.
type failingSender struct{}

func (failingSender) Send(context.Context, string, []string, []byte) (string, error) {
	return "", &notify.SendError{Step: "connect", Err: errors.New("connection refused")}
}

func TestStatus(t *testing.T) {
	// The gerrit source failed two days ago: that needs attention.
	e := newEnv(t, t0.Add(-48*time.Hour))
	st, err := e.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Empty || st.Items["github"] != 6 || st.Comments != 3 || st.Indexed == 0 {
		t.Errorf("status counts: empty %v, items %v, comments %d, indexed %d", st.Empty, st.Items, st.Comments, st.Indexed)
	}
	if st.MatchLag != 0 {
		t.Errorf("match lag %d after a match", st.MatchLag)
	}
	if c := st.Prompts["acme"]; c.Name != "Acme CDN" || c.Open == 0 {
		t.Errorf("acme prompts: %+v", c)
	}
	if len(st.Attention) != 1 || !strings.Contains(st.Attention[0], "gerrit go-review has been failing since") {
		t.Errorf("attention = %q, want the failing source", st.Attention)
	}

	// Invalid profiles do not hide the rest: they are one more line.
	e.Profiles, e.ProfilesErr = nil, errors.New("acme.toml:3: bad tier")
	if st, err = e.Status(); err != nil {
		t.Fatal(err)
	}
	if len(st.Attention) != 2 || !strings.Contains(st.Attention[1], "client profiles are invalid") || len(st.Prompts) != 0 {
		t.Errorf("attention = %q, prompts %v", st.Attention, st.Prompts)
	}
	if _, err := e.Briefing(notify.Date{Year: 2024, Month: 3, Day: 12}); err == nil {
		t.Error("a briefing was built without profiles")
	}

	// A failure younger than FailingTooLong is not yet worth a line.
	e = newEnv(t, t0.Add(-time.Hour))
	if st, err = e.Status(); err != nil || len(st.Attention) != 0 {
		t.Errorf("attention = %q, %v", st.Attention, err)
	}
}

func TestClientHistory(t *testing.T) {
	e := newEnv(t, t0)
	h, err := e.Client("acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Consultations) != 0 || h.Counts["tickets"][queue.Open] == 0 {
		t.Fatalf("before any consultation: %+v, counts %v", h.Consultations, h.Counts)
	}

	// Consult Acme about its prompt; reopen it and dismiss it, later.
	var id string
	for _, c := range mustList(t, e) {
		if c.Client.ID == "acme" {
			id = c.ID
		}
	}
	if id == "" {
		t.Fatal("acme has no open prompt")
	}
	_, err = queue.Update(e.Data.Store, id, func(p *queue.Prompt) error {
		if err := p.MarkDone(t0.Add(time.Hour), "they rotate keys daily"); err != nil {
			return err
		}
		if err := p.Reopen(t0.Add(90 * time.Minute)); err != nil {
			return err
		}
		return p.Dismiss(t0.Add(2*time.Hour), "")
	})
	if err != nil {
		t.Fatal(err)
	}
	if h, err = e.Client("acme"); err != nil {
		t.Fatal(err)
	}
	if len(h.Consultations) != 2 {
		t.Fatalf("consultations = %+v, want 2", h.Consultations)
	}
	if c := h.Consultations[0]; c.Prompt != id || c.Action != queue.ActionDismissed {
		t.Errorf("newest first: %+v", c)
	}
	if c := h.Consultations[1]; c.Prompt != id || c.Action != queue.ActionDone || c.Note != "they rotate keys daily" || c.Concern != "tickets" {
		t.Errorf("the consultation: %+v", c)
	}

	sums, err := e.Clients()
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 2 || sums[0].ID != "acme" || sums[0].Prompts[queue.Dismissed] != 1 || sums[0].Concerns[0] != "tickets" {
		t.Errorf("clients = %+v", sums)
	}

	if _, err := e.Client("initech"); !errors.Is(err, report.ErrUnknownClient) {
		t.Errorf("unknown client: err = %v", err)
	}

	// Without data yet, a client has a profile and nothing else.
	e.Data = nil
	if h, err = e.Client("acme"); err != nil || len(h.Consultations) != 0 || len(h.Counts) != 0 {
		t.Errorf("without data: %+v, %v", h, err)
	}
	if sums, err = e.Clients(); err != nil || len(sums[0].Prompts) != 0 {
		t.Errorf("without data: %+v, %v", sums, err)
	}
}

func mustList(t *testing.T, e *report.Env) []queue.Entry {
	t.Helper()
	es, err := queue.List(e.Data.Store, e.Profiles, queue.Filter{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return es
}
