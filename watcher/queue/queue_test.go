package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

var t0 = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newPrompt(client, concern, item string, at time.Time) *Prompt {
	return &Prompt{
		Client: client, Concern: concern, State: Open, Created: at, Updated: at,
		Item:     ItemInfo{ID: item, Kind: "issue", Title: "t " + item, State: "open"},
		Triggers: []Trigger{{At: at, Kind: TriggerMatch, Description: "issue open", Snapshot: Snapshot{State: "open"}}},
	}
}

func put(t testing.TB, st *store.Store, ps ...*Prompt) {
	t.Helper()
	err := st.Update(func(tx *store.Tx) error {
		for _, p := range ps {
			if err := Put(tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestID(t *testing.T) {
	id := ID("acme", "tls", "golang/go#60105")
	if id != ID("acme", "tls", "golang/go#60105") {
		t.Fatal("ID is not stable")
	}
	if _, err := ParseID(id); err != nil || len(id) != 9 {
		t.Fatalf("ID %q: len %d, ParseID: %v", id, len(id), err)
	}
	if ID("acme", "tls", "golang/go#60106") == id || ID("acme", "tls2", "golang/go#60105") == id {
		t.Error("different keys share an ID")
	}
	// The separator keeps "a"+"b/c" apart from "a/b"+"c".
	if ID("a", "bc", "x") == ID("ab", "c", "x") {
		t.Error("key parts run together")
	}
	for _, bad := range []string{"", "p-", "p-abc", "q-abcdefg", "p-abcdef1", "p-abcdefg!"} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
	if got, err := ParseID(" P-ABCDEFG "); err != nil || got != "p-abcdefg" {
		t.Errorf("ParseID(upper) = %q, %v", got, err)
	}
}

func TestPutGetFind(t *testing.T) {
	st := openStore(t)
	p := newPrompt("acme", "tls", "golang/go#1", t0)
	put(t, st, p)
	if p.ID != ID("acme", "tls", "golang/go#1") {
		t.Errorf("new prompt got ID %q, want %q", p.ID, ID("acme", "tls", "golang/go#1"))
	}
	err := st.View(func(tx *store.Tx) error {
		got, err := Get(tx, p.ID)
		if err != nil {
			return err
		}
		if got.Item.Title != "t golang/go#1" || got.State != Open {
			t.Errorf("Get = %+v", got)
		}
		f, err := Find(tx, "acme", "tls", "golang/go#1")
		if err != nil || f == nil || f.ID != p.ID {
			t.Errorf("Find = %v, %v", f, err)
		}
		if f, err := Find(tx, "acme", "tls", "golang/go#2"); f != nil || err != nil {
			t.Errorf("Find(absent) = %v, %v", f, err)
		}
		if _, err := Get(tx, "p-aaaaaaa"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(absent) error = %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A second prompt for the same key is refused.
	err = st.Update(func(tx *store.Tx) error { return Put(tx, newPrompt("acme", "tls", "golang/go#1", t0)) })
	if err == nil {
		t.Error("duplicate key stored")
	}
}

func TestIDCollision(t *testing.T) {
	st := openStore(t)
	// Another key already holds the 7-character ID of (acme, tls, #1).
	squatter := newPrompt("other", "x", "golang/go#9", t0)
	squatter.ID = ID("acme", "tls", "golang/go#1")
	put(t, st, squatter)
	p := newPrompt("acme", "tls", "golang/go#1", t0)
	put(t, st, p)
	if want := "p-" + idChars("acme", "tls", "golang/go#1")[:8]; p.ID != want {
		t.Errorf("colliding prompt got ID %q, want %q", p.ID, want)
	}
}

func TestTransitions(t *testing.T) {
	now := t0
	p := newPrompt("acme", "tls", "golang/go#1", t0)
	p.ID = "p-aaaaaaa"
	if err := p.Reopen(now); !errors.Is(err, ErrState) {
		t.Errorf("reopen open: %v", err)
	}
	until := now.Add(48 * time.Hour)
	if err := p.Snooze(now, now.Add(-time.Hour), ""); err == nil {
		t.Error("snoozed into the past")
	}
	if err := p.Snooze(now, until, "after the offsite"); err != nil {
		t.Fatal(err)
	}
	if s := p.StateAt(now.Add(47 * time.Hour)); s != Snoozed {
		t.Errorf("state before until = %s", s)
	}
	if s := p.StateAt(until); s != Open {
		t.Errorf("state at until = %s, want open (snooze expired)", s)
	}
	if err := p.MarkDone(now, "Jane: they rotate keys hourly"); err != nil {
		t.Fatal(err)
	}
	if err := p.MarkDone(now, "again"); !errors.Is(err, ErrState) {
		t.Errorf("done twice: %v", err)
	} else if want := "p-aaaaaaa is already done: cannot mark it done; reopen it first"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if err := p.Snooze(now, until, ""); !errors.Is(err, ErrState) {
		t.Errorf("snooze done: %v", err)
	}
	if err := p.Reopen(now); err != nil {
		t.Fatal(err)
	}
	if err := p.Dismiss(now, "not relevant to them"); err != nil {
		t.Fatal(err)
	}
	if p.AddTrigger(Trigger{At: now, Kind: TriggerStage}) {
		t.Error("a trigger re-opened a dismissed prompt")
	}
	if p.State != Dismissed || len(p.Triggers) != 1 {
		t.Errorf("dismissed prompt changed: %s, %d triggers", p.State, len(p.Triggers))
	}
	var actions []string
	for _, e := range p.Log {
		actions = append(actions, e.Action)
	}
	if want := []string{"snoozed", "done", "reopened", "dismissed"}; !slices.Equal(actions, want) {
		t.Errorf("log = %v, want %v", actions, want)
	}
	if p.Log[1].Note != "Jane: they rotate keys hourly" || !p.Log[0].Until.Equal(until) {
		t.Errorf("log lost notes: %+v", p.Log)
	}
}

func TestListOrderAndStates(t *testing.T) {
	st := openStore(t)
	profiles := configs.Profiles{
		{ID: "a-silver", Name: "A", Tier: "silver", Concerns: []configs.Concern{{ID: "c", Priority: "high"}}},
		{ID: "b-plat", Name: "B", Tier: "platinum", Concerns: []configs.Concern{{ID: "lo", Priority: "low"}, {ID: "hi", Priority: "high"}}},
		{ID: "c-gold", Name: "C", Tier: "gold", Concerns: []configs.Concern{{ID: "c", Priority: "normal"}}},
	}
	var ps []*Prompt
	add := func(client, concern, item string, at time.Time, state State) *Prompt {
		p := newPrompt(client, concern, item, at)
		p.State = state
		ps = append(ps, p)
		return p
	}
	add("a-silver", "c", "i1", t0.Add(2*time.Hour), Open)
	add("b-plat", "lo", "i2", t0, Open)
	add("b-plat", "hi", "i3", t0, Open)
	add("b-plat", "hi", "i4", t0.Add(time.Hour), Open) // newer trigger first
	add("c-gold", "c", "i5", t0, Open)
	add("c-gold", "c", "i6", t0, History)
	add("c-gold", "c", "i7", t0, Done)
	add("gone", "c", "i8", t0, Open) // client removed from the profiles
	add("c-gold", "gone", "i9", t0, Open)
	sn := add("a-silver", "c", "i10", t0.Add(time.Hour), Snoozed)
	sn.Until = t0.Add(24 * time.Hour)
	sn2 := add("a-silver", "c", "i11", t0, Snoozed)
	sn2.Until = t0.Add(72 * time.Hour)
	put(t, st, ps...)

	items := func(es []Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Item.ID)
		}
		return out
	}
	now := t0.Add(48 * time.Hour) // i10's snooze is over, i11's is not
	es, err := List(st, profiles, Filter{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"i4", "i3", "i2", "i5", "i1", "i10"}; !slices.Equal(items(es), want) {
		t.Errorf("open queue = %v, want %v", items(es), want)
	}
	for _, e := range es {
		if e.State != Open {
			t.Errorf("%s listed as %s", e.Item.ID, e.State)
		}
	}
	if es[0].Client.Name != "B" || es[0].Concern.Priority != "high" {
		t.Errorf("entry not joined with its profile: %+v", es[0])
	}
	for _, tc := range []struct {
		f    Filter
		want []string
	}{
		{Filter{States: []State{History}}, []string{"i6"}},
		{Filter{States: []State{Snoozed}}, []string{"i11"}},
		{Filter{States: []State{Done}}, []string{"i7"}},
		{Filter{Client: "a-silver"}, []string{"i1", "i10"}},
		{Filter{Client: "a-silver", States: []State{Open, Snoozed}}, []string{"i1", "i10", "i11"}},
	} {
		es, err := List(st, profiles, tc.f, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := items(es); !slices.Equal(got, tc.want) {
			t.Errorf("List(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
	// Wake stores the expired snooze as open.
	var woken int
	err = st.Update(func(tx *store.Tx) error {
		var err error
		woken, err = Wake(tx, now)
		return err
	})
	if err != nil || woken != 1 {
		t.Fatalf("Wake = %d, %v; want 1", woken, err)
	}
	err = st.View(func(tx *store.Tx) error {
		counts, err := Counts(tx)
		if err != nil {
			return err
		}
		if counts[Open] != 8 || counts[Snoozed] != 1 || counts[History] != 1 || counts[Done] != 1 {
			t.Errorf("counts = %v", counts)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOnTheClockAndStageChanges(t *testing.T) {
	st := openStore(t)
	profiles := configs.Profiles{{ID: "acme", Tier: "gold", Concerns: []configs.Concern{{ID: "c", Priority: "normal"}}}}
	fresh := newPrompt("acme", "c", "GO-2026-0001", t0)
	fresh.Item.Kind = "vuln"
	fresh.ClockStart = t0.Add(-2 * time.Hour)
	old := newPrompt("acme", "c", "GO-2020-0001", t0)
	old.Item.Kind = "vuln" // published long ago: no clock
	prop := newPrompt("acme", "c", "golang/go#1", t0)
	prop.AddTrigger(Trigger{At: t0.Add(time.Hour), Kind: TriggerStage, Description: "proposal moved from active to likely-accept"})
	done := newPrompt("acme", "c", "golang/go#2", t0)
	done.AddTrigger(Trigger{At: t0.Add(-48 * time.Hour), Kind: TriggerStage, Description: "too old"})
	put(t, st, fresh, old, prop, done)

	es, err := OnTheClock(st, profiles, t0, 14*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Item.ID != "GO-2026-0001" {
		t.Fatalf("on the clock: %v", es)
	}
	sla := func(tier string) time.Duration { return map[string]time.Duration{"gold": 24 * time.Hour}[tier] }
	if d := es[0].Deadline(sla); !d.Equal(t0.Add(22 * time.Hour)) {
		t.Errorf("deadline = %v", d)
	}
	ch, err := StageChanges(st, profiles, t0.Add(-24*time.Hour), t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 1 || ch[0].Item.ID != "golang/go#1" || ch[0].Change.Description != "proposal moved from active to likely-accept" {
		t.Errorf("stage changes = %+v", ch)
	}
}

func BenchmarkList10k(b *testing.B) {
	st := openStore(b)
	var profiles configs.Profiles
	for i := range 40 {
		p := &configs.Profile{ID: fmt.Sprintf("client%02d", i), Name: "Client", Tier: configs.Tiers[i%3]}
		for j := range 5 {
			p.Concerns = append(p.Concerns, configs.Concern{ID: fmt.Sprintf("c%d", j), Summary: "something they need", Priority: configs.Priorities[j%3]})
		}
		profiles = append(profiles, p)
	}
	var ps []*Prompt
	for i := range 10000 {
		at := t0.Add(time.Duration(i) * time.Minute)
		p := newPrompt(fmt.Sprintf("client%02d", i%40), fmt.Sprintf("c%d", i%5), fmt.Sprintf("golang/go#%d", 10000+i), at)
		p.Item.Title = "crypto/tls: add a knob for session ticket keys rotated across a fleet of servers"
		p.Item.URL = fmt.Sprintf("https://github.com/golang/go/issues/%d", 10000+i)
		p.Item.Packages = []string{"crypto/tls"}
		p.Reasons = Reasons{Packages: []string{"crypto/tls"}, Terms: []string{"session", "ticket"},
			Snippet: "crypto/tls: add a knob for \x01session\x02 \x01ticket\x02 keys rotated across a fleet of servers that terminate TLS for many tenants"}
		if i%10 == 0 {
			p.State = History
		}
		ps = append(ps, p)
	}
	put(b, st, ps...)
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for b.Loop() {
		es, err := List(st, profiles, Filter{}, t0)
		if err != nil {
			b.Fatal(err)
		}
		n = len(es)
	}
	b.ReportMetric(float64(n), "prompts")
}

func TestCodecRoundTrip(t *testing.T) {
	p := newPrompt("acme", "tls", "GO-2026-0001", t0)
	p.ID = "p-abcdefg"
	p.Item = ItemInfo{ID: "GO-2026-0001", Kind: "vuln", Title: "crypto/tls: ✓ ünïcode", URL: "https://x", State: "published",
		Packages: []string{"crypto/tls", "crypto/x509"}, Updated: t0.Add(time.Nanosecond), Published: t0.Add(-time.Hour)}
	p.Reasons = Reasons{Packages: []string{"crypto/tls"}, Terms: []string{"session"}, Snippet: "a \x01session\x02 b"}
	p.ClockStart = t0.Add(-time.Hour)
	p.AddTrigger(Trigger{At: t0.Add(time.Hour), Kind: TriggerAmended, Description: "amended", Snapshot: Snapshot{State: "published", Modified: t0}})
	if err := p.Snooze(t0, t0.Add(time.Hour), "later"); err != nil {
		t.Fatal(err)
	}
	var q Prompt
	if err := unmarshal(marshal(p), &q); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(p)
	b, _ := json.Marshal(&q)
	if string(a) != string(b) {
		t.Errorf("round trip:\n%s\n%s", a, b)
	}
	enc := marshal(p)
	for i := range len(enc) {
		var r Prompt
		if err := unmarshal(enc[:i], &r); err == nil {
			t.Fatalf("truncated record (%d of %d bytes) decoded", i, len(enc))
		}
	}
}
