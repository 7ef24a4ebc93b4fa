package store

import (
	"encoding/binary"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// # Counters
//
// The store counts what it holds, so that summaries (`status`) answer in
// constant time instead of reading every record:
//
//	counts    "item" | 0x00 | source → number of items of that source (8 bytes, big-endian)
//	          "comments"             → number of comments (8 bytes, big-endian)
//	          "seq"                  → the items bucket's sequence the counts reflect
//
// Every write that adds an item or a comment updates its counter in the same
// transaction, so the counts can never disagree with the records. Each item
// write also stamps "seq" with the sequence number it took. A store written
// before the counters existed has no counts bucket, and one last written by
// such an older binary has a stamp behind the items' sequence: both are
// recounted once, the next time the store is opened for writing. Until then
// a reader counts by scanning (slow, but right).

var bucketCounts = []byte("counts")

var (
	countComments = []byte("comments")
	countSeq      = []byte("seq")
)

const countItemPrefix = "item\x00"

// Counts says how many objects the store holds.
type Counts struct {
	Items    map[string]int // by source
	Comments int
}

// Total returns the number of items of all sources.
func (c Counts) Total() int {
	n := 0
	for _, v := range c.Items {
		n += v
	}
	return n
}

func getCount(b *bolt.Bucket, k []byte) uint64 {
	if v := b.Get(k); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func putCount(b *bolt.Bucket, k []byte, n uint64) error {
	return b.Put(k, binary.BigEndian.AppendUint64(nil, n))
}

// addCount adds delta (±1) to counter k.
func (tx *Tx) addCount(k []byte, delta int) error {
	b := tx.tx.Bucket(bucketCounts)
	n := getCount(b, k)
	if delta < 0 && n == 0 {
		return fmt.Errorf("store: counter %q would go below zero", k)
	}
	return putCount(b, k, uint64(int64(n)+int64(delta)))
}

func itemCountKey(source string) []byte { return []byte(countItemPrefix + source) }

// countsValid reports whether the counts bucket reflects every write.
func countsValid(tx *bolt.Tx) bool {
	b := tx.Bucket(bucketCounts)
	return b != nil && getCount(b, countSeq) == tx.Bucket(bucketItems).Sequence()
}

// recount rebuilds the counts bucket from the records, in tx (writable).
// It runs once on a store written without counters.
func recount(tx *bolt.Tx) error {
	if tx.Bucket(bucketCounts) != nil {
		if err := tx.DeleteBucket(bucketCounts); err != nil {
			return err
		}
	}
	b, err := tx.CreateBucket(bucketCounts)
	if err != nil {
		return err
	}
	c, err := scanCounts(tx)
	if err != nil {
		return err
	}
	for src, n := range c.Items {
		if err := putCount(b, itemCountKey(src), uint64(n)); err != nil {
			return err
		}
	}
	if err := putCount(b, countComments, uint64(c.Comments)); err != nil {
		return err
	}
	return putCount(b, countSeq, tx.Bucket(bucketItems).Sequence())
}

// scanCounts counts by reading every key.
func scanCounts(tx *bolt.Tx) (Counts, error) {
	c := Counts{Items: map[string]int{}}
	cur := tx.Bucket(bucketItems).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if len(v) < 9 || len(v) < 9+int(v[8]) {
			return Counts{}, fmt.Errorf("store: item %s: corrupt record", k)
		}
		c.Items[string(v[9:9+int(v[8])])]++
	}
	cur = tx.Bucket(bucketComments).Cursor()
	for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
		if len(k) >= 9 && k[len(k)-9] == 0 {
			c.Comments++
		}
	}
	return c, nil
}

// Counts returns how many items (by source) and comments the store holds.
// It reads the counters, in constant time; only a store last written by a
// reciprocal without counters, opened read-only, is counted by a scan.
func (tx *Tx) Counts() (Counts, error) {
	if !countsValid(tx.tx) {
		return scanCounts(tx.tx)
	}
	c := Counts{Items: map[string]int{}}
	cur := tx.tx.Bucket(bucketCounts).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if len(v) != 8 {
			continue
		}
		n := int(binary.BigEndian.Uint64(v))
		switch {
		case strings.HasPrefix(string(k), countItemPrefix):
			if n > 0 {
				c.Items[string(k[len(countItemPrefix):])] = n
			}
		case string(k) == string(countComments):
			c.Comments = n
		}
	}
	return c, nil
}
