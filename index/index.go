package index

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

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
	path     string
	analysis int
}

// ErrDamaged reports an index that cannot be read: its files are missing,
// truncated or corrupt. The index is derived from the store, so the remedy
// is always to rebuild it.
var ErrDamaged = errors.New("the index is damaged: run reciprocal reindex")

// ErrMissing reports that the index does not exist yet.
var ErrMissing = errors.New("there is no index: run reciprocal reindex")

// damaged wraps err, the reason an index operation failed, as ErrDamaged.
func damaged(path string, err any) error {
	msg, _, _ := strings.Cut(fmt.Sprint(err), "\n") // Bleve appends the whole mapping on lines of its own
	return fmt.Errorf("%w (%s: %s)", ErrDamaged, path, msg)
}

// guard turns a panic inside Bleve (bbolt asserts on corrupt pages of
// root.bolt, zap decoders index out of range on corrupt segments) into an
// ErrDamaged error, so that a damaged index is an error the user can act on
// rather than a stack trace. Every entry into Bleve defers it.
func guard(path string, err *error) {
	if r := recover(); r != nil {
		*err = damaged(path, r)
	}
}

// Open opens the index at path, creating it if it does not exist and
// readOnly is false. An index that exists but cannot be opened is reported
// as ErrDamaged.
func Open(path string, readOnly bool) (x *Index, err error) {
	defer guard(path, &err)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if readOnly {
			return nil, fmt.Errorf("%w (%s does not exist)", ErrMissing, path)
		}
		return Create(path)
	}
	var skipped string
	b, err := watchLog(func(line string) {
		if skipped == "" && strings.Contains(line, "unable to load snapshot") {
			skipped = line
		}
	}, func() (bleve.Index, error) {
		return bleve.OpenUsing(path, map[string]interface{}{"read_only": readOnly})
	})
	if err != nil {
		return nil, damaged(path, err)
	}
	if skipped != "" {
		// Scorch skips a snapshot whose segments are missing or corrupt
		// and opens an older one, saying so only in its log: the index
		// would silently lose what the newer snapshot held.
		b.Close()
		_, reason, _ := strings.Cut(skipped, "unable to load snapshot, ")
		return nil, damaged(path, strings.TrimSuffix(strings.TrimSpace(reason), ", continuing"))
	}
	x = &Index{b: b, path: path, analysis: 1}
	v, err := b.GetInternal(analysisKey)
	if err != nil {
		b.Close()
		return nil, damaged(path, err)
	}
	if n, err := strconv.Atoi(string(v)); err == nil {
		x.analysis = n
	}
	return x, nil
}

// Create creates a new, empty index at path, which must not exist.
func Create(path string) (x *Index, err error) {
	defer guard(path, &err)
	b, err := bleve.NewUsing(path, newMapping(), scorch.Name, scorch.Name, nil)
	if err == nil {
		if err = b.SetInternal(analysisKey, []byte(strconv.Itoa(AnalysisVersion))); err != nil {
			b.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("index: create %s: %w", path, err)
	}
	return &Index{b: b, path: path, analysis: AnalysisVersion}, nil
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

// Replace moves the index built at from into place at path, removing the
// index that was there, whatever its state. The old index is first renamed
// aside, so that path never holds a mix of the two.
func Replace(from, path string) error {
	old := path + ".old"
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if err := os.Rename(path, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("index: %w", err)
	}
	if err := os.Rename(from, path); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return Remove(old)
}

// Close closes the index, flushing what was written.
func (x *Index) Close() (err error) {
	defer guard(x.path, &err)
	return x.b.Close()
}

// Seq returns the store sequence number the index reflects: every item
// written at or before it is indexed.
func (x *Index) Seq() (_ uint64, err error) {
	defer guard(x.path, &err)
	v, err := x.b.GetInternal(seqKey)
	if err != nil {
		return 0, damaged(x.path, err)
	}
	if len(v) != 8 {
		return 0, nil
	}
	return binary.BigEndian.Uint64(v), nil
}

// Count returns the number of indexed items.
func (x *Index) Count() (n uint64, err error) {
	defer guard(x.path, &err)
	if n, err = x.b.DocCount(); err != nil {
		return 0, damaged(x.path, err)
	}
	return n, nil
}

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
func (b *Batch) Commit(ctx context.Context, seq uint64) (err error) {
	defer guard(b.x.path, &err)
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

// watchLog runs open while passing each line of the standard logger (where
// Bleve reports what it skipped) to see, as well as to the logger's output.
func watchLog(see func(string), open func() (bleve.Index, error)) (bleve.Index, error) {
	logMu.Lock() // one watcher at a time: the standard logger is global
	defer logMu.Unlock()
	w := log.Writer()
	log.SetOutput(lineWatcher{w: w, see: see})
	defer log.SetOutput(w)
	return open()
}

var logMu sync.Mutex

type lineWatcher struct {
	w   io.Writer
	see func(string)
}

func (l lineWatcher) Write(p []byte) (int, error) {
	l.see(string(p))
	return l.w.Write(p)
}

// TermShare returns the share of indexed items whose text (title, body or
// comments) holds the analyzed term: 0 for a term no item holds, 1 for one
// every item holds. It reads the term dictionary, so it costs the same
// whatever the index's size.
func (x *Index) TermShare(term string) (float64, error) {
	adv, err := x.b.Advanced()
	if err != nil {
		return 0, fmt.Errorf("index: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return 0, fmt.Errorf("index: %w", err)
	}
	defer r.Close()
	n, err := r.DocCount()
	if err != nil || n == 0 {
		return 0, err
	}
	tfr, err := r.TermFieldReader(context.Background(), []byte(term), allField, false, false, false)
	if err != nil {
		return 0, fmt.Errorf("index: %w", err)
	}
	defer tfr.Close()
	return float64(tfr.Count()) / float64(n), nil
}
