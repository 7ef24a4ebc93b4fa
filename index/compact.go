package index

import (
	"context"
	"errors"
	"fmt"
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
	for range 5 {
		opts := mergeplan.SingleSegmentMergePlanOptions
		if err := s.ForceMerge(ctx, &opts); err != nil {
			return fmt.Errorf("index: compact: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		st := s.StatsMap()
		if st["num_root_memorysegments"] == uint64(0) && st["num_root_filesegments"] == uint64(1) {
			break
		}
	}
	// The merged snapshot is persisted in the background; the index may
	// be closed as soon as Compact returns (a writer's is), so wait for it.
	for range 3000 {
		st := s.StatsMap()
		if st["LastPersistedEpoch"] == st["CurRootEpoch"] {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}
