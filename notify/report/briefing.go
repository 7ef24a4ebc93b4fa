package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/sla"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// BriefingWindow is how far back a briefing reports stage changes and
// newly recorded history when there was no earlier briefing.
const BriefingWindow = 24 * time.Hour

// BriefingSince returns the start of what the briefing of day, composed at
// t, reports as new: when the previous day's briefing was composed, or
// BriefingWindow before t.
func (e *Env) BriefingSince(day notify.Date, t time.Time) (time.Time, error) {
	entries, err := e.Outbox().Entries()
	if err != nil {
		return time.Time{}, err
	}
	for _, en := range entries { // newest first
		if en.Date.Compare(day) < 0 && !en.Composed.IsZero() && en.Composed.Before(t) {
			return en.Composed, nil
		}
	}
	return t.Add(-BriefingWindow), nil
}

// Briefing gathers the briefing of day, composed now, from the prompt
// queue, the SLA requests and the sync status: open SLA requests,
// vulnerabilities whose SLA window is open, every open consult prompt
// grouped by client, proposals that changed stage and history recorded
// since the previous briefing, and sync health.
func (e *Env) Briefing(day notify.Date) (*notify.Briefing, error) {
	b, err := e.briefing(day, e.now())
	if err != nil {
		return nil, fmt.Errorf("brief: %w", err)
	}
	return b, nil
}

func (e *Env) briefing(day notify.Date, t time.Time) (*notify.Briefing, error) {
	if e.ProfilesErr != nil {
		return nil, e.ProfilesErr
	}
	d := e.Data
	b := &notify.Briefing{Date: day, Now: t}
	since, err := e.BriefingSince(day, t)
	if err != nil {
		return nil, err
	}
	if b.Requests, b.Vulns, err = e.slaSections(t); err != nil {
		return nil, err
	}
	if b.Digests, err = e.DigestsDue(t); err != nil {
		return nil, err
	}

	open, err := queue.List(d.Store, e.Profiles, queue.Filter{}, t)
	if err != nil {
		return nil, err
	}
	b.Clients = clientPrompts(open)

	changes, err := queue.StageChanges(d.Store, e.Profiles, since, t)
	if err != nil {
		return nil, err
	}
	b.StageChanges = stageChanges(changes)

	err = d.Store.View(func(tx *store.Tx) error {
		return queue.Scan(tx, []queue.State{queue.History, queue.Held}, func(p *queue.Prompt) error {
			if !p.Created.After(since) {
				return nil
			}
			if p.State == queue.History {
				b.HistoryRecorded++
				return nil
			}
			cl := e.Profiles.Client(p.Client)
			if cl == nil || cl.Concern(p.Concern) == nil {
				return nil
			}
			if len(b.Held) == maxHeld {
				b.HeldMore++
				return nil
			}
			b.Held = append(b.Held, notify.HeldPrompt{ID: p.ID, Client: cl.Name, Concern: p.Concern,
				ItemID: p.Item.ID, Title: p.Item.Title, Reason: p.HeldReason})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}

	statuses, err := d.SyncStatuses()
	if err != nil {
		return nil, err
	}
	for _, s := range statuses {
		b.Health = append(b.Health, notify.SourceHealth{
			Source:       s.Source,
			LastSuccess:  s.LastSuccess,
			LastError:    s.LastError,
			FailingSince: s.FailingSince,
		})
	}
	return b, nil
}

// slaSections gathers the briefing's open SLA requests and the
// vulnerabilities whose window is open at t, one line per covered client.
func (e *Env) slaSections(t time.Time) ([]notify.SLARequest, []notify.VulnAlert, error) {
	d, pol := e.Data, e.SLAPolicy()
	rs, err := sla.List(d.Store)
	if err != nil {
		return nil, nil, err
	}
	var reqs []notify.SLARequest
	for _, r := range sla.OpenRequests(rs) {
		nr := notify.SLARequest{ID: r.ID, Client: r.Client, Vuln: r.Vuln, Note: r.Note, Asked: r.Asked, Deadline: r.Deadline}
		if p := pol.Profiles.Client(r.Client); p != nil {
			nr.Client = p.Name
		}
		if it, _, err := d.Item(r.Vuln); err == nil {
			nr.Summary = it.Title
		}
		reqs = append(reqs, nr)
	}
	qs, err := pol.OpenWindows(context.Background(), d, t)
	if err != nil {
		return nil, nil, err
	}
	var vulns []notify.VulnAlert
	for _, q := range qs {
		v := notify.VulnAlert{ID: q.Item.ID, Aliases: q.Item.Aliases, Summary: q.Item.Title, URL: q.Item.URL, Packages: q.Item.Packages, Published: q.Item.Created}
		for _, w := range q.Windows {
			c := notify.VulnClient{Client: w.Client.Name, Tier: w.Client.Tier, Deadline: w.Closes}
			if len(w.Touches) > 0 {
				c.Concern = w.Touches[0].Concern.Summary
			}
			v.Clients = append(v.Clients, c)
		}
		vulns = append(vulns, v)
	}
	return reqs, vulns, nil
}

// maxHeld is how many held matches the briefing lists: it is a short
// part, for a glance at what learning kept out of the queue.
const maxHeld = 10

// clientPrompts groups open prompts by client, in the queue's order.
func clientPrompts(es []queue.Entry) []notify.ClientPrompts {
	var out []notify.ClientPrompts
	at := map[string]int{}
	for _, e := range es {
		i, ok := at[e.Client.ID]
		if !ok {
			i = len(out)
			at[e.Client.ID] = i
			out = append(out, notify.ClientPrompts{Client: e.Client.Name, Tier: e.Client.Tier, Contacts: e.Client.Contacts})
		}
		out[i].Prompts = append(out[i].Prompts, notify.Prompt{
			ID:       e.ID,
			ItemID:   e.Item.ID,
			Title:    e.Item.Title,
			URL:      e.Item.URL,
			Kind:     e.Item.Kind,
			State:    e.Item.State,
			Stage:    e.Item.Stage,
			Priority: notify.Priority(configs.PriorityRank(e.Concern.Priority) - configs.PriorityRank("normal")),
			Queued:   e.Created,
			Trigger:  e.Trigger.Description,
			Concern:  e.Concern.ID,
			Told:     e.Concern.Summary,
			ToldOn:   e.Concern.Told.Time,
			ToldVia:  e.Concern.Via,
			Packages: e.Reasons.Packages,
			Terms:    e.Reasons.Terms,
			Snippet:  e.Reasons.Snippet,
			Members:  members(e.Members),
		})
	}
	return out
}

// members lists a topic's matched items for the briefing, when there are
// more than one.
func members(ms []queue.Member) []notify.Member {
	if len(ms) < 2 {
		return nil
	}
	out := make([]notify.Member, 0, len(ms))
	for i := range ms {
		m := &ms[i]
		status := m.Item.State
		if m.Item.Stage != "" {
			status = m.Item.Stage
		}
		out = append(out, notify.Member{ItemID: m.Item.ID, Title: m.Item.Title, Kind: m.Item.Kind, Status: status, Why: Why(&m.Reasons)})
	}
	return out
}

// stageChanges turns the queue's stage changes (one per prompt) into one
// entry per proposal and change, naming every client that watches it.
func stageChanges(cs []queue.StageChange) []notify.StageChange {
	var out []notify.StageChange
	at := map[string]int{}
	for _, c := range cs {
		key := c.Item.ID + "\x00" + c.Change.At.String()
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			out = append(out, notify.StageChange{
				ItemID:   c.Item.ID,
				Title:    c.Item.Title,
				URL:      c.Item.URL,
				From:     previousStage(c.Triggers, c.Change),
				To:       c.Change.Snapshot.Stage,
				At:       c.Change.At,
				Packages: c.Item.Packages,
			})
		}
		if !slices.Contains(out[i].Clients, c.Client.Name) {
			out[i].Clients = append(out[i].Clients, c.Client.Name)
		}
	}
	return out
}

// previousStage returns the stage a prompt's item had before trigger t.
func previousStage(ts []queue.Trigger, t queue.Trigger) string {
	for i, x := range ts {
		if x.At.Equal(t.At) && x.Description == t.Description && i > 0 {
			return ts[i-1].Snapshot.Stage
		}
	}
	return ""
}

// Why says in a few words why a prompt's item matched: "packages
// crypto/tls; terms session ticket".
func Why(r *queue.Reasons) string {
	var parts []string
	if len(r.Packages) > 0 {
		parts = append(parts, "packages "+strings.Join(r.Packages, ", "))
	}
	if len(r.Terms) > 0 {
		parts = append(parts, "terms "+strings.Join(r.Terms, ", "))
	}
	if len(parts) == 0 {
		return "matched the concern's query"
	}
	return strings.Join(parts, "; ")
}
