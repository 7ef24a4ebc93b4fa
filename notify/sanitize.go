package notify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// isInvisibleControl reports whether r may not appear in text shown to the
// user: C0 and C1 controls (escape sequences, CR, LF) and the Unicode
// format characters that reorder or hide text (bidirectional overrides and
// isolates, line and paragraph separators).
func isInvisibleControl(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// oneLine returns s as a single line of plain text: control characters
// (including CR, LF and tab) become spaces, runs of space collapse, invalid
// UTF-8 becomes U+FFFD. It is safe in a header value and in a terminal.
func oneLine(s string) string {
	if isCleanLine(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if isInvisibleControl(r) || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isCleanLine reports whether oneLine(s) == s, cheaply for the common case.
func isCleanLine(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	prevSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return isCleanLineSlow(s)
		}
		if c < 0x20 || c == 0x7f {
			return false
		}
		if c == ' ' {
			if prevSpace {
				return false
			}
			prevSpace = true
		} else {
			prevSpace = false
		}
	}
	return true
}

func isCleanLineSlow(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	prevSpace := false
	for _, r := range s {
		if isInvisibleControl(r) || unicode.IsSpace(r) && r != ' ' {
			return false
		}
		if r == ' ' {
			if prevSpace {
				return false
			}
			prevSpace = true
		} else {
			prevSpace = false
		}
	}
	return true
}

// headerValue is oneLine, bounded in length: every header value that
// carries data goes through it.
func headerValue(s string) string {
	s = oneLine(s)
	const max = 200
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// paragraphs returns s as plain text that keeps its line breaks: CR LF
// becomes LF, other control characters become spaces, and blank lines
// collapse to one.
func paragraphs(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := false
	for _, l := range lines {
		l = oneLine(l)
		if l == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// wrap breaks text into lines of at most width columns (counting runes),
// breaking at spaces; words longer than width stay whole. Every line but the
// first is prefixed with indent.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	for i, para := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteString("\n")
			b.WriteString(indent)
		}
		col := 0
		for j, w := range strings.Fields(para) {
			n := utf8.RuneCountInString(w)
			if j > 0 {
				if col+1+n > width {
					b.WriteString("\n")
					b.WriteString(indent)
					col = 0
				} else {
					b.WriteByte(' ')
					col++
				}
			}
			b.WriteString(w)
			col += n
		}
	}
	return b.String()
}
