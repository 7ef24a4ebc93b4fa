package store

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Compact gives back the pages that rewrites freed, and keeps every
// record, comment, cursor, sequence and counter.
func TestCompact(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer func() { s.Close() }()
	big := strings.Repeat("x", 2000)
	for round := range 5 {
		err := s.Update(func(tx *Tx) error {
			for i := range 500 {
				id := fmt.Sprintf("golang/go#%d", i)
				if _, err := tx.PutItem(id, "github", []byte(fmt.Sprintf(`{"round":%d,"body":%q}`, round, big))); err != nil {
					return err
				}
				if _, err := tx.PutComment(id, int64(round), []byte(`{"c":1}`)); err != nil {
					return err
				}
			}
			return tx.SetCursor("match", []byte{byte(round)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	type snapshot struct {
		Counts  Counts
		LastSeq uint64
		Order   []string
		Cursor  []byte
		Comment int
	}
	snap := func() snapshot {
		var sn snapshot
		err := s.View(func(tx *Tx) error {
			var err error
			if sn.Counts, err = tx.Counts(); err != nil {
				return err
			}
			sn.LastSeq = tx.LastSeq()
			sn.Cursor = tx.Cursor("match")
			if err := tx.Since(0, func(r Record) error {
				sn.Order = append(sn.Order, fmt.Sprintf("%d:%s:%d", r.Seq, r.ID, len(r.Raw)))
				return nil
			}); err != nil {
				return err
			}
			return tx.Comments("golang/go#7", func(int64, []byte) error { sn.Comment++; return nil })
		})
		if err != nil {
			t.Fatal(err)
		}
		return sn
	}
	want := snap()
	before, after, err := s.Compact()
	if err != nil {
		t.Fatal(err)
	}
	if after >= before {
		t.Errorf("compacted %d bytes into %d", before, after)
	}
	t.Logf("store: %d → %d bytes", before, after)
	if got := snap(); !reflect.DeepEqual(got, want) {
		t.Errorf("after Compact:\n%+v\nwant\n%+v", got, want)
	}
	// The store is still writable, and the sequence goes on.
	if err := s.Update(func(tx *Tx) error {
		_, err := tx.PutItem("golang/go#9999", "github", []byte(`{}`))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		if tx.LastSeq() != want.LastSeq+1 {
			t.Errorf("LastSeq after a write = %d, want %d", tx.LastSeq(), want.LastSeq+1)
		}
		return nil
	})
	s.Close()
	s = open(t, dir) // and it opens again, counters valid
	if c := counts(t, s); c.Total() != 501 || c.Comments != 2500 {
		t.Errorf("after reopening, counts %+v", c)
	}
}
