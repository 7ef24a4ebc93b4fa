package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// compactTxBytes bounds each transaction of a compaction, so that copying
// a store of any size holds a bounded amount in memory.
const compactTxBytes = 32 << 20

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
	if s.db.IsReadOnly() {
		return 0, 0, errors.New("store: compact needs the store open for writing")
	}
	defer s.guard(&err)
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
	if err := bolt.Compact(dst, s.db, compactTxBytes); err != nil {
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
	if err := s.db.Close(); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	renameErr := os.Rename(tmp, s.path)
	if renameErr == nil {
		syncDir(filepath.Dir(s.path))
	} else {
		os.Remove(tmp)
	}
	// Open the store again, compacted or not.
	db, err := bolt.Open(s.path, 0o644, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return 0, 0, fmt.Errorf("store: reopen %s after compacting: %w", s.path, err)
	}
	s.db = db
	if renameErr != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", renameErr)
	}
	if info, err := os.Stat(s.path); err == nil {
		after = info.Size()
	}
	return before, after, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
