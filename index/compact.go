package index

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
)

// Compact merges the index's segments into as few as the merge policy
// allows (one, up to Bleve's largest segment), which drops the documents
// that later versions replaced; the files of the segments merged away are
// removed as the index lets go of them, at the latest when it is closed.
// Scorch reclaims this space by itself only as its background merges reach
// the old segments; after a sync that updated many items, or a long series
// of small batches, Compact does it at once.
func (x *Index) Compact(ctx context.Context) error {
	return x.withScorch("compact", func(s *scorch.Scorch) error { return x.compact(ctx, s) })
}

func (x *Index) compact(ctx context.Context, s *scorch.Scorch) error {
	// A force merge takes the segments persisted when it starts; batches
	// still being persisted join the next one.
	for attempt := 0; ; attempt++ {
		opts := mergeplan.SingleSegmentMergePlanOptions
		if err := s.ForceMerge(ctx, &opts); err != nil {
			return fmt.Errorf("index: compact: %w", err)
		}
		if st := s.StatsMap(); st["num_root_memorysegments"] == uint64(0) && st["num_root_filesegments"] == uint64(1) || attempt == 50 {
			break
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	// The persister removes the merged-away files once the new snapshot
	// is the only one: wait for it (briefly), so that the space is free
	// when Compact returns.
	for range 100 {
		if files, _ := filepath.Glob(filepath.Join(x.path, "store", "*.zap")); len(files) <= 1 {
			break
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return waitMergePersisted(ctx, s)
}

// Settle does now the merges the index's own merge policy would do, if
// indexing left more than settleAbove segments: a first import or a reindex
// on a busy machine can outrun the background merges (229 segments after
// an import of 300k items at a load of 12-21), and a search then reads
// every one of them, until the next writer merges them (92 ms instead of
// 24 ms for a whole-process search). Unlike Compact it stops where the
// policy does, with segments of graded sizes, which later merges keep
// cheap.
func (x *Index) Settle(ctx context.Context) error {
	return x.withScorch("settle", func(s *scorch.Scorch) error { return settle(ctx, s) })
}

func settle(ctx context.Context, s *scorch.Scorch) error {
	segments := func() uint64 {
		st := s.StatsMap()
		n, _ := st["num_root_filesegments"].(uint64)
		m, _ := st["num_root_memorysegments"].(uint64)
		return n + m
	}
	n := segments()
	for n > settleAbove {
		opts := mergeplan.DefaultMergePlanOptions
		if err := s.ForceMerge(ctx, &opts); err != nil {
			return fmt.Errorf("index: settle: %w", err)
		}
		after := segments()
		if after >= n {
			break // the policy has nothing more to merge
		}
		n = after
	}
	return waitMergePersisted(ctx, s)
}

// settleAbove is the number of segments over which Settle merges. Scorch's
// default policy keeps up to ten segments in each tier of sizes growing
// tenfold from 2,000 documents: about 20 to 40 at a million.
var settleAbove uint64 = 40

// withScorch runs f, for the operation what, with the index's scorch,
// opening the index if need be.
func (x *Index) withScorch(what string, f func(*scorch.Scorch) error) (err error) {
	defer guard(x.path, &err)
	ix, err := x.acquire()
	if err != nil {
		return err
	}
	defer x.release()
	s, err := scorchOf(ix)
	if err != nil {
		return fmt.Errorf("index: %s: %w", what, err)
	}
	return f(s)
}

func scorchOf(ix bleve.Index) (*scorch.Scorch, error) {
	adv, err := ix.Advanced()
	if err != nil {
		return nil, err
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil, errors.New("not a scorch index")
	}
	return s, nil
}

// waitMergePersisted waits (up to 30 s) for the snapshot a force merge
// introduced to be on disk: it is persisted in the background, and a
// writer closes the index as soon as it is done with it.
func waitMergePersisted(ctx context.Context, s *scorch.Scorch) error {
	for range 3000 {
		st := s.StatsMap()
		if st["LastPersistedEpoch"] == st["CurRootEpoch"] {
			break
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
