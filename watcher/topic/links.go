package topic

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

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

// Synthetic node names. They start with "~", which no item ID does.
func clNode(n int) string { return "~cl:" + strconv.Itoa(n) }

func changeIDNode(project, changeID string) string { return "~change-id:" + project + ":" + changeID }

// IsItem reports whether a node names an item rather than a meeting point.
func IsItem(node string) bool { return !strings.HasPrefix(node, "~") }

// goRepo is where Go's issues live: bare #N in a CL of any Go Gerrit
// project names an issue there.
const goRepo = "golang/go"

var (
	// "Fixes #1", "Updates golang/go#2", "For #3, #4", "fixes golang/go#5 and #6".
	verbRefs = regexp.MustCompile(`(?i)\b(fix(?:es|ed)?|close[sd]?|resolve[sd]?|update[sd]?|for)\b:?[ \t]+((?:[\w.-]+/[\w.-]+)?#\d+(?:(?:[ \t]*,[ \t]*|[ \t]+and[ \t]+)(?:[\w.-]+/[\w.-]+)?#\d+)*)`)
	oneRef   = regexp.MustCompile(`(?:([\w.-]+/[\w.-]+))?#(\d+)`)
	// go.dev/issue/N, golang.org/issue/N, github.com/golang/go/issues/N.
	issueURL = regexp.MustCompile(`\b(?:go\.dev|golang\.org)/issues?/(\d+)\b|\bgithub\.com/golang/go/issues/(\d+)\b`)
	// go.dev/cl/N, golang.org/cl/N, go-review.googlesource.com/c/<project>/+/N.
	clURL = regexp.MustCompile(`\b(?:go\.dev|golang\.org)/cl/(\d+)\b|\bgo-review\.googlesource\.com/(?:c/[\w./-]+/\+/)?(\d+)\b`)
	// "GitHub-Pull-Request: golang/go#76459", the trailer gerritbot adds
	// to a CL it imported from a pull request.
	pullTrailer = regexp.MustCompile(`(?m)^GitHub-Pull-Request:[ \t]*([\w.-]+/[\w.-]+)#(\d+)[ \t]*$`)
	// "[1.26 backport]" at the end of a backport issue's title.
	backportTitle = regexp.MustCompile(`(?i)\[\d+\.\d+ backport\]`)
	// "@x requested issue #76489 to be considered for backport".
	backportParent = regexp.MustCompile(`(?i)issue #(\d+)`)
	// design/60105-name.md in golang/proposal.
	designDoc = regexp.MustCompile(`^design/(\d+)-[^/]+\.md$`)
)

// Links derives the links of one stored item from its raw JSON. It never
// reads other items: links to items not stored yet are kept, and join when
// those items arrive.
func Links(rec store.Record) ([]Link, error) {
	var out []Link
	var err error
	switch rec.Source {
	case index.SourceGitHub:
		out, err = githubLinks(rec)
	case index.SourceGerrit:
		out, err = gerritLinks(rec)
	case index.SourceVulnDB:
		out, err = osvLinks(rec)
	}
	if err != nil {
		return nil, fmt.Errorf("topic: %s: %w", rec.ID, err)
	}
	return dedupe(rec.ID, out), nil
}

func dedupe(self string, ls []Link) []Link {
	seen := make(map[string]bool, len(ls))
	out := ls[:0]
	for _, l := range ls {
		if l.To == self || seen[l.To] {
			continue
		}
		seen[l.To] = true
		out = append(out, l)
	}
	return out
}

// messageLinks finds the issues a commit message or pull request body
// names: Fixes/Updates/For #N (bare #N in defaultRepo) and issue URLs.
func messageLinks(text, defaultRepo string) []Link {
	var out []Link
	for _, m := range verbRefs.FindAllStringSubmatch(text, -1) {
		kind := LinkUpdates
		switch v := strings.ToLower(m[1]); {
		case strings.HasPrefix(v, "fix"), strings.HasPrefix(v, "close"), strings.HasPrefix(v, "resolve"):
			kind = LinkFixes
		}
		for _, r := range oneRef.FindAllStringSubmatch(m[2], -1) {
			repo := r[1]
			if repo == "" {
				repo = defaultRepo
			}
			n, err := strconv.Atoi(r[2])
			if err != nil || n <= 0 {
				continue
			}
			out = append(out, Link{To: index.GitHubID(repo, n), Kind: kind})
		}
	}
	for _, m := range issueURL.FindAllStringSubmatch(text, -1) {
		s := m[1] + m[2]
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			out = append(out, Link{To: index.GitHubID(goRepo, n), Kind: LinkCites})
		}
	}
	return out
}

type githubIssue struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	User  struct {
		Login string `json:"login"`
	} `json:"user"`
	PullRequest json.RawMessage `json:"pull_request"`
}

func githubLinks(rec store.Record) ([]Link, error) {
	var is githubIssue
	if err := json.Unmarshal(rec.Raw, &is); err != nil {
		return nil, err
	}
	repo := rec.ID
	if i := strings.LastIndexByte(repo, '#'); i >= 0 {
		repo = repo[:i]
	}
	var out []Link
	// A backport issue opened by gopherbot names its parent in its body.
	if strings.EqualFold(is.User.Login, "gopherbot") && backportTitle.MatchString(is.Title) {
		if m := backportParent.FindStringSubmatch(is.Body); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
				out = append(out, Link{To: index.GitHubID(repo, n), Kind: LinkBackport})
			}
		}
	}
	// A pull request links like a CL (GitHub mirrors them to Gerrit).
	if len(is.PullRequest) > 0 && string(is.PullRequest) != "null" {
		out = append(out, messageLinks(is.Title+"\n"+is.Body, repo)...)
	}
	return out, nil
}

type gerritChange struct {
	Project         string `json:"project"`
	Branch          string `json:"branch"`
	ChangeID        string `json:"change_id"`
	Subject         string `json:"subject"`
	Number          int    `json:"_number"`
	CurrentRevision string `json:"current_revision"`
	Revisions       map[string]struct {
		Commit struct {
			Message string `json:"message"`
		} `json:"commit"`
		Files map[string]json.RawMessage `json:"files"`
	} `json:"revisions"`
}

func gerritLinks(rec store.Record) ([]Link, error) {
	var ch gerritChange
	if err := json.Unmarshal(rec.Raw, &ch); err != nil {
		return nil, err
	}
	var out []Link
	if ch.Number > 0 {
		out = append(out, Link{To: clNode(ch.Number), Kind: LinkReference})
	}
	if ch.ChangeID != "" && ch.Project != "" {
		out = append(out, Link{To: changeIDNode(ch.Project, ch.ChangeID), Kind: LinkBranch})
	}
	msg := ch.Subject
	rev, ok := ch.Revisions[ch.CurrentRevision]
	if ok && rev.Commit.Message != "" {
		msg = rev.Commit.Message
	}
	out = append(out, messageLinks(msg, goRepo)...)
	for _, m := range pullTrailer.FindAllStringSubmatch(msg, -1) {
		if n, err := strconv.Atoi(m[2]); err == nil && n > 0 {
			out = append(out, Link{To: index.GitHubID(m[1], n), Kind: LinkImported})
		}
	}
	if ch.Project == "proposal" && ok {
		for f := range rev.Files {
			if m := designDoc.FindStringSubmatch(f); m != nil {
				if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
					out = append(out, Link{To: index.GitHubID(goRepo, n), Kind: LinkDesign})
				}
			}
		}
	}
	return out, nil
}

type osvEntry struct {
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
}

func osvLinks(rec store.Record) ([]Link, error) {
	var e osvEntry
	if err := json.Unmarshal(rec.Raw, &e); err != nil {
		return nil, err
	}
	var out []Link
	for _, r := range e.References {
		for _, m := range issueURL.FindAllStringSubmatch(r.URL, -1) {
			if n, err := strconv.Atoi(m[1] + m[2]); err == nil && n > 0 {
				out = append(out, Link{To: index.GitHubID(goRepo, n), Kind: LinkReference})
			}
		}
		for _, m := range clURL.FindAllStringSubmatch(r.URL, -1) {
			if n, err := strconv.Atoi(m[1] + m[2]); err == nil && n > 0 {
				out = append(out, Link{To: clNode(n), Kind: LinkReference})
			}
		}
	}
	return out, nil
}
