package index

import (
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/registry"
)

// Text analysis
//
// Every text field, the query of `search` and the queries of concerns are
// analyzed by one analyzer, AnalyzerName, so that a word means the same
// thing wherever it is written. It is English analysis (lower case, English
// stop words and possessives removed, Porter stems) over a tokenizer that
// knows how Go people write:
//
//   - A token is a run of letters and digits; everything else separates
//     tokens. "crypto/tls" is crypto, tls; "go.work" is go, work;
//     "HTTP/2" is http, 2; "ML-KEM" is ml, kem. Positions follow the text,
//     so such a word can be found as a phrase (see the query rewriting in
//     query.go: a query word the analyzer splits is always a phrase).
//   - An identifier written in CamelCase or mixedCase also yields its
//     words, and keeps the whole: "GetClientCertificate" is
//     getclientcertificate and get, client, certificate. The whole
//     identifier sits at the position of its first word and the words
//     follow it, so that the phrase "client certificate" finds the
//     identifier, and the identifier finds "get client certificate".
//     Upper-case runs are words ("HTTPServer" is http, server) and a
//     plural acronym stays whole ("ClientCAs" is client, cas). Digits
//     belong to the word before them ("P256", "Ed25519", "sha256Hash" is
//     sha256, hash).
//   - Two or three words joined by "-" or "/" also yield the joined word:
//     "P-256" finds "P256", "HTTP/2" finds "http2", "ML-KEM" finds
//     "MLKEM".
//   - A word after a version number is a word of its own: "go15vendor" is
//     go15, vendor.
//   - An apostrophe between letters is part of the word, so that "Let's"
//     and "don't" are handled by the possessive and stop-word filters.
//
// Tokens of one letter or digit are indexed (they are needed inside
// phrases such as "HTTP/2"), but a query never looks for one alone.

// AnalyzerName is the name of the Bleve analyzer of the index's text fields
// and of every query.
const AnalyzerName = "reciprocal-go"

// AnalysisVersion identifies the text analysis an index was built with. It
// changes whenever the analyzer, the mapping or the derived fields change
// in a way that needs the index rebuilt; an index recording another version
// (or none: version 1 was Bleve's English analyzer) is stale. Version 9
// dropped the composite "_all" field (see textFields in query.go); version
// 11 the doc values of the text fields and the number; version 12 the
// terms of the number and the creation date, and the empty "_all" field
// Bleve still added to every document (see newMapping).
const AnalysisVersion = 12

const tokenizerName = "reciprocal-go"

func init() {
	registry.RegisterTokenizer(tokenizerName, func(map[string]interface{}, *registry.Cache) (analysis.Tokenizer, error) {
		return goTokenizer{}, nil
	})
	registry.RegisterAnalyzer(AnalyzerName, func(config map[string]interface{}, cache *registry.Cache) (analysis.Analyzer, error) {
		tok, err := cache.TokenizerNamed(tokenizerName)
		if err != nil {
			return nil, err
		}
		var filters []analysis.TokenFilter
		for _, name := range []string{en.PossessiveName, lowercase.Name, en.StopName, porter.Name} {
			f, err := cache.TokenFilterNamed(name)
			if err != nil {
				return nil, err
			}
			filters = append(filters, f)
		}
		return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: filters}, nil
	})
}

// goTokenizer splits text as described above.
type goTokenizer struct{}

func (goTokenizer) Tokenize(input []byte) analysis.TokenStream {
	// Tokens are allocated in slabs, not one by one: text has a token
	// every six bytes or so, and the stream's tokens live as long as it.
	guess := len(input)/6 + 1
	out := make(analysis.TokenStream, 0, guess)
	slab := make([]analysis.Token, 0, min(guess, 1024))
	token := func(t analysis.Token) *analysis.Token {
		if len(slab) == cap(slab) {
			slab = make([]analysis.Token, 0, cap(slab))
		}
		slab = append(slab, t)
		return &slab[len(slab)-1]
	}
	pos := 1
	var compound [][2]int // the runs of the current compound ("P-256")
	compoundPos := 0
	flush := func() {
		if n := len(compound); n >= 2 && n <= maxCompound {
			var joined []byte
			for _, r := range compound {
				joined = append(joined, input[r[0]:r[1]]...)
			}
			if len(joined) <= maxJoined {
				out = append(out, token(analysis.Token{
					Term: joined, Start: compound[0][0], End: compound[n-1][1],
					Position: compoundPos, Type: analysis.AlphaNumeric,
				}))
			}
		}
		compound = compound[:0]
	}
	i := 0
	for i < len(input) {
		r, n := utf8.DecodeRune(input[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		start := i
		for i < len(input) {
			r, n := utf8.DecodeRune(input[i:])
			if isWordRune(r) {
				i += n
				continue
			}
			if isApostrophe(r) && start < i {
				// Inside a word only: a letter must follow.
				if r2, _ := utf8.DecodeRune(input[i+n:]); unicode.IsLetter(r2) {
					i += n
					continue
				}
			}
			break
		}
		// A run joined to the one before by "-" or "/" continues its
		// compound.
		if len(compound) == 0 || compound[len(compound)-1][1]+1 != start || !isJoiner(input[start-1]) {
			flush()
			compoundPos = pos
		}
		compound = append(compound, [2]int{start, i})
		word := input[start:i]
		typ := analysis.AlphaNumeric
		if allDigits(word) {
			typ = analysis.Numeric
		}
		out = append(out, token(analysis.Token{Term: word, Start: start, End: i, Position: pos, Type: typ}))
		parts := camelParts(word)
		if len(parts) < 2 {
			pos++
			continue
		}
		for k, p := range parts {
			out = append(out, token(analysis.Token{
				Term: word[p[0]:p[1]], Start: start + p[0], End: start + p[1],
				Position: pos + k, Type: analysis.AlphaNumeric,
			}))
		}
		pos += len(parts)
	}
	flush()
	return out
}

// Compounds of two or three words joined by "-" or "/" ("P-256",
// "HTTP/2", "x/crypto/ssh") also yield the words joined ("p256", "http2"),
// at the position of the first, so that the two ways of writing a name
// find each other. Longer compounds (URLs, file paths) do not.
const (
	maxCompound = 3
	maxJoined   = 24
)

// A dot does not join: the joined form of "go.work" or "go.mod" would name
// something else (the GOWORK and GOMOD variables).
func isJoiner(c byte) bool { return c == '-' || c == '/' }

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func isApostrophe(r rune) bool { return r == '\'' || r == '’' }

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// camelParts returns the byte ranges of the words of a CamelCase or
// mixedCase identifier, or fewer than two ranges if word is not one. A new
// word starts at an upper-case letter after a lower-case letter or digit
// ("getClient"), and at the last upper-case letter of a run that a
// lower-case letter follows ("HTTPServer"), except for a plural acronym
// ("CAs", "IPs"): an upper-case run followed by a lone "s" that ends the
// identifier or precedes another upper-case letter.
func camelParts(word []byte) [][2]int {
	if plainWord(word) {
		return nil
	}
	type rc struct {
		r   rune
		off int
	}
	var rs []rc
	for off := 0; off < len(word); {
		r, n := utf8.DecodeRune(word[off:])
		rs = append(rs, rc{r, off})
		off += n
	}
	lower := func(i int) bool { return i < len(rs) && (unicode.IsLower(rs[i].r) || unicode.IsDigit(rs[i].r)) }
	upper := func(i int) bool { return i >= 0 && i < len(rs) && unicode.IsUpper(rs[i].r) }
	letters := func(i int) int { // lower-case letters from i on
		n := 0
		for ; i < len(rs) && unicode.IsLower(rs[i].r); i++ {
			n++
		}
		return n
	}
	var cuts []int // rune indexes where a new word starts
	for i := 1; i < len(rs); i++ {
		switch {
		case upper(i) && lower(i-1):
			cuts = append(cuts, i)
		case unicode.IsDigit(rs[i-1].r) && letters(i) >= 3:
			// "go15vendor", "sha256sum": a word after a version.
			cuts = append(cuts, i)
		case upper(i) && upper(i-1) && lower(i+1) && unicode.IsLetter(rs[i+1].r):
			// "HTTPServer": S starts a word, unless "s" alone makes an
			// acronym plural ("CAs", "CAsPool").
			if rs[i+1].r == 's' && (i+2 == len(rs) || upper(i+2)) {
				continue
			}
			cuts = append(cuts, i)
		}
	}
	if len(cuts) == 0 {
		return nil
	}
	var parts [][2]int
	prev := 0
	for _, c := range cuts {
		parts = append(parts, [2]int{rs[prev].off, rs[c].off})
		prev = c
	}
	return append(parts, [2]int{rs[prev].off, len(word)})
}

// plainWord reports whether word is ASCII without digits or upper-case
// letters after its first: most words of prose, which camelParts would not
// cut, told apart without decoding them.
func plainWord(word []byte) bool {
	for i, c := range word {
		if c >= 0x80 || c >= '0' && c <= '9' || i > 0 && c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}
