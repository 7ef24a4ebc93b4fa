package index

import "unicode/utf8"

// Bounds on the text of one item, per field. Tracker text is untrusted and
// unbounded: one issue with a 30 MB title once took 4.7 GB and 45 s to
// import, nearly all of it spent analyzing the title. What an item's fields
// may hold is capped well above anything real (GitHub caps titles at 256
// characters and bodies at 65,536), so that one item costs at most a few
// tens of megabytes to normalize, index and match. The raw JSON in the
// store is never cut: 'show --raw' and 'export' give it whole.
const (
	MaxTitle    = 1 << 10   // 1 KiB: four times GitHub's limit
	MaxBody     = 256 << 10 // 256 KiB: 65,536 characters of four bytes
	MaxComments = 1 << 20   // 1 MiB of the newest comments
)

// Bound cuts the item's text fields to MaxTitle, MaxBody and MaxComments
// bytes on character boundaries, and reports whether it cut anything. Title
// and body keep their beginning; comments keep their end, the newest
// discussion, which is what a consult is about.
func (it *Item) Bound() bool {
	cut := false
	it.Title, cut = head(it.Title, MaxTitle, cut)
	it.Body, cut = head(it.Body, MaxBody, cut)
	it.Comments, cut = tail(it.Comments, MaxComments, cut)
	return cut
}

// head returns the longest prefix of s of at most n bytes that ends on a
// character boundary.
func head(s string, n int, cut bool) (string, bool) {
	if len(s) <= n {
		return s, cut
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// tail returns the longest suffix of s of at most n bytes that starts on a
// character boundary.
func tail(s string, n int, cut bool) (string, bool) {
	if len(s) <= n {
		return s, cut
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:], true
}
