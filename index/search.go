package index

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// A Request is a search: a query in Bleve's query-string syntax over the text
// fields, narrowed by exact filters. Empty fields do not filter.
type Request struct {
	Query    string // Bleve query string; empty matches every item
	Kinds    []string
	States   []string
	Stages   []string
	Labels   []string // every label must be present
	Packages []string // the item touches one of these packages or a sub-package
	// Mentions widens Packages to items whose text mentions one of the
	// packages or a sub-package ("mentions" field), e.g. an x/build
	// change that says "crypto/tls" in its description.
	Mentions bool
	// NearQuery, a query string, also admits items that touch one of
	// NearPackages (or a sub-package) and match it, whatever Query and
	// Packages say: the matcher looks for a concern's own terms in the
	// titles of the packages that implement its packages.
	NearQuery    string
	NearPackages []string
	Repos        []string
	Sources      []string
	IDs          []string // only these items
	Since        time.Time
	Until        time.Time
	Sort         string // "relevance" (default) or "updated"
	Limit        int    // default 20
	Offset       int
	// After asks for the hits that sort after a hit of an earlier page
	// (its Hit.After), instead of an Offset: a deep page then costs no
	// more memory than the first.
	After []string
	// Highlight asks for snippets with the matched terms marked.
	Highlight bool
}

// Sort orders.
const (
	SortRelevance = "relevance"
	SortUpdated   = "updated"
)

// A Hit is one search result, built from the index's stored fields.
type Hit struct {
	ID       string    `json:"id"`
	Source   string    `json:"source"`
	Repo     string    `json:"repo"`
	Number   int       `json:"number"`
	Kind     string    `json:"kind"`
	State    string    `json:"state"`
	Stage    string    `json:"stage,omitempty"`
	Title    string    `json:"title"`
	URL      string    `json:"url"`
	Updated  time.Time `json:"updated"`
	Packages []string  `json:"packages"`
	Labels   []string  `json:"labels,omitempty"`
	Routine  string    `json:"routine,omitempty"` // why it is a routine change; see Routine
	// Mentions are the packages the item's text mentions, and their
	// ancestors (see pkgpath.InText).
	Mentions []string `json:"mentions,omitempty"`
	// OwnFiles are the files of a change that its title names (see
	// OwnFiles).
	OwnFiles []string `json:"ownfiles,omitempty"`
	Score    float64  `json:"score"`
	Snippet  Snippet  `json:"snippet,omitempty"`
	// Terms are the analyzed query terms found in the item, per field.
	Terms map[string][]string `json:"terms,omitempty"`
	// After is the hit's place in the sort order: Request.After for the
	// next page.
	After []string `json:"-"`
}

// A Result is the answer to a Request.
type Result struct {
	Total uint64 // matching items, beyond Limit
	Hits  []Hit
	Took  time.Duration
}

// A QueryError reports a query that cannot be parsed.
type QueryError struct {
	Query string
	Err   error
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("bad query %q: %v", e.Query, e.Err)
}

func (e *QueryError) Unwrap() error { return e.Err }

// ParseQuery checks a query string, returning a *QueryError that says what is
// wrong with it, and returns the query the index runs: each word rewritten
// for Go text (see query.go).
func ParseQuery(q string) (query.Query, error) {
	if strings.TrimSpace(q) == "" {
		return bleve.NewMatchAllQuery(), nil
	}
	parsed, err := bleve.NewQueryStringQuery(escapeFlags(q)).Parse()
	if err != nil {
		return nil, &QueryError{Query: q, Err: errors.New(cleanParseError(err.Error()))}
	}
	if v, ok := parsed.(query.ValidatableQuery); ok {
		if err := v.Validate(); err != nil {
			return nil, &QueryError{Query: q, Err: err}
		}
	}
	if err := checkFuzziness(parsed); err != nil {
		return nil, &QueryError{Query: q, Err: err}
	}
	if parsed = rewrite(parsed); parsed == nil {
		return bleve.NewMatchNoneQuery(), nil
	}
	return parsed, nil
}

// maxFuzziness is the largest edit distance Bleve's fuzzy search allows
// (word~N); a larger one fails only when the search runs.
const maxFuzziness = 2

// checkFuzziness walks a parsed query for fuzzy terms asking more than
// Bleve can do, so that they are reported as a bad query, not a failed
// search.
func checkFuzziness(q query.Query) error {
	check := func(term string, f int) error {
		if f > maxFuzziness {
			return fmt.Errorf("%s~%d: at most ~%d edits (syntax: word~1 or word~2 matches words that differ by that many letters)", term, f, maxFuzziness)
		}
		return nil
	}
	switch q := q.(type) {
	case *query.FuzzyQuery:
		return check(q.Term, q.Fuzziness)
	case *query.MatchQuery:
		return check(q.Match, q.Fuzziness)
	case *query.MatchPhraseQuery:
		return check(q.MatchPhrase, q.Fuzziness)
	case *query.BooleanQuery:
		for _, sub := range []query.Query{q.Must, q.Should, q.MustNot, q.Filter} {
			if sub != nil {
				if err := checkFuzziness(sub); err != nil {
					return err
				}
			}
		}
	case *query.ConjunctionQuery:
		for _, sub := range q.Conjuncts {
			if err := checkFuzziness(sub); err != nil {
				return err
			}
		}
	case *query.DisjunctionQuery:
		for _, sub := range q.Disjuncts {
			if err := checkFuzziness(sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// cleanParseError turns the parser's message into one a user can act on.
func cleanParseError(msg string) string {
	msg = strings.TrimPrefix(msg, "parse error: ")
	msg = strings.TrimPrefix(msg, "error parsing query string: ")
	return msg + " (syntax: words, \"a phrase\", +required, -excluded, field:value, e.g. title:ticket)"
}

// titleBoost is how much more a query term found in the title counts.
const titleBoost = 3.0

// Search runs req.
func (x *Index) Search(ctx context.Context, req Request) (_ *Result, err error) {
	defer guard(x.path, &err)
	sr, err := x.searchRequest(req)
	if err != nil {
		return nil, err
	}
	b, err := x.acquire()
	if err != nil {
		return nil, err
	}
	defer x.release()
	res, err := b.SearchInContext(ctx, sr)
	if err != nil {
		return nil, fmt.Errorf("index: search: %w", err)
	}
	out := &Result{Total: res.Total, Took: res.Took, Hits: make([]Hit, 0, len(res.Hits))}
	for _, m := range res.Hits {
		out.Hits = append(out.Hits, hitFrom(m))
	}
	if byScoreOnly(req) {
		// Bleve ranked by score alone (see searchRequest); order the
		// page's equal scores by date, then ID, as the sort promises.
		slices.SortStableFunc(out.Hits, func(a, b Hit) int {
			if c := cmp.Compare(b.Score, a.Score); c != 0 {
				return c
			}
			if c := b.Updated.Compare(a.Updated); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
	}
	return out, nil
}

// byScoreOnly reports whether Bleve is asked to rank req by score alone. A
// sort with tie-breakers (date, ID) makes Bleve decode the date and look up
// the ID of every matching item, not just of the page it returns: three
// quarters of a search's time over a large index. Ties are broken within
// the page instead; only items of exactly equal score at the page's edge
// may fall on either side of it.
func byScoreOnly(req Request) bool {
	return (req.Sort == "" || req.Sort == SortRelevance) && strings.TrimSpace(req.Query) != "" && len(req.After) == 0
}

func (x *Index) searchRequest(req Request) (*bleve.SearchRequest, error) {
	qs, err := ParseQuery(req.Query)
	if err != nil {
		return nil, err
	}
	var title []query.Query
	for _, l := range leaves(qs) {
		if t := onTitle(l, titleBoost); t != nil {
			title = append(title, t)
		}
	}
	qs = anyText(qs)
	var q query.Query = qs
	if len(title) > 0 {
		// The query string searches the text fields; the same words
		// found in the title raise the score.
		b := bleve.NewBooleanQuery()
		b.AddMust(qs)
		b.AddShould(title...)
		q = b
	}
	anyOf := func(fields []string, values []string) query.Query {
		d := bleve.NewDisjunctionQuery()
		for _, field := range fields {
			for _, v := range values {
				t := bleve.NewTermQuery(v)
				t.SetField(field)
				d.AddQuery(t)
			}
		}
		return d
	}
	// The query within the packages, or the near query within the near
	// packages.
	where := []query.Query{q}
	switch {
	case len(req.Packages) > 0 && req.Mentions:
		where = append(where, anyOf([]string{FieldPkgTree, FieldMentions}, req.Packages))
	case len(req.Packages) > 0:
		where = append(where, anyOf([]string{FieldPkgTree}, req.Packages))
	}
	var what query.Query = bleve.NewConjunctionQuery(where...)
	if len(where) == 1 {
		what = q
	}
	if len(req.NearPackages) > 0 && strings.TrimSpace(req.NearQuery) != "" {
		nq, err := ParseQuery(req.NearQuery)
		if err != nil {
			return nil, err
		}
		what = bleve.NewDisjunctionQuery(what, bleve.NewConjunctionQuery(anyText(nq), anyOf([]string{FieldPkgTree}, req.NearPackages)))
	}
	filters := []query.Query{what}
	terms := func(field string, values []string) {
		if len(values) > 0 {
			filters = append(filters, anyOf([]string{field}, values))
		}
	}
	terms(FieldKind, req.Kinds)
	terms(FieldState, req.States)
	terms(FieldStage, req.Stages)
	terms(FieldRepo, req.Repos)
	terms(FieldSource, req.Sources)
	for _, l := range req.Labels {
		terms(FieldLabels, []string{l})
	}
	if len(req.IDs) > 0 {
		filters = append(filters, bleve.NewDocIDQuery(req.IDs))
	}
	if !req.Since.IsZero() || !req.Until.IsZero() {
		inclusive := true
		var start, end time.Time
		if !req.Since.IsZero() {
			start = req.Since
		}
		if !req.Until.IsZero() {
			end = req.Until
		}
		r := bleve.NewDateRangeInclusiveQuery(start, end, &inclusive, &inclusive)
		r.SetField(FieldUpdated)
		filters = append(filters, r)
	}
	var final query.Query = filters[0]
	if len(filters) > 1 {
		final = bleve.NewConjunctionQuery(filters...)
	}
	limit := req.Limit
	if limit <= 0 {
		limit = 20
	}
	sr := bleve.NewSearchRequestOptions(final, limit, req.Offset, false)
	if len(req.After) > 0 {
		sr.SearchAfter = req.After
	}
	sr.Fields = []string{FieldSource, FieldRepo, FieldNumber, FieldKind, FieldState, FieldStage, FieldTitle, FieldURL, FieldUpdated, FieldPackages, FieldLabels, FieldRoutine, FieldMentions, FieldOwnFiles}
	switch req.Sort {
	case "", SortRelevance:
		if byScoreOnly(req) {
			sr.SortBy([]string{"-_score"})
		} else if strings.TrimSpace(req.Query) == "" {
			sr.SortBy([]string{"-" + FieldUpdated, "_id"})
		} else {
			sr.SortBy([]string{"-_score", "-" + FieldUpdated, "_id"})
		}
	case SortUpdated:
		sr.SortBy([]string{"-" + FieldUpdated, "_id"})
	default:
		return nil, fmt.Errorf("unknown sort %q: use relevance or updated", req.Sort)
	}
	if req.Highlight && strings.TrimSpace(req.Query) != "" {
		sr.Highlight = bleve.NewHighlightWithStyle(highlighterName)
		sr.Highlight.Fields = []string{FieldTitle, FieldBody, FieldComments}
		sr.IncludeLocations = true
	}
	return sr, nil
}

func hitFrom(m *search.DocumentMatch) Hit {
	h := Hit{ID: m.ID, Score: m.Score, After: m.Sort}
	str := func(k string) string { s, _ := m.Fields[k].(string); return s }
	strs := func(k string) []string {
		switch v := m.Fields[k].(type) {
		case string:
			return []string{v}
		case []interface{}:
			out := make([]string, 0, len(v))
			for _, e := range v {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
		return nil
	}
	h.Source = str(FieldSource)
	h.Repo = str(FieldRepo)
	if n, ok := m.Fields[FieldNumber].(float64); ok {
		h.Number = int(n)
	}
	h.Kind = str(FieldKind)
	h.State = str(FieldState)
	h.Stage = str(FieldStage)
	h.Title = str(FieldTitle)
	h.URL = str(FieldURL)
	if t, err := time.Parse(time.RFC3339, str(FieldUpdated)); err == nil {
		h.Updated = t
	}
	h.Packages = strs(FieldPackages)
	h.Labels = strs(FieldLabels)
	h.Routine = str(FieldRoutine)
	h.Mentions = strs(FieldMentions)
	h.OwnFiles = strs(FieldOwnFiles)
	// The snippet is the first fragment that marks a term: Bleve also
	// returns unmarked fragments of fields where no term was found.
	var first Snippet
	for _, f := range []string{FieldTitle, FieldBody, FieldComments} {
		for _, frag := range m.Fragments[f] {
			if first == "" {
				first = Snippet(frag)
			}
			if h.Snippet == "" && strings.Contains(frag, markStart) {
				h.Snippet = Snippet(frag)
			}
		}
	}
	if h.Snippet == "" {
		h.Snippet = first
	}
	if len(m.Locations) > 0 {
		h.Terms = make(map[string][]string)
		for field, tl := range m.Locations {
			for term := range tl {
				h.Terms[field] = append(h.Terms[field], term)
			}
			sort.Strings(h.Terms[field])
		}
	}
	return h
}

// A Snippet is a piece of an item's text with the matched terms marked.
// Render it with Text, ANSI or HTML.
type Snippet string

// Text renders the snippet with the marked terms in [brackets]... as
// «guillemets», on one line.
func (s Snippet) Text() string { return s.render("«", "»", false) }

// ANSI renders the snippet with the marked terms in bold for a terminal.
func (s Snippet) ANSI() string { return s.render("\x1b[1m", "\x1b[0m", false) }

// HTML renders the snippet as HTML, escaping the tracker's text and marking
// the terms with <mark>.
func (s Snippet) HTML() string { return s.render("<mark>", "</mark>", true) }

// MarshalText renders the snippet as plain text in JSON output.
func (s Snippet) MarshalText() ([]byte, error) { return []byte(s.Text()), nil }

func (s Snippet) render(before, after string, escape bool) string {
	var b strings.Builder
	text := strings.Join(strings.Fields(string(s)), " ")
	for text != "" {
		i := strings.IndexAny(text, markStart+markEnd)
		seg := text
		if i >= 0 {
			seg = text[:i]
		}
		seg = strings.Map(func(r rune) rune {
			// Control characters and the bidirectional overrides and
			// isolates that reorder text on screen are dropped.
			if unicode.IsControl(r) || r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069' {
				return -1
			}
			return r
		}, seg)
		if escape {
			seg = html.EscapeString(seg)
		}
		b.WriteString(seg)
		if i < 0 {
			break
		}
		if text[i:i+1] == markStart {
			b.WriteString(before)
		} else {
			b.WriteString(after)
		}
		text = text[i+1:]
	}
	return b.String()
}
