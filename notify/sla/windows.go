package sla

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/match"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// A Vuln is a vulnerability item with the concerns it touches, by client
// (Policy.Matched).
type Vuln struct {
	Item    index.Item
	Matched map[string][]string
}

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

// recentLimit bounds how many recently modified vulnerabilities Recent
// reads; the Go database publishes a few a week.
const recentLimit = 1000

// Recent returns the vulnerabilities modified since since, the most
// recently published first, each with the concerns it touches by client
// (Matched). It asks the index (a vulnerability's modification time is its
// Updated) and reads each from the store.
func (pol *Policy) Recent(ctx context.Context, d *watcher.Data, since time.Time) ([]Vuln, error) {
	res, err := d.Index.Search(ctx, index.Request{Kinds: []string{index.KindVuln}, Since: since, Sort: index.SortUpdated, Limit: recentLimit})
	if err != nil {
		return nil, fmt.Errorf("sla: recent vulnerabilities: %w", err)
	}
	var out []Vuln
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
			out = append(out, Vuln{Item: it})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sla: %w", err)
	}
	items := make([]*index.Item, len(out))
	for i := range out {
		items[i] = &out[i].Item
	}
	matched, err := pol.Matched(ctx, d, items)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Matched = matched[out[i].Item.ID]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Item.Created.After(out[j].Item.Created) })
	return out, nil
}

// Matched returns, for each of items, the concerns each client's profile
// says the item touches: item ID → client → concern IDs. A concern
// counts when its packages, its query or both reach the item by the
// matcher's rules (match.Touching, evaluated on the item itself, so that
// a plain sync that alerts before any match run says what run and watch
// say), and when the matcher prompted for it about the item or its topic
// in any state, held back as probably not relevant included: whether a
// vulnerability touches a client's concern is a promise, not a relevance
// guess.
//
// An item that a concern's packages reach already touches it (Touches),
// so the concern's search runs only over the others: most of the time,
// over none.
func (pol *Policy) Matched(ctx context.Context, d *watcher.Data, items []*index.Item) (map[string]map[string][]string, error) {
	out := map[string]map[string][]string{}
	if len(items) == 0 {
		return out, nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	candidates := func(p *configs.Profile, c *configs.Concern) []string {
		var rest []string
		for _, it := range items {
			if len(touchedPackages(it, c)) == 0 {
				rest = append(rest, it.ID)
			}
		}
		return rest
	}
	// One search per concern at most: the files stay open for them, as
	// for a match run, rather than open for each.
	release, err := d.Hold()
	if err != nil {
		return nil, fmt.Errorf("sla: %w", err)
	}
	defer release()
	out, err = match.Touching(ctx, d.Index, pol.Profiles, candidates)
	if err != nil {
		return nil, fmt.Errorf("sla: %w", err)
	}
	var prompted map[string]map[string][]string
	err = d.Store.View(func(tx *store.Tx) error {
		var err error
		prompted, err = MatchedAll(tx, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sla: %w", err)
	}
	for id, byClient := range prompted {
		if out[id] == nil {
			out[id] = map[string][]string{}
		}
		for c, concerns := range byClient {
			for _, cid := range concerns {
				if !slices.Contains(out[id][c], cid) {
					out[id][c] = append(out[id][c], cid)
				}
			}
		}
	}
	return out, nil
}

// OpenAt returns the windows of v open at now.
func (pol *Policy) OpenAt(v *Vuln, now time.Time) []Window {
	var open []Window
	for _, w := range pol.Windows(&v.Item, func(c string) []string { return v.Matched[c] }) {
		if w.Open(now) {
			open = append(open, w)
		}
	}
	return open
}

// OpenWindows returns the vulnerabilities with a window open at now for
// at least one client (only those clients' windows), the most recently
// published first.
func (pol *Policy) OpenWindows(ctx context.Context, d *watcher.Data, now time.Time) ([]Qualifying, error) {
	max := pol.MaxWindow()
	if max == 0 {
		return nil, nil
	}
	vs, err := pol.Recent(ctx, d, now.Add(-max))
	if err != nil {
		return nil, err
	}
	var out []Qualifying
	for i := range vs {
		if ws := pol.OpenAt(&vs[i], now); len(ws) > 0 {
			out = append(out, Qualifying{Item: vs[i].Item, Windows: ws})
		}
	}
	return out, nil
}
