package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/reciprocal-access/reciprocal/internal/periodic"
)

// compactTxBytes bounds each transaction of a compaction, so that copying
// a store of any size holds a bounded amount in memory: bbolt keeps a
// transaction's new pages, with its nodes and keys, on the Go heap until
// the commit.
const compactTxBytes = 8 << 20

// Compact rewrites the store file without the free pages it has gathered,
// and returns its size before and after. bbolt never gives pages back to
// the file system: every rewrite of an item (a sync that updates it, a
// touch from a new comment) frees the pages of its old version for reuse,
// but the file keeps its largest size. Compact copies every bucket, key and
// sequence into a new file beside the store, and moves it into place only
// once it is complete and synced: interrupted, it leaves the store as it was.
//
// The store must be open for writing (the directory lock is exclusive).
func (s *Store) Compact() (before, after int64, err error) {
	if s.readOnly {
		return 0, 0, errors.New("store: compact needs the store open for writing")
	}
	defer s.guard(&err)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs > 0 {
		return 0, 0, errors.New("store: compact while the store is in use")
	}
	db, err := bolt.Open(s.path, 0o644, &bolt.Options{Timeout: s.fileWait})
	if errors.Is(err, bolt.ErrTimeout) {
		return 0, 0, &ErrBusy{Path: s.path, Wait: s.fileWait, Writer: true}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("store: open %s: %w", s.path, err)
	}
	open := true
	defer func() {
		if open {
			db.Close()
		}
	}()
	info, err := os.Stat(s.path)
	if err != nil {
		return 0, 0, fmt.Errorf("store: %w", err)
	}
	before = info.Size()
	tmp := s.path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, 0, fmt.Errorf("store: %w", err)
	}
	dst, err := bolt.Open(tmp, 0o644, &bolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	stopRelease := releaseWhileOpen(db)
	err = bolt.Compact(dst, db, compactTxBytes)
	stopRelease()
	if err != nil {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	err = dst.Sync()
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	open = false
	if err := db.Close(); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	renameErr := os.Rename(tmp, s.path)
	if renameErr == nil {
		syncDir(filepath.Dir(s.path))
	} else {
		os.Remove(tmp)
	}
	// The next use opens the store again, compacted or not.
	if renameErr != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", renameErr)
	}
	if info, err := os.Stat(s.path); err == nil {
		after = info.Size()
	}
	return before, after, nil
}

// releaseWhileOpen gives back the pages of db's memory map every
// compactRelease until stop is called. Compact reads the whole store through
// the map in one transaction, and without this every page of it stays
// resident (2.2 GB at one million objects). It is safe for the reason
// releaseMapped is: each release runs inside a read transaction of db,
// which keeps the map from moving, and nothing writes to db meanwhile.
func releaseWhileOpen(db *bolt.DB) (stop func()) {
	return periodic.Every(compactRelease, func() bool {
		db.View(func(tx *bolt.Tx) error {
			releaseMapped(tx)
			return nil
		})
		return true
	})
}

// compactRelease is how often Compact gives back the pages it has read:
// it reads hundreds of MB a second, and more of them than it copies when
// the store holds many free pages.
const compactRelease = 20 * time.Millisecond

// syncDir makes a rename in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
