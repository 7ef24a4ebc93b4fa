// Package queue keeps reciprocal's consult prompts: "ask this client about
// this item, because of what they told you". The matcher (package
// watcher/match) creates prompts and adds triggers to them; the maintainer
// closes, snoozes and dismisses them from the CLI; the briefing lists them.
//
// # Prompts and topics
//
// A prompt is keyed by (client, concern, topic): there is at most one for
// each triple, however often its items change. A topic (package
// watcher/topic) is a story of related items — an issue, its CLs, backports,
// the vulnerability entry — so the maintainer is asked once per story. The
// items of the topic that matched the concern are the prompt's members;
// each keeps what it matched on and its own snapshot. The lead item is the
// member of the latest trigger: the one the prompt is "about".
//
// A prompt's ID is "p-" followed by the first 7 characters of the lowercase
// base32 encoding (a-z, 2-7) of the SHA-256 of "client\x00concern\x00item",
// item being its first member, like p-k3xq9za: short, stable across runs
// and installs, and typeable. It stays the same as the topic grows. If two
// keys ever share those 7 characters, the later prompt takes one more
// character, and so on.
//
// A prompt is created on the first match of an item of its topic, with a
// "match" trigger. Another matching item of the topic joins it as a member
// (an open prompt stays one prompt; a history prompt that a recent item
// joins is opened with a "match" trigger). The prompt gets a new trigger,
// and is re-opened, only on a milestone of one of its members: a proposal
// changing stage, a CL merged, abandoned or restored, an issue or pull
// request closed, merged or reopened, a vulnerability amended or withdrawn.
// New comments are not milestones. Each member keeps the snapshot of its
// item (state, stage, modification time) at its last trigger, which its
// next milestone is detected against.
//
// When two topics become one (a CL names an issue of another topic), their
// prompts for the same client and concern become one: the older prompt
// (created first) survives with the members and triggers of both, and the
// other is stored with state merged, naming the survivor (MergedInto). See
// MergeTopics.
//
// # States
//
//	open       in the queue
//	done       the maintainer consulted the client; the note says what they said
//	snoozed    out of the queue until a time; it counts as open from then on
//	           (decided when read, so read-only commands see it too)
//	dismissed  never again for this client, concern and item: milestones do
//	           not re-open it
//	history    a first match on an item last updated before the look-back
//	           window (typically found when a concern is first evaluated):
//	           shown with the client, never in the queue, re-opened by a
//	           later milestone
//	merged     its topic became part of another topic, whose prompt for the
//	           same client and concern now holds its members (MergedInto)
//	withdrawn  the concern was edited and no longer matches any member, and
//	           nobody had acted on the prompt (see Withdraw)
//	held       a new match that resembles what the maintainer marked not
//	           relevant for the concern (package watcher/match, learn.go):
//	           not in the queue, listed with its reason (HeldReason);
//	           reopen puts it in the queue, forgetting the concern's
//	           judgements releases it
//
// # Judgements
//
// Marking a prompt done records that it was relevant; dismissing it with
// DismissNotRelevant records that it was not. The judgement is kept on the
// log event (Event.Judgement); Judgement returns the prompt's current one.
// A re-open retracts it.
//
// Merged and withdrawn prompts never return to the queue on their own.
//
// # Key schema (buckets of the store)
//
//	prompts        prompt ID → Prompt, in a compact binary form (codec.go)
//	prompt-topics  topic 0x00 client 0x00 concern → prompt ID
//	prompt-states  stored state 0x00 prompt ID → empty (prompts by state)
//	prompt-meta    "version" → 1 byte, the key schema version (2)
//	learn-forget   client 0x00 concern → when its judgements were last
//	               forgotten (learn.go)
//
// Version 1 keyed prompts by item (prompt-keys: client 0x00 concern 0x00
// item ID → prompt ID). Migrate converts a version 1 queue: it runs on the
// first match after an upgrade, and until then readers list version 1
// prompts as they are.
package queue

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
)

// A State is where a prompt stands.
type State string

// States of prompts.
const (
	Open      State = "open"
	Done      State = "done"
	Snoozed   State = "snoozed"
	Dismissed State = "dismissed"
	History   State = "history"
	Merged    State = "merged"
	Withdrawn State = "withdrawn"
	Held      State = "held"
)

// States lists every state, in the order the CLI documents them.
var States = []State{Open, Snoozed, Done, Dismissed, History, Merged, Withdrawn, Held}

// Trigger kinds: why a prompt was created or re-opened.
const (
	TriggerMatch     = "match"     // the item matched the concern for the first time
	TriggerStage     = "stage"     // a proposal changed stage
	TriggerMerged    = "merged"    // a CL or pull request was merged
	TriggerAbandoned = "abandoned" // a CL was abandoned
	TriggerRestored  = "restored"  // an abandoned or merged CL is under review again
	TriggerClosed    = "closed"    // an issue, proposal or pull request was closed
	TriggerReopened  = "reopened"  // ... or reopened
	TriggerAmended   = "amended"   // a vulnerability entry was modified
	TriggerWithdrawn = "withdrawn" // a vulnerability entry was withdrawn
)

// A Prompt asks the maintainer to consult a client about a topic.
type Prompt struct {
	ID      string `json:"id"`
	Client  string `json:"client"`
	Concern string `json:"concern"`
	// Topic is the topic's ID (package watcher/topic) as of the last
	// change of the prompt.
	Topic string `json:"topic"`
	// Item is the lead member's item: the one of the latest trigger.
	Item ItemInfo `json:"item"`
	// Members are the items of the topic that matched the concern,
	// newest event first (see SortMembers). There is always at least one.
	Members []Member `json:"members"`
	State   State    `json:"state"` // as stored; see StateAt
	// MergedInto names the prompt that a merged prompt became part of.
	MergedInto string `json:"merged_into,omitempty"`
	// HeldReason says why a held prompt was held back: "like 3 prompts
	// you marked not relevant: area x/build, repo build".
	HeldReason string `json:"held_reason,omitempty"`
	// Until is when a snoozed prompt returns to the queue.
	Until   time.Time `json:"until,omitzero"`
	Created time.Time `json:"created"`
	// Updated is the last time the prompt changed state or got a trigger.
	Updated time.Time `json:"updated"`
	// Triggers are why the prompt was created and re-opened, oldest first.
	// There is always at least one.
	Triggers []Trigger `json:"triggers"`
	// Reasons are why the lead item matched, as of the last evaluation;
	// each member has its own.
	Reasons Reasons `json:"reasons"`
	// ClockStart, for a vulnerability published within the look-back
	// window when it matched, is when it was published: the client's
	// response clock (SLA) runs from then. Zero otherwise: an old
	// vulnerability starts no clock.
	ClockStart time.Time `json:"clock_start,omitzero"`
	// Log records what the maintainer did with the prompt, oldest first.
	Log []Event `json:"log,omitempty"`

	stored State // state in the store when read; "" for a new prompt
}

// ItemInfo is what a prompt remembers of its item, as of the last
// evaluation, so that the queue can be listed without the index.
type ItemInfo struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Title    string   `json:"title"`
	URL      string   `json:"url"`
	State    string   `json:"state"`
	Stage    string   `json:"stage,omitempty"`
	Packages []string `json:"packages,omitempty"`
	// Routine says why the item is a routine change, or is empty.
	Routine string    `json:"routine,omitempty"`
	Updated time.Time `json:"updated"`
	// Published is when a vulnerability was published.
	Published time.Time `json:"published,omitzero"`
}

// A Member is an item of the prompt's topic that matched the concern.
type Member struct {
	Item    ItemInfo `json:"item"`
	Reasons Reasons  `json:"reasons"`
	// Snapshot is the item's state at its last trigger (or when it
	// joined): its next milestone is detected against it.
	Snapshot Snapshot `json:"snapshot"`
	// Joined is when the item joined the prompt.
	Joined time.Time `json:"joined"`
}

// A Snapshot is the part of an item's state that milestones are detected on.
type Snapshot struct {
	State string `json:"state"`
	Stage string `json:"stage,omitempty"`
	// Modified is a vulnerability's modification time.
	Modified time.Time `json:"modified,omitzero"`
}

// A Trigger is one reason a prompt was created or re-opened.
type Trigger struct {
	At   time.Time `json:"at"` // when the matcher saw it
	Kind string    `json:"kind"`
	// Item is the member whose match or milestone this is.
	Item        string   `json:"item"`
	Description string   `json:"description"` // "proposal moved from active to likely-accept"
	Snapshot    Snapshot `json:"snapshot"`
}

// Reasons say why an item matched a concern.
type Reasons struct {
	// Packages are the concern's packages that the item touches (itself
	// or through a sub-package).
	Packages []string `json:"packages,omitempty"`
	// Terms are the query's words found in the item.
	Terms []string `json:"terms,omitempty"`
	// Snippet is a piece of the item's text with the terms marked.
	Snippet index.Snippet `json:"snippet,omitempty"`
}

// An Event is something the maintainer did with a prompt.
type Event struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"` // done, snoozed, dismissed, reopened
	Note   string    `json:"note,omitempty"`
	Until  time.Time `json:"until,omitzero"` // snoozed until
	// Judgement is the maintainer's verdict on the prompt's relevance, if
	// the action gave one: JudgedRelevant (done) or JudgedNotRelevant
	// (dismiss --not-relevant).
	Judgement string `json:"judgement,omitempty"`
}

// Judgements of relevance.
const (
	JudgedRelevant    = "relevant"
	JudgedNotRelevant = "not-relevant"
)

// Actions recorded in the log.
const (
	ActionDone      = "done"
	ActionSnoozed   = "snoozed"
	ActionDismissed = "dismissed"
	ActionReopened  = "reopened"
	ActionMerged    = "merged"
	ActionWithdrawn = "withdrawn"
)

// idLen is the number of base32 characters of a new prompt ID.
const idLen = 7

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// idChars returns the full base32 hash that prompt IDs of the key are
// prefixes of.
func idChars(client, concern, item string) string {
	h := sha256.Sum256([]byte(keyOf(client, concern, item)))
	return idEncoding.EncodeToString(h[:])
}

// ID returns the ID a prompt for (client, concern, item) gets, unless it
// collides with another prompt's (see the package documentation).
func ID(client, concern, item string) string {
	return "p-" + idChars(client, concern, item)[:idLen]
}

var idPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^p-[a-z2-7]{7,52}$`) })

// ParseID checks a prompt ID typed by a user, accepting upper case.
func ParseID(s string) (string, error) {
	id := strings.ToLower(strings.TrimSpace(s))
	if !idPattern().MatchString(id) {
		return "", fmt.Errorf("bad prompt ID %q: want p- and 7 letters or digits 2-7, like p-k3xq9za", s)
	}
	return id, nil
}

func keyOf(client, concern, item string) string {
	return client + "\x00" + concern + "\x00" + item
}

// StateAt returns the prompt's state at time now: a snoozed prompt whose
// time has come is open.
func (p *Prompt) StateAt(now time.Time) State {
	if p.State == Snoozed && !now.Before(p.Until) {
		return Open
	}
	return p.State
}

// Trigger returns the latest trigger.
func (p *Prompt) Trigger() Trigger {
	if len(p.Triggers) == 0 {
		return Trigger{}
	}
	return p.Triggers[len(p.Triggers)-1]
}

// A StateError reports an action that the prompt's state does not allow.
type StateError struct {
	ID     string
	State  State
	Action string
	Hint   string
}

func (e *StateError) Error() string {
	msg := fmt.Sprintf("%s is %s", e.ID, e.State)
	if e.State == Open && e.Action == ActionReopened {
		msg = fmt.Sprintf("%s is already open", e.ID)
	} else if e.State == Done || e.State == Dismissed {
		msg = fmt.Sprintf("%s is already %s", e.ID, e.State)
	}
	msg += ": cannot mark it " + e.Action
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// ErrState is matched by every *StateError (errors.Is).
var ErrState = errors.New("prompt state does not allow this")

// Is makes errors.Is(err, ErrState) true.
func (e *StateError) Is(target error) bool { return target == ErrState }

func (p *Prompt) deny(now time.Time, action, hint string) error {
	if p.State == Merged {
		hint = "it is part of " + p.MergedInto + " now"
	}
	return &StateError{ID: p.ID, State: p.StateAt(now), Action: action, Hint: hint}
}

func (p *Prompt) set(now time.Time, s State, ev Event) {
	p.State = s
	p.Until = time.Time{}
	p.Updated = now
	ev.At = now
	p.Log = append(p.Log, ev)
}

// MarkDone records that the client was consulted; note says what came of
// it. Open, snoozed and history prompts can be marked done.
func (p *Prompt) MarkDone(now time.Time, note string) error {
	switch p.StateAt(now) {
	case Open, Snoozed, History, Held:
	default:
		return p.deny(now, ActionDone, "reopen it first")
	}
	p.set(now, Done, Event{Action: ActionDone, Note: note, Judgement: JudgedRelevant})
	return nil
}

// DismissNotRelevant dismisses the prompt, recording that it was not
// relevant to the concern: the matcher learns from it.
func (p *Prompt) DismissNotRelevant(now time.Time, note string) error {
	if err := p.Dismiss(now, note); err != nil {
		return err
	}
	p.Log[len(p.Log)-1].Judgement = JudgedNotRelevant
	return nil
}

// Judgement returns the maintainer's current judgement of the prompt and
// when it was made: that of the last done, dismissed or re-opened event
// (a re-open retracts it), or "" if there is none.
func (p *Prompt) Judgement() (string, time.Time) {
	for i := len(p.Log) - 1; i >= 0; i-- {
		switch ev := p.Log[i]; ev.Action {
		case ActionDone, ActionDismissed, ActionReopened:
			return ev.Judgement, ev.At
		}
	}
	return "", time.Time{}
}

// Snooze takes an open or snoozed prompt out of the queue until the given
// time, which must be in the future.
func (p *Prompt) Snooze(now, until time.Time, note string) error {
	if !until.After(now) {
		return fmt.Errorf("%s: snooze until %s: that is not in the future", p.ID, until.Format(time.DateOnly))
	}
	switch p.StateAt(now) {
	case Open, Snoozed:
	default:
		return p.deny(now, ActionSnoozed, "reopen it first")
	}
	p.set(now, Snoozed, Event{Action: ActionSnoozed, Note: note, Until: until})
	p.Until = until
	return nil
}

// Dismiss closes the prompt for good: no milestone of the item re-opens it
// for this client and concern.
func (p *Prompt) Dismiss(now time.Time, note string) error {
	if p.State == Dismissed || p.State == Merged {
		return p.deny(now, ActionDismissed, "")
	}
	p.set(now, Dismissed, Event{Action: ActionDismissed, Note: note})
	return nil
}

// Reopen puts a done, snoozed, dismissed or history prompt back in the
// queue.
func (p *Prompt) Reopen(now time.Time) error {
	if s := p.StateAt(now); s == Open || s == Merged {
		return p.deny(now, ActionReopened, "")
	}
	p.set(now, Open, Event{Action: ActionReopened})
	return nil
}

// AddTrigger records a milestone of member t.Item: the prompt gets the
// trigger and, unless dismissed, merged or withdrawn, is open again with
// that member as its lead. It reports whether the trigger was recorded.
func (p *Prompt) AddTrigger(t Trigger) bool {
	switch p.State {
	case Dismissed, Merged, Withdrawn:
		return false
	}
	p.Triggers = append(p.Triggers, t)
	if p.State == Held {
		// Held back as probably not relevant: the milestone is recorded
		// and shows with it, but does not put it in the queue.
		if m := p.Member(t.Item); m != nil {
			m.Snapshot = t.Snapshot
		}
		p.Updated = t.At
		p.lead()
		return true
	}
	if m := p.Member(t.Item); m != nil {
		m.Snapshot = t.Snapshot
	}
	p.State = Open
	p.Until = time.Time{}
	p.Updated = t.At
	p.lead()
	return true
}

// Member returns the member for the given item ID, or nil.
func (p *Prompt) Member(item string) *Member {
	for i := range p.Members {
		if p.Members[i].Item.ID == item {
			return &p.Members[i]
		}
	}
	return nil
}

// AddMember adds m to the prompt's members, or replaces the member for the
// same item.
func (p *Prompt) AddMember(m Member) {
	if old := p.Member(m.Item.ID); old != nil {
		*old = m
	} else {
		p.Members = append(p.Members, m)
	}
	SortMembers(p.Members)
	p.lead()
}

// SortMembers orders members newest event first: by the item's last
// update, then by ID.
func SortMembers(ms []Member) {
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := &ms[i].Item, &ms[j].Item
		if !a.Updated.Equal(b.Updated) {
			return a.Updated.After(b.Updated)
		}
		return a.ID < b.ID
	})
}

// KindRank orders item kinds by how well they lead a topic: the
// vulnerability, the proposal, the issue, then pull requests and CLs.
func KindRank(kind string) int {
	switch kind {
	case index.KindVuln:
		return 0
	case index.KindProposal:
		return 1
	case index.KindIssue:
		return 2
	case index.KindPull:
		return 3
	}
	return 4
}

// lead sets Item and Reasons from the member of the latest trigger; of
// several triggers at the same time, from the member whose kind leads
// (KindRank).
func (p *Prompt) lead() {
	if len(p.Members) == 0 {
		return
	}
	var m *Member
	if n := len(p.Triggers); n > 0 {
		last := p.Triggers[n-1].At
		for i := n - 1; i >= 0 && p.Triggers[i].At.Equal(last); i-- {
			if c := p.Member(p.Triggers[i].Item); c != nil && (m == nil || KindRank(c.Item.Kind) < KindRank(m.Item.Kind)) {
				m = c
			}
		}
	}
	if m == nil {
		m = &p.Members[0]
	}
	p.Item = m.Item
	p.Reasons = m.Reasons
}

// Lead is the member the prompt is about: the one of its latest trigger.
func (p *Prompt) Lead() *Member {
	p.lead()
	if m := p.Member(p.Item.ID); m != nil {
		return m
	}
	return nil
}
