package queue

import (
	"slices"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// marshalV1 writes p in codec version 1, as reciprocal did before topics.
func marshalV1(p *Prompt) []byte {
	e := &encoder{}
	e.b = append(e.b, 1)
	e.str(p.ID)
	e.str(p.Client)
	e.str(p.Concern)
	it := &p.Item
	for _, s := range []string{it.ID, it.Kind, it.Title, it.URL, it.State, it.Stage} {
		e.str(s)
	}
	e.strs(it.Packages)
	e.time(it.Updated)
	e.time(it.Published)
	e.str(string(p.State))
	e.time(p.Until)
	e.time(p.Created)
	e.time(p.Updated)
	e.n(len(p.Triggers))
	for _, t := range p.Triggers {
		e.time(t.At)
		e.str(t.Kind)
		e.str(t.Description)
		e.snapshot(t.Snapshot)
	}
	e.reasons(&p.Reasons)
	e.time(p.ClockStart)
	e.n(len(p.Log))
	for _, ev := range p.Log {
		e.time(ev.At)
		e.str(ev.Action)
		e.str(ev.Note)
		e.time(ev.Until)
	}
	return e.b
}

// putV1 stores prompts as a version 1 queue did.
func putV1(t *testing.T, st *store.Store, ps ...*Prompt) {
	t.Helper()
	err := st.Update(func(tx *store.Tx) error {
		for _, name := range []string{bucketPrompts, bucketKeysV1, bucketStates} {
			b, err := tx.Bucket(name)
			if err != nil {
				return err
			}
			for _, p := range ps {
				p.ID = ID(p.Client, p.Concern, p.Item.ID)
				switch name {
				case bucketPrompts:
					err = b.Put([]byte(p.ID), marshalV1(p))
				case bucketKeysV1:
					err = b.Put([]byte(keyOf(p.Client, p.Concern, p.Item.ID)), []byte(p.ID))
				case bucketStates:
					err = b.Put(stateKey(p.State, p.ID), nil)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrate(t *testing.T) {
	st := openStore(t)
	issue := newPrompt("acme", "tls", "golang/go#100", t0)
	cl := newPrompt("acme", "tls", "go-review:go/700", t0.Add(time.Hour))
	cl.Item.Kind = "change"
	other := newPrompt("acme", "tls", "golang/go#300", t0)
	other.State = Done
	putV1(t, st, issue, cl, other)

	// Readers list a version 1 queue before the migration.
	es, err := List(st, profiles(t), Filter{}, t0.Add(2*time.Hour))
	if err != nil || len(es) != 2 {
		t.Fatalf("before the migration: %d open entries, %v", len(es), err)
	}
	topics := map[string]string{"golang/go#100": "golang/go#100", "go-review:go/700": "golang/go#100", "golang/go#300": "golang/go#300"}
	migrate := func() int {
		var n int
		err := st.Update(func(tx *store.Tx) error {
			var err error
			n, err = Migrate(tx, func(item string) (string, error) { return topics[item], nil }, t0.Add(3*time.Hour))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := migrate(); n != 3 {
		t.Errorf("migrated %d prompts, want 3", n)
	}
	if n := migrate(); n != 0 {
		t.Errorf("second migration rewrote %d prompts", n)
	}
	st.View(func(tx *store.Tx) error {
		p, err := Find(tx, "acme", "tls", "golang/go#100")
		if err != nil || p == nil {
			t.Fatalf("topic golang/go#100: %v, %v", p, err)
		}
		if p.ID != issue.ID || !slices.Equal([]string{p.Members[0].Item.ID, p.Members[1].Item.ID}, []string{"go-review:go/700", "golang/go#100"}) {
			t.Errorf("survivor %s with members %+v", p.ID, p.Members)
		}
		gone, err := Get(tx, cl.ID)
		if err != nil || gone.State != Merged || gone.MergedInto != issue.ID {
			t.Errorf("the newer prompt: %+v, %v", gone, err)
		}
		if p, _ := Find(tx, "acme", "tls", "golang/go#300"); p == nil || p.State != Done || p.Topic != "golang/go#300" {
			t.Errorf("a prompt alone in its topic: %+v", p)
		}
		old, _ := tx.Bucket(bucketKeysV1)
		if k, _ := old.Cursor().First(); k != nil {
			t.Errorf("version 1 keys left: %q", k)
		}
		return nil
	})
}

func profiles(t *testing.T) configs.Profiles {
	return configs.Profiles{{ID: "acme", Name: "Acme", Tier: "gold", Concerns: []configs.Concern{{ID: "tls", Priority: "normal"}}}}
}
