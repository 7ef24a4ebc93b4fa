package queue

import (
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Stale returns the prompts of a client's concern that an edit of the
// concern leaves behind: open (not snoozed), never acted on (not done,
// snoozed, dismissed or re-opened by the maintainer), and with no member
// that matches says still matches.
func Stale(tx *store.Tx, client, concern string, matches func(item string) bool, now time.Time) ([]*Prompt, error) {
	var out []*Prompt
	err := Scan(tx, []State{Open}, func(p *Prompt) error {
		if p.Client != client || p.Concern != concern || acted(p) {
			return nil
		}
		for _, m := range p.Members {
			if matches(m.Item.ID) {
				return nil
			}
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// Withdraw stores the Stale prompts of a concern as withdrawn, with the
// note (such as "concern edited on 2026-11-24") in their log, and returns
// them. A withdrawn prompt is out of the queue; the matcher opens it again
// if one of its items matches the concern again.
func Withdraw(tx *store.Tx, client, concern string, matches func(item string) bool, now time.Time, note string) ([]*Prompt, error) {
	ps, err := Stale(tx, client, concern, matches, now)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		p.set(now, Withdrawn, Event{Action: ActionWithdrawn, Note: note})
		if err := Put(tx, p); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// acted reports whether the maintainer did anything with the prompt.
func acted(p *Prompt) bool {
	for _, ev := range p.Log {
		if ev.Action != ActionWithdrawn && ev.Action != ActionMerged {
			return true
		}
	}
	return false
}
