package queue

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Learning (see package watcher/match) reads the maintainer's judgements
// from the prompts themselves; the queue only remembers when a concern's
// judgements were last forgotten:
//
//	learn-forget   client 0x00 concern → Unix nanoseconds (8 bytes, big-endian):
//	               judgements made before then are ignored
const bucketForget = "learn-forget"

// A Judged prompt is one the maintainer judged relevant or not.
type Judged struct {
	Prompt    *Prompt
	Judgement string // JudgedRelevant or JudgedNotRelevant
}

// Judgements returns the current judgements of every concern's prompts,
// leaving out those made before the concern was last forgotten.
func Judgements(tx *store.Tx) (map[ConcernKey][]Judged, error) {
	forgot := map[ConcernKey]time.Time{}
	b, err := tx.Bucket(bucketForget)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	if b != nil {
		b.ForEach(func(k, v []byte) error {
			if len(v) == 8 {
				forgot[concernKeyOf(string(k))] = time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
			}
			return nil
		})
	}
	out := map[ConcernKey][]Judged{}
	err = Scan(tx, []State{Done, Dismissed}, func(p *Prompt) error {
		j, at := p.Judgement()
		if j == "" {
			return nil
		}
		k := ConcernKey{p.Client, p.Concern}
		if t, ok := forgot[k]; ok && !at.After(t) {
			return nil
		}
		out[k] = append(out[k], Judged{p, j})
		return nil
	})
	return out, err
}

func concernKeyOf(k string) ConcernKey {
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return ConcernKey{k[:i], k[i+1:]}
		}
	}
	return ConcernKey{Client: k}
}

// Forget makes the matcher forget what it learned for a concern: the
// judgements made so far no longer count, and the prompts it held back
// are put in the queue. It returns those prompts.
func Forget(tx *store.Tx, client, concern string, now time.Time) ([]*Prompt, error) {
	b, err := tx.Bucket(bucketForget)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	if err := b.Put([]byte(client+"\x00"+concern), binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))); err != nil {
		return nil, err
	}
	var held []*Prompt
	err = Scan(tx, []State{Held}, func(p *Prompt) error {
		if p.Client == client && p.Concern == concern {
			held = append(held, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range held {
		p.State = Open
		p.HeldReason = ""
		p.Updated = now
		if err := Put(tx, p); err != nil {
			return nil, err
		}
	}
	return held, nil
}
