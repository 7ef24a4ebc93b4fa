package match

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func memberIDs(p *queue.Prompt) []string {
	var ids []string
	for _, m := range p.Members {
		ids = append(ids, m.Item.ID)
	}
	slices.Sort(ids)
	return ids
}

// cveStory is a crypto/tls vulnerability told by five items: the issue, its
// backport issue, the fix CL, its release-branch cherry-pick and the
// vulnerability entry.
func cveStory(updated time.Time, fixStatus string) []string {
	return []string{
		issue{N: 100, Title: "crypto/tls: sessions resume across Configs", Updated: updated}.String(),
		issue{N: 101, Title: "crypto/tls: sessions resume across Configs [1.26 backport]", User: "gopherbot",
			Body: "@x requested issue #100 to be considered for backport to the next 1.26 minor release.", Updated: updated}.String(),
		change{N: 700, Subject: "crypto/tls: check the Config on resumption", Message: "Fixes #100", Status: fixStatus,
			Files: []string{"src/crypto/tls/handshake_server.go"}, Updated: updated}.String(),
		change{N: 701, Branch: "release-branch.go1.26", ChangeID: fmt.Sprintf("I%040d", 700),
			Subject: "[release-branch.go1.26] crypto/tls: check the Config on resumption", Message: "Fixes #101",
			Files: []string{"src/crypto/tls/handshake_server.go"}, Updated: updated}.String(),
		vuln{ID: "GO-2026-0001", Summary: "Cross-configuration session resumption in crypto/tls", Imports: []string{"crypto/tls"},
			Published: updated, References: []string{"https://go.dev/cl/700", "https://go.dev/issue/100"}}.String(),
	}
}

func TestTopicOnePrompt(t *testing.T) {
	f := newFixture(t, tlsOnly)
	f.load(cveStory(daysAgo(1), "NEW")...)
	res := f.run()
	if len(res.New) != 1 {
		t.Fatalf("%d new prompts, want one for the whole story", len(res.New))
	}
	p := f.mustPrompt("acme", "tls", "go-review:go/701")
	want := []string{"GO-2026-0001", "go-review:go/700", "go-review:go/701", "golang/go#100", "golang/go#101"}
	if got := memberIDs(p); !slices.Equal(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
	if p.Item.ID != "GO-2026-0001" {
		t.Errorf("lead %s, want the vulnerability", p.Item.ID)
	}
	if p.ClockStart.IsZero() {
		t.Error("the vulnerability member started no clock")
	}
	for _, m := range p.Members {
		if len(m.Reasons.Packages) == 0 {
			t.Errorf("member %s does not say why it matched", m.Item.ID)
		}
	}
	id := p.ID

	// Done acts on the topic; a milestone of any member re-opens it, with
	// that member's trigger, and the ID stays.
	f.update(id, func(p *queue.Prompt) error { return p.MarkDone(f.now, "asked") })
	f.now = now.Add(time.Hour)
	f.load(change{N: 700, Subject: "crypto/tls: check the Config on resumption", Message: "Fixes #100", Status: "MERGED",
		Files: []string{"src/crypto/tls/handshake_server.go"}, Updated: f.now}.String())
	res = f.run()
	if len(res.New) != 0 || len(res.Reopened) != 1 || res.Reopened[0].ID != id {
		t.Fatalf("CL merged: %d new, reopened %v; want %s re-opened", len(res.New), res.Reopened, id)
	}
	p = f.mustPrompt("acme", "tls", "golang/go#100")
	if tr := p.Trigger(); p.State != queue.Open || tr.Item != "go-review:go/700" || tr.Kind != queue.TriggerMerged {
		t.Errorf("after the merge: %s, trigger %+v", p.State, tr)
	}

	// Dismiss acts on the topic: a new item of the story joins it without
	// bringing it back.
	f.update(id, func(p *queue.Prompt) error { return p.Dismiss(f.now, "not theirs") })
	f.now = now.Add(2 * time.Hour)
	f.load(change{N: 702, Subject: "crypto/tls: check the Config on client resumption too", Message: "Updates #100",
		Files: []string{"src/crypto/tls/handshake_client.go"}, Updated: f.now}.String())
	res = f.run()
	if len(res.New)+len(res.Reopened) != 0 {
		t.Errorf("new member of a dismissed topic: %d new, %d re-opened", len(res.New), len(res.Reopened))
	}
	p = f.mustPrompt("acme", "tls", "go-review:go/702")
	if p.ID != id || p.State != queue.Dismissed || len(p.Members) != 6 {
		t.Errorf("after a new member: %s %s with %d members, want %s dismissed with 6", p.ID, p.State, len(p.Members), id)
	}
}

func TestTopicsMerge(t *testing.T) {
	f := newFixture(t, tlsOnly)
	f.load(issue{N: 200, Title: "crypto/tls: handshake fails with A", Updated: daysAgo(1)}.String())
	older := f.run().New[0]
	f.now = now.Add(time.Hour)
	f.load(issue{N: 201, Title: "crypto/tls: handshake fails with B", Updated: f.now}.String())
	newer := f.run().New[0]
	if older.ID == newer.ID {
		t.Fatal("two unrelated issues share a prompt")
	}
	// A CL fixing both joins the two topics: the older prompt survives.
	f.now = now.Add(2 * time.Hour)
	f.load(change{N: 710, Subject: "crypto/tls: fix handshakes", Message: "Fixes #200\nFixes #201",
		Files: []string{"src/crypto/tls/conn.go"}, Updated: f.now}.String())
	res := f.run()
	if len(res.Merged) != 1 || res.Merged[0].ID != newer.ID || res.Merged[0].MergedInto != older.ID {
		t.Fatalf("merged %v, want %s into %s", res.Merged, newer.ID, older.ID)
	}
	p := f.mustPrompt("acme", "tls", "golang/go#201")
	if p.ID != older.ID || len(p.Members) != 3 || p.State != queue.Open {
		t.Errorf("survivor %s %s with members %v", p.ID, p.State, memberIDs(p))
	}
	var gone *queue.Prompt
	f.d.Store.View(func(tx *store.Tx) error {
		gone, _ = queue.Get(tx, newer.ID)
		return nil
	})
	if gone == nil || gone.State != queue.Merged || gone.MergedInto != older.ID {
		t.Errorf("merged prompt: %+v", gone)
	}
	if es := f.queue(); len(es) != 1 || es[0].ID != older.ID {
		t.Errorf("queue: %d entries, want the survivor only", len(es))
	}
	if err := gone.Reopen(f.now); err == nil {
		t.Error("a merged prompt could be re-opened")
	}
}
