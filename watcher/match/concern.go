package match

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/index/pkgpath"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
)

// Request returns the index request that finds the items of ix matching c:
// its query as concernQuery reads it, narrowed to its packages (and their
// sub-packages) and its kinds. Snippets and matched terms are asked for
// when c has a query.
func Request(ix *index.Index, c *configs.Concern) index.Request {
	nearQuery, nearPkgs := near(c)
	return index.Request{
		Query:        concernQuery(c, ix.TermShare),
		Packages:     withMirrors(c.Packages),
		Mentions:     strings.TrimSpace(c.Query) != "",
		NearQuery:    nearQuery,
		NearPackages: nearPkgs,
		Kinds:        c.Kinds,
		Highlight:    strings.TrimSpace(c.Query) != "" || nearQuery != "",
	}
}

// withMirrors returns packages with the golang.org/x twin of each standard
// library package: golang.org/x/crypto/ed25519 was crypto/ed25519 before it
// moved into the standard library (and forwards to it now), and net/http
// vendors golang.org/x/net/http/httpguts and httpproxy. A twin that does
// not exist matches nothing.
func withMirrors(pkgs []string) []string {
	out := slices.Clone(pkgs)
	for _, p := range pkgs {
		if first, _, ok := strings.Cut(p, "/"); ok && !strings.Contains(first, ".") && first != "cmd" && first != "internal" {
			out = append(out, "golang.org/x/"+p)
		}
	}
	return out
}

// Preview runs c over the whole index, returning how many items it matches
// now and the n most relevant: what check-config shows, so that a query can
// be tuned before it is trusted.
func Preview(ctx context.Context, ix *index.Index, c *configs.Concern, n int) (*index.Result, error) {
	req := Request(ix, c)
	req.Limit = n
	return ix.Search(ctx, req)
}

// fingerprintVersion changes when the matching rules change in a way that
// calls for evaluating every concern again.
const fingerprintVersion = 6

// Fingerprint returns a hash of what decides which items c matches: its
// packages, query, kinds and whether it wants routine changes. When it changes, the concern is evaluated over
// the whole index again; a new summary or priority changes nothing.
func Fingerprint(c *configs.Concern) string {
	pkgs := slices.Clone(c.Packages)
	slices.Sort(pkgs)
	kinds := slices.Clone(c.Kinds)
	slices.Sort(kinds)
	h := sha256.New()
	h.Write([]byte{fingerprintVersion})
	for _, s := range []string{strings.Join(pkgs, "\x01"), strings.TrimSpace(c.Query), strings.Join(kinds, "\x01")} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if c.Routine {
		h.Write([]byte("routine"))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// A concernEval is one concern being evaluated.
type concernEval struct {
	client  *configs.Profile
	concern *configs.Concern
	fp      string
	content string            // contentOf the concern
	words   map[string]string // analyzed term → query word, for reasons
	// fileWords are the query's words that name a file ("go.work",
	// "vendor/modules.txt"): base name → the word's analyzed terms.
	fileWords map[string][]string
	// pkgs are the concern's packages with their mirrors (withMirrors).
	pkgs []string
	// plainTerms are the terms of the query's one-token words ("vendor"),
	// not also of a word of several ("-mod=vendor").
	plainTerms map[string]bool

	reqOnce sync.Once
	req     index.Request // the index request, made once a run
}

// request returns the concern's index request, made once for a run.
func (ce *concernEval) request(ix *index.Index) index.Request {
	ce.reqOnce.Do(func() { ce.req = Request(ix, ce.concern) })
	return ce.req
}

func newConcernEval(p *configs.Profile, c *configs.Concern) *concernEval {
	return &concernEval{client: p, concern: c, fp: Fingerprint(c), content: contentOf(c), words: queryWords(wordsOf(c)), fileWords: fileWords(c.Query), plainTerms: plainTerms(c.Query), pkgs: withMirrors(c.Packages)}
}

func (ce *concernEval) key() string { return ce.client.ID + "\x00" + ce.concern.ID }

// keep reports whether a hit of the concern's index query is a match:
// routine changes (index.Routine) are left out unless the concern asks
// for them, and so are third-party vulnerabilities for a concern without
// packages, changes whose only words found name the change's own files
// (ownFilesOnly), items whose title has the words only inside names
// (onlyInNames) and items whose only packages of the concern's support
// tests (onlyTestSupport).
func (ce *concernEval) keep(h *index.Hit) bool {
	if h.Routine != "" && !ce.concern.Routine {
		return false
	}
	if ce.ownFilesOnly(h) || ce.onlyInNames(h) || ce.onlyTestSupport(h) {
		return false
	}
	if h.Kind == index.KindVuln && len(ce.concern.Packages) == 0 && !goOwn(h) {
		// A concern is about Go: a vulnerability of a third-party
		// module matters to it only when it names that module's
		// packages.
		return false
	}
	return true
}

// ownFilesOnly reports whether every query term found in h belongs to a
// query word naming a file that the change edits and names in its title
// (index.OwnFiles): "oscar: sync go.work and go.mod files", editing
// go.work, is about that repository's go.work, not about what a concern
// that says "go.work" means. A hit where no query term was found (a
// package match) is not.
func (ce *concernEval) ownFilesOnly(h *index.Hit) bool {
	if len(h.OwnFiles) == 0 || len(ce.fileWords) == 0 || len(h.Terms) == 0 {
		return false
	}
	own := map[string]bool{}
	for _, f := range h.OwnFiles {
		for _, t := range ce.fileWords[f] {
			own[t] = true
		}
	}
	if len(own) == 0 {
		return false
	}
	for _, terms := range h.Terms {
		for _, t := range terms {
			if !own[t] {
				return false
			}
		}
	}
	return true
}

// onlyTestSupport reports whether the packages of h that are the concern's
// (or under them) all support tests, by the Go convention
// (pkgpath.TestSupport: net/http/httptest, testing/iotest): programs do not
// import them, so a change there does not reach what a client runs. A
// concern that names such a package itself covers it.
func (ce *concernEval) onlyTestSupport(h *index.Hit) bool {
	if len(ce.concern.Packages) == 0 {
		return false
	}
	within := false
	for _, p := range h.Packages {
		for _, cp := range ce.pkgs {
			if !pkgpath.Within(p, cp) {
				continue
			}
			if p == cp || !pkgpath.TestSupport(p) {
				return false
			}
			within = true
		}
	}
	return within
}

// onlyInNames reports whether a concern without packages, which has only
// its words to go by, matched h by plain words that its title has only
// inside names (index.TermsOutsideNames): "vendor" in "skip repos without
// internal-branch.go1.n-vendor branch" names a branch, it is not about
// vendoring. A query word that is itself joined ("-mod=vendor", "ML-KEM")
// matches wherever its phrase is found.
func (ce *concernEval) onlyInNames(h *index.Hit) bool {
	if len(ce.concern.Packages) > 0 || len(h.Terms) == 0 {
		return false
	}
	var outside map[string]bool
	for field, terms := range h.Terms {
		if field != index.FieldTitle {
			return false
		}
		for _, t := range terms {
			if !ce.plainTerms[t] {
				return false
			}
			if outside == nil {
				outside = index.TermsOutsideNames(h.Title)
			}
			if outside[t] {
				return false
			}
		}
	}
	return true
}

// plainTerms returns the terms of the words of a query that the analyzer
// keeps as one token, less those that a word of several tokens also has.
func plainTerms(q string) map[string]bool {
	out, joined := map[string]bool{}, map[string]bool{}
	for _, w := range splitQuery(q) {
		terms := index.Analyze(w)
		for _, t := range terms {
			if len(terms) == 1 {
				out[t] = true
			} else {
				joined[t] = true
			}
		}
	}
	for t := range joined {
		delete(out, t)
	}
	return out
}

// fileWords returns the words of a query that name a file, by lower-case
// base name, with their analyzed terms: a word whose last path element has
// an extension of letters ("go.work", "vendor/modules.txt", "go.mod"; not
// "HTTP/1.1" or "crypto/tls").
func fileWords(q string) map[string][]string {
	var out map[string][]string
	for _, w := range splitQuery(q) {
		base := strings.ToLower(path.Base(w))
		dot := strings.LastIndexByte(base, '.')
		if dot <= 0 || dot == len(base)-1 || strings.IndexFunc(base[dot+1:], func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
			continue
		}
		if out == nil {
			out = map[string][]string{}
		}
		out[base] = append(out[base], index.Analyze(w)...)
	}
	return out
}

// goOwn reports whether a vulnerability affects Go itself: the standard
// library, the toolchain or a golang.org/x module.
func goOwn(h *index.Hit) bool {
	for _, p := range append([]string{h.Repo}, h.Packages...) {
		first, _, _ := strings.Cut(p, "/")
		if p == "stdlib" || p == "toolchain" || strings.HasPrefix(p, "golang.org/x/") || (p != "" && !strings.Contains(first, ".")) {
			return true
		}
	}
	return false
}

// reasons says why hit matched the concern.
func (ce *concernEval) reasons(h *index.Hit) queue.Reasons {
	var r queue.Reasons
	for _, cp := range ce.pkgs {
		for _, p := range h.Packages {
			if pkgpath.Within(p, cp) {
				r.Packages = append(r.Packages, cp)
				break
			}
		}
	}
	if len(r.Packages) == 0 {
		// Not the packages it touches: the ones it mentions, or those
		// that implement the concern's (see near).
		for _, cp := range ce.concern.Packages {
			if slices.Contains(h.Mentions, cp) {
				r.Packages = append(r.Packages, cp+" (mentioned)")
			}
		}
		_, nearPkgs := near(ce.concern)
		for _, np := range nearPkgs {
			for _, p := range h.Packages {
				if pkgpath.Within(p, np) && !slices.Contains(r.Packages, p) {
					r.Packages = append(r.Packages, p)
				}
			}
		}
	}
	r.Terms = ce.readableTerms(h.Terms)
	r.Snippet = h.Snippet
	return r
}

// readableTerms turns the analyzed terms the index reports ("resumpt") into
// the query's words ("resumption"), in the order of the query, followed by
// any term that is not one of its words.
func (ce *concernEval) readableTerms(byField map[string][]string) []string {
	if len(byField) == 0 {
		return nil
	}
	found := map[string]bool{}
	for _, terms := range byField {
		for _, t := range terms {
			found[t] = true
		}
	}
	var out, rest []string
	seen := map[string]bool{}
	for _, w := range ce.wordOrder() {
		for term, word := range ce.words {
			if word == w && found[term] && !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	for t := range found {
		if _, ok := ce.words[t]; !ok {
			rest = append(rest, t)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// wordOrder returns the query's words in the order they are written.
func (ce *concernEval) wordOrder() []string {
	var out []string
	for _, w := range splitQuery(wordsOf(ce.concern)) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// wordsOf returns the words a concern's matches can be explained by: its
// query's, then the technical terms of its summary (see near).
func wordsOf(c *configs.Concern) string {
	nearQuery, _ := near(c)
	return c.Query + " " + nearQuery
}

// queryWords maps each analyzed term of the query's words to the word.
func queryWords(q string) map[string]string {
	out := map[string]string{}
	for _, w := range splitQuery(q) {
		for _, term := range index.Analyze(w) {
			if _, ok := out[term]; !ok {
				out[term] = w
			}
		}
	}
	return out
}

// splitQuery returns the words of a query string that can match, as
// written: not excluded, without operators, quotes or field names. A word
// such as "HTTP/2" or "GetClientCertificate" stays whole.
func splitQuery(q string) []string {
	var out []string
	for _, f := range strings.Fields(q) {
		if strings.HasPrefix(f, "-") && !strings.Contains(f, "=") {
			continue
		}
		f = strings.TrimLeft(f, "+")
		if name, v, ok := strings.Cut(f, ":"); ok && !strings.ContainsAny(name, "/.") {
			f = v
		}
		if i := strings.IndexAny(f, "^~"); i >= 0 {
			f = f[:i]
		}
		f = strings.Trim(f, `"()*?`)
		if strings.IndexFunc(f, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			out = append(out, f)
		}
	}
	return out
}
