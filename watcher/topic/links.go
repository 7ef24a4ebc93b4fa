package topic

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Kinds of links, as show prints them ("[backport]").
const (
	LinkFixes     = "fixes"       // a CL or pull request says Fixes #N
	LinkUpdates   = "updates"     // ... Updates #N or For #N
	LinkCites     = "cites"       // ... names go.dev/issue/N
	LinkBackport  = "backport"    // a backport issue and its parent
	LinkBranch    = "cherry-pick" // CLs on several branches sharing a Change-Id
	LinkReference = "reference"   // a vulnerability entry's references
	LinkDesign    = "design doc"  // a golang/proposal CL adding design/N-name.md
	LinkImported  = "imported"    // a CL imported from a GitHub pull request (GitHub-Pull-Request: golang/go#N)
)

// A Link joins an item to a node: another item (by ID) or a synthetic node
// that items meet at (see the package documentation).
type Link struct {
	To   string
	Kind string
}

// A Linker derives the links of one stored item from its raw JSON (the
// source descriptors' Links, through source.Registry.Links). It never
// reads other items: links to items not stored yet are kept, and join when
// those items arrive.
type Linker func(rec store.Record) ([]Link, error)

// links returns the links of rec by linker, without links to itself or
// twice to the same node.
func links(linker Linker, rec store.Record) ([]Link, error) {
	ls, err := linker(rec)
	if err != nil {
		return nil, fmt.Errorf("topic: %s: %w", rec.ID, err)
	}
	seen := make(map[string]bool, len(ls))
	out := ls[:0]
	for _, l := range ls {
		if l.To == rec.ID || seen[l.To] {
			continue
		}
		seen[l.To] = true
		out = append(out, l)
	}
	return out, nil
}

// CLNode is the meeting point of Gerrit change n and the references to it
// (go.dev/cl/N).
func CLNode(n int) string { return "~cl:" + strconv.Itoa(n) }

// ChangeIDNode is the meeting point of the changes of project that carry
// one Change-Id: a change and its cherry-picks to release branches.
func ChangeIDNode(project, changeID string) string {
	return "~change-id:" + project + ":" + changeID
}

// IsItem reports whether a node names an item rather than a meeting point.
func IsItem(node string) bool { return !strings.HasPrefix(node, "~") }

// GoRepo is where Go's issues live: bare #N in a CL of any Go Gerrit
// project, and go.dev/issue/N anywhere, name an issue there.
const GoRepo = "golang/go"

// How the Go project's texts name its issues and changes. They are the
// project's conventions, not a source's: CLs and pull requests use the
// same words, and vulnerability entries the same URLs.
var (
	// "Fixes #1", "Updates golang/go#2", "For #3, #4", "fixes golang/go#5 and #6".
	verbRefs = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b(fix(?:es|ed)?|close[sd]?|resolve[sd]?|update[sd]?|for)\b:?[ \t]+((?:[\w.-]+/[\w.-]+)?#\d+(?:(?:[ \t]*,[ \t]*|[ \t]+and[ \t]+)(?:[\w.-]+/[\w.-]+)?#\d+)*)`)
	})
	oneRef = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?:([\w.-]+/[\w.-]+))?#(\d+)`) })
	// go.dev/issue/N, golang.org/issue/N, github.com/golang/go/issues/N.
	issueURL = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\b(?:go\.dev|golang\.org)/issues?/(\d+)\b|\bgithub\.com/golang/go/issues/(\d+)\b`)
	})
	// go.dev/cl/N, golang.org/cl/N, go-review.googlesource.com/c/<project>/+/N.
	clURL = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\b(?:go\.dev|golang\.org)/cl/(\d+)\b|\bgo-review\.googlesource\.com/(?:c/[\w./-]+/\+/)?(\d+)\b`)
	})
)

// MessageLinks finds the issues a commit message or pull request names:
// Fixes/Updates/For #N (bare #N in defaultRepo), and issue URLs, which
// cite.
func MessageLinks(text, defaultRepo string) []Link {
	var out []Link
	for _, m := range verbRefs().FindAllStringSubmatch(text, -1) {
		kind := LinkUpdates
		switch v := strings.ToLower(m[1]); {
		case strings.HasPrefix(v, "fix"), strings.HasPrefix(v, "close"), strings.HasPrefix(v, "resolve"):
			kind = LinkFixes
		}
		for _, r := range oneRef().FindAllStringSubmatch(m[2], -1) {
			repo := r[1]
			if repo == "" {
				repo = defaultRepo
			}
			if n := positive(r[2]); n > 0 {
				out = append(out, Link{To: index.GitHubID(repo, n), Kind: kind})
			}
		}
	}
	return append(out, IssueURLLinks(text, LinkCites)...)
}

// IssueURLLinks links, as kind, to the Go issues text names by URL.
func IssueURLLinks(text, kind string) []Link {
	return urlLinks(issueURL(), text, kind, func(n int) string { return index.GitHubID(GoRepo, n) })
}

// CLURLLinks links, as kind, to the Go changes text names by URL (at their
// CLNode).
func CLURLLinks(text, kind string) []Link { return urlLinks(clURL(), text, kind, CLNode) }

func urlLinks(re *regexp.Regexp, text, kind string, node func(int) string) []Link {
	var out []Link
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		if n := positive(m[1] + m[2]); n > 0 {
			out = append(out, Link{To: node(n), Kind: kind})
		}
	}
	return out
}

// positive returns the number s spells, or 0 if it is not a positive int.
func positive(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
