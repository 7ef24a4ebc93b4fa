package main

import (
	"io"
	"os"
	"strings"
	"unicode"
)

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// oneLine makes untrusted tracker text safe and tidy for one line of terminal
// output: control characters (escape sequences included) and line breaks
// become spaces, and runs of spaces collapse.
func oneLine(s string) string {
	return strings.Join(strings.Fields(printable(s)), " ")
}

// printable makes untrusted text (tracker text, and profile and prompt text
// that anyone with write access to those files chose) safe for the
// terminal: control characters other than newline and tab become spaces,
// so that escape sequences cannot move the cursor or recolour the screen,
// and the bidirectional overrides and isolates that make text read in
// another order than it is stored (U+202A–U+202E, U+2066–U+2069) are
// dropped. Invalid UTF-8 becomes U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			return ' '
		case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// oneLines applies oneLine to each of ss.
func oneLines(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = oneLine(s)
	}
	return out
}
