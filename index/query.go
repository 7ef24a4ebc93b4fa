package index

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Query rewriting
//
// Queries are written in Bleve's query-string syntax, whose parser turns
// each word into a match query: the word is analyzed and any of its tokens
// matches. With Go text that is wrong: "HTTP/2" would match every item that
// says "http" or "2". rewrite walks the parsed query and replaces each word
// by what it means:
//
//   - a word the analyzer turns into tokens at several positions ("HTTP/2",
//     "x/crypto/ssh", "go.work", "ML-KEM", "-mod=vendor",
//     "GetClientCertificate") is a phrase of those tokens; an identifier
//     also matches as its whole self ("getclientcertificate" in prose);
//   - a word whose only tokens are single letters or digits matches
//     nothing: such tokens mean nothing alone.
//
// A word that starts with "-" and contains "=" is a command-line flag
// (-mod=vendor, -gcflags=-m), not an exclusion: it is matched like any other
// word. Write -word to exclude a word.

// textFields are the analyzed text fields: a query word without a field
// searches each of them (see anyText). The index keeps no composite field
// of all three (Bleve's "_all"): it would index every word a second time,
// a fifth of the work of indexing and of the index's size, for queries
// that a disjunction over the three fields answers as well.
var textFields = []string{FieldTitle, FieldBody, FieldComments}

// analyzer returns the Go-aware analyzer.
var analyzer = sync.OnceValue(func() analysis.Analyzer {
	a, err := registry.NewCache().AnalyzerNamed(AnalyzerName)
	if err != nil {
		panic("index: analyzer " + AnalyzerName + ": " + err.Error())
	}
	return a
})

// Analyze returns the terms the index holds for text, in order.
func Analyze(text string) []string {
	var out []string
	for _, t := range analyzer().Analyze([]byte(text)) {
		out = append(out, string(t.Term))
	}
	return out
}

// escapeFlags escapes the leading "-" of words that are command-line flags
// (they contain "="), so that the query-string parser does not read them as
// exclusions.
func escapeFlags(q string) string {
	if !strings.Contains(q, "-") || !strings.Contains(q, "=") {
		return q
	}
	fields := strings.Fields(q)
	changed := false
	for i, f := range fields {
		if len(f) > 1 && f[0] == '-' && f[1] != '-' && strings.Contains(f, "=") && !strings.ContainsAny(f, `":`) {
			fields[i] = `\` + f
			changed = true
		}
	}
	if !changed {
		return q
	}
	return strings.Join(fields, " ")
}

// rewrite returns q with every match query replaced as described above. It
// returns nil if nothing of q can match.
func rewrite(q query.Query) query.Query {
	switch q := q.(type) {
	case *query.MatchQuery:
		return wordQuery(q)
	case *query.BooleanQuery:
		q.Must = rewrite(q.Must)
		q.Should = rewrite(q.Should)
		q.MustNot = rewrite(q.MustNot)
		if q.Must == nil && q.Should == nil {
			return nil
		}
		return q
	case *query.ConjunctionQuery:
		kept := q.Conjuncts[:0]
		for _, c := range q.Conjuncts {
			if c = rewrite(c); c != nil {
				kept = append(kept, c)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		q.Conjuncts = kept
		return q
	case *query.DisjunctionQuery:
		kept := q.Disjuncts[:0]
		for _, c := range q.Disjuncts {
			if c = rewrite(c); c != nil {
				kept = append(kept, c)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		q.Disjuncts = kept
		return q
	}
	if q == nil {
		return nil
	}
	return q
}

// wordQuery returns the query for one word of a query string.
func wordQuery(m *query.MatchQuery) query.Query {
	if m.Fuzziness != 0 || m.Prefix != 0 {
		return m
	}
	toks := analyzer().Analyze([]byte(m.Match))
	if len(toks) == 0 {
		return m // stop words only: Bleve matches nothing, and says so
	}
	first, last := toks[0].Position, toks[0].Position
	meaningful := false
	for _, t := range toks {
		first = min(first, t.Position)
		last = max(last, t.Position)
		if utf8.RuneCount(t.Term) > 1 {
			meaningful = true
		}
	}
	if !meaningful {
		return nil
	}
	if first == last {
		return m
	}
	// Several positions: a phrase. A token spanning all the others is
	// a whole identifier: it is left out of the phrase (whose words
	// are its parts) and matches on its own too.
	lo, hi := toks[0].Start, toks[0].End
	for _, t := range toks {
		lo, hi = min(lo, t.Start), max(hi, t.End)
	}
	terms := make([][]string, last-first+1)
	var whole []string
	for _, t := range toks {
		if t.Position == first && t.Start == lo && t.End == hi && len(toks) > 1 {
			whole = append(whole, string(t.Term))
			continue
		}
		terms[t.Position-first] = append(terms[t.Position-first], string(t.Term))
	}
	// Positions emptied by stop words match any word.
	for i := range terms {
		if terms[i] == nil {
			terms[i] = []string{""}
		}
	}
	field := m.FieldVal // "" is any text field: see anyText
	phrase := query.NewMultiPhraseQuery(terms, field)
	if m.BoostVal != nil {
		phrase.SetBoost(m.Boost())
	}
	if len(whole) == 0 {
		return phrase
	}
	alts := []query.Query{phrase}
	for _, w := range whole {
		t := query.NewTermQuery(w)
		t.SetField(field)
		if m.BoostVal != nil {
			t.SetBoost(m.Boost())
		}
		alts = append(alts, t)
	}
	return query.NewDisjunctionQuery(alts)
}

// leaves returns the positive word and phrase queries of q (not those
// under MustNot), for copying onto the title.
func leaves(q query.Query) []query.Query {
	switch q := q.(type) {
	case *query.BooleanQuery:
		return append(leaves(q.Must), leaves(q.Should)...)
	case *query.ConjunctionQuery:
		var out []query.Query
		for _, c := range q.Conjuncts {
			out = append(out, leaves(c)...)
		}
		return out
	case *query.DisjunctionQuery:
		var out []query.Query
		for _, c := range q.Disjuncts {
			out = append(out, leaves(c)...)
		}
		return out
	case *query.MatchQuery, *query.MatchPhraseQuery, *query.MultiPhraseQuery, *query.TermQuery, *query.PhraseQuery:
		return []query.Query{q}
	}
	return nil
}

// onTitle returns a copy of a leaf query that searches the title field, or
// nil if the leaf names a field of its own.
func onTitle(q query.Query, boost float64) query.Query {
	switch q := q.(type) {
	case *query.MatchQuery:
		if q.FieldVal != "" {
			return nil
		}
		c := *q
		c.SetField(FieldTitle)
		c.SetBoost(boost)
		return &c
	case *query.MatchPhraseQuery:
		if q.FieldVal != "" {
			return nil
		}
		c := *q
		c.SetField(FieldTitle)
		c.SetBoost(boost)
		return &c
	case *query.MultiPhraseQuery:
		if q.FieldVal != "" {
			return nil
		}
		c := query.NewMultiPhraseQuery(q.Terms, FieldTitle)
		c.SetBoost(boost)
		return c
	case *query.TermQuery:
		if q.FieldVal != "" {
			return nil
		}
		c := query.NewTermQuery(q.Term)
		c.SetField(FieldTitle)
		c.SetBoost(boost)
		return c
	}
	return nil
}

// A Term is an analyzed term of a text and its position.
type Term struct {
	Term     string
	Position int
}

// AnalyzePositions returns the terms the index holds for text, with their
// positions: terms at consecutive positions stand next to each other.
func AnalyzePositions(text string) []Term {
	var out []Term
	for _, t := range analyzer().Analyze([]byte(text)) {
		out = append(out, Term{string(t.Term), t.Position})
	}
	return out
}

// anyText returns q with every query that names no field (a word, a
// phrase, a wildcard) replaced by the disjunction of its copies on each
// text field: the item matches if any of its title, body or comments does,
// and one that matches in several fields scores higher. Queries that name
// a field are kept as they are. q's own leaves are not changed.
func anyText(q query.Query) query.Query {
	switch q := q.(type) {
	case *query.BooleanQuery:
		c := *q
		c.Must, c.Should, c.MustNot, c.Filter = anyTextOrNil(q.Must), anyTextOrNil(q.Should), anyTextOrNil(q.MustNot), anyTextOrNil(q.Filter)
		return &c
	case *query.ConjunctionQuery:
		c := *q
		c.Conjuncts = make([]query.Query, len(q.Conjuncts))
		for i, sub := range q.Conjuncts {
			c.Conjuncts[i] = anyText(sub)
		}
		return &c
	case *query.DisjunctionQuery:
		c := *q
		c.Disjuncts = make([]query.Query, len(q.Disjuncts))
		for i, sub := range q.Disjuncts {
			c.Disjuncts[i] = anyText(sub)
		}
		return &c
	}
	if onField(q, "") == nil {
		return q // it names a field, or is not a text query
	}
	alts := make([]query.Query, len(textFields))
	for i, f := range textFields {
		alts[i] = onField(q, f)
	}
	return query.NewDisjunctionQuery(alts)
}

func anyTextOrNil(q query.Query) query.Query {
	if q == nil {
		return nil
	}
	return anyText(q)
}

// onField returns a copy of the text query q (a leaf of a query string)
// that searches field, if q names no field; else nil.
func onField(q query.Query, field string) query.Query {
	switch q := q.(type) {
	case *query.MatchQuery:
		return withField(q, field)
	case *query.MatchPhraseQuery:
		return withField(q, field)
	case *query.MultiPhraseQuery:
		return withField(q, field)
	case *query.TermQuery:
		return withField(q, field)
	case *query.FuzzyQuery:
		return withField(q, field)
	case *query.PrefixQuery:
		return withField(q, field)
	case *query.WildcardQuery:
		return withField(q, field)
	case *query.RegexpQuery:
		return withField(q, field)
	}
	return nil
}

// withField returns a copy of q that searches field, or nil if q names a
// field already. The parsed query is left as it is: one leaf becomes a
// disjunction over several fields, each with its own copy.
func withField[T any, P interface {
	*T
	query.FieldableQuery
}](q P, field string) query.Query {
	if q.Field() != "" {
		return nil
	}
	c := P(new(T))
	*c = *q
	c.SetField(field)
	return c
}
