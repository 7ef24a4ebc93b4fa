package watcher

import (
	"context"
	"errors"
	"fmt"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Reindex rebuilds the index from the store, whatever state the old index
// is in: it builds a new index beside the old one and moves it into place
// only when it is complete, so an interrupted or failed reindex leaves the
// old index as it was. A damaged old index is never opened.
func (d *Data) Reindex(ctx context.Context) (int, error) {
	n, err := d.rebuild(ctx)
	var be *buildError
	if errors.As(err, &be) {
		return n, fmt.Errorf("reindex: %w (the old index is unchanged)", be.err)
	}
	return n, err
}

// rebuild builds a new index of every stored item (with an index.Builder)
// beside the old one, and then moves it into place. An error while
// building is a *buildError.
func (d *Data) rebuild(ctx context.Context) (int, error) {
	path := d.IndexPath()
	tmp := path + ".new" // a leftover from an interrupted reindex is removed
	if err := index.Remove(tmp); err != nil {
		return 0, err
	}
	n, err := d.build(ctx, tmp)
	if err != nil {
		return n, &buildError{err}
	}
	if d.Index != nil {
		d.Index.Close() // a damaged index may fail to close; it is replaced anyway
		d.Index = nil
	}
	if err := index.Replace(tmp, path); err != nil {
		return n, err
	}
	return n, d.OpenIndex(false)
}

// A buildError is a failure to build a new index, which left the old one
// as it was.
type buildError struct{ err error }

func (e *buildError) Error() string { return e.err.Error() }
func (e *buildError) Unwrap() error { return e.err }

// build writes a new index of every stored item at path with an
// index.Builder, and removes it on failure.
func (d *Data) build(ctx context.Context, path string) (int, error) {
	ib, err := index.Build(path)
	if err != nil {
		return 0, err
	}
	n, last, err := d.indexBatches(ctx, 0, &builderBatch{b: ib}, buildBatch, d.Store.Hold)
	if err != nil {
		ib.Abort()
		return n, err
	}
	return n, ib.Finish(ctx, last)
}

// buildWhole reports whether the index, at store position seq, is empty
// and at least buildAbove stored items wait for it: a first import or sync
// of much history, which an offline build (index.Builder) indexes in less
// time than batches applied to the open index.
func (d *Data) buildWhole(seq uint64) (bool, error) {
	if seq != 0 {
		return false, nil
	}
	if n, err := d.Index.Count(); err != nil || n != 0 {
		return false, err
	}
	var more bool
	err := d.Store.View(func(tx *store.Tx) error {
		_, more = tx.CountSince(0, buildAbove-1) // more: at least buildAbove
		return nil
	})
	return more, err
}

var buildAbove = 20000

// builderBatch feeds an index.Builder, which writes nothing until it is
// finished: there is nothing to delete in a new index.
type builderBatch struct {
	b *index.Builder
	n int
}

func (o *builderBatch) Add(it *index.Item) error {
	o.n++
	return o.b.Add(it)
}
func (o *builderBatch) Delete(string) { o.n++ }
func (o *builderBatch) Len() int      { return o.n }
func (o *builderBatch) Commit(ctx context.Context, _ uint64) error {
	o.n = 0
	if err := ctx.Err(); err != nil {
		return err
	}
	return o.b.Flush()
}
