package index

import (
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Own files
//
// A change whose title names a file that the change itself edits ("oscar:
// add worksync.sh to sync go.work and go.mod files", editing go.work)
// speaks of its own repository's file: its go.work, not the go command's
// handling of go.work files. OwnFiles returns such names, so that a concern
// whose only word found is the name of one of them can tell that the change
// is not about what the concern means (see the matcher).
//
// Only names with an extension count (go.work, modules.txt, mod.md): a
// plain word of a title ("vendor") names a directory no more than a topic.
// Files under testdata/ and _test.go files are left out: a change that adds
// a go.work to its test data, titled "cmd/go: support go.work in vendor
// mode", speaks of the feature it tests.

// OwnFiles returns the base names of the files of it that its title names,
// lower case, in the order of it.Files, or nil.
func OwnFiles(it *Item) []string {
	if len(it.Files) == 0 || (it.Kind != KindChange && it.Kind != KindPull) {
		return nil
	}
	title := strings.ToLower(it.Title)
	var out []string
	for _, f := range it.Files {
		if isTestFile(f) {
			continue
		}
		base := strings.ToLower(path.Base(f))
		if !strings.Contains(strings.Trim(base, "."), ".") || slices.Contains(out, base) {
			continue
		}
		if namesWord(title, base) || namesWord(title, strings.ToLower(f)) {
			out = append(out, base)
		}
	}
	return out
}

// namesWord reports whether name stands in text as a word of its own: not
// inside a longer name ("go.work" is not named by "go.work.sum" or
// "x/go.work"; the file x/go.work is named by its path).
func namesWord(text, name string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if (start == 0 || !nameRune(before)) && (end == len(text) || !nameRune(after) || (after == '.' && !nameRuneAt(text, end+1))) {
			return true
		}
		i = start + 1
	}
}

// nameRune reports whether r can be part of a file name or path.
func nameRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-/", r)
}

// nameRuneAt reports whether text has a name rune other than "." at byte i:
// a "." followed by one ends a sentence no more than "go.work.sum" does.
func nameRuneAt(text string, i int) bool {
	if i >= len(text) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return r != '.' && nameRune(r)
}
