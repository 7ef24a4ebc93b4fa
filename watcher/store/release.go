package store

import (
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// How often the store gives the pages of its file mapped into memory back
// (see releaseMapped): at most once a second at the end of a transaction,
// and every releaseEvery records of a long scan (Since). A page read again
// after costs a minor fault, so this keeps memory flat for a few
// milliseconds a second.
const (
	releaseInterval = time.Second
	releaseEvery    = 20_000
)

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
