package match

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func TestWithdrawOnEdit(t *testing.T) {
	f := newFixture(t, tlsOnly)
	f.load(issue{N: 1, Title: "crypto/tls: bug", Updated: daysAgo(1)}.String(),
		issue{N: 2, Title: "crypto/tls: another bug", Updated: daysAgo(1)}.String(),
		issue{N: 3, Title: "crypto/x509: bug", Updated: daysAgo(1)}.String())
	f.run()
	acted := f.mustPrompt("acme", "tls", "golang/go#2")
	f.update(acted.ID, func(p *queue.Prompt) error { return p.Snooze(f.now, f.now.Add(48*3600e9), "") })
	f.update(acted.ID, func(p *queue.Prompt) error { return p.Reopen(f.now) })

	// A concern evaluated by a reciprocal that did not record its content:
	// an edit cannot be told from a rules change, and nothing is withdrawn.
	err := f.d.Store.Update(func(tx *store.Tx) error {
		b, err := tx.Bucket(bucketConcerns)
		if err != nil {
			return err
		}
		v, _ := json.Marshal(concernState{Fingerprint: "old"})
		return b.Put([]byte("acme\x00tls"), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.setProfiles(strings.Replace(tlsOnly, `["crypto/tls"]`, `["crypto/x509"]`, 1))
	if res := f.run(); len(res.Withdrawn) != 0 {
		t.Errorf("without a recorded content: %d withdrawn", len(res.Withdrawn))
	}

	// Now the content is known: editing back withdraws the x509 prompt,
	// which nobody acted on, and not the TLS ones (they match again).
	f.setProfiles(tlsOnly)
	res := f.run()
	if len(res.Withdrawn) != 1 || res.Withdrawn[0].Item.ID != "golang/go#3" {
		t.Fatalf("withdrawn %v, want the prompt of golang/go#3", res.Withdrawn)
	}
	p := f.mustPrompt("acme", "tls", "golang/go#3")
	if p.State != queue.Withdrawn || p.Log[len(p.Log)-1].Note != "concern edited on 2026-09-01" {
		t.Errorf("withdrawn prompt: %s, log %+v", p.State, p.Log)
	}
	// A prompt the maintainer acted on is never withdrawn.
	f.setProfiles(strings.Replace(tlsOnly, `["crypto/tls"]`, `["crypto/rsa"]`, 1))
	res = f.run()
	for _, w := range res.Withdrawn {
		if w.ID == acted.ID {
			t.Error("a prompt the maintainer re-opened was withdrawn")
		}
	}
	if len(res.Withdrawn) != 1 {
		t.Errorf("edit to crypto/rsa: %d withdrawn, want golang/go#1 only", len(res.Withdrawn))
	}
}
