// Package digest writes a client's periodic digest: an executive summary
// of what happened in their areas over a month or a quarter, so that no
// client ever asks "why do we pay you again?".
//
// Per concern it lists the proposals that moved (with the stage and the
// day), the changes merged (the matcher already leaves routine ones out),
// the vulnerabilities that touched it, and what the client was consulted
// about with the outcome notes; then the vulnerabilities under the client's
// SLA and how they were handled (requests, answer times, notes sent); then
// the maintainer's own "what I'm looking at" notes. The result is Markdown
// to review, and a draft e-mail that 'reciprocal send' delivers once
// (mailbox key digest/CLIENT/PERIOD).
package digest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/alert"
	"github.com/reciprocal-access/reciprocal/notify/note"
	"github.com/reciprocal-access/reciprocal/notify/sla"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// A Request asks for one client's digest.
type Request struct {
	Data   *watcher.Data
	Policy *sla.Policy
	Client *configs.Profile
	Period Period
	// Notes are the maintainer's "what I'm looking at" notes (Markdown).
	Notes    string
	Now      time.Time
	Location *time.Location
}

// A Digest is one client's summary of a period.
type Digest struct {
	Client   *configs.Profile
	Period   Period
	ToDate   bool // the period has not ended yet
	Now      time.Time
	Concerns []Concern
	Vulns    []Vuln
	// Releases are the Go point releases the period's vulnerabilities
	// were fixed in (the Go database's fixed versions of the standard
	// library and the toolchain): the releases a client had to take.
	Releases []Release
	Notes    string
	loc      *time.Location
}

// A Concern is what happened in one of the client's areas.
type Concern struct {
	Concern   configs.Concern
	Proposals []Event // a proposal entering a stage
	Merged    []Event // a change merged
	Vulns     []Event // a vulnerability published
	Consulted []Event // the client consulted, with the outcome note
}

// Empty reports whether nothing happened in the area.
func (c *Concern) Empty() bool {
	return len(c.Proposals)+len(c.Merged)+len(c.Vulns)+len(c.Consulted) == 0
}

// An Event is one dated line of a digest.
type Event struct {
	At    time.Time
	Item  string // item ID
	Title string
	URL   string
	What  string // the stage entered; the outcome note
}

// A Release is a Go version that fixed vulnerabilities of the period.
type Release struct {
	Version string    // 1.26.9
	At      time.Time // when the first of its vulnerabilities was published
	Fixes   []string  // vulnerability IDs
}

// A Vuln is a vulnerability under the client's SLA in the period, and how
// it was handled.
type Vuln struct {
	ID, Title string
	Published time.Time
	Upgrade   string
	Requests  []sla.Request
	NoteSent  time.Time // zero if no note was sent
}

// Build gathers the digest from the store: the client's prompts (and
// their items' stage history), the SLA requests and the mailbox.
func Build(ctx context.Context, r Request) (*Digest, error) {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	dg := &Digest{Client: r.Client, Period: r.Period, ToDate: r.Now.Before(r.Period.End), Now: r.Now, Notes: r.Notes, loc: loc}
	in := r.Period.Contains
	byConcern := map[string]*Concern{}
	for _, c := range r.Client.Concerns {
		dg.Concerns = append(dg.Concerns, Concern{Concern: c})
	}
	for i := range dg.Concerns {
		byConcern[dg.Concerns[i].Concern.ID] = &dg.Concerns[i]
	}
	d := r.Data
	err := d.Store.View(func(tx *store.Tx) error {
		seen := map[string]bool{} // concern + item
		return queue.ForClient(tx, r.Client.ID, func(pr *queue.Prompt) error {
			c := byConcern[pr.Concern]
			if c == nil || pr.State == queue.History {
				return nil
			}
			for _, ev := range pr.Log {
				if ev.Action == queue.ActionDone && in(ev.At) {
					c.Consulted = append(c.Consulted, Event{At: ev.At, Item: pr.Item.ID, Title: pr.Item.Title, URL: pr.Item.URL, What: ev.Note})
				}
			}
			ids := []string{pr.Item.ID}
			for _, m := range pr.Members {
				ids = append(ids, m.Item.ID)
			}
			for _, id := range ids {
				if seen[pr.Concern+"\x00"+id] {
					continue
				}
				seen[pr.Concern+"\x00"+id] = true
				rec, ok, err := tx.Item(id)
				if err != nil || !ok {
					return err
				}
				it, err := d.Norm.Item(tx, rec)
				if err != nil {
					return err
				}
				addItem(c, &it, in)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("digest: %s: %w", r.Client.ID, err)
	}
	for i := range dg.Concerns {
		c := &dg.Concerns[i]
		for _, evs := range [][]Event{c.Proposals, c.Merged, c.Vulns, c.Consulted} {
			sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
		}
	}
	if dg.Vulns, dg.Releases, err = vulns(ctx, r); err != nil {
		return nil, err
	}
	return dg, nil
}

// addItem adds what item it did in the period to concern c.
func addItem(c *Concern, it *index.Item, in func(time.Time) bool) {
	ev := Event{Item: it.ID, Title: it.Title, URL: it.URL}
	switch it.Kind {
	case index.KindProposal:
		for _, st := range it.Stages {
			if in(st.At) {
				e := ev
				e.At, e.What = st.At, st.Stage
				c.Proposals = append(c.Proposals, e)
			}
		}
	case index.KindChange, index.KindPull:
		if it.State == index.StateMerged && in(it.Closed) && it.Routine == "" {
			ev.At = it.Closed
			c.Merged = append(c.Merged, ev)
		}
	case index.KindVuln:
		if in(it.Created) {
			ev.At = it.Created
			c.Vulns = append(c.Vulns, ev)
		}
	}
}

// vulns lists the vulnerabilities published in the period that opened a
// window for the client, with the client's requests and the note sent.
func vulns(ctx context.Context, r Request) ([]Vuln, []Release, error) {
	vs, err := r.Policy.Recent(ctx, r.Data, r.Period.Start)
	if err != nil {
		return nil, nil, err
	}
	reqs, err := sla.List(r.Data.Store)
	if err != nil {
		return nil, nil, err
	}
	mb := notify.NewMailbox(r.Data.Store)
	var out []Vuln
	releases := map[string]*Release{}
	for i := range vs {
		v := &vs[i]
		if !r.Period.Contains(v.Item.Created) {
			continue
		}
		for _, a := range v.Item.Affected {
			if a.Module != "stdlib" && a.Module != "toolchain" {
				continue
			}
			for _, ver := range a.Fixed {
				rel := releases[ver]
				if rel == nil {
					rel = &Release{Version: ver, At: v.Item.Created}
					releases[ver] = rel
				}
				if v.Item.Created.Before(rel.At) {
					rel.At = v.Item.Created
				}
				if !slices.Contains(rel.Fixes, v.Item.ID) {
					rel.Fixes = append(rel.Fixes, v.Item.ID)
				}
			}
		}
		covered := false
		for _, w := range r.Policy.Windows(&v.Item, func(c string) []string { return v.Matched[c] }) {
			covered = covered || w.ClientID == r.Client.ID
		}
		if !covered {
			continue
		}
		f := alert.FactsOf(&v.Item, r.Location)
		dv := Vuln{ID: v.Item.ID, Title: v.Item.Title, Published: v.Item.Created, Upgrade: f.Upgrade}
		for _, q := range reqs {
			if q.Client == r.Client.ID && q.Vuln == v.Item.ID {
				dv.Requests = append(dv.Requests, q)
			}
		}
		if e, ok, err := mb.Entry("note/" + v.Item.ID + "/" + r.Client.ID); err != nil {
			return nil, nil, err
		} else if ok && e.State == notify.StateSent {
			dv.NoteSent = e.Sent
		}
		out = append(out, dv)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Published.Before(out[j].Published) })
	var rels []Release
	for _, rel := range releases {
		sort.Strings(rel.Fixes)
		rels = append(rels, *rel)
	}
	sort.Slice(rels, func(i, j int) bool {
		return rels[i].At.Before(rels[j].At) || rels[i].At.Equal(rels[j].At) && rels[i].Version < rels[j].Version
	})
	return out, rels, nil
}

// Markdown writes the digest for review.
func (dg *Digest) Markdown() string {
	var b strings.Builder
	line := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
		b.WriteByte('\n')
	}
	day := func(t time.Time) string { return t.In(dg.loc).Format("2 Jan") }
	when := func(t time.Time) string { return t.In(dg.loc).Format("Mon 2 Jan 15:04") }
	safe := notify.OneLine

	label := dg.Period.Label()
	if dg.ToDate {
		label = dg.Period.Start.Format("2 Jan") + " – " + dg.Now.In(dg.loc).Format("2 Jan 2006") + ", to date"
	}
	line("# ", safe(dg.Client.Name), ": ", dg.Period.Name, " digest")
	line()
	line("*", label, "*")
	line()
	line("## In short")
	line()
	line(dg.summary())
	for _, c := range dg.Concerns {
		line()
		line("## ", safe(c.Concern.Summary))
		line()
		told := "*You told me on " + c.Concern.Told.String()
		if c.Concern.Via != "" {
			told += " (" + safe(c.Concern.Via) + ")"
		}
		line(told, ".*")
		if c.Empty() {
			line()
			line("Nothing moved in this area this period.")
			continue
		}
		section := func(title string, evs []Event, what func(Event) string) {
			if len(evs) == 0 {
				return
			}
			line()
			line("**", title, "**")
			line()
			for _, e := range evs {
				line("- ", day(e.At), ": ", safe(e.Item), " ", safe(e.Title), what(e))
			}
		}
		section("Proposals that moved", c.Proposals, func(e Event) string { return " → " + stageWords(e.What) })
		section("Changes merged", c.Merged, func(Event) string { return "" })
		section("Vulnerabilities", c.Vulns, func(Event) string { return "" })
		section("What you were consulted about", c.Consulted, func(e Event) string {
			if e.What == "" {
				return ""
			}
			return " — " + safe(e.What)
		})
	}
	line()
	line("## Vulnerabilities under your SLA")
	line()
	if len(dg.Vulns) == 0 {
		line("None this period.")
	}
	for _, v := range dg.Vulns {
		s := "- " + safe(v.ID) + " (published " + when(v.Published) + "): " + safe(v.Title)
		if v.Upgrade != "" {
			s += "; fixed by upgrading to " + v.Upgrade
		}
		line(s)
		for _, q := range v.Requests {
			r := "  - you asked on " + when(q.Asked)
			switch {
			case !q.Covered():
				r += " (outside the SLA)"
			case q.IsOpen():
				r += "; not answered yet"
			case q.WithinResponse():
				r += "; answered in " + notify.FormatDuration(q.AnswerTime()) + ", within the " + notify.FormatDuration(q.Deadline.Sub(q.Asked)) + " response"
			default:
				r += "; answered in " + notify.FormatDuration(q.AnswerTime())
			}
			line(r)
		}
		if !v.NoteSent.IsZero() {
			line("  - I sent you a note on ", when(v.NoteSent))
		}
		if len(v.Requests) == 0 && v.NoteSent.IsZero() {
			line("  - no request from you")
		}
	}
	if len(dg.Releases) > 0 {
		line()
		line("## Go releases with security fixes")
		line()
		for _, rel := range dg.Releases {
			line("- Go ", safe(rel.Version), " (", day(rel.At), "): fixes ", safe(strings.Join(rel.Fixes, ", ")))
		}
	}
	line()
	line("## What I'm looking at")
	line()
	if n := strings.TrimSpace(dg.Notes); n != "" {
		line(cleanNotes(n))
	} else {
		line("(Nothing written yet: add your notes with --notes FILE.)")
	}
	return b.String()
}

// summary is the digest's first paragraph: counts.
func (dg *Digest) summary() string {
	var props, merged, consulted, requests int
	var answers []time.Duration
	for _, c := range dg.Concerns {
		props += len(c.Proposals)
		merged += len(c.Merged)
		consulted += len(c.Consulted)
	}
	for _, v := range dg.Vulns {
		for _, q := range v.Requests {
			requests++
			if !q.IsOpen() && q.Covered() {
				answers = append(answers, q.AnswerTime())
			}
		}
	}
	parts := []string{
		count(props, "proposal step", "proposal steps") + " in your areas",
		count(merged, "change merged", "changes merged"),
		count(len(dg.Vulns), "vulnerability under your SLA", "vulnerabilities under your SLA"),
	}
	if requests > 0 {
		r := count(requests, "request", "requests") + " from you"
		if len(answers) > 0 {
			var longest time.Duration
			for _, a := range answers {
				longest = max(longest, a)
			}
			r += ", answered in at most " + notify.FormatDuration(longest)
		}
		parts = append(parts, r)
	}
	if consulted == 0 {
		parts = append(parts, "no consultations")
	} else {
		parts = append(parts, "consulted "+count(consulted, "time", "times"))
	}
	return strings.Join(parts, "; ") + "."
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprint(n) + " " + many
}

// stageWords writes a proposal stage for a client.
func stageWords(stage string) string {
	switch stage {
	case index.StageLikelyAccept:
		return "likely accept"
	case index.StageLikelyDecline:
		return "likely decline"
	case index.StageFinal:
		return "final comment period"
	case index.StageActive:
		return "active (under review)"
	}
	return notify.OneLine(stage)
}

// cleanNotes keeps the maintainer's notes as written, without control
// characters.
func cleanNotes(s string) string { return strings.TrimRight(note.CleanText(s), "\n") }

// Key is the mailbox key of the digest's e-mail.
func (dg *Digest) Key() string { return "digest/" + dg.Client.ID + "/" + dg.Period.Name }

// Draft returns the digest as a draft e-mail to the client's contacts.
func (dg *Digest) Draft() note.Draft {
	body := "Hi " + notify.OneLine(dg.Client.Name) + " team,\n\nHere is what happened in your areas of Go in " + dg.Period.Name +
		", and what I am looking at.\n\n" + dg.Markdown() + "\nReply to this e-mail with anything you would like me to look at.\n"
	return note.Draft{
		Client:  dg.Client.ID,
		Key:     dg.Key(),
		To:      dg.Client.Contacts,
		Subject: "Go in " + dg.Period.Name + ": your digest",
		Body:    body,
	}
}
