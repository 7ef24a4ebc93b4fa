package sla

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// A Qualifying vulnerability is one that opens a window for at least one
// client.
type Qualifying struct {
	Item    index.Item
	Windows []Window
}

// MaxWindow returns the longest window of any covered client: how far back
// a vulnerability's publication can be and still have a window open.
func (pol *Policy) MaxWindow() time.Duration {
	var max time.Duration
	for _, p := range pol.Profiles {
		if t := pol.Terms(p); t.Covered && t.Window > max {
			max = t.Window
		}
	}
	return max
}

// recentLimit bounds how many vulnerabilities changed within the longest
// window OpenWindows looks at; the Go database publishes a few a week.
const recentLimit = 1000

// OpenWindows returns the vulnerabilities with a window open at now for
// at least one client (only those clients' windows), the most recently
// published first. It asks the index for vulnerabilities modified within
// the longest window (a vulnerability is modified no earlier than it is
// published) and reads each from the store.
func (pol *Policy) OpenWindows(ctx context.Context, d *watcher.Data, now time.Time) ([]Qualifying, error) {
	max := pol.MaxWindow()
	if max == 0 {
		return nil, nil
	}
	res, err := d.Index.Search(ctx, index.Request{Kinds: []string{index.KindVuln}, Since: now.Add(-max), Sort: index.SortUpdated, Limit: recentLimit})
	if err != nil {
		return nil, fmt.Errorf("sla: recent vulnerabilities: %w", err)
	}
	var out []Qualifying
	err = d.Store.View(func(tx *store.Tx) error {
		for _, h := range res.Hits {
			rec, ok, err := tx.Item(h.ID)
			if err != nil || !ok {
				return err
			}
			it, err := d.Norm.Item(tx, rec)
			if err != nil {
				return err
			}
			if it.Created.After(now) || now.Sub(it.Created) >= max {
				continue
			}
			matched, err := Matched(tx, it.ID)
			if err != nil {
				return err
			}
			var open []Window
			for _, w := range pol.Windows(&it, func(c string) []string { return matched[c] }) {
				if w.Open(now) {
					open = append(open, w)
				}
			}
			if len(open) > 0 {
				out = append(out, Qualifying{Item: it, Windows: open})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sla: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Item.Created.After(out[j].Item.Created) })
	return out, nil
}
