package index

import (
	"path/filepath"
	"time"

	"github.com/reciprocal-access/reciprocal/internal/boltcheck"
	bbolt "go.etcd.io/bbolt"
)

// Check verifies the index at path more thoroughly than opening it does:
// it reads every page of scorch's root.bolt (bbolt's consistency check:
// page IDs and types, the freelist, key order). A read-only open reads
// only the pages it needs, so damage to the freelist goes unnoticed until
// a writer opens the index; Check finds it first. Segments are checked as
// they are read. It returns ErrDamaged with the first problem found.
func Check(path string) (err error) {
	defer guard(path, &err)
	root := filepath.Join(path, "store", "root.bolt")
	db, err := bbolt.Open(root, 0, &bbolt.Options{ReadOnly: true, Timeout: time.Minute})
	if err != nil {
		return damaged(path, err)
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		if err := boltcheck.Run(tx); err != nil {
			return damaged(path, err)
		}
		return nil
	})
}
