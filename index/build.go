package index

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	bleveindex "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	zapv17 "github.com/blevesearch/zapx/v17"

	"github.com/reciprocal-access/reciprocal/index/pageout"
	"github.com/reciprocal-access/reciprocal/internal/gcpace"
)

// A Builder writes a new index from empty, for a reindex or a first import
// of much history, in about half the time that batches applied to an open
// index take (see README.md, "Years of history").
//
// An open index does much more for the same items than the index needs: it
// checks each batch's IDs against every segment it has (for documents they
// replace), introduces and persists each batch as a snapshot, and merges
// its segments in the background, tier by tier, again and again as the
// index grows: at a million objects every item was rewritten four times.
// A Builder does what Bleve's offline builder (scorch.Builder) does, on
// both cores: builderWorkers goroutines each turn a batch into a segment
// file (analysis, then zap's segment writer), and Finish merges the files,
// up to builderMergeMax at a time and two merges at once, down to one.
//
// Scorch's builder itself cannot be used as it is: it builds one batch at a
// time in the caller's goroutine, its batches are bounded by count only (a
// first sync's issues hold five times the text of the same number of
// changes), and it merges ten segments at a time, one merge after the
// other. What the Builder takes from it is the index around the segment:
// Finish has scorch's builder write an index of one placeholder document
// (its metadata, the mapping, a root naming one segment file) and puts the
// merged segment in place of that file. The root names the file and
// records nothing about its contents: no document count, no checksum. The
// segments are zap version 17 (segmentPlugin), the format scorch writes by
// default, and the placeholder index is forced to that version too.
type Builder struct {
	path    string
	mapping mapping.IndexMapping
	work    chan []*Item
	wg      sync.WaitGroup
	stop    func() // ends the page release
	relaxed func() // restores the garbage collector's pace

	batch []*Item // the batch being collected

	mu   sync.Mutex
	segs []string // segment files written
	next int      // the number of the next segment file
	err  error    // the first error of a worker
}

// Builder batches are bounded by the caller (Flush); builderWorkers build
// their segments at once, and Finish merges up to builderMergeMax segments
// at a time, two merges at once.
const (
	builderWorkers = 2
	builderMerges  = 2
)

var builderMergeMax = 50

// segmentPlugin writes and merges the segments: zap version 17, the
// format scorch writes by default.
var segmentPlugin = &zapv17.ZapPlugin{}

// Build starts a new index at path, which must not exist. Nothing at path
// is an index until Finish has written it whole; Abort removes it.
func Build(path string) (_ *Builder, err error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("index: build %s: it exists", path)
	}
	if err := os.MkdirAll(filepath.Join(path, buildDir), 0o700); err != nil {
		return nil, fmt.Errorf("index: build: %w", err)
	}
	x := &Builder{
		path:    path,
		mapping: newMapping(),
		// One batch waits for a worker while the caller reads the next.
		work: make(chan []*Item, 1),
		// Merging reads the segments through memory maps, as an open
		// index's merges do (see pageoutLimit).
		stop: pageout.Every(path, pageoutInterval, pageoutLimit),
		// Building allocates much short-lived memory (see gcpace).
		relaxed: gcpace.Relax(),
	}
	work := x.work
	for range builderWorkers {
		x.wg.Go(func() { x.worker(work) })
	}
	return x, nil
}

// buildDir is the directory inside the index's where the Builder writes
// its segments until Finish.
const buildDir = "build"

// Add adds the item to the batch being collected. No item may be added
// twice.
func (x *Builder) Add(it *Item) error {
	if err := x.failed(); err != nil {
		return err
	}
	if it.ID == "" {
		return errors.New("index: item without ID")
	}
	x.batch = append(x.batch, it)
	return nil
}

// Flush ends the batch being collected: a worker makes it into a segment,
// as soon as one is free.
func (x *Builder) Flush() error {
	if err := x.failed(); err != nil {
		return err
	}
	if len(x.batch) > 0 {
		x.work <- x.batch
		x.batch = nil
	}
	return nil
}

func (x *Builder) worker(work <-chan []*Item) {
	for items := range work {
		if x.failed() != nil {
			continue // drain
		}
		if err := x.segment(items); err != nil {
			x.fail(err)
		}
	}
}

// segment writes items as a new segment file.
func (x *Builder) segment(items []*Item) (err error) {
	defer guard(x.path, &err)
	docs := make([]bleveindex.Document, len(items))
	for i, it := range items {
		d := document.NewDocument(it.ID)
		if err := x.mapping.MapDocument(d, newDoc(it)); err != nil {
			return fmt.Errorf("index: %s: %w", it.ID, err)
		}
		d.AddIDField()
		analyze(d)
		docs[i] = d
	}
	seg, _, err := segmentPlugin.New(docs)
	if err != nil {
		return fmt.Errorf("index: building a segment: %w", err)
	}
	defer seg.Close()
	us, ok := seg.(segment.UnpersistedSegment)
	if !ok {
		return fmt.Errorf("index: a new segment cannot be written (%T)", seg)
	}
	path := x.segPath()
	if err := us.Persist(path); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	x.mu.Lock()
	x.segs = append(x.segs, path)
	x.mu.Unlock()
	return nil
}

// analyze analyzes the indexed fields of d, as scorch does before it builds
// a segment (scorch.analyze; the index has no geo fields).
func analyze(d *document.Document) {
	d.VisitFields(func(f bleveindex.Field) {
		if !f.Options().IsIndexed() {
			return
		}
		f.Analyze()
		if d.HasComposite() && f.Name() != "_id" {
			d.VisitComposite(func(cf bleveindex.CompositeField) {
				cf.Compose(f.Name(), f.AnalyzedLength(), f.AnalyzedTokenFrequencies())
			})
		}
	})
}

// segPath returns the path of a new segment file.
func (x *Builder) segPath() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.next++
	return filepath.Join(x.path, buildDir, fmt.Sprintf("%08d.zap", x.next))
}

func (x *Builder) fail(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.err == nil {
		x.err = err
	}
}

func (x *Builder) failed() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err
}

// wait ends the workers and returns their first error.
func (x *Builder) wait() error {
	if x.work != nil {
		close(x.work)
		x.work = nil
		x.wg.Wait()
	}
	return x.failed()
}

// Finish writes the index, merging what was added, and records seq as the
// store position it reflects. ctx is checked before the merges and between
// them; the index is removed on any error.
func (x *Builder) Finish(ctx context.Context, seq uint64) (err error) {
	defer x.relaxed()
	defer x.stop()
	defer func() {
		if err != nil {
			os.RemoveAll(x.path)
		}
	}()
	if err := ctx.Err(); err != nil {
		x.wait()
		return err
	}
	if err := x.Flush(); err != nil {
		x.wait()
		return err
	}
	if err := x.wait(); err != nil {
		return err
	}
	// The workers' heap is garbage now: give it back before the merges
	// map the segments, rather than count both at once.
	debug.FreeOSMemory()
	if err := x.assemble(ctx); err != nil {
		return err
	}
	return x.record(seq)
}

// assemble merges the segments into one and writes the index around it.
func (x *Builder) assemble(ctx context.Context) (err error) {
	defer guard(x.path, &err)
	// The files are numbered in the order their batches were flushed,
	// which the merges keep; nothing depends on it but the order of
	// equal hits, which is by ID.
	slices.Sort(x.segs)
	for len(x.segs) > 1 {
		if err := ctx.Err(); err != nil {
			return err
		}
		start, n := time.Now(), len(x.segs)
		if err := x.mergeLevel(); err != nil {
			return err
		}
		slog.Debug("merged index segments", "from", n, "to", len(x.segs), "took", time.Since(start).Round(time.Millisecond))
	}
	if len(x.segs) == 0 {
		// Nothing was added: an empty index, as Create makes it.
		if err := os.RemoveAll(x.path); err != nil {
			return err
		}
		_, err := Create(x.path)
		return err
	}
	return x.shell(x.segs[0])
}

// mergeLevel merges the segments in groups of up to builderMergeMax, of
// even sizes, builderMerges at once.
func (x *Builder) mergeLevel() error {
	groups := (len(x.segs) + builderMergeMax - 1) / builderMergeMax
	out := make([]string, groups)
	errs := make([]error, groups)
	sem := make(chan struct{}, builderMerges)
	var wg sync.WaitGroup
	for g := range groups {
		lo, hi := g*len(x.segs)/groups, (g+1)*len(x.segs)/groups
		in := x.segs[lo:hi]
		if len(in) == 1 {
			out[g] = in[0]
			continue
		}
		out[g] = x.segPath()
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[g] = x.merge(in, out[g])
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	x.segs = out
	return nil
}

// merge merges the segment files in into a new one at out, and removes
// them.
func (x *Builder) merge(in []string, out string) (err error) {
	defer guard(x.path, &err)
	segs := make([]segment.Segment, 0, len(in))
	defer func() {
		for _, s := range segs {
			s.Close()
		}
	}()
	for _, p := range in {
		s, err := segmentPlugin.Open(p)
		if err != nil {
			return fmt.Errorf("index: %w", err)
		}
		segs = append(segs, s)
	}
	if _, _, err := segmentPlugin.Merge(segs, make([]*roaring.Bitmap, len(segs)), out, nil, nil); err != nil {
		return fmt.Errorf("index: merging segments: %w", err)
	}
	for _, p := range in {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	return nil
}

// shell writes the index around seg, its one segment file: scorch's
// builder writes an index of a placeholder document, whose segment file
// seg then replaces (see Builder).
func (x *Builder) shell(seg string) (err error) {
	dir := filepath.Join(x.path, buildDir+".shell")
	b, err := bleve.NewBuilder(dir, x.mapping, map[string]interface{}{
		"buildPathPrefix":     x.path,
		"forceSegmentType":    segmentPlugin.Type(),
		"forceSegmentVersion": int(segmentPlugin.Version()),
	})
	if err != nil {
		return fmt.Errorf("index: build %s: %w", x.path, err)
	}
	if err := b.Index("placeholder", map[string]interface{}{}); err != nil {
		b.Close()
		return fmt.Errorf("index: build %s: %w", x.path, err)
	}
	if err := b.Close(); err != nil {
		return fmt.Errorf("index: build %s: %w", x.path, err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "store", "*.zap"))
	if err != nil || len(files) != 1 {
		return fmt.Errorf("index: build %s: Bleve's builder wrote %d segments, not one", x.path, len(files))
	}
	if err := os.Rename(seg, files[0]); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	for _, name := range []string{"index_meta.json", "store"} {
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(x.path, name)); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	return errors.Join(os.Remove(dir), os.Remove(filepath.Join(x.path, buildDir)))
}

// record opens the written index and records the analysis version and seq
// in it.
func (x *Builder) record(seq uint64) (err error) {
	defer guard(x.path, &err)
	b, err := bleve.Open(x.path)
	if err != nil {
		return damaged(x.path, err)
	}
	err = errors.Join(
		b.SetInternal(analysisKey, []byte(strconv.Itoa(AnalysisVersion))),
		b.SetInternal(seqKey, binary.BigEndian.AppendUint64(nil, seq)),
	)
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("index: build %s: %w", x.path, err)
	}
	return nil
}

// Abort stops the build and removes what it wrote.
func (x *Builder) Abort() {
	x.wait()
	x.stop()
	x.relaxed()
	os.RemoveAll(x.path)
}
