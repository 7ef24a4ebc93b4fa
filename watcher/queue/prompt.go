// Package queue keeps reciprocal's consult prompts: "ask this client about
// this item, because of what they told you". The matcher (package
// watcher/match) creates prompts and adds triggers to them; the maintainer
// closes, snoozes and dismisses them from the CLI; the briefing lists them.
//
// # Prompts
//
// A prompt is keyed by (client, concern, item): there is at most one for each
// triple, however often the item changes. Its ID is "p-" followed by the
// first 7 characters of the lowercase base32 encoding (a-z, 2-7) of the
// SHA-256 of "client\x00concern\x00item", like p-k3xq9za: short, stable
// across runs and installs, and typeable. If two keys ever share those 7
// characters, the later prompt takes one more character, and so on.
//
// A prompt is created on the first match, with a "match" trigger. It gets a
// new trigger, and is re-opened, only on a milestone of its item: a proposal
// changing stage, a CL merged, abandoned or restored, an issue or pull
// request closed, merged or reopened, a vulnerability amended or withdrawn.
// New comments are not milestones. Each trigger keeps the snapshot of the
// item (state, stage, modification time) that the next milestone is
// detected against.
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
//
// # Key schema (buckets of the store)
//
//	prompts        prompt ID → Prompt, in a compact binary form (codec.go)
//	prompt-keys    client 0x00 concern 0x00 item ID → prompt ID
//	prompt-states  stored state 0x00 prompt ID → empty (prompts by state)
package queue

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"strings"
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
)

// States lists every state, in the order the CLI documents them.
var States = []State{Open, Snoozed, Done, Dismissed, History}

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

// A Prompt asks the maintainer to consult a client about an item.
type Prompt struct {
	ID      string   `json:"id"`
	Client  string   `json:"client"`
	Concern string   `json:"concern"`
	Item    ItemInfo `json:"item"`
	State   State    `json:"state"` // as stored; see StateAt
	// Until is when a snoozed prompt returns to the queue.
	Until   time.Time `json:"until,omitzero"`
	Created time.Time `json:"created"`
	// Updated is the last time the prompt changed state or got a trigger.
	Updated time.Time `json:"updated"`
	// Triggers are why the prompt was created and re-opened, oldest first.
	// There is always at least one.
	Triggers []Trigger `json:"triggers"`
	// Reasons are why the item matched, as of the last evaluation.
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
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Title    string    `json:"title"`
	URL      string    `json:"url"`
	State    string    `json:"state"`
	Stage    string    `json:"stage,omitempty"`
	Packages []string  `json:"packages,omitempty"`
	Updated  time.Time `json:"updated"`
	// Published is when a vulnerability was published.
	Published time.Time `json:"published,omitzero"`
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
	At          time.Time `json:"at"` // when the matcher saw it
	Kind        string    `json:"kind"`
	Description string    `json:"description"` // "proposal moved from active to likely-accept"
	Snapshot    Snapshot  `json:"snapshot"`
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
}

// Actions recorded in the log.
const (
	ActionDone      = "done"
	ActionSnoozed   = "snoozed"
	ActionDismissed = "dismissed"
	ActionReopened  = "reopened"
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

var idPattern = regexp.MustCompile(`^p-[a-z2-7]{7,52}$`)

// ParseID checks a prompt ID typed by a user, accepting upper case.
func ParseID(s string) (string, error) {
	id := strings.ToLower(strings.TrimSpace(s))
	if !idPattern.MatchString(id) {
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
	case Open, Snoozed, History:
	default:
		return p.deny(now, ActionDone, "reopen it first")
	}
	p.set(now, Done, Event{Action: ActionDone, Note: note})
	return nil
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
	if p.State == Dismissed {
		return p.deny(now, ActionDismissed, "")
	}
	p.set(now, Dismissed, Event{Action: ActionDismissed, Note: note})
	return nil
}

// Reopen puts a done, snoozed, dismissed or history prompt back in the
// queue.
func (p *Prompt) Reopen(now time.Time) error {
	if p.StateAt(now) == Open {
		return p.deny(now, ActionReopened, "")
	}
	p.set(now, Open, Event{Action: ActionReopened})
	return nil
}

// AddTrigger records a milestone: the prompt gets the trigger and, unless
// dismissed, is open again. It reports whether the trigger was recorded.
func (p *Prompt) AddTrigger(t Trigger) bool {
	if p.State == Dismissed {
		return false
	}
	p.Triggers = append(p.Triggers, t)
	p.State = Open
	p.Until = time.Time{}
	p.Updated = t.At
	return true
}
