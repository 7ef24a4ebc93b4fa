package report

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/sla"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/match"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// FailingTooLong is how long a source may fail before Status asks for
// attention.
const FailingTooLong = 24 * time.Hour

// LagLimit is how many changed items Status counts at most for the
// matcher's lag: beyond it, it says "more than", and stays quick.
const LagLimit = 100_000

// Status is the health of a data directory: what 'reciprocal status'
// shows, and prints with --json.
type Status struct {
	DataDir         string                 `json:"data_dir"`
	Empty           bool                   `json:"empty"` // nothing imported or synced yet
	Sources         []watcher.SourceStatus `json:"sources"`
	StoreBytes      int64                  `json:"store_bytes"`
	IndexBytes      int64                  `json:"index_bytes"`
	Items           map[string]int         `json:"items"` // by source
	Comments        int                    `json:"comments"`
	Indexed         uint64                 `json:"indexed"`
	IndexLag        int                    `json:"index_lag"`                    // stored items the index does not reflect yet
	IndexWriter     int                    `json:"index_writer,omitempty"`       // pid of the reciprocal writing now, which indexes the lag (-1: pid unknown)
	IndexError      string                 `json:"index_error,omitempty"`        // why the index cannot be read
	Quarantine      []watcher.Quarantined  `json:"quarantine"`                   // stored records that cannot be normalized
	MatchLag        int                    `json:"match_lag"`                    // items changed since the last match
	MatchLagAtLeast bool                   `json:"match_lag_at_least,omitempty"` // there are more than match_lag
	Prompts         map[string]PromptCount `json:"prompts"`                      // open and snoozed prompts by client
	SLA             []SLARow               `json:"sla"`                          // open SLA requests, earliest deadline first
	Briefing        *notify.Status         `json:"briefing,omitempty"`
	// Attention lists what needs a look; the command exits 1 if any.
	Attention []string `json:"attention"`
}

// PromptCount counts a client's open and snoozed prompts.
type PromptCount struct {
	Name    string `json:"name"`
	Open    int    `json:"open"`
	Snoozed int    `json:"snoozed"`
}

// EmptyStatus is the status of a data directory where nothing was synced or
// imported yet.
func EmptyStatus(dir string) *Status {
	return &Status{DataDir: dir, Empty: true, Items: map[string]int{}, Prompts: map[string]PromptCount{}, SLA: []SLARow{}, Attention: []string{}}
}

// Status reports the health of the data directory: each source's last
// sync, sizes and counts, the matcher's lag, open prompts by client, open
// SLA requests and the briefing's state, with what needs attention: a
// source failing for more than FailingTooLong, an index built with another
// text analysis, invalid client profiles, an overdue SLA request, a
// message or briefing the mail server refused.
func (e *Env) Status() (*Status, error) {
	d := e.Data
	t := e.now()
	rep := EmptyStatus(d.Dir)
	rep.Empty = false
	var err error
	if rep.Sources, err = d.SyncStatuses(); err != nil {
		return nil, err
	}
	for _, s := range rep.Sources {
		if !s.FailingSince.IsZero() && t.Sub(s.FailingSince) > FailingTooLong {
			rep.Attention = append(rep.Attention, fmt.Sprintf("%s has been failing since %s: %s", s.Source, s.FailingSince.Format(time.RFC3339), s.LastError))
		}
	}
	rep.StoreBytes = d.Store.Size()
	rep.IndexBytes = index.DiskSize(filepath.Join(d.Dir, index.DirName))
	err = d.Store.View(func(tx *store.Tx) error {
		c, err := tx.Counts()
		rep.Items, rep.Comments = c.Items, c.Comments
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := e.indexStatus(rep); err != nil {
		return nil, err
	}
	if rep.MatchLag, rep.MatchLagAtLeast, err = match.Lag(d.Store, LagLimit); err != nil {
		return nil, err
	}

	// Prompts of the clients in the profiles; invalid profiles are worth
	// a line but do not hide the rest.
	if e.ProfilesErr != nil {
		rep.Attention = append(rep.Attention, "client profiles are invalid: run 'reciprocal check-config'")
	} else {
		es, err := queue.List(d.Store, e.Profiles, queue.Filter{States: []queue.State{queue.Open, queue.Snoozed}}, t)
		if err != nil {
			return nil, err
		}
		for _, p := range e.Profiles {
			rep.Prompts[p.ID] = PromptCount{Name: p.Name}
		}
		for _, en := range es {
			c := rep.Prompts[en.Client.ID]
			if en.State == queue.Snoozed {
				c.Snoozed++
			} else {
				c.Open++
			}
			rep.Prompts[en.Client.ID] = c
		}
	}

	rs, err := sla.List(d.Store)
	if err != nil {
		return nil, err
	}
	for _, r := range sla.OpenRequests(rs) {
		rep.SLA = append(rep.SLA, SLARow{Request: r, State: SLAState(&r, t), LeftSeconds: int64(r.Left(t) / time.Second)})
		if r.Overdue(t) {
			rep.Attention = append(rep.Attention, fmt.Sprintf("SLA request %s (%s about %s) is overdue by %s: answer it, then 'reciprocal sla answer %s'",
				r.ID, r.Client, r.Vuln, notify.FormatDuration(r.Left(t)), r.ID))
		}
	}

	mail, err := e.Mailbox().Entries("")
	if err != nil {
		return nil, err
	}
	for _, m := range mail {
		if m.State == notify.StateFailed {
			rep.Attention = append(rep.Attention, fmt.Sprintf("the message %s (%s) was %s", m.Key, m.Subject, m.Describe(e.Config.Location())))
		}
	}

	bs, err := e.Outbox().Status(notify.ScheduleOf(e.Config), t)
	if err != nil {
		return nil, err
	}
	rep.Briefing = bs
	if bs.Last != nil && bs.Last.State == notify.StateFailed {
		rep.Attention = append(rep.Attention, fmt.Sprintf("the briefing for %s failed: %s; fix it, then 'reciprocal brief --resend %s'", bs.Last.Date, bs.Last.Describe(e.Config.Location()), bs.Last.Date))
	}
	return rep, nil
}

// indexStatus fills in the index's part of the report: its size, how far it
// lags the store, whether it can be read at all, and the quarantine. When
// the Env's data was opened without its index (watcher.OpenStore), the
// index is opened here, read-only.
func (e *Env) indexStatus(rep *Status) error {
	d := e.Data
	var err error
	if rep.Quarantine, err = d.Quarantine(); err != nil {
		return err
	}
	if len(rep.Quarantine) > 0 {
		what := fmt.Sprintf("%d stored records cannot be normalized and are not indexed (listed above); an upgrade or a later sync of the items may fix them", len(rep.Quarantine))
		if len(rep.Quarantine) == 1 {
			what = "1 stored record cannot be normalized and is not indexed (listed above); an upgrade or a later sync of the item may fix it"
		}
		rep.Attention = append(rep.Attention, what)
	}
	if d.Index == nil { // opened here, so that a damaged index is reported
		err = d.OpenIndex(true)
	}
	if err == nil {
		rep.Indexed, err = d.Index.Count()
	}
	if err == nil {
		rep.IndexLag, err = d.IndexLag()
	}
	if err == nil && d.Index.Stale() {
		rep.Attention = append(rep.Attention, fmt.Sprintf("%v: run 'reciprocal reindex'", &index.StaleError{Version: d.Index.Analysis()}))
	}
	switch {
	case errors.Is(err, index.ErrDamaged), errors.Is(err, index.ErrMissing):
		rep.IndexError = err.Error()
		rep.Attention = append(rep.Attention, err.Error())
	case err != nil:
		return err
	case rep.IndexLag > 0:
		// While a writer runs (a sync stores, then indexes), the index
		// lags by design; only a lag left behind needs attention.
		if pid, writing := store.Writer(d.Dir); writing {
			if rep.IndexWriter = pid; pid == 0 {
				rep.IndexWriter = -1
			}
		} else {
			rep.Attention = append(rep.Attention, IndexLagMessage(rep.IndexLag))
		}
	}
	return nil
}

// IndexLagMessage says that the index lags the store by n items.
func IndexLagMessage(n int) string {
	return fmt.Sprintf("the index is %d items behind the store: run reciprocal reindex (or any command that writes, such as match)", n)
}

// An SLARow is one SLA request with its state at a time, as status and
// 'sla list --json' print it.
type SLARow struct {
	sla.Request
	State string `json:"state"` // open, overdue, answered, outside
	// LeftSeconds is the time left to answer an open request (negative
	// when overdue).
	LeftSeconds int64 `json:"left_seconds,omitempty"`
}

// SLAState says where request r stands at t: answered, outside (the SLA),
// overdue or open.
func SLAState(r *sla.Request, t time.Time) string {
	switch {
	case !r.IsOpen():
		return "answered"
	case !r.Covered():
		return "outside"
	case r.Overdue(t):
		return "overdue"
	}
	return "open"
}
