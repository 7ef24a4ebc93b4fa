package index

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

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
func (x *Index) Compact(ctx context.Context) (err error) {
	defer guard(x.path, &err)
	ix, err := x.acquire()
	if err != nil {
		return err
	}
	defer x.release()
	adv, err := ix.Advanced()
	if err != nil {
		return fmt.Errorf("index: compact: %w", err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return errors.New("index: compact: not a scorch index")
	}
	// A force merge takes the segments persisted when it starts; batches
	// still being persisted join the next one.
	for attempt := 0; ; attempt++ {
		opts := mergeplan.SingleSegmentMergePlanOptions
		if err := s.ForceMerge(ctx, &opts); err != nil {
			return fmt.Errorf("index: compact: %w", err)
		}
		st := s.StatsMap()
		if st["num_root_memorysegments"] == uint64(0) && st["num_root_filesegments"] == uint64(1) || attempt == 50 {
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
	// The merged snapshot is persisted in the background; the index may
	// be closed as soon as Compact returns (a writer's is), so wait for it.
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
