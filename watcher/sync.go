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
	// Err is why the source failed. It is nil for an interrupted source:
	// being stopped is not a failure of the source.
	Err error `json:"-"`
	// Interrupted is set when the sync was cancelled (Ctrl-C, SIGTERM)
	// while this source ran; what it stored is kept, and its next sync
	// continues from its cursor.
	Interrupted bool `json:"interrupted,omitempty"`
	// NotRun is set for a source that was never started because the sync
	// was cancelled first.
	NotRun bool `json:"not_run,omitempty"`
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
	FailingSince time.Time `json:"failing_since,omitzero"`
	// Interrupted is set when the last attempt was stopped (Ctrl-C)
	// before it finished; LastError and FailingSince are then those of
	// the sync before.
	Interrupted bool         `json:"interrupted,omitempty"`
	Last        source.Stats `json:"last"`
}

// bucketSyncStatus holds a SourceStatus (JSON) per source name.
const bucketSyncStatus = "syncstatus"

// SyncAll syncs every source in turn, then indexes what they stored. A
// failing source does not stop the others: its error is in its result, and
// the returned error joins them all. When ctx is cancelled, the source
// running is marked Interrupted (not failed: its recorded status keeps its
// last outcome) and the ones after it NotRun; the returned error then
// includes ctx.Err().
func (d *Data) SyncAll(ctx context.Context, sources []source.Source, opts source.Options) ([]SourceResult, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	var results []SourceResult
	var errs []error
	for _, src := range sources {
		if ctx.Err() != nil {
			results = append(results, SourceResult{Stats: source.Stats{Source: src.Name(), RateRemaining: -1}, NotRun: true})
			continue
		}
		start := now()
		stats, err := src.Sync(ctx, d.Store, opts)
		stats.Source = src.Name()
		if stats.Duration == 0 {
			stats.Duration = now().Sub(start)
		}
		if ctx.Err() != nil {
			// Stopped, whatever error the stop surfaced as (a cancelled
			// request, a closed connection): not a failure of the source.
			slog.Info("sync interrupted", "source", src.Name(), "new", stats.New, "updated", stats.Updated, "err", err)
			results = append(results, SourceResult{Stats: stats, Interrupted: true})
			if serr := d.recordSync(start, stats, nil, true); serr != nil {
				errs = append(errs, serr)
			}
			continue
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", src.Name(), err)
			errs = append(errs, err)
			slog.Warn("sync failed", "source", src.Name(), "err", err)
		} else {
			slog.Info("synced", "source", src.Name(), "new", stats.New, "updated", stats.Updated, "requests", stats.Requests, "not_modified", stats.NotModified)
		}
		results = append(results, SourceResult{Stats: stats, Err: err})
		if serr := d.recordSync(start, stats, err, false); serr != nil {
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

// recordSync records an attempt to sync a source. An interrupted attempt
// changes only the time of the last attempt and its figures: whether the
// source is failing, and since when, stays as the last finished sync left it.
func (d *Data) recordSync(at time.Time, stats source.Stats, syncErr error, interrupted bool) error {
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
		st.Interrupted = interrupted
		switch {
		case interrupted:
		case syncErr != nil:
			st.LastError = syncErr.Error()
			if st.FailingSince.IsZero() {
				st.FailingSince = at
			}
		default:
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
