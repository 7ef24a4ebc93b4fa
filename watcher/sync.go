package watcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// A SourceResult is the outcome of syncing one source.
type SourceResult struct {
	source.Stats
	Err error `json:"-"`
}

// SourceStatus is what the store remembers about a source's syncs, for
// 'reciprocal status'.
type SourceStatus struct {
	Source      string    `json:"source"`
	LastAttempt time.Time `json:"last_attempt"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	// FailingSince is when the current run of failures began (zero when
	// the last attempt succeeded).
	FailingSince time.Time    `json:"failing_since,omitzero"`
	Last         source.Stats `json:"last"`
}

// bucketSyncStatus holds a SourceStatus (JSON) per source name.
const bucketSyncStatus = "syncstatus"

// SyncAll syncs every source in turn, then indexes what they stored. A
// failing source does not stop the others: its error is in its result, and
// the returned error joins them all.
func (d *Data) SyncAll(ctx context.Context, sources []source.Source, opts source.Options) ([]SourceResult, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	var results []SourceResult
	var errs []error
	for _, src := range sources {
		if ctx.Err() != nil {
			break
		}
		start := now()
		stats, err := src.Sync(ctx, d.Store, opts)
		stats.Source = src.Name()
		if stats.Duration == 0 {
			stats.Duration = now().Sub(start)
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", src.Name(), err)
			errs = append(errs, err)
			slog.Warn("sync failed", "source", src.Name(), "err", err)
		} else {
			slog.Info("synced", "source", src.Name(), "new", stats.New, "updated", stats.Updated, "requests", stats.Requests, "not_modified", stats.NotModified)
		}
		results = append(results, SourceResult{Stats: stats, Err: err})
		if serr := d.recordSync(start, stats, err); serr != nil {
			errs = append(errs, serr)
		}
	}
	if _, err := d.IndexPending(context.WithoutCancel(ctx)); err != nil {
		errs = append(errs, err)
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return results, errors.Join(errs...)
}

func (d *Data) recordSync(at time.Time, stats source.Stats, syncErr error) error {
	return d.Store.Update(func(tx *store.Tx) error {
		b, err := tx.Bucket(bucketSyncStatus)
		if err != nil {
			return err
		}
		var st SourceStatus
		if v := b.Get([]byte(stats.Source)); v != nil {
			json.Unmarshal(v, &st)
		}
		st.Source = stats.Source
		st.LastAttempt = at
		st.Last = stats
		if syncErr != nil {
			st.LastError = syncErr.Error()
			if st.FailingSince.IsZero() {
				st.FailingSince = at
			}
		} else {
			st.LastSuccess = at
			st.LastError = ""
			st.FailingSince = time.Time{}
		}
		v, err := json.Marshal(st)
		if err != nil {
			return err
		}
		return b.Put([]byte(stats.Source), v)
	})
}

// SyncStatuses returns what the store remembers about every source's syncs.
func (d *Data) SyncStatuses() ([]SourceStatus, error) {
	var out []SourceStatus
	err := d.Store.View(func(tx *store.Tx) error {
		b, err := tx.Bucket(bucketSyncStatus)
		if err != nil || b == nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var st SourceStatus
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("sync status of %s: %w", k, err)
			}
			out = append(out, st)
			return nil
		})
	})
	return out, err
}
