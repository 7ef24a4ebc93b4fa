// Package source is the contract between reciprocal and its sources: what
// a Source is (it brings one tracker's changes into the store), the options
// of one sync and what it reports, and the Descriptor by which a source
// package tells the rest of reciprocal how to configure, normalize, import
// and export it, how its item IDs read and what its items link to.
//
// It stands between package watcher and the source packages as
// database/sql/driver stands between database/sql and the drivers: the
// source packages (watcher/github, watcher/gerrit, watcher/vulndb,
// watcher/advisories) import
// this package and implement it; package watcher imports them only to list
// their descriptors in watcher.Sources, and otherwise works through the
// descriptors. Nothing here imports a source package.
package source

import (
	"context"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// A Source brings one tracker's changes into the store: a GitHub
// repository, the projects of a Gerrit server, the vulnerability database.
//
// Sync asks the tracker only for what changed since the cursor it keeps in
// the store, and commits each page of items in the same transaction as the
// cursor that covers it, so that an interrupted sync resumes where the last
// committed page ended. It does not touch the index.
type Source interface {
	// Name identifies the source in messages and status: "github golang/go",
	// "gerrit go-review", "vulndb".
	Name() string
	Sync(ctx context.Context, st *store.Store, opts Options) (Stats, error)
}

// DefaultMaxWait is how long a sync waits for a rate limit to reset when
// Options.MaxWait is zero.
const DefaultMaxWait = 15 * time.Minute

// Options control one sync.
type Options struct {
	// Since overrides how far back a source reaches on its first sync
	// (when it has no cursor yet). Zero means the source's configuration,
	// or its default.
	Since time.Time
	// MaxWait is the longest a source waits for a rate limit to reset
	// before stopping cleanly with its cursor saved.
	MaxWait time.Duration
	// Progress, if set, is called after each page with the source's
	// running totals.
	Progress func(Stats)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Stats describes what a sync did.
type Stats struct {
	Source      string        `json:"source"`
	New         int           `json:"new"`
	Updated     int           `json:"updated"`
	Unchanged   int           `json:"unchanged"`
	Pages       int           `json:"pages"`
	Requests    int           `json:"requests"`     // HTTP requests made, 304s included
	NotModified int           `json:"not_modified"` // requests answered 304 Not Modified
	Duration    time.Duration `json:"duration"`
	// RateRemaining and RateReset are the API rate limit after the last
	// request, when the source has one (-1 if unknown).
	RateRemaining int       `json:"rate_remaining"`
	RateReset     time.Time `json:"rate_reset,omitzero"`
	// Estimate, if known, is how many requests the whole sync needs.
	Estimate int `json:"estimate,omitempty"`
	// RetryAfter is set when the source stopped early because a rate
	// limit resets later than MaxWait allows.
	RetryAfter time.Time `json:"retry_after,omitzero"`
	// Comments counts the comments a source stores beside its items
	// (GitHub issue comments). New, Updated and Unchanged above count
	// items only.
	Comments Counts `json:"comments,omitzero"`
}

// Counts counts what a sync did with one kind of object.
type Counts struct {
	New       int `json:"new"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// AddItems adds the outcomes of writing items (a committed page) to the
// totals.
func (s *Stats) AddItems(c Counts) {
	s.New += c.New
	s.Updated += c.Updated
	s.Unchanged += c.Unchanged
}

// Merge adds o to c.
func (c *Counts) Merge(o Counts) {
	c.New += o.New
	c.Updated += o.Updated
	c.Unchanged += o.Unchanged
}

// Add counts one write that had the given outcome.
func (c *Counts) Add(ch store.Change) {
	switch ch {
	case store.New:
		c.New++
	case store.Updated:
		c.Updated++
	default:
		c.Unchanged++
	}
}

// Backfill returns how far back a first sync (one without a cursor)
// reaches, and what chose it: opts.Since (BackfillOption), else the since
// of the source's configuration (BackfillConfig), else a year before now
// (BackfillDefault). Times are UTC, truncated to the second.
func Backfill(opts Options, configured time.Time) (time.Time, string) {
	switch {
	case !opts.Since.IsZero():
		return opts.Since.UTC().Truncate(time.Second), BackfillOption
	case !configured.IsZero():
		return configured.UTC().Truncate(time.Second), BackfillConfig
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	return now().UTC().AddDate(-1, 0, 0).Truncate(time.Second), BackfillDefault
}

// What chose how far back a source's first sync reaches, as Backfill
// reports it.
const (
	BackfillOption  = "option"  // Options.Since
	BackfillConfig  = "config"  // the since of the source's configuration
	BackfillDefault = "default" // a year before now
)
