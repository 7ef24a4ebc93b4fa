package index

import (
	"strings"
	"unicode"
)

// Names in text
//
// Tracker text names things with words joined by punctuation and numbers:
// a branch "internal-branch.go1.22-vendor", a builder
// "linux-amd64-longtest", a tag "gopls/v0.15.0-pre.1". The words inside
// such a name are not used as words: "vendor" in a branch name says
// nothing about vendoring. TermsOutsideNames tells the terms of a text that
// stand as words from those that are only parts of names, so that a match
// that rests on a plain word can check that the word is really there.
//
// A name is a word of the text (between spaces, without the punctuation
// around it) that has a digit and joins its parts with "-", "." or "_". Not
// names: package and file paths ("x/crypto/ssh", "design/25719-go15vendor"),
// whose elements say what they are about; file names with an extension of
// letters ("25719-go15vendor.md"), which are named after their subject;
// and command-line flags ("-mod=vendor").

// TermsOutsideNames returns the analyzed terms of text that stand outside
// names, as described above.
func TermsOutsideNames(text string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(text) {
		w = strings.TrimFunc(w, func(r rune) bool { return strings.ContainsRune("\"'`()[]{}<>,;:!?«»", r) })
		w = strings.TrimRight(w, ".")
		if isName(w) {
			continue
		}
		for _, t := range Analyze(w) {
			out[t] = true
		}
	}
	return out
}

// isName reports whether a word of text is a name, as described above.
func isName(w string) bool {
	if w == "" || strings.HasPrefix(w, "-") || strings.ContainsAny(w, "/=@") {
		return false
	}
	if strings.IndexFunc(w, unicode.IsDigit) < 0 || !strings.ContainsAny(w, "-._") {
		return false
	}
	if dot := strings.LastIndexByte(w, '.'); dot > 0 && dot < len(w)-1 {
		ext := w[dot+1:]
		if strings.IndexFunc(ext, func(r rune) bool { return !unicode.IsLetter(r) }) < 0 {
			return false // a file name
		}
	}
	return true
}
