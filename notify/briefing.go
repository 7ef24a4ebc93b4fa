// Package notify composes the daily briefing, delivers it over SMTP and
// remembers what was sent.
//
// The input is a Briefing: what one day's e-mail reports, in the order the
// maintainer reads it (open SLA requests, vulnerabilities in their SLA
// window, consult prompts grouped by client, proposals changing stage, then
// the health of the syncs). It is plain data, filled by whoever gathers it
// (package notify/report, from the store and the prompt queue); notify does
// not know where it comes from.
//
// Compose turns a Briefing into a MIME message (text and HTML alternatives).
// The Outbox keeps each day's message in the store from the moment it is
// composed until the server accepts it, so that a failed delivery is retried
// with the same bytes and the same Message-ID, and a day's briefing is never
// sent twice unless asked to (Outbox.Resend).
//
// All text that came from a tracker is untrusted: it is escaped in HTML,
// stripped of control characters in plain text, and never reaches a header
// except through a sanitizer.
package notify

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
)

// A Briefing is what one day's e-mail reports.
type Briefing struct {
	// Date is the civil day the briefing is for, in the configured time
	// zone. Zero means the day of Now in Options.Location.
	Date Date
	// Now is when the briefing is composed: the Date header, and the
	// moment deadlines are measured from.
	Now time.Time

	// Requests are the clients' open requests under the vulnerability
	// SLA, with their deadlines.
	Requests     []SLARequest
	Vulns        []VulnAlert
	Clients      []ClientPrompts
	StageChanges []StageChange
	Health       []SourceHealth

	// HistoryRecorded is how many older matches a first run recorded as
	// history instead of prompting for them.
	HistoryRecorded int

	// Digests are the clients' periodic digests due and not sent yet.
	Digests []DigestDue

	// Held are the matches held back since the last briefing because they
	// resemble what the maintainer marked not relevant, and HeldMore how
	// many more there are than listed.
	Held     []HeldPrompt
	HeldMore int
}

// A HeldPrompt is a match held back as probably not relevant.
type HeldPrompt struct {
	ID      string // prompt ID: 'reciprocal queue reopen ID' puts it in the queue
	Client  string // name
	Concern string // ID
	ItemID  string
	Title   string
	Reason  string // "like 3 prompts you marked not relevant: …"
}

// A DigestDue is a client's digest for a period that ended, not sent yet.
type DigestDue struct {
	Client  string // name
	Period  string // 2026-Q3
	Command string // what writes it: reciprocal digest acme --period 2026-Q3
}

// An SLARequest is a client's request for help about a vulnerability,
// not answered yet.
type SLARequest struct {
	ID       string // r1
	Client   string
	Vuln     string // GO-2026-4951
	Summary  string // the vulnerability's summary
	Note     string // what they asked
	Asked    time.Time
	Deadline time.Time // when the answer is owed
}

// A VulnAlert is a vulnerability that qualifies for the SLA of one or
// more clients, whose window to ask is open.
type VulnAlert struct {
	ID        string   // GO-2026-4321
	Aliases   []string // CVE and GHSA IDs
	Summary   string
	URL       string
	Packages  []string // affected import paths
	Published time.Time
	Clients   []VulnClient
}

// A VulnClient is one client whose SLA covers a vulnerability, and when
// their window to ask closes.
type VulnClient struct {
	Client  string
	Tier    string
	Concern string // summary of the concern it touches, if any
	// Deadline is when the client's window to ask closes. Zero means
	// Published plus Options.SLA(Tier).
	Deadline time.Time
}

// Remaining returns how long is left until the deadline at now; negative
// when overdue.
func (c VulnClient) Remaining(now time.Time) time.Duration { return c.Deadline.Sub(now) }

// ClientPrompts are the open consult prompts for one client.
type ClientPrompts struct {
	Client   string
	Tier     string   // platinum, gold, silver
	Contacts []string // whom to ask
	Prompts  []Prompt
}

// Priority orders the prompts of a client: higher first.
type Priority int

// Priorities.
const (
	PriorityLow    Priority = -1
	PriorityNormal Priority = 0
	PriorityHigh   Priority = 1
)

func (p Priority) String() string {
	switch {
	case p > PriorityNormal:
		return "high"
	case p < PriorityNormal:
		return "low"
	}
	return "normal"
}

// A Prompt is one consult prompt: ask a client about an item before the
// decision is made.
type Prompt struct {
	ID       string // what closes the prompt
	ItemID   string // golang/go#60105
	Title    string
	URL      string
	Kind     string // issue, pull, proposal, change
	State    string
	Stage    string // proposal stage, if any
	Priority Priority
	Queued   time.Time // when the prompt was queued
	// Trigger says why now: "new proposal", "moved to likely-accept".
	Trigger string

	// The concern it matched, and what the client said about it.
	Concern string    // summary
	Told    string    // what the client told you, in their words
	ToldOn  time.Time // when
	ToldVia string    // how: "call", "email", "QBR"

	// Why it matched.
	Packages []string
	Terms    []string
	Snippet  index.Snippet

	// Members are the items of the prompt's topic that matched, newest
	// first, when there are more than one.
	Members []Member
}

// A Member is one item of a prompt's topic.
type Member struct {
	ItemID string
	Title  string
	Kind   string
	Status string // state, or proposal stage
	Why    string // "crypto/tls; terms session, ticket"
}

// A StageChange is a proposal touching a watched package that moved from
// one stage to another.
type StageChange struct {
	ItemID   string
	Title    string
	URL      string
	From, To string // stages; From may be empty for a new proposal
	At       time.Time
	Packages []string
	Clients  []string // clients watching it
}

// SourceHealth is how syncing one source goes.
type SourceHealth struct {
	Source       string
	LastSuccess  time.Time // zero if it never succeeded
	LastError    string    // empty when the last attempt succeeded
	FailingSince time.Time // zero when the last attempt succeeded
}

// Failing reports whether the source's last sync failed.
func (h SourceHealth) Failing() bool { return h.LastError != "" || !h.FailingSince.IsZero() }

// PromptCount returns the number of consult prompts.
func (b *Briefing) PromptCount() int {
	n := 0
	for _, c := range b.Clients {
		n += len(c.Prompts)
	}
	return n
}

// Failing returns the sources whose last sync failed.
func (b *Briefing) Failing() []SourceHealth {
	var out []SourceHealth
	for _, h := range b.Health {
		if h.Failing() {
			out = append(out, h)
		}
	}
	return out
}

// Empty reports whether nothing in the briefing needs the maintainer: no
// vulnerability, prompt, stage change or history to report, and every
// source syncing.
func (b *Briefing) Empty() bool {
	return len(b.Requests) == 0 && len(b.Vulns) == 0 && b.PromptCount() == 0 && len(b.StageChanges) == 0 &&
		b.HistoryRecorded == 0 && len(b.Failing()) == 0 && len(b.Digests) == 0 && len(b.Held) == 0
}

// tierRank orders tiers: platinum first, then gold, silver and anything
// else.
func tierRank(tier string) int {
	switch strings.ToLower(tier) {
	case "platinum":
		return 0
	case "gold":
		return 1
	case "silver":
		return 2
	}
	return 3
}

// sorted returns a copy of b in reading order, with missing deadlines
// filled from sla. b is not modified.
func (b *Briefing) sorted(sla func(tier string) time.Duration) *Briefing {
	out := *b
	out.Vulns = slices.Clone(b.Vulns)
	for i := range out.Vulns {
		v := &out.Vulns[i]
		v.Clients = slices.Clone(v.Clients)
		for j := range v.Clients {
			c := &v.Clients[j]
			if c.Deadline.IsZero() && sla != nil && !v.Published.IsZero() {
				c.Deadline = v.Published.Add(sla(c.Tier))
			}
		}
		slices.SortStableFunc(v.Clients, func(x, y VulnClient) int {
			return cmp.Or(cmpTime(x.Deadline, y.Deadline), cmp.Compare(tierRank(x.Tier), tierRank(y.Tier)), strings.Compare(x.Client, y.Client))
		})
	}
	slices.SortStableFunc(out.Vulns, func(x, y VulnAlert) int {
		return cmp.Or(cmpTime(firstDeadline(x), firstDeadline(y)), cmpTime(x.Published, y.Published), strings.Compare(x.ID, y.ID))
	})

	out.Requests = slices.Clone(b.Requests)
	slices.SortStableFunc(out.Requests, func(x, y SLARequest) int {
		return cmp.Or(cmpTime(x.Deadline, y.Deadline), strings.Compare(x.ID, y.ID))
	})

	out.Clients = slices.Clone(b.Clients)
	for i := range out.Clients {
		c := &out.Clients[i]
		c.Prompts = slices.Clone(c.Prompts)
		slices.SortStableFunc(c.Prompts, func(x, y Prompt) int {
			return cmp.Or(cmp.Compare(y.Priority, x.Priority), cmpTime(x.Queued, y.Queued), strings.Compare(x.ID, y.ID))
		})
	}
	slices.SortStableFunc(out.Clients, func(x, y ClientPrompts) int {
		return cmp.Or(cmp.Compare(tierRank(x.Tier), tierRank(y.Tier)), strings.Compare(strings.ToLower(x.Client), strings.ToLower(y.Client)))
	})

	out.StageChanges = slices.Clone(b.StageChanges)
	slices.SortStableFunc(out.StageChanges, func(x, y StageChange) int {
		return cmp.Or(cmpTime(y.At, x.At), strings.Compare(x.ItemID, y.ItemID))
	})

	out.Health = slices.Clone(b.Health)
	slices.SortStableFunc(out.Health, func(x, y SourceHealth) int {
		return strings.Compare(x.Source, y.Source)
	})
	return &out
}

// firstDeadline is the earliest deadline among a vulnerability's clients.
func firstDeadline(v VulnAlert) time.Time {
	var t time.Time
	for _, c := range v.Clients {
		if !c.Deadline.IsZero() && (t.IsZero() || c.Deadline.Before(t)) {
			t = c.Deadline
		}
	}
	return t
}

// cmpTime orders times, the zero time last.
func cmpTime(a, b time.Time) int {
	switch {
	case a.IsZero() && b.IsZero():
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

// A Date is a civil day, as in the briefing's time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses a day written as 2006-01-02.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("bad date %q: want YYYY-MM-DD, like 2026-11-24", s)
	}
	return DateOf(t), nil
}

// String formats d as 2006-01-02.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns the instant of hour:minute on day d in loc (see time.Date for
// clock times that do not exist, or exist twice, on days the clocks change).
func (d Date) Time(hour, minute int, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, loc)
}

// AddDays returns the day n days after d.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Compare returns -1, 0 or +1 as d is before, the same as, or after e.
func (d Date) Compare(e Date) int {
	return cmp.Or(cmp.Compare(d.Year, e.Year), cmp.Compare(d.Month, e.Month), cmp.Compare(d.Day, e.Day))
}

// MarshalText formats d as 2006-01-02.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses 2006-01-02.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
