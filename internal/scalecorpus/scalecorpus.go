// Package scalecorpus generates large, deterministic corpora for scale
// benchmarks by multiplying the real Go tracker corpus (../shared/corpus)
// under new IDs.
//
// The mix follows Go's own history: golang/go has about 80,000 issues and
// pull requests with some 800,000 comments, Go's Gerrit about 250,000
// changes, and the vulnerability database a few thousand entries. So a
// generated corpus of N items holds 24% GitHub issues, 75% Gerrit changes
// and 1% OSV entries, and every issue gets a number of comments drawn from a
// geometric distribution with a mean of 10 (golang/go's average): 300,000
// items come with about 720,000 comments, one million stored objects.
//
// Each generated object is a real one with new identifiers: issues are
// numbered from 200,000 (beyond golang/go's), changes from 10,000,000 with a
// fresh Change-Id, vulnerabilities GO-YYYY-1NNNNNN. Bodies get one line
// naming the copy, so that the index sees a vocabulary that grows with the
// corpus, as a real one does. Comments are made of paragraphs of the corpus's
// own text. The same options and corpus always give the same bytes.
package scalecorpus

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/internal/jsonl"
)

// Shares of the item kinds in a generated corpus.
const (
	IssueShare = 0.24
	VulnShare  = 0.01
	// Gerrit changes make up the rest.
)

// MeanComments is the average number of comments per generated issue.
const MeanComments = 10

// Options say what to generate.
type Options struct {
	Items int    // number of items (issues, changes and vulnerabilities)
	Seed  uint64 // seed of the pseudo-random choices; 0 is a fine default
}

// Stats says what Generate wrote.
type Stats struct {
	Issues, Comments, Changes, Vulns int
	Bytes                            int64
}

// Objects returns the number of objects written (items and comments).
func (s Stats) Objects() int { return s.Issues + s.Comments + s.Changes + s.Vulns }

// Items returns the number of items written.
func (s Stats) Items() int { return s.Issues + s.Changes + s.Vulns }

// A Corpus is the real corpus loaded as templates.
type Corpus struct {
	issues, changes, vulns []map[string]any
	paragraphs             []string
}

// Load reads the corpus files issues.jsonl.gz, changes.jsonl.gz and
// osv.jsonl.gz from dir.
func Load(dir string) (*Corpus, error) {
	c := &Corpus{}
	for _, f := range []struct {
		name string
		dst  *[]map[string]any
		text []string // members whose text feeds the comments
	}{
		{"issues.jsonl.gz", &c.issues, []string{"body"}},
		{"changes.jsonl.gz", &c.changes, nil},
		{"osv.jsonl.gz", &c.vulns, []string{"details"}},
	} {
		name := filepath.Join(dir, f.name)
		r, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("scalecorpus: %w", err)
		}
		err = jsonl.Each(r, func(n int, raw []byte) error {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				return fmt.Errorf("%s:%d: %w", name, n, err)
			}
			*f.dst = append(*f.dst, m)
			for _, k := range f.text {
				s, _ := m[k].(string)
				c.addParagraphs(s)
			}
			if f.text == nil {
				c.addParagraphs(commitMessage(m))
			}
			return nil
		})
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("scalecorpus: %w", err)
		}
		if len(*f.dst) == 0 {
			return nil, fmt.Errorf("scalecorpus: %s has no objects", name)
		}
	}
	return c, nil
}

// commitMessage returns the message of a change's current revision.
func commitMessage(change map[string]any) string {
	revs, _ := change["revisions"].(map[string]any)
	cur, _ := change["current_revision"].(string)
	rev, _ := revs[cur].(map[string]any)
	commit, _ := rev["commit"].(map[string]any)
	msg, _ := commit["message"].(string)
	return msg
}

func (c *Corpus) addParagraphs(s string) {
	for _, p := range strings.Split(s, "\n\n") {
		p = strings.TrimSpace(p)
		if len(p) >= 40 && len(p) <= 2000 && !strings.HasPrefix(p, "Change-Id:") {
			c.paragraphs = append(c.paragraphs, p)
		}
	}
}

// Generate writes a corpus of opts.Items items (and their comments) as JSON
// Lines to w, each issue followed by its comments.
func (c *Corpus) Generate(w io.Writer, opts Options) (Stats, error) {
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5ca1e))
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var st Stats
	nextComment := int64(9_000_000_000)
	issues := int(math.Round(float64(opts.Items) * IssueShare))
	vulns := int(math.Round(float64(opts.Items) * VulnShare))
	for i := range opts.Items {
		// Spread the kinds evenly through the stream, as a sync would
		// interleave them.
		var obj map[string]any
		comments := 0
		switch {
		case st.Issues < issues && (i*issues/opts.Items >= st.Issues):
			comments = geometric(rng, MeanComments)
			obj = c.issue(st.Issues, comments)
			st.Issues++
		case st.Vulns < vulns && (i*vulns/opts.Items >= st.Vulns):
			obj = c.vuln(st.Vulns)
			st.Vulns++
		default:
			obj = c.change(st.Changes, rng)
			st.Changes++
		}
		if err := enc.Encode(obj); err != nil {
			return st, err
		}
		created, _ := obj["created_at"].(string)
		for j := range comments {
			nextComment++
			if err := enc.Encode(c.comment(obj["number"].(int), nextComment, j, created, rng)); err != nil {
				return st, err
			}
			st.Comments++
		}
	}
	if err := bw.Flush(); err != nil {
		return st, err
	}
	st.Bytes = cw.n
	return st, nil
}

// geometric draws from a geometric distribution with the given mean.
func geometric(rng *rand.Rand, mean float64) int {
	p := 1 / (mean + 1)
	u := 1 - rng.Float64() // (0, 1]
	return int(math.Floor(math.Log(u) / math.Log(1-p)))
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

const (
	firstIssue  = 200_000
	firstChange = 10_000_000
	firstVuln   = 1_000_000
)

func (c *Corpus) issue(i, comments int) map[string]any {
	t := c.issues[i%len(c.issues)]
	m := clone(t)
	n := firstIssue + i
	repoURL, _ := t["repository_url"].(string)
	if repoURL == "" {
		repoURL = "https://api.github.com/repos/golang/go"
	}
	repo := strings.TrimPrefix(repoURL, "https://api.github.com/repos/")
	m["number"] = n
	m["id"] = int64(3_000_000_000) + int64(n)
	m["url"] = repoURL + "/issues/" + strconv.Itoa(n)
	m["html_url"] = "https://github.com/" + repo + "/issues/" + strconv.Itoa(n)
	m["comments"] = comments
	body, _ := t["body"].(string)
	m["body"] = body + fmt.Sprintf("\n\n(Copy %d of golang/go#%v, generated for scale tests.)", i, t["number"])
	delete(m, "x_corpus_source")
	return m
}

func (c *Corpus) comment(issue int, id int64, j int, created string, rng *rand.Rand) map[string]any {
	var b strings.Builder
	for k := 1 + rng.IntN(3); k > 0; k-- {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(c.paragraphs[rng.IntN(len(c.paragraphs))])
	}
	at, err := time.Parse(time.RFC3339, created)
	if err != nil {
		at = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	at = at.Add(time.Duration(j+1) * 37 * time.Hour).UTC()
	return map[string]any{
		"id":         id,
		"issue_url":  "https://api.github.com/repos/golang/go/issues/" + strconv.Itoa(issue),
		"html_url":   fmt.Sprintf("https://github.com/golang/go/issues/%d#issuecomment-%d", issue, id),
		"body":       b.String(),
		"user":       map[string]any{"login": fmt.Sprintf("gopher%d", rng.IntN(5000))},
		"created_at": at.Format(time.RFC3339),
		"updated_at": at.Format(time.RFC3339),
	}
}

func (c *Corpus) change(i int, rng *rand.Rand) map[string]any {
	t := c.changes[i%len(c.changes)]
	m := clone(t)
	n := firstChange + i
	changeID := fmt.Sprintf("I%016x%016x%08x", rng.Uint64(), rng.Uint64(), uint32(i))
	project, _ := t["project"].(string)
	branch, _ := t["branch"].(string)
	m["_number"] = n
	m["change_id"] = changeID
	m["id"] = project + "~" + branch + "~" + changeID
	delete(m, "x_corpus_source")
	return m
}

func (c *Corpus) vuln(i int) map[string]any {
	t := c.vulns[i%len(c.vulns)]
	m := clone(t)
	id, _ := t["id"].(string)
	year := "2099"
	if parts := strings.Split(id, "-"); len(parts) == 3 {
		year = parts[1]
	}
	m["id"] = fmt.Sprintf("GO-%s-%d", year, firstVuln+i)
	details, _ := t["details"].(string)
	m["details"] = details + fmt.Sprintf("\n\n(Copy %d of %s, generated for scale tests.)", i, id)
	delete(m, "x_corpus_source")
	return m
}

type countWriter struct {
	w io.Writer
	n int64
}

func (w *countWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.n += int64(n)
	return n, err
}

// WriteFile generates a corpus into the named file, gzip-compressed if the
// name ends in .gz.
func (c *Corpus) WriteFile(name string, opts Options) (Stats, error) {
	f, err := os.Create(name)
	if err != nil {
		return Stats{}, fmt.Errorf("scalecorpus: %w", err)
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(name, ".gz") {
		zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
		w = zw
	}
	st, err := c.Generate(w, opts)
	if err == nil && zw != nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return st, fmt.Errorf("scalecorpus: %s: %w", name, err)
	}
	return st, nil
}
