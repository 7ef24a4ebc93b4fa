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

// printable removes control characters other than newline and tab from
// untrusted text, so it cannot move the cursor or recolour the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}
