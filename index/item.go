// Package index holds reciprocal's normalized view of a tracker record (Item),
// the Bleve mapping that indexes it, and search over that index.
//
// The index is derived data: the store (package watcher/store) keeps the raw
// JSON that the trackers served, and the index can always be rebuilt from it.
//
// # Item IDs
//
// Every item has a stable, unique ID that can be typed in a shell without
// quoting:
//
//	golang/go#60105            GitHub issue or pull request: owner/repo#number
//	go-review:crypto/815480    Gerrit change: host:project/number, where host is
//	                           the first label of the Gerrit host name
//	                           (go-review for go-review.googlesource.com)
//	GO-2024-2428               Go vulnerability database entry: its OSV ID
//	GHSA-8x4q-q2mm-7x3c        GitHub security advisory: its GHSA ID
//
// Each form belongs to its source: the source's normalizer builds it, and
// its descriptor parses it (source.Descriptor.ParseID; watcher.Sources.ParseID
// tries every form), so a new source brings its form without editing this
// package. Only GitHubID is here: items of other sources name GitHub
// issues (a CL's "Fixes #N", an OSV entry's go.dev/issue/N), and this
// package is what every source and package topic share without importing
// each other.
package index

import (
	"strconv"
	"time"
)

// Kinds of items.
const (
	KindIssue    = "issue"
	KindPull     = "pull"
	KindProposal = "proposal"
	KindChange   = "change"
	KindVuln     = "vuln"
)

// States of items. GitHub items are open or closed; Gerrit changes are new,
// merged or abandoned; vulnerabilities are published or withdrawn.
const (
	StateOpen      = "open"
	StateClosed    = "closed"
	StateNew       = "new"
	StateMerged    = "merged"
	StateAbandoned = "abandoned"
	StatePublished = "published"
	StateWithdrawn = "withdrawn"
)

// Proposal stages, as the Go proposal review process names them.
const (
	StageIncoming      = "incoming"
	StageActive        = "active"
	StageLikelyAccept  = "likely-accept"
	StageLikelyDecline = "likely-decline"
	StageFinal         = "final-comment"
	StageHold          = "hold"
	StageAccepted      = "accepted"
	StageDeclined      = "declined"
	StageRetracted     = "retracted"
	StageDuplicate     = "duplicate"
)

// Kinds, States and Stages list the values of an Item's Kind, State and
// Stage, for checking what a user asks to filter on.
var (
	Kinds  = []string{KindIssue, KindPull, KindProposal, KindChange, KindVuln}
	States = []string{StateOpen, StateClosed, StateNew, StateMerged, StateAbandoned, StatePublished, StateWithdrawn}
	Stages = []string{StageIncoming, StageActive, StageLikelyAccept, StageLikelyDecline, StageFinal, StageHold, StageAccepted, StageDeclined, StageRetracted, StageDuplicate}
)

// An Item is one tracker record in the form reciprocal indexes and matches:
// a GitHub issue, pull request or proposal, a Gerrit change, or a
// vulnerability entry.
type Item struct {
	ID       string    `json:"id"`
	Source   string    `json:"source"` // the Kind of its source: github, gerrit, vulndb, advisories
	Repo     string    `json:"repo"`   // owner/name on GitHub, project on Gerrit, module (or "stdlib") for vulns
	Number   int       `json:"number"` // issue or change number; 0 for vulns
	Kind     string    `json:"kind"`
	Title    string    `json:"title"`
	Body     string    `json:"body"`
	Comments string    `json:"comments,omitempty"` // all comments or review messages, oldest first
	Labels   []string  `json:"labels,omitempty"`
	State    string    `json:"state"`
	Stage    string    `json:"stage,omitempty"`    // proposal stage, if known
	Stages   []Stage   `json:"stages,omitempty"`   // proposal stage history, oldest first
	Packages []string  `json:"packages,omitempty"` // Go import paths the item touches
	Files    []string  `json:"files,omitempty"`    // files of a change
	Aliases  []string  `json:"aliases,omitempty"`  // CVE and GHSA IDs of a vulnerability
	Author   string    `json:"author,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	Closed   time.Time `json:"closed,omitzero"` // closed, merged, abandoned or withdrawn
	URL      string    `json:"url"`
	// Affected are a vulnerability's affected modules and versions, as its
	// source states them (not indexed).
	Affected []Affected `json:"affected,omitempty"`
	// Routine says why the item is a routine change ("test-only
	// change"), or is empty; see Routine.
	Routine string `json:"routine,omitempty"`
}

// Affected is one module a vulnerability affects: which versions, and
// which fix them.
type Affected struct {
	Module   string   `json:"module"`             // "stdlib", "toolchain", golang.org/x/net, owner/name
	Packages []string `json:"packages,omitempty"` // affected import paths, if known
	Versions string   `json:"versions"`           // "before 1.26.9; from 1.27.0-0 before 1.27.4"
	Fixed    []string `json:"fixed,omitempty"`    // versions that fix it: 1.26.9, 1.27.4
}

// A Stage is one step of a proposal's history: the stage it entered, when,
// and what showed it (a label or a review-group comment).
type Stage struct {
	Stage string    `json:"stage"`
	At    time.Time `json:"at"`
	Via   string    `json:"via"`
}

// GitHubID returns the ID of issue number n in repo owner/name.
func GitHubID(repo string, n int) string { return repo + "#" + strconv.Itoa(n) }

// Text returns the item's searchable text in one string: title, body and
// comments. The matcher uses it to explain which query terms matched.
func (it *Item) Text() string {
	return it.Title + "\n" + it.Body + "\n" + it.Comments
}
