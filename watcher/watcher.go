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
	"math"
	"path/filepath"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/internal/fetch"
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

// Links derives the links of a stored record for package topic, by its
// source's descriptor (a topic.Linker).
func (n *Normalizer) Links(rec store.Record) ([]topic.Link, error) { return n.sources().Links(rec) }

// Item normalizes the stored record rec, reading its comments from tx.
// A record its source cannot normalize is reported as a *NormalizeError.
func (n *Normalizer) Item(tx *store.Tx, rec store.Record) (index.Item, error) {
	it, err := n.item(tx, rec)
	if err != nil {
		if errors.Is(err, store.ErrDamaged) {
			return index.Item{}, err
		}
		return index.Item{}, &NormalizeError{ID: rec.ID, Err: err}
	}
	if it.ID != rec.ID {
		return index.Item{}, &NormalizeError{ID: rec.ID, Err: fmt.Errorf("stored JSON describes %s", it.ID)}
	}
	it.Bound() // what is indexed, matched and shown is bounded; the raw JSON stays whole
	it.Routine = index.Routine(&it)
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

// A NormalizeError reports a stored record that cannot be normalized: its
// raw JSON is not what its source's normalizer understands. Indexing
// quarantines such a record (see Quarantined) and goes on.
type NormalizeError struct {
	ID  string
	Err error
}

func (e *NormalizeError) Error() string { return "item " + e.ID + ": " + e.Err.Error() }
func (e *NormalizeError) Unwrap() error { return e.Err }

// Data is an open data directory: the store and the index derived from it.
type Data struct {
	Dir   string
	Store *store.Store
	Index *index.Index // nil until OpenIndex (OpenData opens both)
	Norm  *Normalizer
}

// OpenData opens the store and the index in dir. A writer (readOnly false)
// holds the directory's lock until Close, but opens the store and index
// files only around each use, so that readers in other processes answer
// meanwhile (see package store). A reader holds both files, read-only,
// until Close. A damaged index is reported as index.ErrDamaged.
func OpenData(dir string, readOnly bool, norm *Normalizer) (*Data, error) {
	d, err := OpenStore(dir, readOnly, norm)
	if err != nil {
		return nil, err
	}
	if err := d.OpenIndex(readOnly); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// OpenStore opens only the store in dir; OpenIndex opens the index later.
// reindex uses it, since it must work whatever state the index is in.
func OpenStore(dir string, readOnly bool, norm *Normalizer) (*Data, error) {
	st, err := store.Open(dir, store.Options{ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	if norm == nil {
		norm = &Normalizer{}
	}
	return &Data{Dir: dir, Store: st, Norm: norm}, nil
}

// IndexPath returns the path of the index directory.
func (d *Data) IndexPath() string { return filepath.Join(d.Dir, index.DirName) }

// OpenIndex opens the index of the data directory.
func (d *Data) OpenIndex(readOnly bool) error {
	release, err := d.Store.Hold() // the store before the index, always
	if err != nil {
		return err
	}
	defer release()
	ix, err := index.Open(d.IndexPath(), readOnly)
	if err != nil {
		return err
	}
	ix.SetOuter(d.Store.Hold)
	d.Index = ix
	return nil
}

// Hold keeps the store and the index open until release is called, for a
// phase of many transactions and searches that does not wait on the
// network or a person (matching). Readers in other processes wait for it.
func (d *Data) Hold() (release func(), err error) {
	if d.Index == nil {
		return d.Store.Hold()
	}
	return d.Index.Hold() // takes the store first
}

// Close closes the index and then the store.
func (d *Data) Close() error {
	var err error
	if d.Index != nil {
		err = d.Index.Close()
	}
	return errors.Join(err, d.Store.Close())
}

// Index batches hold at most indexBatch.items items, or items whose indexed
// text (title, body and comments) adds up to indexBatch.text bytes,
// whichever comes first. Bleve analyzes every document of a batch before
// it builds the batch's segment, and holds the analysis (each token's
// positions in its field, for phrases and highlighting) until then: at its
// peak a batch takes about 40 bytes of Go heap per byte of text. The bound
// is on text alone, since the raw JSON is not analyzed and not kept in the
// batch.
// Most batches are bounded by count: 1,000 items of Go's mix hold about
// 1.4 MB of text, 1,000 Gerrit changes about 0.4 MB. A first sync stores
// the issues one after the other, each with about ten comments: 1,000 of
// them hold 4 to 5 MB, and bounded at 8 MB of JSON and text such batches
// took 200 to 280 MB of live heap, past the 256 MiB soft limit (see
// cmd/reciprocal). At 2 MB they take about 100 MB.
//
// An index.Builder's batches are smaller: it builds two at once, and each
// becomes a segment of its own that is merged twice more whatever its
// size, so that small batches cost no more time than large ones and take
// much less memory (the import of 100,000 items took the same time with
// batches of 250 items as with 1,000, and 145 MB instead of 280).
var (
	indexBatch = batchBound{items: 1000, text: 2 << 20}
	buildBatch = batchBound{items: 250, text: 512 << 10}
)

// A batchBound bounds an index batch by its number of items and the bytes
// of their indexed text.
type batchBound struct{ items, text int }

// IndexPending indexes every item written to the store since the index's
// last position, in batches, and returns how many it indexed. The index's
// position moves with each batch, so an interrupted run resumes where it
// stopped. A record that cannot be normalized is quarantined (see
// Quarantined) and the rest go on.
//
// An empty index with at least buildAbove items waiting (a first import or
// sync of much history) is built whole instead, as Reindex builds it: in
// less than half the time, but an interrupted build starts over.
func (d *Data) IndexPending(ctx context.Context) (int, error) {
	from, err := d.Index.Seq()
	if err != nil {
		return 0, fmt.Errorf("index: %w", err)
	}
	whole, err := d.buildWhole(from)
	if err != nil {
		return 0, fmt.Errorf("index: %w", err)
	}
	if whole {
		n, err := d.rebuild(ctx)
		if err != nil {
			return n, fmt.Errorf("index: %w", err)
		}
		return n, nil
	}
	n, err := d.indexInto(ctx, d.Index, from)
	if err != nil {
		return n, fmt.Errorf("index: %w", err)
	}
	return n, nil
}

// indexInto brings ix, at store position from, up to date with the store,
// one batch at a time (see indexBatches), and has it catch up with its
// merges after a long run.
func (d *Data) indexInto(ctx context.Context, ix *index.Index, from uint64) (int, error) {
	n, _, err := d.indexBatches(ctx, from, ix.NewBatch(), indexBatch, ix.Hold)
	if err != nil {
		return n, err
	}
	return n, settle(ctx, ix, n)
}

// An indexSink takes indexBatches' batches: an open index's (*index.Batch)
// or an index.Builder's (builderBatch).
type indexSink interface {
	Add(*index.Item) error
	// Delete removes an item that an earlier version of the index may hold.
	Delete(id string)
	// Len is the number of Adds and Deletes since the last Commit.
	Len() int
	// Commit ends a batch, whose items are at store positions up to seq.
	Commit(ctx context.Context, seq uint64) error
}

// indexBatches gives sink every item written to the store after from, one
// batch at a time: it reads and normalizes a batch in a read transaction,
// records the records that failed in the quarantine (and clears those that
// now pass) in a short write transaction, and only then commits the batch
// with its position, so that the index never moves past a record that is
// neither indexed nor quarantined. It returns how many items it indexed
// and the store position of the last.
func (d *Data) indexBatches(ctx context.Context, from uint64, b indexSink, bound batchBound, hold func() (func(), error)) (int, uint64, error) {
	// The files stay open across batches (Bleve merges segments in the
	// background only while the index is open), but are let go every
	// indexHold, so that readers in other processes get in during a long
	// first sync or a reindex.
	release, err := hold()
	if err != nil {
		return 0, from, err
	}
	defer func() { release() }()
	held := time.Now()
	n := 0
	for {
		var (
			bad     []Quarantined
			cleared []string
			last    uint64
			bytes   int
			full    bool
		)
		err := d.Store.View(func(tx *store.Tx) error {
			q, err := tx.Bucket(bucketQuarantine)
			if err != nil {
				return err
			}
			return tx.Since(from, func(rec store.Record) error {
				if b.Len() >= bound.items || bytes >= bound.text {
					full = true
					return errBatchFull
				}
				last = rec.Seq
				it, err := d.Norm.Item(tx, rec)
				var ne *NormalizeError
				if err != nil && !errors.As(err, &ne) {
					return err
				}
				if err != nil {
					// Not indexed, and an older version that was is
					// removed: whatever reads the index (search, the
					// matcher, the SLA) never meets a record that
					// cannot be normalized.
					bad = append(bad, Quarantined{ID: rec.ID, Source: rec.Source, Seq: rec.Seq, Err: err.Error()})
					b.Delete(rec.ID)
					return nil
				}
				if q != nil && q.Get([]byte(rec.ID)) != nil {
					cleared = append(cleared, rec.ID)
				}
				bytes += len(it.Title) + len(it.Body) + len(it.Comments)
				return b.Add(&it)
			})
		})
		if err != nil && !errors.Is(err, errBatchFull) {
			return n, from, err
		}
		if last == 0 {
			return n, from, nil
		}
		if err := d.quarantine(bad, cleared); err != nil {
			return n, from, err
		}
		for _, q := range bad {
			slog.Warn("quarantined a stored record that cannot be normalized", "item", q.ID, "err", q.Err)
		}
		n += b.Len() - len(bad) // the quarantined are deletions
		if err := b.Commit(ctx, last); err != nil {
			return n, from, err
		}
		slog.Debug("indexed", "items", n)
		from = last
		if time.Since(held) > indexHold {
			release()
			// A reader waiting for the files retries its lock every
			// 50 ms (bbolt's flock loop): taking them back at once
			// would almost always beat it, and it would give up after
			// a minute. The pause costs 2% of a long indexing run.
			if err := fetch.SleepCtx(ctx, letReadersIn); err != nil {
				return n, from, err
			}
			if release, err = hold(); err != nil {
				return n, from, err
			}
			held = time.Now()
		}
		if !full {
			return n, from, nil
		}
	}
}

// settle has the index catch up with its merges (index.Settle) after a run
// that indexed at least settleAfter items: a first import or sync, a
// reindex. The batches of a daily sync leave it to the background merges.
func settle(ctx context.Context, ix *index.Index, n int) error {
	if n < settleAfter {
		return nil
	}
	return ix.Settle(ctx)
}

const settleAfter = 20000

var errBatchFull = errors.New("batch full")

// indexHold is how long indexing keeps the store and index files open
// before letting readers in (see package store) for letReadersIn.
const (
	indexHold    = 5 * time.Second
	letReadersIn = 100 * time.Millisecond
)

// IndexLag returns how many stored items were written after the index's
// position: the items a search does not see yet.
func (d *Data) IndexLag() (int, error) {
	seq, err := d.Index.Seq()
	if err != nil {
		return 0, err
	}
	n := 0
	err = d.Store.View(func(tx *store.Tx) error {
		n, _ = tx.CountSince(seq, math.MaxInt) // the sequence keys only
		return nil
	})
	return n, err
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
				// m names this item, or both name the same meeting point
				// (a Change-Id, a CL number).
				back, err := topic.Edges(tx, m)
				if err != nil {
					return err
				}
				for _, e := range back {
					switch {
					case e.To == id:
						r.Via = e.Kind + " (from " + m + ")"
					case r.Via == "" && !topic.IsItem(e.To) && via[e.To] != "":
						r.Via = e.Kind
						if e.Kind != via[e.To] {
							r.Via = via[e.To]
						}
					}
				}
			}
			rec, ok, err := tx.Item(m)
			if err != nil {
				return err
			}
			if ok {
				r.Stored = true
				if it, err := d.Norm.Item(tx, rec); err == nil {
					r.Kind, r.Title, r.State = it.Kind, it.Title, it.State
				} else {
					r.Title = "(quarantined: its stored JSON cannot be normalized)"
				}
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
