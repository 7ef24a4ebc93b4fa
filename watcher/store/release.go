package store

import (
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// How often the store gives the pages of its file mapped into memory back
// (see releaseMapped): at most once a second at the end of a transaction,
// and every releaseReads reads within one. A page read again after costs a
// minor fault, so this keeps memory flat for a few milliseconds a second.
//
// A read is a lookup of a key (an item by its ID, the first comment of an
// item) or a record read after one (an item of a scan, a comment). Reading
// one page of a file mapping makes the kernel map the pages around it that
// are in the page cache as well (fault-around: 64 KB on Linux), so a
// transaction that reads keys all over the file holds up to 16 times the
// pages it reads. Indexing a first sync does: its issues come in the order
// their last comments were stored, each read by its ID with its comments,
// and a 2 MB batch of them held 150 MB of the store's pages at 100k items
// when releases came only once a second. Releasing every 512 reads bounds
// what the reads between two releases map at about 32 MB. The reads are
// counted across transactions: an offline index build reads 250 items a
// transaction, and counted per transaction, its reads of a first sync's
// store held 400 MB of its pages between two of the once-a-second
// releases.
const releaseInterval = time.Second

var releaseReads = 512 // a variable for tests

// lastRelease is when a transaction of this process last released the
// mapped pages (UnixNano).
var lastRelease atomic.Int64

// maybeRelease releases the mapped pages if the last release is older
// than releaseInterval. It runs inside tx.
func maybeRelease(tx *bolt.Tx) {
	now := time.Now().UnixNano()
	last := lastRelease.Load()
	if now-last < int64(releaseInterval) || !lastRelease.CompareAndSwap(last, now) {
		return
	}
	releaseMapped(tx)
}

// reads counts the reads of this process's transactions since the mapped
// pages were last given back.
var reads atomic.Int64

// noteReads counts n reads of tx (see releaseReads) and gives the mapped
// pages back every releaseReads of them, in whatever transaction reaches
// the count.
func (tx *Tx) noteReads(n int) {
	if reads.Add(int64(n)) >= int64(releaseReads) {
		reads.Store(0)
		releaseMapped(tx.tx)
	}
}
