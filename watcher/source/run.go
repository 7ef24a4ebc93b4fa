package source

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Begin starts a sync of the source named name: it returns opts with
// their defaults filled in (Now is time.Now, MaxWait DefaultMaxWait) and
// the Stats the sync counts into, naming the source, with the rate limit
// unknown until a response says it.
func Begin(name string, opts Options) (Options, Stats) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxWait == 0 {
		opts.MaxWait = DefaultMaxWait
	}
	return opts, Stats{Source: name, RateRemaining: -1}
}

// Finish completes the Stats of a sync that began at start and ended with
// err: a sync that completed knows how many requests it needed (Estimate),
// and every sync how long it took.
func Finish(stats *Stats, opts Options, start time.Time, err error) {
	if err == nil {
		stats.Estimate = stats.Requests
	}
	stats.Duration = opts.Now().Sub(start)
}

// ReadCursor decodes the JSON cursor the store holds under name into c,
// and reports whether there is one: a source without a cursor makes its
// first sync. Cursor names start with the source's kind ("gerrit:…"),
// which errors name.
func ReadCursor(tx *store.Tx, name string, c any) (bool, error) {
	v := tx.Cursor(name)
	if v == nil {
		return false, nil
	}
	if err := json.Unmarshal(v, c); err != nil {
		kind, _, _ := strings.Cut(name, ":")
		return false, fmt.Errorf("%s: cursor %s: %w", kind, name, err)
	}
	return true, nil
}

// LoadCursor is ReadCursor in a read transaction of st.
func LoadCursor(st *store.Store, name string, c any) (ok bool, err error) {
	err = st.View(func(tx *store.Tx) error {
		ok, err = ReadCursor(tx, name, c)
		return err
	})
	return ok, err
}
