package index

import (
	"path"
	"regexp"
	"strings"
	"sync"
)

// Routine changes
//
// Much of what a Go repository merges is mechanical: repository-wide "all:"
// sweeps (generated go directive bumps, typo, vet, gofmt and comment
// fixes), changes that touch only tests or test data, changes that touch
// only a repository's module files, typo fixes and editorial work on
// documentation, and reverts of documentation. They touch every
// package and matter to almost no one, so the matcher opens no prompt for
// them unless a concern asks for routine changes (configs.Concern.Routine).
//
// Routine classifies an item from its title and files alone, so that the
// reason can be shown and checked: a change is routine when one of these
// holds, tried in this order:
//
//   - its files are all tests (_test.go) or under testdata/: "test-only
//     change";
//   - its files are all go.mod, go.sum, go.work or go.work.sum: "only
//     module files" (the repository's own requirements, not the go
//     command's handling of them);
//   - its title is an "all:" sweep, or carries "[generated]", and says what
//     mechanical work it does (typos, vet, gofmt, comments, the go
//     directive, dependencies, …): "all: sweep (WORDS)";
//   - its title says it fixes typos, spelling, grammar or punctuation,
//     whatever its files (a typo fix in a comment and one in
//     documentation are alike): "typo fix";
//   - its files are all documentation and its title is about links, URLs,
//     anchors, references to other pages, wording, formatting, quoting,
//     indentation, Markdown syntax or missing punctuation:
//     "documentation link or wording fix";
//   - its files are all documentation and it reverts an earlier change
//     ("Revert \"…\""): "documentation revert". Putting text back as it
//     was changes nothing that builds or runs; the change it reverts was
//     judged on its own.
//
// Only changes and pull requests are classified: issues, proposals and
// vulnerabilities are never routine.

// mechanical matches the words of a title that name mechanical work.
var mechanical = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\b(typos?|spelling|misspell\w*|grammar|vet|gofmt|go ?fmt|goimports|staticcheck|lint\w*|comments?|godoc|doc links?|go directive|directive|generated|go generate|dependenc\w+|deps|bump\w*|modernize\w*|gopls modernize|unused|dead code|deprecated|whitespace|formatting|copyright|license headers?|clean ?up)\b`)
})

// editorial matches titles of typo fixes.
var editorial = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\b(fix(es|ed)?|correct(s|ed)?)\b.*\b(typos?|spelling|misspell\w*|grammar|punctuation)\b|\b(typos?|misspell\w*)\b`)
})

// Routine returns why the item is a routine change, or "" if it is not.
func Routine(it *Item) string {
	if it.Kind != KindChange && it.Kind != KindPull {
		return ""
	}
	if len(it.Files) > 0 {
		tests, mods := true, true
		for _, f := range it.Files {
			if !isTestFile(f) {
				tests = false
			}
			switch path.Base(f) {
			case "go.mod", "go.sum", "go.work", "go.work.sum":
			default:
				mods = false
			}
		}
		switch {
		case tests:
			return "test-only change"
		case mods:
			return "only module files"
		}
	}
	title := subject(it.Title)
	lower := strings.ToLower(title)
	if strings.HasPrefix(lower, "all:") || strings.Contains(strings.ToLower(it.Title), "[generated]") {
		if m := mechanical().FindAllString(title, -1); len(m) > 0 {
			return "all: sweep (" + strings.ToLower(strings.Join(dedupFold(m), ", ")) + ")"
		}
	}
	if editorial().MatchString(title) {
		return "typo fix"
	}
	if len(it.Files) > 0 && allDocs(it.Files) {
		switch {
		case docEditorial().MatchString(title):
			return "documentation link or wording fix"
		case revert().MatchString(it.Title):
			return "documentation revert"
		}
	}
	return ""
}

// docEditorial matches titles of editorial work on documentation: links,
// URLs, anchors, references to other pages ("add reference to
// workspaces"), wording, formatting, quoting, indentation, Markdown
// syntax, missing punctuation ("add missing `)`").
var docEditorial = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\b(links?|urls?|anchors?|wording|formatting|quoting|indentation|markdown|markup|mix-?ups?)\b|\b(cross-)?references?\s+to\b|\bmissing\s+[^\w\s]`)
})

// revert matches the title Gerrit and git give a revert: Revert "subject".
var revert = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\[[^\]]*\]\s*)*Revert\s+"`) })

// allDocs reports whether files are all documentation: Markdown, HTML,
// text and slides, or anything under a doc/ or _content/ directory.
func allDocs(files []string) bool {
	for _, f := range files {
		switch path.Ext(f) {
		case ".md", ".html", ".txt", ".article", ".slide":
			continue
		}
		if strings.HasPrefix(f, "doc/") || strings.Contains(f, "/doc/") || strings.HasPrefix(f, "_content/") {
			continue
		}
		return false
	}
	return true
}

// subject returns a title without leading bracketed tags
// ("[release-branch.go1.22] ", "[generated] ").
func subject(title string) string {
	t := strings.TrimSpace(title)
	for strings.HasPrefix(t, "[") {
		i := strings.IndexByte(t, ']')
		if i < 0 {
			break
		}
		t = strings.TrimSpace(t[i+1:])
	}
	return t
}

func isTestFile(f string) bool {
	if strings.HasSuffix(f, "_test.go") {
		return true
	}
	return strings.HasPrefix(f, "testdata/") || strings.Contains(f, "/testdata/")
}

func dedupFold(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range s {
		k := strings.ToLower(v)
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}
