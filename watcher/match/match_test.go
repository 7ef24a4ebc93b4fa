package match

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

const acme = `
id   = "acme"
name = "Acme CDN"
tier = "gold"
contacts = ["Jane Roe <jane@acme.example>"]

[[concern]]
id       = "tls-tickets"
summary  = "Resume TLS sessions across the fleet with shared, rotated ticket keys"
told     = 2023-05-10
via      = "kick-off call"
packages = ["crypto/tls"]
query    = 'session ticket resumption "session resumption"'
priority = "high"

[[concern]]
id       = "crypto-anything"
summary  = "Anything in crypto"
told     = 2023-05-10
packages = ["crypto"]

[[concern]]
id       = "ticket-proposals"
summary  = "Proposals about tickets"
told     = 2023-05-10
query    = "ticket"
kinds    = ["proposal"]

[[concern]]
id       = "ssh-agent"
summary  = "SSH agent forwarding"
told     = 2024-01-02
query    = "+ssh +agent"
`

func TestMatchRules(t *testing.T) {
	f := newFixture(t, acme)
	f.load(
		issue{N: 1, Title: "crypto/tls: resume sessions with tickets", Body: "Session resumption with rotated session ticket keys across servers.", Updated: daysAgo(1)}.String(),
		issue{N: 2, Title: "crypto/tls: handshake timeout", Body: "The handshake hangs.", Updated: daysAgo(1)}.String(),
		issue{N: 3, Title: "net/http: session cookie ticket", Body: "A session ticket for cookies.", Updated: daysAgo(1)}.String(),
		issue{N: 4, Title: "proposal: crypto/tls: export ticket keys", Body: "Let servers share keys.", Labels: []string{"Proposal"}, Updated: daysAgo(1)}.String(),
		issue{N: 5, Title: "crypto/tls/internal/fips140tls: ticket session resumption in FIPS mode", Body: "Sub-package.", Updated: daysAgo(1)}.String(),
		issue{N: 6, Title: "x/crypto/ssh/agent: forwarding breaks", Body: "The ssh agent forwarding fails.", Updated: daysAgo(1)}.String(),
		issue{N: 7, Title: "cmd/go: ssh URLs", Body: "go get over ssh.", Updated: daysAgo(1)}.String(),
		issue{N: 8, Title: "crypto/tls: handshake speed-up", Body: "This also makes session resumption faster.", Updated: daysAgo(1)}.String(),
		issue{N: 9, Title: "crypto/x509: chain cache", Body: "Speeds up session resumption in crypto/tls servers.", Updated: daysAgo(1)}.String(),
		change{N: 100, Subject: "crypto/tls: rotate session ticket keys", Message: "Resumption keys rotate.", Files: []string{"src/crypto/tls/ticket.go"}, Updated: daysAgo(1)}.String(),
		change{Project: "crypto", N: 101, Subject: "ssh/agent: fix forwarding", Message: "The ssh agent works.", Files: []string{"ssh/agent/client.go"}, Updated: daysAgo(1)}.String(),
		vuln{ID: "GO-2026-0001", Summary: "Session resumption bypass in crypto/tls", Details: "Session tickets could be replayed.", Imports: []string{"crypto/tls"}, Published: daysAgo(1)}.String(),
	)
	res := f.run()

	for _, tc := range []struct {
		concern, item string
		match         bool
	}{
		// Packages AND query.
		{"tls-tickets", "golang/go#1", true},
		{"tls-tickets", "golang/go#2", false}, // package, but not the query
		{"tls-tickets", "golang/go#3", false}, // query, but not the package
		{"tls-tickets", "golang/go#5", true},  // a sub-package of crypto/tls
		{"tls-tickets", "go-review:go/100", true},
		{"tls-tickets", "GO-2026-0001", true},
		{"tls-tickets", "golang/go#9", true}, // mentions crypto/tls, and the query matches
		// Packages only: crypto covers crypto/tls and its sub-packages.
		{"crypto-anything", "golang/go#1", true},
		{"crypto-anything", "golang/go#5", true},
		{"crypto-anything", "golang/go#3", false},
		{"crypto-anything", "golang/go#6", false}, // golang.org/x/crypto is not crypto
		// Kinds.
		{"ticket-proposals", "golang/go#4", true},
		{"ticket-proposals", "golang/go#1", false},
		{"ticket-proposals", "go-review:go/100", false},
		// Query only, with required words.
		{"ssh-agent", "golang/go#6", true},
		{"ssh-agent", "go-review:crypto/101", true},
		{"ssh-agent", "golang/go#7", false},
	} {
		if got := f.prompt("acme", tc.concern, tc.item) != nil; got != tc.match {
			t.Errorf("%s matches %s: %v, want %v", tc.concern, tc.item, got, tc.match)
		}
	}
	if len(res.Evaluated) != 4 || len(res.New) != f.count() || res.History != 0 {
		t.Errorf("result: %d evaluated, %d new, %d history; %d prompts stored", len(res.Evaluated), len(res.New), res.History, f.count())
	}

	// Reasons: the concern's packages the item touches, the query's words
	// found, a snippet marking them.
	p := f.mustPrompt("acme", "tls-tickets", "golang/go#5")
	if !slices.Equal(p.Reasons.Packages, []string{"crypto/tls"}) {
		t.Errorf("reason packages = %v", p.Reasons.Packages)
	}
	if want := []string{"session", "ticket", "resumption"}; !slices.Equal(p.Reasons.Terms, want) {
		t.Errorf("reason terms = %v, want %v", p.Reasons.Terms, want)
	}
	if s := p.Reasons.Snippet.Text(); !strings.Contains(s, "«ticket»") || !strings.Contains(s, "«session»") {
		t.Errorf("snippet = %q", s)
	}
	if p.State != queue.Open || p.Item.Title != "crypto/tls/internal/fips140tls: ticket session resumption in FIPS mode" || p.Item.URL == "" {
		t.Errorf("prompt = %+v", p)
	}
	if tr := p.Trigger(); tr.Kind != queue.TriggerMatch || tr.Description != "matched: open issue" || !tr.At.Equal(now) {
		t.Errorf("first trigger = %+v", tr)
	}
	// The snippet comes from where the terms are, here the body.
	if s := f.mustPrompt("acme", "tls-tickets", "golang/go#8").Reasons.Snippet.Text(); s != "This also makes «session» «resumption» faster." {
		t.Errorf("body snippet = %q", s)
	}
	if p := f.mustPrompt("acme", "tls-tickets", "golang/go#9"); !slices.Equal(p.Reasons.Packages, []string{"crypto/tls (mentioned)"}) {
		t.Errorf("reason packages of a mention = %v", p.Reasons.Packages)
	}
	if p := f.mustPrompt("acme", "crypto-anything", "golang/go#1"); p.Reasons.Terms != nil || p.Reasons.Snippet != "" {
		t.Errorf("a concern without a query has terms: %+v", p.Reasons)
	}
	if p := f.mustPrompt("acme", "tls-tickets", "go-review:go/100"); p.Trigger().Description != "matched: CL under review" {
		t.Errorf("CL trigger = %q", p.Trigger().Description)
	}
	v := f.mustPrompt("acme", "tls-tickets", "GO-2026-0001")
	if v.Trigger().Description != "matched: vulnerability published 2026-08-31" || !v.ClockStart.Equal(daysAgo(1)) {
		t.Errorf("vuln prompt: %q, clock %v", v.Trigger().Description, v.ClockStart)
	}

	// A second run with nothing changed does nothing.
	n := f.count()
	res = f.run()
	if len(res.New)+len(res.Reopened)+res.History+res.Changed != 0 || len(res.Evaluated) != 0 || f.count() != n {
		t.Errorf("second run: %+v", res)
	}
}

// proposal is the fixture of the milestone tests: a crypto/tls proposal.
func proposal(labels []string, state string, updated time.Time) string {
	is := issue{N: 60105, Title: "proposal: crypto/tls: control the content of session tickets", Body: "Servers resuming sessions need the ticket.",
		Labels: append([]string{"Proposal"}, labels...), State: state, Updated: updated, Created: daysAgo(5)}
	if state == "closed" {
		is.Closed = updated
	}
	return is.String()
}

const tlsOnly = `
id   = "acme"
name = "Acme CDN"
tier = "gold"

[[concern]]
id       = "tls"
summary  = "TLS sessions"
told     = 2023-05-10
packages = ["crypto/tls"]
`

func TestMilestones(t *testing.T) {
	later := func(h int) time.Time { return now.Add(time.Duration(h) * time.Hour) }
	for _, tc := range []struct {
		name   string
		before []string
		after  []string
		kind   string // "" for no milestone
		desc   string
	}{
		{"stage change by label",
			[]string{proposal([]string{"Proposal-Active"}, "open", daysAgo(1))},
			[]string{proposal([]string{"Proposal-LikelyAccept"}, "open", later(1))},
			queue.TriggerStage, "proposal moved from active to likely-accept"},
		{"stage change by review comment",
			[]string{proposal(nil, "open", daysAgo(1)), comment(60105, 1, "rsc", "This proposal has been added to the active column of the proposals project.", daysAgo(1))},
			[]string{comment(60105, 3, "rsc", "Based on the discussion above, this proposal seems like a **likely accept**.", later(1))},
			queue.TriggerStage, "proposal moved from active to likely-accept"},
		{"new comment",
			[]string{proposal([]string{"Proposal-Active"}, "open", daysAgo(1))},
			[]string{comment(60105, 2, "gopher", "We also resume sessions; +1.", later(1)), proposal([]string{"Proposal-Active"}, "open", later(1))},
			"", ""},
		{"accepted and closed",
			[]string{proposal([]string{"Proposal-FinalCommentPeriod"}, "open", daysAgo(1))},
			[]string{proposal([]string{"Proposal-Accepted"}, "closed", later(1))},
			queue.TriggerStage, "proposal moved from final-comment to accepted; proposal closed"},
		{"issue closed",
			[]string{issue{N: 1, Title: "crypto/tls: bug", Updated: daysAgo(1)}.String()},
			[]string{issue{N: 1, Title: "crypto/tls: bug", State: "closed", Closed: later(1), Updated: later(1)}.String()},
			queue.TriggerClosed, "issue closed"},
		{"issue reopened",
			[]string{issue{N: 1, Title: "crypto/tls: bug", State: "closed", Closed: daysAgo(1), Updated: daysAgo(1)}.String()},
			[]string{issue{N: 1, Title: "crypto/tls: bug", Updated: later(1)}.String()},
			queue.TriggerReopened, "issue reopened"},
		{"issue retitled",
			[]string{issue{N: 1, Title: "crypto/tls: bug", Updated: daysAgo(1)}.String()},
			[]string{issue{N: 1, Title: "crypto/tls: a clearer title", Body: "edited", Updated: later(1)}.String()},
			"", ""},
		{"CL merged",
			[]string{change{N: 100, Subject: "crypto/tls: fix", Files: []string{"src/crypto/tls/conn.go"}, Updated: daysAgo(1)}.String()},
			[]string{change{N: 100, Subject: "crypto/tls: fix", Status: "MERGED", Files: []string{"src/crypto/tls/conn.go"}, Updated: later(1)}.String()},
			queue.TriggerMerged, "CL merged"},
		{"CL abandoned",
			[]string{change{N: 100, Subject: "crypto/tls: fix", Files: []string{"src/crypto/tls/conn.go"}, Updated: daysAgo(1)}.String()},
			[]string{change{N: 100, Subject: "crypto/tls: fix", Status: "ABANDONED", Files: []string{"src/crypto/tls/conn.go"}, Updated: later(1)}.String()},
			queue.TriggerAbandoned, "CL abandoned"},
		{"CL new patch set",
			[]string{change{N: 100, Subject: "crypto/tls: fix", Files: []string{"src/crypto/tls/conn.go"}, Updated: daysAgo(1)}.String()},
			[]string{change{N: 100, Subject: "crypto/tls: fix", Message: "v2", Files: []string{"src/crypto/tls/conn.go", "src/crypto/tls/conn_test.go"}, Updated: later(1)}.String()},
			"", ""},
		{"pull request merged",
			[]string{issue{N: 9, Title: "crypto/tls: fix", Pull: true, Updated: daysAgo(1)}.String()},
			[]string{issue{N: 9, Title: "crypto/tls: fix", Pull: true, Merged: true, State: "closed", Closed: later(1), Updated: later(1)}.String()},
			queue.TriggerMerged, "pull request merged"},
		{"vulnerability amended",
			[]string{vuln{ID: "GO-2026-0001", Summary: "crypto/tls: bypass", Imports: []string{"crypto/tls"}, Published: daysAgo(1)}.String()},
			[]string{vuln{ID: "GO-2026-0001", Summary: "crypto/tls: bypass", Details: "Also affects clients.", Imports: []string{"crypto/tls"}, Published: daysAgo(1), Modified: later(1)}.String()},
			queue.TriggerAmended, "vulnerability amended (modified 2026-09-01)"},
		{"vulnerability withdrawn",
			[]string{vuln{ID: "GO-2026-0001", Summary: "crypto/tls: bypass", Imports: []string{"crypto/tls"}, Published: daysAgo(1)}.String()},
			[]string{vuln{ID: "GO-2026-0001", Summary: "crypto/tls: bypass", Imports: []string{"crypto/tls"}, Published: daysAgo(1), Modified: later(1), Withdrawn: later(1)}.String()},
			queue.TriggerWithdrawn, "vulnerability withdrawn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tlsOnly)
			f.load(tc.before...)
			res := f.run()
			if len(res.New) != 1 {
				t.Fatalf("first run: %d new prompts, want 1", len(res.New))
			}
			p := res.New[0]
			f.update(p.ID, func(p *queue.Prompt) error { return p.MarkDone(f.now, "asked Jane") })
			f.now = now.Add(2 * time.Hour)
			f.load(tc.after...)
			res = f.run()
			p = f.mustPrompt("acme", "tls", p.Item.ID)
			if len(res.New) != 0 {
				t.Errorf("second run created %d prompts", len(res.New))
			}
			if tc.kind == "" {
				if len(res.Reopened) != 0 || p.State != queue.Done || len(p.Triggers) != 1 {
					t.Errorf("no milestone, but: %d re-opened, state %s, triggers %+v", len(res.Reopened), p.State, p.Triggers)
				}
				return
			}
			if len(res.Reopened) != 1 || p.State != queue.Open || len(p.Triggers) != 2 {
				t.Fatalf("milestone: %d re-opened, state %s, triggers %+v", len(res.Reopened), p.State, p.Triggers)
			}
			tr := p.Trigger()
			if tr.Kind != tc.kind || tr.Description != tc.desc || !tr.At.Equal(f.now) {
				t.Errorf("trigger = %+v, want %s %q", tr, tc.kind, tc.desc)
			}
			if p.Log[0].Action != queue.ActionDone || p.Log[0].Note != "asked Jane" {
				t.Errorf("the consultation note was lost: %+v", p.Log)
			}
			// The same state seen again is not a new milestone.
			f.now = now.Add(3 * time.Hour)
			f.d.Store.Update(func(tx *store.Tx) error { return tx.Touch(p.Item.ID) })
			if res := f.run(); len(res.Reopened) != 0 || res.Changed != 1 {
				t.Errorf("touch: %d re-opened of %d changed", len(res.Reopened), res.Changed)
			}
		})
	}
}

func TestSnoozeExpiry(t *testing.T) {
	f := newFixture(t, tlsOnly)
	f.load(issue{N: 1, Title: "crypto/tls: bug", Updated: daysAgo(1)}.String())
	p := f.run().New[0]
	f.update(p.ID, func(p *queue.Prompt) error { return p.Snooze(f.now, now.Add(48*time.Hour), "after the offsite") })
	if q := f.queue(); len(q) != 0 {
		t.Fatalf("snoozed prompt in the queue: %v", q)
	}
	f.now = now.Add(24 * time.Hour)
	if res := f.run(); res.Woken != 0 || len(f.queue()) != 0 {
		t.Errorf("woken a day early (%d)", res.Woken)
	}
	f.now = now.Add(49 * time.Hour)
	if q := f.queue(); len(q) != 1 || q[0].State != queue.Open {
		t.Fatalf("expired snooze not in the queue: %v", q)
	}
	if res := f.run(); res.Woken != 1 {
		t.Errorf("run woke %d prompts, want 1", res.Woken)
	}
	if p := f.mustPrompt("acme", "tls", "golang/go#1"); p.State != queue.Open || !p.Until.IsZero() {
		t.Errorf("after the run: %s until %v", p.State, p.Until)
	}
}

func TestDismissIsPermanent(t *testing.T) {
	f := newFixture(t, tlsOnly)
	f.load(proposal([]string{"Proposal-Active"}, "open", daysAgo(1)))
	p := f.run().New[0]
	f.update(p.ID, func(p *queue.Prompt) error { return p.Dismiss(f.now, "they moved off Go TLS") })
	for i, labels := range [][]string{{"Proposal-LikelyAccept"}, {"Proposal-Accepted"}} {
		f.now = now.Add(time.Duration(i+1) * time.Hour)
		f.load(proposal(labels, "open", f.now))
		res := f.run()
		if len(res.New)+len(res.Reopened) != 0 {
			t.Errorf("dismissed prompt came back: %d new, %d re-opened", len(res.New), len(res.Reopened))
		}
	}
	p = f.mustPrompt("acme", "tls", "golang/go#60105")
	if p.State != queue.Dismissed || len(p.Triggers) != 1 {
		t.Errorf("dismissed prompt: %s with %d triggers", p.State, len(p.Triggers))
	}
	// A changed concern evaluated again does not bring it back either.
	f.setProfiles(strings.Replace(tlsOnly, `["crypto/tls"]`, `["crypto/tls", "crypto/x509"]`, 1))
	if res := f.run(); len(res.Evaluated) != 1 || len(res.New)+len(res.Reopened) != 0 {
		t.Errorf("re-evaluation: %+v", res)
	}
}

func TestCrashBeforeCommit(t *testing.T) {
	var items []string
	for i := 1; i <= 7; i++ {
		items = append(items, issue{N: i, Title: "crypto/tls: bug", Updated: daysAgo(1)}.String())
	}
	f := newFixture(t, tlsOnly)
	f.load(items[:2]...)
	f.run() // the concern is known now; later items go through batches
	f.load(items[2:]...)

	crash := errors.New("power cut")
	commits := 0
	testHookBeforeCommit = func() error {
		commits++
		if commits == 2 { // the first batch commits, the second does not
			return crash
		}
		return nil
	}
	defer func() { testHookBeforeCommit = nil }()
	_, err := Run(t.Context(), f.d, f.profiles, Options{Now: f.opts().Now, Logger: f.opts().Logger, BatchSize: 2})
	if !errors.Is(err, crash) {
		t.Fatalf("Run error = %v, want the injected crash", err)
	}
	if n := f.count(); n != 4 {
		t.Errorf("after the crash: %d prompts, want 4 (2 from the first run, 2 from the committed batch)", n)
	}
	testHookBeforeCommit = nil
	res := f.run()
	if len(res.New) != 3 || f.count() != 7 {
		t.Errorf("re-run: %d new, %d stored; want 3 new and all 7, once", len(res.New), f.count())
	}
	if res := f.run(); len(res.New)+res.Changed != 0 {
		t.Errorf("third run repeated work: %+v", res)
	}

	// A crash while a new concern is evaluated over the whole index: it is
	// evaluated again in full on the next run.
	f.setProfiles(tlsOnly + `
[[concern]]
id      = "bugs"
summary = "bugs"
told    = 2024-01-01
query   = "bug"
`)
	testHookBeforeCommit = func() error { return crash }
	if _, err := Run(t.Context(), f.d, f.profiles, f.opts()); !errors.Is(err, crash) {
		t.Fatalf("Run error = %v", err)
	}
	testHookBeforeCommit = nil
	if res := f.run(); len(res.Evaluated) != 1 || len(res.New) != 7 || f.count() != 14 {
		t.Errorf("after a crash in a whole evaluation: %d evaluated, %d new, %d stored", len(res.Evaluated), len(res.New), f.count())
	}
}

func TestLookback(t *testing.T) {
	f := newFixture(t, tlsOnly)
	f.load(
		issue{N: 1, Title: "crypto/tls: recent", Updated: daysAgo(3)}.String(),
		issue{N: 2, Title: "crypto/tls: old", Updated: daysAgo(300)}.String(),
		vuln{ID: "GO-2026-0001", Summary: "crypto/tls: new vuln", Imports: []string{"crypto/tls"}, Published: daysAgo(2)}.String(),
		vuln{ID: "GO-2025-0001", Summary: "crypto/tls: old vuln", Imports: []string{"crypto/tls"}, Published: daysAgo(300)}.String(),
		// Published long ago, amended recently: still old.
		vuln{ID: "GO-2025-0002", Summary: "crypto/tls: old vuln, amended", Imports: []string{"crypto/tls"}, Published: daysAgo(300), Modified: daysAgo(1)}.String(),
		// Withdrawn: queued, but no clock runs.
		vuln{ID: "GO-2026-0002", Summary: "crypto/tls: withdrawn vuln", Imports: []string{"crypto/tls"}, Published: daysAgo(2), Modified: daysAgo(1), Withdrawn: daysAgo(1)}.String(),
	)
	res := f.run()
	if len(res.New) != 3 || res.History != 3 {
		t.Errorf("first run: %d new, %d history; want 3 and 3", len(res.New), res.History)
	}
	for item, want := range map[string]queue.State{
		"golang/go#1": queue.Open, "golang/go#2": queue.History,
		"GO-2026-0001": queue.Open, "GO-2025-0001": queue.History, "GO-2025-0002": queue.History,
	} {
		if p := f.mustPrompt("acme", "tls", item); p.State != want {
			t.Errorf("%s: %s, want %s", item, p.State, want)
		}
	}
	if p := f.mustPrompt("acme", "tls", "GO-2026-0001"); !p.ClockStart.Equal(daysAgo(2)) || !p.Item.Published.Equal(daysAgo(2)) {
		t.Errorf("new vuln: clock %v, published %v", p.ClockStart, p.Item.Published)
	}
	for _, id := range []string{"GO-2025-0001", "GO-2025-0002", "GO-2026-0002"} {
		if p := f.mustPrompt("acme", "tls", id); !p.ClockStart.IsZero() {
			t.Errorf("old or withdrawn vuln %s started a clock", id)
		}
	}
	// History is never in the queue.
	var queued []string
	for _, e := range f.queue() {
		queued = append(queued, e.Item.ID)
	}
	slices.Sort(queued)
	if want := []string{"GO-2026-0001", "GO-2026-0002", "golang/go#1"}; !slices.Equal(queued, want) {
		t.Errorf("queue = %v, want %v", queued, want)
	}
	clock, err := queue.OnTheClock(f.d.Store, f.profiles, f.now, DefaultLookback)
	if err != nil || len(clock) != 1 || clock[0].Item.ID != "GO-2026-0001" {
		t.Errorf("on the clock: %v, %v", clock, err)
	}

	// Later runs prompt as usual: a new item updated now is queued.
	f.now = now.Add(24 * time.Hour)
	f.load(issue{N: 3, Title: "crypto/tls: brand new", Updated: f.now}.String())
	if res := f.run(); len(res.New) != 1 || res.History != 0 {
		t.Errorf("later run: %d new, %d history", len(res.New), res.History)
	}
	// An old item that reaches the store late (a backfill) is history.
	f.load(issue{N: 4, Title: "crypto/tls: backfilled", Updated: daysAgo(400)}.String())
	if res := f.run(); len(res.New) != 0 || res.History != 1 {
		t.Errorf("backfill: %d new, %d history", len(res.New), res.History)
	}
	// A history match whose item reaches a milestone is queued.
	f.load(issue{N: 2, Title: "crypto/tls: old", State: "closed", Closed: f.now, Updated: f.now}.String())
	res = f.run()
	if len(res.Reopened) != 1 || f.mustPrompt("acme", "tls", "golang/go#2").State != queue.Open {
		t.Errorf("milestone on a history match: %d re-opened", len(res.Reopened))
	}
}

func TestConcernAddedAndChanged(t *testing.T) {
	f := newFixture(t, tlsOnly)
	f.load(
		issue{N: 1, Title: "crypto/tls: session tickets", Updated: daysAgo(3)}.String(),
		issue{N: 2, Title: "crypto/x509: old root store", Updated: daysAgo(300)}.String(),
		issue{N: 3, Title: "crypto/x509: parse names", Updated: daysAgo(2)}.String(),
		issue{N: 4, Title: "net/http: session cookies", Updated: daysAgo(2)}.String(),
	)
	f.run()
	f.now = now.Add(time.Hour)

	// A summary or priority edit is not a change of what matches.
	f.setProfiles(strings.Replace(strings.Replace(tlsOnly, "TLS sessions", "TLS session resumption", 1), "told     = 2023-05-10", "told     = 2023-05-10\npriority = \"high\"", 1))
	if res := f.run(); len(res.Evaluated) != 0 {
		t.Errorf("summary edit re-evaluated %v", res.Evaluated)
	}

	// A concern added to an existing install: evaluated over every item,
	// with the look-back.
	withX509 := tlsOnly + `
[[concern]]
id       = "x509"
summary  = "Certificate parsing"
told     = 2024-06-01
packages = ["crypto/x509"]
`
	f.setProfiles(withX509)
	res := f.run()
	if len(res.Evaluated) != 1 || res.Evaluated[0] != (ConcernID{"acme", "x509"}) {
		t.Errorf("evaluated = %v, want acme/x509", res.Evaluated)
	}
	if len(res.New) != 1 || res.New[0].Item.ID != "golang/go#3" || res.History != 1 {
		t.Errorf("new concern: %d new, %d history", len(res.New), res.History)
	}
	if p := f.mustPrompt("acme", "x509", "golang/go#2"); p.State != queue.History {
		t.Errorf("old x509 item: %s", p.State)
	}

	// A changed query is evaluated again, with the look-back.
	f.now = now.Add(2 * time.Hour)
	f.setProfiles(strings.Replace(withX509, `packages = ["crypto/tls"]`, `query = "session"`, 1))
	res = f.run()
	if len(res.Evaluated) != 1 || res.Evaluated[0] != (ConcernID{"acme", "tls"}) {
		t.Errorf("evaluated = %v, want acme/tls", res.Evaluated)
	}
	if len(res.New) != 1 || res.New[0].Item.ID != "golang/go#4" {
		t.Errorf("changed query: new = %v", res.New)
	}
	// The existing prompt got no duplicate and now carries the terms.
	if p := f.mustPrompt("acme", "tls", "golang/go#1"); len(p.Triggers) != 1 || !slices.Equal(p.Reasons.Terms, []string{"session"}) {
		t.Errorf("existing prompt after the query change: %+v", p)
	}

	// A removed concern is forgotten; adding it back evaluates it again.
	f.setProfiles(tlsOnly)
	f.run()
	f.setProfiles(withX509)
	if res := f.run(); len(res.Evaluated) != 1 || len(res.New) != 0 {
		t.Errorf("re-added concern: %v evaluated, %d new", res.Evaluated, len(res.New))
	}

	// A new client is evaluated in full too.
	f.setProfiles(withX509, strings.NewReplacer(`"acme"`, `"globex"`, `"gold"`, `"platinum"`).Replace(tlsOnly))
	if res := f.run(); len(res.Evaluated) != 1 || res.Evaluated[0].Client != "globex" || len(res.New) != 1 {
		t.Errorf("new client: %v evaluated, %d new", res.Evaluated, len(res.New))
	}
}

func TestMilestoneOf(t *testing.T) {
	// Direct checks of rules the fixtures do not reach.
	m, ok := milestoneOf("proposal", queue.Snapshot{State: "open"}, queue.Snapshot{State: "open", Stage: "incoming"})
	if !ok || m.description != "proposal entered stage incoming" {
		t.Errorf("entering a stage: %v %+v", ok, m)
	}
	if _, ok := milestoneOf("proposal", queue.Snapshot{State: "closed", Stage: "accepted"}, queue.Snapshot{State: "closed"}); ok {
		t.Error("losing a stage is a milestone")
	}
	if m, ok := milestoneOf("change", queue.Snapshot{State: "abandoned"}, queue.Snapshot{State: "new"}); !ok || m.kind != queue.TriggerRestored {
		t.Errorf("restored CL: %v %+v", ok, m)
	}
	if _, ok := milestoneOf("issue", queue.Snapshot{State: "open"}, queue.Snapshot{State: "open"}); ok {
		t.Error("no change is a milestone")
	}
}

func TestSplitQuery(t *testing.T) {
	got := splitQuery(`+session title:ticket -http2 "key rotation" resum* tls^2 x/crypto HTTP/2 -mod=vendor GetClientCertificate`)
	want := []string{"session", "ticket", "key", "rotation", "resum", "tls", "x/crypto", "HTTP/2", "-mod=vendor", "GetClientCertificate"}
	if !slices.Equal(got, want) {
		t.Errorf("splitQuery = %v, want %v", got, want)
	}
}

// A concern is evaluated over the whole index page by page: every match
// is found, however many pages it takes, including items updated at the
// same time (the sort breaks ties by ID).
func TestWholeIndexInPages(t *testing.T) {
	defer func(n int) { wholePage = n }(wholePage)
	wholePage = 2
	// A query, so that pages are highlighted too.
	f := newFixture(t, strings.Replace(tlsOnly, `packages = ["crypto/tls"]`, `query = "session"`, 1))
	var objs []string
	for n := 1; n <= 7; n++ {
		objs = append(objs, issue{N: n, Title: fmt.Sprintf("crypto/tls: session ticket change %d", n), Updated: daysAgo(n / 2)}.String())
	}
	objs = append(objs, issue{N: 8, Title: "net/http: cookies", Updated: daysAgo(1)}.String())
	f.load(objs...)
	res := f.run()
	if len(res.Evaluated) != 1 {
		t.Fatalf("evaluated %v, want the one concern", res.Evaluated)
	}
	if got := len(res.New) + res.History; got != 7 {
		t.Errorf("%d prompts over 4 pages of 2, want 7", got)
	}
	for n := 1; n <= 7; n++ {
		f.mustPrompt("acme", "tls", fmt.Sprintf("golang/go#%d", n))
	}
}

// A change whose title names a file it edits speaks of its repository's
// own file: a concern's word that is only that file's name is no match.
// Nor is a plain word found only inside a name (a branch's).
func TestOwnFilesAndNamesAreNoEvidence(t *testing.T) {
	f := newFixture(t, `
id   = "mono"
name = "MonoCorp"
tier = "gold"

[[concern]]
id      = "workspaces"
summary = "Changes to go.work and workspace vendoring break their builds."
told    = 2024-02-02
query   = "go.work vendoring"
`)
	f.load(
		change{Project: "tools", N: 1, Subject: "tools: add sync.sh to keep go.work and go.mod files in step", Files: []string{"go.mod", "go.work", "sync.sh"}, Updated: daysAgo(1)}.String(),
		change{Project: "tools", N: 2, Subject: "tools: go.work for vendoring", Files: []string{"go.work", "sync.sh"}, Updated: daysAgo(1)}.String(),
		change{N: 3, Subject: "cmd/go: reject go.work files with a bad toolchain line", Files: []string{"src/cmd/go/internal/modload/init.go", "src/cmd/go/testdata/script/work/go.work"}, Updated: daysAgo(1)}.String(),
		issue{N: 4, Title: "cmd/go: go.work ignored in module mode", Updated: daysAgo(1)}.String(),
		change{Project: "build", N: 5, Subject: "cmd/updatestd: skip repos without internal-branch.go1.n-vendoring branch", Files: []string{"cmd/updatestd/updatestd.go"}, Updated: daysAgo(1)}.String(),
		change{N: 6, Subject: "cmd/go: vendoring fails for go1.22-rc.1 modules", Files: []string{"src/cmd/go/internal/modload/vendor.go"}, Updated: daysAgo(1)}.String(),
	)
	f.run()
	for _, tc := range []struct {
		item  string
		match bool
	}{
		{"go-review:tools/1", false}, // its own go.work
		{"go-review:tools/2", true},  // and vendoring
		{"go-review:go/3", true},     // a go.work of its test data
		{"golang/go#4", true},
		{"go-review:build/5", false}, // a branch's name, not vendoring
		{"go-review:go/6", true},
	} {
		if got := f.prompt("mono", "workspaces", tc.item) != nil; got != tc.match {
			t.Errorf("%s matches: %v, want %v", tc.item, got, tc.match)
		}
	}
}

// A package that supports tests (httptest) is not what a concern about the
// package above it means, unless the concern names it.
func TestTestSupportPackages(t *testing.T) {
	f := newFixture(t, `
id   = "gate"
name = "GateLine"
tier = "gold"

[[concern]]
id       = "proxy"
summary  = "Their reverse proxy is built on net/http."
told     = 2023-08-30
packages = ["net/http"]

[[concern]]
id       = "tests"
summary  = "Their test suites use httptest servers."
told     = 2023-08-30
packages = ["net/http/httptest"]
`)
	f.load(
		change{N: 1, Subject: "net/http/httptest: ResponseRecorder.WriteHeader panics on invalid codes", Files: []string{"src/net/http/httptest/recorder.go"}, Updated: daysAgo(1)}.String(),
		change{N: 2, Subject: "net/http: reject invalid header field names", Files: []string{"src/net/http/transport.go"}, Updated: daysAgo(1)}.String(),
		change{N: 3, Subject: "net/http, net/http/httptest: serve HTTP/2 in tests", Files: []string{"src/net/http/server.go", "src/net/http/httptest/server.go"}, Updated: daysAgo(1)}.String(),
	)
	f.run()
	for _, tc := range []struct {
		concern, item string
		match         bool
	}{
		{"proxy", "go-review:go/1", false},
		{"proxy", "go-review:go/2", true},
		{"proxy", "go-review:go/3", true}, // net/http too
		{"tests", "go-review:go/1", true},
		{"tests", "go-review:go/3", true},
	} {
		if got := f.prompt("gate", tc.concern, tc.item) != nil; got != tc.match {
			t.Errorf("%s matches %s: %v, want %v", tc.concern, tc.item, got, tc.match)
		}
	}
}
