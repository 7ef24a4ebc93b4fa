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
package index

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Sources of items.
const (
	SourceGitHub = "github"
	SourceGerrit = "gerrit"
	SourceVulnDB = "vulndb"
	// SourceAdvisories is GitHub repository security advisories, of the
	// maintainer's own projects.
	SourceAdvisories = "advisories"
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
	Source   string    `json:"source"`
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

// GerritID returns the ID of change n of project on the Gerrit host.
// host may be a full host name or URL; only its first label is kept.
func GerritID(host, project string, n int) string {
	return GerritHostLabel(host) + ":" + project + "/" + strconv.Itoa(n)
}

// GerritHostLabel reduces a Gerrit URL or host name to the short host label
// used in item IDs: "https://go-review.googlesource.com" → "go-review". An
// IPv4 address is kept whole ("127.0.0.1"), since its first number would
// name nothing.
func GerritHostLabel(host string) string {
	host = strings.TrimPrefix(host, "https://")
	host = strings.TrimPrefix(host, "http://")
	if i := strings.IndexAny(host, "/:"); i >= 0 {
		host = host[:i]
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
		return host
	}
	if i := strings.IndexByte(host, '.'); i >= 0 {
		host = host[:i]
	}
	if host == "" {
		return DefaultGerritHost
	}
	return host
}

// DefaultGerritHost is the host label of Go's Gerrit, used when a change's
// host is not known (for example when importing a file of ChangeInfo objects).
const DefaultGerritHost = "go-review"

// ParsedID is an item ID taken apart.
type ParsedID struct {
	Source string
	Host   string // Gerrit only
	Repo   string // owner/name or Gerrit project or vuln ID
	Number int
	VulnID string
}

// ParseID takes apart an item ID, reporting an error that shows the accepted
// forms when id is none of them.
func ParseID(id string) (ParsedID, error) {
	bad := func() (ParsedID, error) {
		return ParsedID{}, fmt.Errorf("bad item ID %q: want owner/repo#N (GitHub), host:project/N (Gerrit), GO-YYYY-NNNN (vulnerability) or GHSA-xxxx-xxxx-xxxx (advisory)", id)
	}
	switch {
	case strings.HasPrefix(id, "GHSA-"):
		parts := strings.Split(id, "-")
		if len(parts) != 4 {
			return bad()
		}
		for _, p := range parts[1:] {
			if len(p) != 4 || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
				return bad()
			}
		}
		return ParsedID{Source: SourceAdvisories, VulnID: id}, nil
	case strings.HasPrefix(id, "GO-"):
		parts := strings.Split(id, "-")
		if len(parts) != 3 || len(parts[1]) != 4 || !digits(parts[1]) || !digits(parts[2]) {
			return bad()
		}
		return ParsedID{Source: SourceVulnDB, VulnID: id}, nil
	case strings.Contains(id, "#"):
		repo, num, _ := strings.Cut(id, "#")
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 || strings.Count(repo, "/") != 1 || !cleanPath(repo) {
			return bad()
		}
		return ParsedID{Source: SourceGitHub, Repo: repo, Number: n}, nil
	case strings.Contains(id, ":"):
		host, rest, _ := strings.Cut(id, ":")
		i := strings.LastIndexByte(rest, '/')
		if host == "" || i <= 0 || !cleanPath(host) || strings.Contains(host, "/") || !cleanPath(rest[:i]) {
			return bad()
		}
		n, err := strconv.Atoi(rest[i+1:])
		if err != nil || n <= 0 {
			return bad()
		}
		return ParsedID{Source: SourceGerrit, Host: host, Repo: rest[:i], Number: n}, nil
	}
	return bad()
}

// cleanPath reports whether p is slash-separated names that are safe to
// use anywhere an ID goes (file names, URLs, a terminal): no empty, "." or
// ".." element, no white space, control characters or backslashes.
func cleanPath(p string) bool {
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." {
			return false
		}
	}
	return !strings.ContainsFunc(p, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '\\' || r == '#' || unicode.IsSpace(r) || unicode.IsControl(r)
	})
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Text returns the item's searchable text in one string: title, body and
// comments. The matcher uses it to explain which query terms matched.
func (it *Item) Text() string {
	return it.Title + "\n" + it.Body + "\n" + it.Comments
}
