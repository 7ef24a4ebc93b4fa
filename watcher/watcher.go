// Package watcher brings tracker data into reciprocal and keeps what is
// derived from it current: it normalizes stored records into items, keeps the
// index in step with the store, imports and exports JSON Lines, and (in its
// sub-packages) syncs the sources and matches items against client concerns.
package watcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/store"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb"
)

// A Normalizer turns stored records into items.
type Normalizer struct {
	// GerritURLs maps the host label of Gerrit item IDs ("go-review") to
	// the server's base URL. Labels not listed are taken to be hosts on
	// googlesource.com, as Go's are.
	GerritURLs map[string]string
}

// GerritURL returns the base URL of the Gerrit host with the given label.
func (n *Normalizer) GerritURL(label string) string {
	if u, ok := n.GerritURLs[label]; ok {
		return u
	}
	return "https://" + label + ".googlesource.com"
}

// Item normalizes the stored record rec, reading its comments from tx.
func (n *Normalizer) Item(tx *store.Tx, rec store.Record) (index.Item, error) {
	var it index.Item
	var err error
	switch rec.Source {
	case index.SourceGitHub:
		var comments [][]byte
		err = tx.Comments(rec.ID, func(_ int64, raw []byte) error {
			comments = append(comments, raw)
			return nil
		})
		if err == nil {
			it, err = github.Normalize(rec.Raw, comments)
		}
	case index.SourceGerrit:
		label, _, _ := strings.Cut(rec.ID, ":")
		it, err = gerrit.Normalize(n.GerritURL(label), rec.Raw)
	case index.SourceVulnDB:
		it, err = vulndb.Normalize(rec.Raw)
	default:
		err = fmt.Errorf("unknown source %q", rec.Source)
	}
	if err != nil {
		return index.Item{}, fmt.Errorf("item %s: %w", rec.ID, err)
	}
	if it.ID != rec.ID {
		return index.Item{}, fmt.Errorf("item %s: stored JSON describes %s", rec.ID, it.ID)
	}
	return it, nil
}

// Data is an open data directory: the store and the index derived from it.
type Data struct {
	Dir   string
	Store *store.Store
	Index *index.Index
	Norm  *Normalizer
}

// OpenData opens the store and the index in dir. A writer (readOnly false)
// holds the directory exclusively until Close.
func OpenData(dir string, readOnly bool, norm *Normalizer) (*Data, error) {
	st, err := store.Open(dir, store.Options{ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	ix, err := index.Open(filepath.Join(dir, index.DirName), readOnly)
	if err != nil {
		st.Close()
		return nil, err
	}
	if norm == nil {
		norm = &Normalizer{}
	}
	return &Data{Dir: dir, Store: st, Index: ix, Norm: norm}, nil
}

// Close closes the index and then the store.
func (d *Data) Close() error {
	return errors.Join(d.Index.Close(), d.Store.Close())
}

// Bounds of one index batch: at most this many items, or items whose text
// (title, body and comments) adds up to this many bytes. Bleve builds each
// batch into an in-memory segment several times the size of the text, so
// the bytes bound keeps memory flat when items are large (issues with long
// discussions); the count bound keeps batches of small items from growing
// without end. Larger batches mean fewer segments to merge later.
var (
	indexBatchItems = 1000
	indexBatchBytes = 4 << 20
)

// IndexPending indexes every item written to the store since the index's
// last position, in batches, and returns how many it indexed. The index's
// position moves with each batch, so an interrupted run resumes where it
// stopped.
//
// Each batch is read in its own store transaction, and the pages of the
// store the batch read are released after it (see store.ReleaseMemory), so
// a first indexing of millions of objects holds one batch at a time.
func (d *Data) IndexPending(ctx context.Context) (int, error) {
	from, err := d.Index.Seq()
	if err != nil {
		return 0, err
	}
	n := 0
	b := d.Index.NewBatch()
	for {
		size := 0
		last := from
		err := d.Store.View(func(tx *store.Tx) error {
			return tx.Since(from, func(rec store.Record) error {
				it, err := d.Norm.Item(tx, rec)
				if err != nil {
					return err
				}
				if err := b.Add(&it); err != nil {
					return err
				}
				last = rec.Seq
				size += len(it.Title) + len(it.Body) + len(it.Comments)
				if b.Len() >= indexBatchItems || size >= indexBatchBytes {
					return errBatchFull
				}
				return nil
			})
		})
		if err != nil && !errors.Is(err, errBatchFull) {
			return n, fmt.Errorf("index: %w", err)
		}
		if b.Len() == 0 {
			return n, nil
		}
		n += b.Len()
		d.Store.ReleaseMemory()
		if err := b.Commit(ctx, last); err != nil {
			return n, fmt.Errorf("index: %w", err)
		}
		slog.Debug("indexed", "items", n)
		from = last
	}
}

var errBatchFull = errors.New("batch full")

// Reindex throws the index away and rebuilds it from the store.
func (d *Data) Reindex(ctx context.Context) (int, error) {
	path := filepath.Join(d.Dir, index.DirName)
	if err := d.Index.Close(); err != nil {
		return 0, err
	}
	if err := index.Remove(path); err != nil {
		return 0, err
	}
	ix, err := index.Open(path, false)
	if err != nil {
		return 0, err
	}
	d.Index = ix
	return d.IndexPending(ctx)
}

// Item returns the normalized item with the given ID.
func (d *Data) Item(id string) (index.Item, []byte, error) {
	var it index.Item
	var raw []byte
	err := d.Store.View(func(tx *store.Tx) error {
		rec, ok, err := tx.Item(id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no item %s: %w", id, ErrNotFound)
		}
		raw = append([]byte(nil), rec.Raw...)
		it, err = d.Norm.Item(tx, rec)
		return err
	})
	return it, raw, err
}

// ErrNotFound reports an item ID that the store does not hold.
var ErrNotFound = errors.New("not in the store")
