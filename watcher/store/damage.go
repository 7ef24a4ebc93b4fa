package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/reciprocal-access/reciprocal/internal/boltcheck"
	bolt "go.etcd.io/bbolt"
)

// ErrDamaged reports a store file with pages that cannot be read: a bad
// sector, a torn write, bytes flipped on disk. bbolt checks each page it
// reads and panics when one is not what it should be; the store's entry
// points (Open, Update, View, Salvage) turn that panic into this error, so
// that the user gets a message and a way out instead of a stack trace.
//
// A damaged store is not repaired in place. What is readable is exported
// (Salvage) and imported into a new data directory; what was lost is
// fetched again by the next sync.
var ErrDamaged = errors.New("the store is damaged")

// guard recovers a panic raised inside bbolt and sets *err to an ErrDamaged
// error. A panic raised elsewhere (a bug in a callback) is not the disk's
// fault and goes on.
func (s *Store) guard(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if !fromBolt(string(debug.Stack())) {
		panic(r)
	}
	*err = fmt.Errorf("%w: %s: %v", ErrDamaged, s.path, r)
}

// fromBolt reports whether the panic whose stack this is was raised in
// bbolt: whether the first frame after the call to panic is bbolt's.
func fromBolt(stack string) bool {
	_, after, ok := strings.Cut(stack, "\npanic(")
	if !ok {
		return false
	}
	lines := strings.Split(after, "\n")
	// lines[0] is the rest of the panic frame, lines[1] its file; the
	// next function line is the frame that panicked.
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "\t") {
			continue
		}
		return strings.HasPrefix(l, "go.etcd.io/bbolt")
	}
	return false
}

// Salvage reads what it still can of a damaged store and passes it on:
// item gets every readable item record, comment every readable comment. It
// scans each bucket forward from its first key until a damaged page stops
// it, then backward from its last key until it meets the same damage, so a
// bad page costs only the records on it (and, for a damaged branch page,
// those below it). lost reports whether anything could not be read.
func (s *Store) Salvage(item func(Record) error, comment func(itemID string, commentID int64, raw []byte) error) (lost bool, err error) {
	defer s.guard(&err)
	db, err := s.acquire()
	if err != nil {
		return false, err
	}
	defer s.release()
	err = db.View(func(tx *bolt.Tx) error {
		l1, err := s.salvageBucket(tx, bucketItems, func(k, v []byte) error {
			rec, err := decodeItem(string(k), v)
			if err != nil {
				lost = true
				return nil
			}
			return item(rec)
		})
		if err != nil {
			return err
		}
		l2, err := s.salvageBucket(tx, bucketComments, func(k, v []byte) error {
			if len(k) < 9 || k[len(k)-9] != 0 {
				return nil
			}
			return comment(string(k[:len(k)-9]), int64(binary.BigEndian.Uint64(k[len(k)-8:])), v)
		})
		lost = lost || l1 || l2
		return err
	})
	return lost, err
}

// salvageBucket calls fn for every key and value of the named bucket that
// it can read, in key order, and reports whether it met damage.
func (s *Store) salvageBucket(tx *bolt.Tx, name []byte, fn func(k, v []byte) error) (lost bool, err error) {
	var b *bolt.Bucket
	if damagedAt(func() { b = tx.Bucket(name) }) {
		return true, nil
	}
	if b == nil {
		return false, nil
	}
	c := b.Cursor()
	var last []byte // the last key read going forward
	var k, v []byte
	var ferr error
	if damagedAt(func() {
		for k, v = c.First(); k != nil; k, v = c.Next() {
			if ferr = fn(k, v); ferr != nil {
				return
			}
			last = append(last[:0], k...)
		}
	}) {
		lost = true
	}
	if ferr != nil || !lost {
		return lost, ferr
	}
	// Backward from the end, down to the damage; then in key order.
	type kv struct{ k, v []byte }
	var tail []kv
	damagedAt(func() {
		for k, v = c.Last(); k != nil && (last == nil || bytes.Compare(k, last) > 0); k, v = c.Prev() {
			tail = append(tail, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
		}
	})
	for i := len(tail) - 1; i >= 0; i-- {
		if err := fn(tail[i].k, tail[i].v); err != nil {
			return lost, err
		}
	}
	return lost, nil
}

// damagedAt runs fn and reports whether bbolt panicked on a damaged page.
func damagedAt(fn func()) (damaged bool) {
	defer func() {
		if r := recover(); r != nil {
			if !fromBolt(string(debug.Stack())) {
				panic(r)
			}
			damaged = true
		}
	}()
	fn()
	return false
}

// Check reads every page of the store and verifies it (bbolt's consistency
// check: page IDs and types, the freelist, key order), returning ErrDamaged
// with the first problem found. Ordinary commands read only the pages they
// need, so a damaged page can go unnoticed until something reads it; Check
// finds it at the cost of reading the whole file.
func (s *Store) Check() (err error) {
	defer s.guard(&err)
	db, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release()
	return db.View(func(tx *bolt.Tx) error {
		if err := boltcheck.Run(tx); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrDamaged, s.path, err)
		}
		return nil
	})
}
