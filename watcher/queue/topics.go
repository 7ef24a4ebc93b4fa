package queue

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// MergeTopics records that topic from became part of topic into (a
// topic.Merge), in the transaction that linked them. Prompts of from move
// to into; where a client's concern has a prompt on both, the older prompt
// (created first, then the smaller ID) survives with the members and
// triggers of both, and the other is stored as merged, naming the
// survivor. It returns the prompts merged away.
//
// The survivor's state is the more pressing of the two: dismissed stays
// dismissed; otherwise an open (or due snoozed) prompt makes it open, and
// a done prompt wins over history.
func MergeTopics(tx *store.Tx, from, into string, now time.Time) ([]*Prompt, error) {
	b, ok, err := open(tx)
	if err != nil || !ok {
		return nil, err
	}
	prefix := topicKey(from, "", "")
	prefix = prefix[:len(prefix)-1] // topic 0x00
	type moved struct{ key, id []byte }
	var ms []moved
	c := b.keys.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		ms = append(ms, moved{bytes.Clone(k), bytes.Clone(v)})
	}
	var gone []*Prompt
	for _, m := range ms {
		if err := b.keys.Delete(m.key); err != nil {
			return nil, err
		}
		p, err := Get(tx, string(m.id))
		if err != nil {
			return nil, err
		}
		other, err := Find(tx, p.Client, p.Concern, into)
		if err != nil {
			return nil, err
		}
		if other == nil {
			p.Topic = into
			if err := b.keys.Put(topicKey(into, p.Client, p.Concern), m.id); err != nil {
				return nil, err
			}
			if err := Put(tx, p); err != nil {
				return nil, err
			}
			continue
		}
		keep, lose := other, p
		if p.Created.Before(other.Created) || (p.Created.Equal(other.Created) && p.ID < other.ID) {
			keep, lose = p, other
		}
		absorb(keep, lose, now)
		keep.Topic = into
		if err := b.keys.Put(topicKey(into, keep.Client, keep.Concern), []byte(keep.ID)); err != nil {
			return nil, err
		}
		if err := Put(tx, keep); err != nil {
			return nil, err
		}
		if err := Put(tx, lose); err != nil {
			return nil, err
		}
		gone = append(gone, lose)
	}
	return gone, nil
}

// absorb moves lose's members and triggers into keep and marks lose merged.
func absorb(keep, lose *Prompt, now time.Time) {
	for _, m := range lose.Members {
		if keep.Member(m.Item.ID) == nil {
			keep.Members = append(keep.Members, m)
		}
	}
	SortMembers(keep.Members)
	keep.Triggers = append(keep.Triggers, lose.Triggers...)
	sort.SliceStable(keep.Triggers, func(i, j int) bool { return keep.Triggers[i].At.Before(keep.Triggers[j].At) })
	if keep.ClockStart.IsZero() || (!lose.ClockStart.IsZero() && lose.ClockStart.Before(keep.ClockStart)) {
		keep.ClockStart = lose.ClockStart
	}
	ks, ls := keep.StateAt(now), lose.StateAt(now)
	switch {
	case ks == Dismissed:
	case ls == Open && ks != Open:
		keep.State, keep.Until = Open, time.Time{}
	case ls == Done && ks == History:
		keep.State = Done
	}
	if keep.State != Held {
		keep.HeldReason = ""
	}
	keep.Updated = now
	keep.lead()
	lose.State = Merged
	lose.Until = time.Time{}
	lose.MergedInto = keep.ID
	lose.Updated = now
	lose.Log = append(lose.Log, Event{At: now, Action: ActionMerged, Note: "its topic joined " + keep.ID + "'s"})
}

// NeedsMigration reports whether the queue's key schema is older than this
// reciprocal's (see Migrate).
func NeedsMigration(tx *store.Tx) (bool, error) {
	meta, err := tx.Bucket(bucketMeta)
	if err != nil {
		return false, fmt.Errorf("queue: %w", err)
	}
	if meta != nil {
		if v := meta.Get([]byte("version")); len(v) == 1 && v[0] >= schemaVersion {
			return false, nil
		}
	}
	return true, nil
}

// Migrate converts a queue of key schema version 1 (prompts keyed by item)
// to version 2 (keyed by topic), given each item's topic: prompts of the
// same client, concern and topic become one, as MergeTopics does. It does
// nothing on a queue that is current or empty, and reports how many
// prompts it rewrote.
func Migrate(tx *store.Tx, topicOf func(item string) (string, error), now time.Time) (int, error) {
	meta, err := tx.Bucket(bucketMeta)
	if err != nil {
		return 0, fmt.Errorf("queue: %w", err)
	}
	if v := meta.Get([]byte("version")); len(v) == 1 && v[0] >= schemaVersion {
		return 0, nil
	}
	b, ok, err := open(tx)
	if err != nil || !ok {
		return 0, err
	}
	var ps []*Prompt
	if err := Scan(tx, nil, func(p *Prompt) error { ps = append(ps, p); return nil }); err != nil {
		return 0, err
	}
	sort.Slice(ps, func(i, j int) bool {
		if !ps[i].Created.Equal(ps[j].Created) {
			return ps[i].Created.Before(ps[j].Created)
		}
		return ps[i].ID < ps[j].ID
	})
	keep := map[string]*Prompt{}
	for _, p := range ps {
		if p.State == Merged {
			continue
		}
		if p.Topic, err = topicOf(p.Item.ID); err != nil {
			return 0, err
		}
		k := string(topicKey(p.Topic, p.Client, p.Concern))
		if s := keep[k]; s != nil {
			absorb(s, p, now)
			continue
		}
		keep[k] = p
	}
	for _, p := range ps {
		if p.State != Merged {
			if err := b.keys.Put(topicKey(p.Topic, p.Client, p.Concern), []byte(p.ID)); err != nil {
				return 0, err
			}
		}
		if err := Put(tx, p); err != nil {
			return 0, err
		}
	}
	// The version 1 index is not read any more.
	if old, err := tx.Bucket(bucketKeysV1); err != nil {
		return 0, err
	} else if old != nil {
		var ks [][]byte
		old.ForEach(func(k, _ []byte) error { ks = append(ks, bytes.Clone(k)); return nil })
		for _, k := range ks {
			if err := old.Delete(k); err != nil {
				return 0, err
			}
		}
	}
	if err := meta.Put([]byte("version"), []byte{schemaVersion}); err != nil {
		return 0, err
	}
	return len(ps), nil
}
