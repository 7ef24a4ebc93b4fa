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

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
	"github.com/reciprocal-access/reciprocal/watcher/topic"
)

// A Normalizer turns stored records into items, with the normalizer of
// each record's source.
type Normalizer struct {
	// Sources are the kinds of source the store may hold; nil means
	// Sources, every kind reciprocal knows.
	Sources source.Registry
	// Hosts maps the host label of item IDs ("go-review") to the base
	// URL of its server, for sources whose IDs name their server (see
	// source.Env). Labels not listed get the source's default.
	Hosts map[string]string
}

func (n *Normalizer) sources() source.Registry {
	if n.Sources == nil {
		return Sources
	}
	return n.Sources
}

func (n *Normalizer) env() source.Env { return source.Env{Hosts: n.Hosts} }

// Item normalizes the stored record rec, reading its comments from tx.
func (n *Normalizer) Item(tx *store.Tx, rec store.Record) (index.Item, error) {
	it, err := n.item(tx, rec)
	if err != nil {
		return index.Item{}, fmt.Errorf("item %s: %w", rec.ID, err)
	}
	if it.ID != rec.ID {
		return index.Item{}, fmt.Errorf("item %s: stored JSON describes %s", rec.ID, it.ID)
	}
	return it, nil
}

func (n *Normalizer) item(tx *store.Tx, rec store.Record) (index.Item, error) {
	d := n.sources().Lookup(rec.Source)
	if d == nil {
		return index.Item{}, fmt.Errorf("unknown source %q", rec.Source)
	}
	r := source.Record{ID: rec.ID, Raw: rec.Raw}
	if d.Comments {
		err := tx.Comments(rec.ID, func(_ int64, raw []byte) error {
			r.Comments = append(r.Comments, raw)
			return nil
		})
		if err != nil {
			return index.Item{}, err
		}
	}
	return d.Normalize(r, n.env())
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

// indexBatchSize is how many items go into one index batch.
const indexBatchSize = 1000

// IndexPending indexes every item written to the store since the index's
// last position, in batches, and returns how many it indexed. The index's
// position moves with each batch, so an interrupted run resumes where it
// stopped.
func (d *Data) IndexPending(ctx context.Context) (int, error) {
	from, err := d.Index.Seq()
	if err != nil {
		return 0, err
	}
	n := 0
	b := d.Index.NewBatch()
	var last uint64
	err = d.Store.View(func(tx *store.Tx) error {
		err := tx.Since(from, func(rec store.Record) error {
			it, err := d.Norm.Item(tx, rec)
			if err != nil {
				return err
			}
			if err := b.Add(&it); err != nil {
				return err
			}
			last = rec.Seq
			n++
			if b.Len() >= indexBatchSize {
				if err := b.Commit(ctx, last); err != nil {
					return err
				}
				slog.Debug("indexed", "items", n)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if b.Len() > 0 {
			return b.Commit(ctx, last)
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("index: %w", err)
	}
	return n, nil
}

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

// A Related item is another item of an item's topic (package
// watcher/topic).
type Related struct {
	ID    string `json:"id"`
	Kind  string `json:"kind,omitempty"`
	Title string `json:"title,omitempty"`
	State string `json:"state,omitempty"`
	// Via is the link kind when one of the two names the other ("fixes",
	// "backport"), or empty when they meet through other items or a
	// shared Change-Id or reference.
	Via string `json:"via,omitempty"`
	// Stored is false for an item that a link names but that has not
	// been synced.
	Stored bool `json:"stored"`
}

// Related returns the topic of the item with the given ID and the other
// items of that topic, sorted by ID. Topics are as the matcher last linked
// them.
func (d *Data) Related(id string) (string, []Related, error) {
	var tid string
	var out []Related
	err := d.Store.View(func(tx *store.Tx) error {
		var err error
		if tid, err = topic.Of(tx, id); err != nil {
			return err
		}
		members, err := topic.Members(tx, tid)
		if err != nil {
			return err
		}
		edges, err := topic.Edges(tx, id)
		if err != nil {
			return err
		}
		via := map[string]string{}
		for _, e := range edges {
			via[e.To] = e.Kind
		}
		for _, m := range members {
			if m == id {
				continue
			}
			r := Related{ID: m, Via: via[m]}
			if r.Via == "" {
				back, err := topic.Edges(tx, m)
				if err != nil {
					return err
				}
				for _, e := range back {
					if e.To == id {
						r.Via = e.Kind + " (from " + m + ")"
					}
				}
			}
			rec, ok, err := tx.Item(m)
			if err != nil {
				return err
			}
			if ok {
				it, err := d.Norm.Item(tx, rec)
				if err != nil {
					return err
				}
				r.Kind, r.Title, r.State, r.Stored = it.Kind, it.Title, it.State, true
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("related items of %s: %w", id, err)
	}
	return tid, out, nil
}
