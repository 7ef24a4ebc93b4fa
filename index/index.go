package index

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// DirName is the name of the index directory inside the data directory.
const DirName = "index"

// seqKey is the Bleve internal key under which the index records the last
// store sequence number it reflects. It is written in the same batch as the
// documents, so the index and its position never disagree.
var seqKey = []byte("reciprocal.seq")

// analysisKey is the Bleve internal key under which the index records the
// AnalysisVersion it was built with (a decimal number). An index without it
// was built with version 1.
var analysisKey = []byte("reciprocal.analysis")

// An Index is an open Bleve index of items.
type Index struct {
	b        bleve.Index
	analysis int
}

// Open opens the index at path, creating it if it does not exist and
// readOnly is false.
func Open(path string, readOnly bool) (*Index, error) {
	b, err := bleve.OpenUsing(path, map[string]interface{}{"read_only": readOnly})
	if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		if readOnly {
			return nil, fmt.Errorf("index: %s does not exist: run 'reciprocal reindex'", path)
		}
		b, err = bleve.NewUsing(path, newMapping(), scorch.Name, scorch.Name, nil)
		if err == nil {
			err = b.SetInternal(analysisKey, []byte(strconv.Itoa(AnalysisVersion)))
			if err != nil {
				b.Close()
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	x := &Index{b: b, analysis: 1}
	v, err := b.GetInternal(analysisKey)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	if n, err := strconv.Atoi(string(v)); err == nil {
		x.analysis = n
	}
	return x, nil
}

// Analysis returns the text analysis version the index was built with.
func (x *Index) Analysis() int { return x.analysis }

// Stale reports whether the index was built with another text analysis
// than this program's (AnalysisVersion): its terms do not fit the queries,
// and it must be rebuilt from the store.
func (x *Index) Stale() bool { return x.analysis != AnalysisVersion }

// StaleError is the error of a reader that found a stale index.
type StaleError struct{ Version int }

func (e *StaleError) Error() string {
	return fmt.Sprintf("the index was built with text analysis version %d, and this reciprocal uses version %d", e.Version, AnalysisVersion)
}

// Remove deletes the index at path, so that it can be rebuilt.
func Remove(path string) error {
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("index: remove %s: %w", path, err)
	}
	return nil
}

// Close closes the index, flushing what was written.
func (x *Index) Close() error { return x.b.Close() }

// Seq returns the store sequence number the index reflects: every item
// written at or before it is indexed.
func (x *Index) Seq() (uint64, error) {
	v, err := x.b.GetInternal(seqKey)
	if err != nil {
		return 0, fmt.Errorf("index: %w", err)
	}
	if len(v) != 8 {
		return 0, nil
	}
	return binary.BigEndian.Uint64(v), nil
}

// Count returns the number of indexed items.
func (x *Index) Count() (uint64, error) { return x.b.DocCount() }

// DiskSize returns the bytes the index uses on disk.
func DiskSize(path string) int64 {
	var n int64
	filepath.WalkDir(path, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// A Batch collects items to index and applies them at once.
type Batch struct {
	x *Index
	b *bleve.Batch
	n int
}

// NewBatch returns an empty batch.
func (x *Index) NewBatch() *Batch { return &Batch{x: x, b: x.b.NewBatch()} }

// Add adds (or replaces) the item.
func (b *Batch) Add(it *Item) error {
	if it.ID == "" {
		return errors.New("index: item without ID")
	}
	b.n++
	return b.b.Index(it.ID, newDoc(it))
}

// Delete removes the item with id.
func (b *Batch) Delete(id string) { b.n++; b.b.Delete(id) }

// Len returns the number of operations in the batch.
func (b *Batch) Len() int { return b.n }

// Commit applies the batch and records seq as the store position it reflects.
func (b *Batch) Commit(ctx context.Context, seq uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.b.SetInternal(seqKey, binary.BigEndian.AppendUint64(nil, seq))
	if err := b.x.b.Batch(b.b); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	b.b.Reset()
	b.n = 0
	return nil
}
