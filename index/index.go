package index

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bleveindex "github.com/blevesearch/bleve_index_api"
	bbolt "go.etcd.io/bbolt"

	"github.com/reciprocal-access/reciprocal/index/pageout"
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

// An Index is a Bleve index of items. A reader's is open from Open to
// Close. A writer's is opened around each use (a search, a batch's commit;
// Hold keeps it open across a phase) and closed after, because Bleve's
// scorch locks its root.bolt exclusively while it is open for writing:
// between uses, readers in other processes open it read-only. See
// watcher/store's documentation for the whole protocol.
type Index struct {
	path     string
	readOnly bool
	analysis int
	// outer, if set, is taken before the index is opened and released
	// after it is closed: the store's Hold, so that every process takes
	// the store before the index and none waits for the other in turn.
	outer func() (func(), error)

	mu           sync.Mutex
	b            bleve.Index // open while refs > 0
	refs         int
	outerRelease func()
	// unpersisted holds, for each batch applied to the open index that
	// Bleve has not yet written to disk, a channel that receives the
	// outcome of writing it (see apply).
	unpersisted []chan error
	stopPageout func() // ends the release of b's mapped pages
}

// While the index is open, every pageoutInterval the process checks how
// much of its memory is pages of mapped files, and when that is over
// pageoutLimit gives back the pages of the index's segment files that
// scorch's memory maps hold resident (package pageout). Without it, a first
// import or a reindex of a million objects holds most of the index in its
// RSS, and a whole-index match most of what it read. The limit counts the
// executable's pages (about 17 MB) and the store's (see watcher/store) as
// well; a short search stays under it and keeps its pages cached for the
// next. A check reads /proc/self/statm (microseconds) and a pass over a
// million objects' segments costs about 0.3 ms, so checks are frequent:
// a merge reads segments at hundreds of MB a second, and checking every
// 100 ms let the import of a million objects hold 178 MB of segment pages
// at its peak.
const (
	pageoutInterval = 20 * time.Millisecond
	pageoutLimit    = 64 << 20
)

// FileWait is how long opening the index waits for another process's use
// of it to end (a reader for a writer's commit, a writer for readers).
const FileWait = time.Minute

// ErrBusy reports that another process kept the index locked for longer
// than FileWait.
var ErrBusy = errors.New("the index stayed busy in another reciprocal command")

// SetOuter sets a function that every opening of the index first calls,
// releasing what it returns after the index is closed again (see Index).
func (x *Index) SetOuter(outer func() (release func(), err error)) { x.outer = outer }

// acquire opens the index if this process does not have it open, and
// counts one more use of it.
func (x *Index) acquire() (bleve.Index, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.b == nil {
		var rel func()
		if x.outer != nil {
			var err error
			if rel, err = x.outer(); err != nil {
				return nil, err
			}
		}
		b, err := openBleve(x.path, x.readOnly)
		if err != nil {
			if rel != nil {
				rel()
			}
			return nil, err
		}
		x.b, x.outerRelease = b, rel
		x.stopPageout = pageout.Every(x.path, pageoutInterval, pageoutLimit)
	}
	x.refs++
	return x.b, nil
}

// release ends a use of the index, closing it after the last.
func (x *Index) release() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.refs--; x.refs > 0 || x.b == nil {
		return nil
	}
	return x.closeLocked()
}

func (x *Index) closeLocked() (err error) {
	defer guard(x.path, &err)
	defer func() {
		if x.outerRelease != nil {
			x.outerRelease()
			x.outerRelease = nil
		}
	}()
	// Scorch drops what it has not persisted when it closes. Every
	// change goes through apply, which tracks it.
	perr := x.persisted(0)
	b := x.b
	x.b, x.refs = nil, 0
	x.stopPageout()
	return errors.Join(perr, b.Close())
}

// maxUnpersisted is how many applied batches may wait in memory for Bleve
// to write them to disk before Commit waits for the oldest.
const maxUnpersisted = 2

// onPersisted arranges for x to learn when bb, about to be applied, is on
// disk. x.mu must be held.
func (x *Index) onPersisted(bb *bleve.Batch) chan error {
	ch := make(chan error, 1)
	bb.SetPersistedCallback(func(err error) { ch <- err })
	x.unpersisted = append(x.unpersisted, ch)
	return ch
}

// notApplied forgets ch, of a batch that failed to apply. x.mu must be
// held.
func (x *Index) notApplied(ch chan error) {
	x.unpersisted = slices.DeleteFunc(x.unpersisted, func(c chan error) bool { return c == ch })
}

// persisted waits until at most keep applied batches are not yet on disk,
// and returns the first error writing one. x.mu must be held.
func (x *Index) persisted(keep int) error {
	var errs []error
	for len(x.unpersisted) > keep {
		if err := <-x.unpersisted[0]; err != nil {
			errs = append(errs, err)
		}
		x.unpersisted = x.unpersisted[1:]
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("index: writing to disk: %w", err)
	}
	return nil
}

// Hold keeps the index open until release is called, so that a phase of
// many searches or commits (matching, indexing a sync's items) opens it
// once. Other processes wait for it meanwhile.
func (x *Index) Hold() (release func(), err error) {
	defer guard(x.path, &err)
	if _, err := x.acquire(); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { x.release() }) }, nil
}

// openBleve opens the Bleve index at path, reporting damage as ErrDamaged
// and a lock held too long as ErrBusy.
func openBleve(path string, readOnly bool) (bleve.Index, error) {
	var skipped string
	b, err := watchLog(func(line string) {
		if skipped == "" && strings.Contains(line, "unable to load snapshot") {
			skipped = line
		}
	}, func() (bleve.Index, error) {
		return bleve.OpenUsing(path, withTestConfig(map[string]interface{}{
			"read_only":    readOnly,
			"bolt_timeout": FileWait.String(),
			// A batch is applied as soon as it is in memory; scorch
			// writes it to disk in the background, while the next is
			// analyzed. The index is closed only once all are on
			// disk (closeLocked), and a batch carries its store
			// position with it, so a crash loses at most batches that
			// the next run indexes again.
			"unsafe_batch": !readOnly,
		}))
	})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("%w for %v (%s)", ErrBusy, FileWait, path)
	}
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
	return b, nil
}

// testConfig, set only by tests, adds to the scorch configuration.
var testConfig map[string]interface{}

func withTestConfig(c map[string]interface{}) map[string]interface{} {
	maps.Copy(c, testConfig)
	return c
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
	x = &Index{path: path, readOnly: readOnly, analysis: 1}
	b, err := x.acquire()
	if err != nil {
		return nil, err
	}
	v, err := b.GetInternal(analysisKey)
	if err != nil {
		x.release()
		return nil, damaged(path, err)
	}
	if n, err := strconv.Atoi(string(v)); err == nil {
		x.analysis = n
	}
	if !readOnly {
		// A writer opens it again for each use; a reader keeps it
		// until Close.
		if err := x.release(); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// Create creates a new, empty index at path, which must not exist.
func Create(path string) (x *Index, err error) {
	defer guard(path, &err)
	b, err := bleve.NewUsing(path, newMapping(), scorch.Name, scorch.Name, withTestConfig(map[string]interface{}{}))
	if err == nil {
		if err = b.SetInternal(analysisKey, []byte(strconv.Itoa(AnalysisVersion))); err != nil {
			b.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("index: create %s: %w", path, err)
	}
	if err := b.Close(); err != nil {
		return nil, fmt.Errorf("index: create %s: %w", path, err)
	}
	return &Index{path: path, analysis: AnalysisVersion}, nil
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
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.b == nil {
		return nil
	}
	return x.closeLocked()
}

// Seq returns the store sequence number the index reflects: every item
// written at or before it is indexed.
func (x *Index) Seq() (_ uint64, err error) {
	defer guard(x.path, &err)
	b, err := x.acquire()
	if err != nil {
		return 0, err
	}
	defer x.release()
	v, err := b.GetInternal(seqKey)
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
	b, err := x.acquire()
	if err != nil {
		return 0, err
	}
	defer x.release()
	if n, err = b.DocCount(); err != nil {
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
	x   *Index
	b   *bleve.Batch
	n   int
	err error // from NewBatch
}

// NewBatch returns an empty batch. It does not keep the index open: only
// Commit needs it. If the index cannot be opened, Add and Commit say why.
func (x *Index) NewBatch() (b *Batch) {
	b = &Batch{x: x}
	defer guard(x.path, &b.err)
	ix, err := x.acquire()
	if err != nil {
		b.err = err
		return b
	}
	defer x.release()
	// The batch keeps what it needs of ix (its mapping) after ix closes.
	b.b = ix.NewBatch()
	return b
}

// Add adds (or replaces) the item.
func (b *Batch) Add(it *Item) error {
	if b.err != nil {
		return b.err
	}
	if it.ID == "" {
		return errors.New("index: item without ID")
	}
	b.n++
	return b.b.Index(it.ID, newDoc(it))
}

// Delete removes the item with id.
func (b *Batch) Delete(id string) {
	if b.err == nil {
		b.n++
		b.b.Delete(id)
	}
}

// Len returns the number of operations in the batch.
func (b *Batch) Len() int { return b.n }

// Commit applies the batch and records seq as the store position it reflects.
func (b *Batch) Commit(ctx context.Context, seq uint64) (err error) {
	defer guard(b.x.path, &err)
	if b.err != nil {
		return b.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.b.SetInternal(seqKey, binary.BigEndian.AppendUint64(nil, seq))
	ix, err := b.x.acquire()
	if err != nil {
		return err
	}
	defer b.x.release()
	if err := b.x.apply(ix, b.b); err != nil {
		return err
	}
	b.b.Reset()
	b.n = 0
	return nil
}

// apply applies bb to ix, the open index, and waits, if too many applied
// batches are not on disk yet, for the oldest to be written (see
// maxUnpersisted): Bleve writes them in the background.
func (x *Index) apply(ix bleve.Index, bb *bleve.Batch) error {
	x.mu.Lock()
	ch := x.onPersisted(bb)
	x.mu.Unlock()
	err := ix.Batch(bb)
	x.mu.Lock()
	defer x.mu.Unlock()
	if err != nil {
		x.notApplied(ch)
		return fmt.Errorf("index: %w", err)
	}
	return x.persisted(maxUnpersisted)
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
// every item holds. An item counts once whatever fields hold the term, so
// the share is counted from the term's postings, exactly, when they are
// few: up to exactPostings, or under 1 in exactShareBelow items. For a term
// more common than both, it is the share of the field that holds it most
// often, a lower bound (at least a third of the share). It costs a few
// milliseconds at most whatever the index's size.
func (x *Index) TermShare(term string) (_ float64, err error) {
	defer guard(x.path, &err)
	ix, err := x.acquire()
	if err != nil {
		return 0, err
	}
	defer x.release()
	adv, err := ix.Advanced()
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
	readers := make([]bleveindex.TermFieldReader, 0, len(textFields))
	defer func() {
		for _, tfr := range readers {
			tfr.Close()
		}
	}()
	var most, sum uint64
	for _, f := range textFields {
		tfr, err := r.TermFieldReader(context.Background(), []byte(term), f, false, false, false)
		if err != nil {
			return 0, fmt.Errorf("index: %w", err)
		}
		readers = append(readers, tfr)
		most = max(most, tfr.Count())
		sum += tfr.Count()
	}
	if sum > exactPostings && float64(most) >= float64(n)/exactShareBelow {
		return float64(most) / float64(n), nil
	}
	// Count the items, not the fields holding the term.
	seen := make(map[string]struct{})
	var d bleveindex.TermFieldDoc
	for _, tfr := range readers {
		for {
			m, err := tfr.Next(d.Reset())
			if err != nil {
				return 0, fmt.Errorf("index: %w", err)
			}
			if m == nil {
				break
			}
			seen[string(m.ID)] = struct{}{}
		}
	}
	return float64(len(seen)) / float64(n), nil
}

// TermShare counts a term's items exactly when its fields hold it
// exactPostings times or fewer, or when no field holds it in 1 item in
// exactShareBelow.
const (
	exactPostings   = 20_000
	exactShareBelow = 100
)
