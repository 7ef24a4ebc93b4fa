package queue

import (
	"slices"
	"sort"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// An Entry is a prompt with everything needed to act on it: whom to ask
// (the client), what they told you (the concern), about what (the item),
// why now (the trigger) and why it matched (the reasons).
type Entry struct {
	ID      string     `json:"id"`
	State   State      `json:"state"` // at the time of listing
	Client  ClientInfo `json:"client"`
	Concern ConcernRef `json:"concern"`
	// Topic is the prompt's topic ID (package watcher/topic).
	Topic string `json:"topic"`
	// Item is the lead member's item.
	Item ItemInfo `json:"item"`
	// Members are the items of the topic that matched, newest event
	// first, each with why it matched.
	Members []Member `json:"members"`
	// MergedInto names the prompt a merged prompt is part of now.
	MergedInto string `json:"merged_into,omitempty"`
	// HeldReason says why a held prompt was held back.
	HeldReason string    `json:"held_reason,omitempty"`
	Trigger    Trigger   `json:"trigger"`  // the latest
	Triggers   []Trigger `json:"triggers"` // all, oldest first
	Reasons    Reasons   `json:"reasons"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
	Until      time.Time `json:"snoozed_until,omitzero"`
	// ClockStart is set for a vulnerability published within the
	// look-back window: the client's response clock runs from then.
	ClockStart time.Time `json:"clock_start,omitzero"`
	Log        []Event   `json:"log,omitempty"`
}

// ClientInfo is who to ask.
type ClientInfo struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Tier     string   `json:"tier"`
	Contacts []string `json:"contacts,omitempty"`
}

// ConcernRef is what the client told you.
type ConcernRef struct {
	ID       string       `json:"id"`
	Summary  string       `json:"summary"`
	Told     configs.Date `json:"told"`
	Via      string       `json:"via,omitempty"`
	Priority string       `json:"priority"`
}

// NewEntry joins a prompt with its client's profile. It returns false if the
// client or the concern is no longer in the profiles.
func NewEntry(p *Prompt, profiles configs.Profiles, now time.Time) (Entry, bool) {
	cl := profiles.Client(p.Client)
	if cl == nil {
		return Entry{}, false
	}
	c := cl.Concern(p.Concern)
	if c == nil {
		return Entry{}, false
	}
	return Entry{
		ID:         p.ID,
		State:      p.StateAt(now),
		Client:     ClientInfo{ID: cl.ID, Name: cl.Name, Tier: cl.Tier, Contacts: cl.Contacts},
		Concern:    ConcernRef{ID: c.ID, Summary: c.Summary, Told: c.Told, Via: c.Via, Priority: c.Priority},
		Topic:      p.Topic,
		Item:       p.Item,
		Members:    p.Members,
		MergedInto: p.MergedInto,
		HeldReason: p.HeldReason,
		Trigger:    p.Trigger(),
		Triggers:   p.Triggers,
		Reasons:    p.Reasons,
		Created:    p.Created,
		Updated:    p.Updated,
		Until:      p.Until,
		ClockStart: p.ClockStart,
		Log:        p.Log,
	}, true
}

// A Row is one matched item of a prompt: the prompt's entry with Item and
// Reasons of that member, and Lead naming the prompt's lead item. Scripts
// that count items (a relevance scorer) read rows, so that every matched
// item of a topic counts, not only its lead.
type Row struct {
	Entry
	Lead string `json:"lead"`
}

// Rows flattens entries to one row per member, in the entries' order and
// the members' order.
func Rows(es []Entry) []Row {
	out := []Row{}
	for _, e := range es {
		for _, m := range e.Members {
			r := Row{Entry: e, Lead: e.Item.ID}
			r.Item, r.Reasons = m.Item, m.Reasons
			out = append(out, r)
		}
	}
	return out
}

// Deadline returns when the client's response clock runs out, given the
// response time owed to each tier (Config.SLAFor), or zero if the entry is
// not on the clock.
func (e *Entry) Deadline(sla func(tier string) time.Duration) time.Time {
	if e.ClockStart.IsZero() {
		return time.Time{}
	}
	return e.ClockStart.Add(sla(e.Client.Tier))
}

// A Filter selects prompts to list.
type Filter struct {
	Client string  // only this client's prompts
	States []State // states at the time of listing; default Open
	Kinds  []string
}

// List returns the prompts that f selects, as of time now, most pressing
// first (see Sort). Prompts of clients or concerns that are no longer in
// the profiles are left out: removing a client or a concern from the
// profiles takes its prompts out of the queue.
func List(st *store.Store, profiles configs.Profiles, f Filter, now time.Time) ([]Entry, error) {
	var out []Entry
	err := st.View(func(tx *store.Tx) error {
		var err error
		out, err = ListTx(tx, profiles, f, now)
		return err
	})
	return out, err
}

// ListTx is List in a transaction.
func ListTx(tx *store.Tx, profiles configs.Profiles, f Filter, now time.Time) ([]Entry, error) {
	want := f.States
	if len(want) == 0 {
		want = []State{Open}
	}
	// Snoozed prompts stay stored as snoozed after their time comes.
	stored := slices.Clone(want)
	if slices.Contains(want, Open) && !slices.Contains(want, Snoozed) {
		stored = append(stored, Snoozed)
	}
	var out []Entry
	visit := func(p *Prompt) error {
		if f.Client != "" && p.Client != f.Client {
			return nil
		}
		if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, p.Item.Kind) {
			return nil
		}
		if !slices.Contains(want, p.StateAt(now)) {
			return nil
		}
		if e, ok := NewEntry(p, profiles, now); ok {
			out = append(out, e)
		}
		return nil
	}
	var err error
	if f.Client != "" {
		err = ForClient(tx, f.Client, visit)
	} else {
		err = Scan(tx, stored, visit)
	}
	if err != nil {
		return nil, err
	}
	Sort(out)
	return out, nil
}

// Sort orders entries most pressing first: by client tier (platinum, gold,
// silver), then concern priority (high, normal, low), then newest trigger,
// then ID.
func Sort(es []Entry) {
	sort.Slice(es, func(i, j int) bool {
		a, b := &es[i], &es[j]
		if x, y := configs.TierRank(a.Client.Tier), configs.TierRank(b.Client.Tier); x != y {
			return x > y
		}
		if x, y := configs.PriorityRank(a.Concern.Priority), configs.PriorityRank(b.Concern.Priority); x != y {
			return x > y
		}
		if !a.Trigger.At.Equal(b.Trigger.At) {
			return a.Trigger.At.After(b.Trigger.At)
		}
		return a.ID < b.ID
	})
}

// OnTheClock returns the open prompts about vulnerabilities whose client's
// response clock is running: published within lookback of now. Use
// Entry.Deadline with the configured SLA to tell how long is left.
func OnTheClock(st *store.Store, profiles configs.Profiles, now time.Time, lookback time.Duration) ([]Entry, error) {
	es, err := List(st, profiles, Filter{States: []State{Open}}, now)
	if err != nil {
		return nil, err
	}
	out := es[:0]
	for _, e := range es {
		if !e.ClockStart.IsZero() && !e.ClockStart.Before(now.Add(-lookback)) {
			out = append(out, e)
		}
	}
	return out, nil
}

// A StageChange is a proposal stage change seen on a prompt's item.
type StageChange struct {
	Entry
	Change Trigger `json:"change"`
}

// StageChanges returns the proposal stage changes that the matcher saw
// since the given time, on prompts that are not dismissed, newest first.
func StageChanges(st *store.Store, profiles configs.Profiles, since, now time.Time) ([]StageChange, error) {
	var out []StageChange
	err := st.View(func(tx *store.Tx) error {
		return Scan(tx, []State{Open, Snoozed, Done}, func(p *Prompt) error {
			var e Entry
			var ok bool
			for _, t := range p.Triggers {
				if t.Kind != TriggerStage || t.At.Before(since) {
					continue
				}
				if !ok {
					if e, ok = NewEntry(p, profiles, now); !ok {
						return nil
					}
				}
				out = append(out, StageChange{Entry: e, Change: t})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Change.At.Equal(out[j].Change.At) {
			return out[i].Change.At.After(out[j].Change.At)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
