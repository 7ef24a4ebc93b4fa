package watcher

import (
	"context"
	"fmt"

	"github.com/reciprocal-access/reciprocal/index"
)

// Reclaimed says what Compact gave back, in bytes on disk.
type Reclaimed struct {
	StoreBefore, StoreAfter int64
	IndexBefore, IndexAfter int64
}

// Compact reclaims the space that the store and the index keep after large
// updates or deletions: it rewrites the store file without its free pages
// (store.Compact) and merges the index into one segment (index.Compact),
// closing and opening the index again so that the files it merged away are
// removed. d must be open for writing.
func (d *Data) Compact(ctx context.Context) (Reclaimed, error) {
	var r Reclaimed
	var err error
	if r.StoreBefore, r.StoreAfter, err = d.Store.Compact(); err != nil {
		return r, err
	}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	r.IndexBefore = index.DiskSize(d.IndexPath())
	if err := d.Index.Compact(ctx); err != nil {
		return r, err
	}
	if err := d.Index.Close(); err != nil {
		return r, fmt.Errorf("index: %w", err)
	}
	d.Index = nil
	if err := d.OpenIndex(false); err != nil {
		return r, err
	}
	r.IndexAfter = index.DiskSize(d.IndexPath())
	return r, nil
}
