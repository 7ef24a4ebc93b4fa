package queue

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Bucket names; see the package documentation.
const (
	bucketPrompts = "prompts"
	bucketKeys    = "prompt-topics"
	bucketStates  = "prompt-states"
	bucketMeta    = "prompt-meta"
	bucketKeysV1  = "prompt-keys"
)

// schemaVersion is the version of the key schema (see the package
// documentation).
const schemaVersion = 2

// ErrNotFound reports a prompt ID that the store does not hold.
var ErrNotFound = errors.New("no such prompt")

type buckets struct {
	prompts, keys, states *bolt.Bucket
}

// open returns the queue's buckets; in a read-only transaction before the
// first prompt, ok is false.
func open(tx *store.Tx) (b buckets, ok bool, err error) {
	for _, x := range []struct {
		name string
		b    **bolt.Bucket
	}{{bucketPrompts, &b.prompts}, {bucketKeys, &b.keys}, {bucketStates, &b.states}} {
		if *x.b, err = tx.Bucket(x.name); err != nil {
			return b, false, fmt.Errorf("queue: %w", err)
		}
		if *x.b == nil && x.name != bucketKeys {
			// A version 1 queue, not migrated yet, has no prompt-topics:
			// it can still be listed.
			return b, false, nil
		}
	}
	return b, true, nil
}

func decode(id string, v []byte) (*Prompt, error) {
	p := new(Prompt)
	if err := unmarshal(v, p); err != nil {
		return nil, fmt.Errorf("queue: prompt %s: %w", id, err)
	}
	p.stored = p.State
	return p, nil
}

// Get returns the prompt with the given ID, or an error wrapping ErrNotFound.
func Get(tx *store.Tx, id string) (*Prompt, error) {
	b, ok, err := open(tx)
	if err != nil {
		return nil, err
	}
	var v []byte
	if ok {
		v = b.prompts.Get([]byte(id))
	}
	if v == nil {
		return nil, fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	return decode(id, v)
}

// Find returns the prompt for (client, concern, topic), or nil.
func Find(tx *store.Tx, client, concern, topic string) (*Prompt, error) {
	b, ok, err := open(tx)
	if err != nil || !ok {
		return nil, err
	}
	if b.keys == nil {
		return nil, nil
	}
	id := b.keys.Get(topicKey(topic, client, concern))
	if id == nil {
		return nil, nil
	}
	v := b.prompts.Get(id)
	if v == nil {
		return nil, fmt.Errorf("queue: key %s/%s/%s names prompt %s, which is missing", client, concern, topic, id)
	}
	return decode(string(id), v)
}

func topicKey(topic, client, concern string) []byte {
	return []byte(topic + "\x00" + client + "\x00" + concern)
}

// Put stores p. A new prompt (empty ID) gets its ID here, from its lead
// item; a prompt for a (client, concern, topic) that already has one is an
// error. A prompt without a topic or members is taken to be about its item
// alone.
func Put(tx *store.Tx, p *Prompt) error {
	b, _, err := open(tx)
	if err != nil {
		return err
	}
	if b.prompts == nil {
		return errors.New("queue: put in a read-only transaction")
	}
	if p.Client == "" || p.Concern == "" || p.Item.ID == "" {
		return errors.New("queue: prompt without client, concern or item")
	}
	if p.Topic == "" {
		p.Topic = p.Item.ID
	}
	if len(p.Members) == 0 {
		p.Members = []Member{{Item: p.Item, Reasons: p.Reasons, Snapshot: p.Trigger().Snapshot, Joined: p.Created}}
	}
	key := topicKey(p.Topic, p.Client, p.Concern)
	if p.ID == "" {
		if id := b.keys.Get(key); id != nil {
			return fmt.Errorf("queue: %s/%s/%s already has prompt %s", p.Client, p.Concern, p.Topic, id)
		}
		chars := idChars(p.Client, p.Concern, p.Item.ID)
		for n := idLen; ; n++ {
			if n > len(chars) {
				return fmt.Errorf("queue: no free prompt ID for %s/%s/%s", p.Client, p.Concern, p.Item.ID)
			}
			if id := "p-" + chars[:n]; b.prompts.Get([]byte(id)) == nil {
				p.ID = id
				break
			}
		}
		if err := b.keys.Put(key, []byte(p.ID)); err != nil {
			return err
		}
	} else if p.stored == "" {
		// A prompt not read through Get or Find: find its stored state.
		if v := b.prompts.Get([]byte(p.ID)); v != nil {
			old, err := decode(p.ID, v)
			if err != nil {
				return err
			}
			p.stored = old.State
		} else if p.State != Merged {
			if err := b.keys.Put(key, []byte(p.ID)); err != nil {
				return err
			}
		}
	}
	if err := b.prompts.Put([]byte(p.ID), marshal(p)); err != nil {
		return err
	}
	if p.stored != p.State {
		if p.stored != "" {
			if err := b.states.Delete(stateKey(p.stored, p.ID)); err != nil {
				return err
			}
		}
		if err := b.states.Put(stateKey(p.State, p.ID), nil); err != nil {
			return err
		}
		p.stored = p.State
	}
	return nil
}

func stateKey(s State, id string) []byte {
	k := make([]byte, 0, len(s)+1+len(id))
	k = append(k, s...)
	k = append(k, 0)
	return append(k, id...)
}

// Scan calls fn with every prompt stored in one of the given states (every
// prompt if states is empty), stopping at the first error. A snoozed prompt
// is stored as snoozed even after its time has come: pass Snoozed along with
// Open and check StateAt to list what is open now.
func Scan(tx *store.Tx, states []State, fn func(*Prompt) error) error {
	b, ok, err := open(tx)
	if err != nil || !ok {
		return err
	}
	if len(states) == 0 {
		return b.prompts.ForEach(func(k, v []byte) error {
			p, err := decode(string(k), v)
			if err != nil {
				return err
			}
			return fn(p)
		})
	}
	c := b.states.Cursor()
	for _, s := range states {
		prefix := stateKey(s, "")
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := k[len(prefix):]
			v := b.prompts.Get(id)
			if v == nil {
				return fmt.Errorf("queue: state index names prompt %s, which is missing", id)
			}
			p, err := decode(string(id), v)
			if err != nil {
				return err
			}
			if err := fn(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// ForClient calls fn with every prompt of the client, merged ones too,
// ordered by concern and lead item ID.
func ForClient(tx *store.Tx, client string, fn func(*Prompt) error) error {
	var ps []*Prompt
	err := Scan(tx, nil, func(p *Prompt) error {
		if p.Client == client {
			ps = append(ps, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Concern != ps[j].Concern {
			return ps[i].Concern < ps[j].Concern
		}
		if ps[i].Item.ID != ps[j].Item.ID {
			return ps[i].Item.ID < ps[j].Item.ID
		}
		return ps[i].ID < ps[j].ID
	})
	for _, p := range ps {
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// Counts counts prompts by stored state.
func Counts(tx *store.Tx) (map[State]int, error) {
	out := make(map[State]int)
	b, ok, err := open(tx)
	if err != nil || !ok {
		return out, err
	}
	err = b.states.ForEach(func(k, _ []byte) error {
		if i := bytes.IndexByte(k, 0); i > 0 {
			out[State(k[:i])]++
		}
		return nil
	})
	return out, err
}

// Update runs fn on the prompt with the given ID in a write transaction and
// stores the result, unless fn fails.
func Update(st *store.Store, id string, fn func(*Prompt) error) (*Prompt, error) {
	var p *Prompt
	err := st.Update(func(tx *store.Tx) error {
		var err error
		if p, err = Get(tx, id); err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		return Put(tx, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Wake stores every snoozed prompt whose time has come as open, and returns
// how many there were. Listing does not need it (StateAt decides when
// read); the matcher calls it so the store agrees with what is shown.
func Wake(tx *store.Tx, now time.Time) (int, error) {
	var woken []*Prompt
	err := Scan(tx, []State{Snoozed}, func(p *Prompt) error {
		if p.StateAt(now) == Open {
			woken = append(woken, p)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, p := range woken {
		p.State = Open
		p.Until = time.Time{}
		if err := Put(tx, p); err != nil {
			return 0, err
		}
	}
	return len(woken), nil
}

// A ConcernKey names a client's concern.
type ConcernKey struct{ Client, Concern string }

// CountsByConcern counts prompts by concern and stored state.
func CountsByConcern(tx *store.Tx) (map[ConcernKey]map[State]int, error) {
	out := make(map[ConcernKey]map[State]int)
	err := Scan(tx, nil, func(p *Prompt) error {
		k := ConcernKey{p.Client, p.Concern}
		if out[k] == nil {
			out[k] = make(map[State]int)
		}
		out[k][p.State]++
		return nil
	})
	return out, err
}
