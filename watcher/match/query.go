package match

import (
	"slices"
	"strings"
	"unicode"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
)

// Concern queries
//
// A maintainer writes a concern's query as a bag of words, the way a
// client talked: "client certificate mTLS ClientAuth GetClientCertificate".
// Searched as written, every plain English word is an alternative, and in
// a package's items words like "client" or "header" are everywhere: the
// concern would match most of its package. concernQuery reads the query the
// way the maintainer meant it:
//
//   - Specific words count wherever they are found: identifiers
//     (ClientAuth), words with capitals, digits or punctuation (mTLS, h2,
//     go.work, Transfer-Encoding), quoted phrases, +required words and
//     field:word terms, all as written.
//   - Plain lower-case words that the summary writes next to each other
//     ("their servers require client certificates") are a phrase, found
//     anywhere: "client certificate".
//   - In a concern with packages, a plain word that the summary pairs with
//     another counts only in that phrase: within the package it is too
//     common to mean anything alone. A rare word (in fewer than 1 item in
//     200 of the index: "smuggling", "decryption") counts anywhere.
//   - Any other plain word counts only in the title: in a body it is one
//     of hundreds, in a title it says what the item is about.
//   - A concern without packages has only its words to go by, and the
//     repositories use the same words in other senses ("workspace" of a
//     build machine, "vendor" of a hardware report): all its words count
//     only in the title, where they say what the item is about.
//
// Excluded words (-word) stay as written.

// concernQuery returns the index query of a concern, as described above.
func concernQuery(c *configs.Concern, share func(term string) (float64, error)) string {
	units := queryUnits(c.Query)
	if len(units) == 0 {
		return ""
	}
	var out []string
	plain := map[string]string{} // stem → the query word
	var plainOrder []string
	anywhere := len(c.Packages) > 0
	for _, u := range units {
		if !isPlainWord(u) {
			if !anywhere {
				u = inTitle(u)
			}
			out = append(out, u)
			continue
		}
		terms := index.Analyze(u)
		if len(terms) != 1 {
			continue // a stop word: it matches nothing
		}
		if _, ok := plain[terms[0]]; !ok {
			plain[terms[0]] = u
			plainOrder = append(plainOrder, terms[0])
		}
	}
	paired := map[string]bool{}
	seen := map[string]bool{}
	for _, clause := range clauses(c.Summary) {
		terms := index.AnalyzePositions(clause)
		for i := 1; i < len(terms); i++ {
			a, b := terms[i-1], terms[i]
			wa, okA := plain[a.Term]
			wb, okB := plain[b.Term]
			if !okA || !okB || a.Term == b.Term || b.Position != a.Position+1 {
				continue
			}
			paired[a.Term], paired[b.Term] = true, true
			if phrase := `"` + wa + " " + wb + `"`; !seen[phrase] {
				seen[phrase] = true
				if !anywhere {
					phrase = inTitle(phrase)
				}
				out = append(out, phrase)
			}
		}
	}
	for _, stem := range plainOrder {
		switch {
		case paired[stem] && anywhere:
			// Only in its phrase.
		case anywhere && rare(share, stem):
			out = append(out, plain[stem])
		default:
			out = append(out, index.FieldTitle+":"+plain[stem])
		}
	}
	return strings.Join(out, " ")
}

// rareShare is the share of items below which a word is rare: found in
// fewer than 1 item in 200, it says something wherever it stands.
const rareShare = 0.005

// rare reports whether the analyzed term is rare in the index.
func rare(share func(string) (float64, error), term string) bool {
	if share == nil {
		return false
	}
	f, err := share(term)
	return err == nil && f < rareShare
}

// inTitle returns a query unit that searches the title only: word becomes
// title:word, +word +title:word; a unit with a field of its own and an
// excluded word stay as they are.
func inTitle(u string) string {
	op := ""
	if u[0] == '+' || (u[0] == '-' && !strings.Contains(u, "=")) {
		op, u = u[:1], u[1:]
	}
	if op == "-" || u == "" || (u[0] != '"' && strings.Contains(u, ":")) {
		return op + u
	}
	if u[0] == '-' {
		u = `\` + u // a flag, not an exclusion
	}
	return op + index.FieldTitle + ":" + u
}

// queryUnits splits a query string into its units: words, and quoted
// phrases with any +/- before them.
func queryUnits(q string) []string {
	var out []string
	for i := 0; i < len(q); {
		for i < len(q) && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r') {
			i++
		}
		if i == len(q) {
			break
		}
		start := i
		if q[i] == '+' || q[i] == '-' {
			i++
		}
		if i < len(q) && q[i] == '"' {
			if j := strings.IndexByte(q[i+1:], '"'); j >= 0 {
				i += j + 2
			} else {
				i = len(q)
			}
		}
		for i < len(q) && q[i] != ' ' && q[i] != '\t' && q[i] != '\n' && q[i] != '\r' {
			i++
		}
		out = append(out, q[start:i])
	}
	return out
}

// isPlainWord reports whether a query unit is a plain English word: lower
// case letters only.
func isPlainWord(u string) bool {
	for _, r := range u {
		if !unicode.IsLower(r) {
			return false
		}
	}
	return u != ""
}

// clauses splits a summary where punctuation separates its words: words
// of different clauses are never next to each other.
func clauses(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return strings.ContainsRune(",;:()!?\"", r)
	})
}

// near returns what finds the items of the packages that implement a
// concern's standard library packages: the internal packages of their
// top directory (crypto/internal/nistec implements crypto/ecdsa's curves),
// when the item's title names one of the technical terms of the concern's
// summary ("P-256", "Ed25519", "ECDSA", "ClientAuth"). It returns a query
// over titles and the packages, or nothing if the concern has neither.
func near(c *configs.Concern) (string, []string) {
	var pkgs []string
	for _, p := range c.Packages {
		first, _, ok := strings.Cut(p, "/")
		if !ok || strings.Contains(first, ".") || first == "internal" || first == "cmd" || strings.Contains(p, "/internal") {
			continue
		}
		if q := first + "/internal"; !slices.Contains(pkgs, q) {
			pkgs = append(pkgs, q)
		}
	}
	if len(pkgs) == 0 {
		return "", nil
	}
	var terms []string
	for _, w := range strings.Fields(c.Summary) {
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if technical(w) && !slices.Contains(terms, index.FieldTitle+":"+w) {
			terms = append(terms, index.FieldTitle+":"+w)
		}
	}
	if len(terms) == 0 {
		return "", nil
	}
	return strings.Join(terms, " "), pkgs
}

// technical reports whether a word of a summary is a technical term: it
// has a digit (P-256, Ed25519), joins words with "-" or "." (ML-KEM), is
// written in CamelCase (ClientAuth), or is an acronym of four or more
// capitals (ECDSA; shorter ones such as "API" are too common). Paths
// ("crypto/tls") name packages, not terms.
func technical(w string) bool {
	if w == "" || strings.Contains(w, "/") {
		return false
	}
	upper, lowerAfterUpper, digit, joined := 0, false, false, false
	for i, r := range w {
		switch {
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsUpper(r):
			upper++
		case unicode.IsLower(r):
			if i > 0 && upper > 0 && strings.IndexFunc(w[:i], unicode.IsLower) >= 0 {
				lowerAfterUpper = true
			}
		case r == '-' || r == '.':
			joined = true
		}
	}
	camel := upper >= 2 && lowerAfterUpper
	return digit || joined || camel || (upper >= 4 && upper == len(w))
}
