package store

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func counts(t *testing.T, s *Store) Counts {
	t.Helper()
	var c Counts
	if err := s.View(func(tx *Tx) error {
		var err error
		c, err = tx.Counts()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

func scanned(t *testing.T, s *Store) Counts {
	t.Helper()
	var c Counts
	if err := rawView(s, func(tx *bolt.Tx) error {
		var err error
		c, err = scanCounts(tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCountsFollowWrites(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	if c := counts(t, s); c.Total() != 0 || c.Comments != 0 {
		t.Fatalf("empty store counts %+v", c)
	}
	err := s.Update(func(tx *Tx) error {
		for _, w := range []struct{ id, src, raw string }{
			{"golang/go#1", "github", `{"n":1}`},
			{"golang/go#2", "github", `{"n":2}`},
			{"golang/go#1", "github", `{"n":1}`},     // unchanged
			{"golang/go#1", "github", `{"n":1.5}`},   // updated, same source
			{"GO-2024-0001", "vulndb", `{"id":"x"}`}, // new source
			{"golang/go#2", "other", `{"n":2}`},      // moves to another source
		} {
			if _, err := tx.PutItem(w.id, w.src, []byte(w.raw)); err != nil {
				return err
			}
		}
		for _, c := range []struct {
			item string
			id   int64
			raw  string
		}{
			{"golang/go#1", 10, `{"id":10}`},
			{"golang/go#1", 11, `{"id":11}`},
			{"golang/go#1", 10, `{"id":10}`},       // unchanged
			{"golang/go#1", 11, `{"id":11,"x":1}`}, // edited
			{"golang/go#9", 12, `{"id":12}`},       // issue not stored yet
		} {
			if _, err := tx.PutComment(c.item, c.id, []byte(c.raw)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Items: map[string]int{"github": 1, "vulndb": 1, "other": 1}, Comments: 3}
	if got := counts(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("Counts = %+v, want %+v", got, want)
	}
	if got := scanned(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("scan = %+v, want %+v", got, want)
	}
	s.View(func(tx *Tx) error {
		if n := tx.Count(); n != 3 {
			t.Errorf("Count = %d, want 3", n)
		}
		return nil
	})

	// A failed transaction leaves the counts as they were.
	s.Update(func(tx *Tx) error {
		tx.PutItem("golang/go#3", "github", []byte(`{}`))
		tx.PutComment("golang/go#3", 13, []byte(`{}`))
		return fmt.Errorf("abort")
	})
	if got := counts(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("after a rolled-back write, Counts = %+v, want %+v", got, want)
	}
}

// A store written by a reciprocal without counters (no counts bucket), or
// last written by one (the counters' stamp is behind the items' sequence),
// is counted by a scan when read and recounted once when opened for writing.
func TestCountsOfAnOlderStore(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.Update(func(tx *Tx) error {
		tx.PutItem("golang/go#1", "github", []byte(`{}`))
		tx.PutComment("golang/go#1", 1, []byte(`{}`))
		return nil
	})
	s.Close()
	want := Counts{Items: map[string]int{"github": 2}, Comments: 2}

	for _, tc := range []struct {
		name  string
		older func(*bolt.Tx) error
	}{
		{"no counters", func(tx *bolt.Tx) error {
			if err := olderWrite(tx); err != nil {
				return err
			}
			return tx.DeleteBucket(bucketCounts)
		}},
		{"counters behind", olderWrite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := bolt.Open(filepath.Join(dir, FileName), 0o644, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tc.older); err != nil {
				t.Fatal(err)
			}
			db.Close()

			r, err := Open(dir, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := counts(t, r); !reflect.DeepEqual(got, want) {
				t.Errorf("read-only Counts = %+v, want %+v", got, want)
			}
			rawView(r, func(tx *bolt.Tx) error {
				if countsValid(tx) {
					t.Error("counters valid before a writer opened the store")
				}
				return nil
			})
			r.Close()

			w := open(t, dir)
			defer w.Close()
			rawView(w, func(tx *bolt.Tx) error {
				if !countsValid(tx) {
					t.Error("counters not valid after a writer opened the store")
				}
				return nil
			})
			if got := counts(t, w); !reflect.DeepEqual(got, want) {
				t.Errorf("after recount, Counts = %+v, want %+v", got, want)
			}
		})
	}
}

// olderWrite writes as a reciprocal without counters did: an item with the
// next sequence and a comment, leaving the counts bucket alone. It writes
// golang/go#2 and its comment 2 (once: a second run rewrites them).
func olderWrite(tx *bolt.Tx) error {
	items := tx.Bucket(bucketItems)
	seq, err := items.NextSequence()
	if err != nil {
		return err
	}
	if old := items.Get([]byte("golang/go#2")); old != nil {
		tx.Bucket(bucketSeq).Delete(old[:8])
	}
	v := append(seqKey(seq), byte(len("github")))
	v = append(v, "github{}"...)
	if err := items.Put([]byte("golang/go#2"), v); err != nil {
		return err
	}
	if err := tx.Bucket(bucketSeq).Put(seqKey(seq), []byte("golang/go#2")); err != nil {
		return err
	}
	return tx.Bucket(bucketComments).Put(commentKey("golang/go#2", 2), []byte(`{}`))
}

// BenchmarkCounts shows that counting is constant time: the counters against
// the scan they replace, over a store of 100,000 items with ten comments each.
func BenchmarkCounts(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const items, perItem = 100_000, 10
	for start := 0; start < items; start += 10_000 {
		err := s.Update(func(tx *Tx) error {
			for i := start; i < start+10_000; i++ {
				id := fmt.Sprintf("golang/go#%d", i)
				if _, err := tx.PutItem(id, "github", []byte(`{"title":"x"}`)); err != nil {
					return err
				}
				for c := range perItem {
					if _, err := tx.PutComment(id, int64(c), []byte(`{"body":"y"}`)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("counters", func(b *testing.B) {
		for b.Loop() {
			s.View(func(tx *Tx) error {
				c, err := tx.Counts()
				if err != nil || c.Total() != items || c.Comments != items*perItem {
					b.Fatalf("Counts = %+v, %v", c, err)
				}
				return nil
			})
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			rawView(s, func(tx *bolt.Tx) error {
				c, err := scanCounts(tx)
				if err != nil || c.Total() != items {
					b.Fatalf("scan = %+v, %v", c, err)
				}
				return nil
			})
		}
	})
}

func TestCountSince(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	s.Update(func(tx *Tx) error {
		for i := range 5 {
			tx.PutItem(fmt.Sprintf("golang/go#%d", i), "github", []byte(`{}`))
		}
		tx.PutItem("golang/go#0", "github", []byte(`{"edited":true}`)) // seq 6; seq 1 is gone
		return nil
	})
	s.View(func(tx *Tx) error {
		for _, tc := range []struct {
			seq   uint64
			limit int
			n     int
			more  bool
		}{
			{0, 10, 5, false},
			{1, 10, 5, false},
			{2, 10, 4, false},
			{0, 3, 3, true},
			{0, 5, 5, false},
			{6, 10, 0, false},
		} {
			n, more := tx.CountSince(tc.seq, tc.limit)
			if n != tc.n || more != tc.more {
				t.Errorf("CountSince(%d, %d) = %d, %v; want %d, %v", tc.seq, tc.limit, n, more, tc.n, tc.more)
			}
		}
		return nil
	})
}

// rawView runs fn in a bbolt read transaction of s.
func rawView(s *Store, fn func(*bolt.Tx) error) error {
	return s.View(func(tx *Tx) error { return fn(tx.tx) })
}
