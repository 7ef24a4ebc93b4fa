package watcher_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

var ctx = context.Background()

var fixtures = []string{"testdata/issues.jsonl", "testdata/changes.jsonl", "testdata/vulns.jsonl"}

func openData(t testing.TB) *watcher.Data {
	t.Helper()
	d, err := watcher.OpenData(t.TempDir(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// loaded returns a data directory with the fixtures imported and indexed.
func loaded(t testing.TB) *watcher.Data {
	t.Helper()
	d := openData(t)
	importFiles(t, d, fixtures)
	if _, err := d.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

func importBytes(t *testing.T, d *watcher.Data, name string, data []byte, opts watcher.ImportOptions) (*watcher.ImportResult, error) {
	t.Helper()
	return d.Import(ctx, name, bytes.NewReader(data), opts)
}

func TestImportCounts(t *testing.T) {
	d := openData(t)
	data, err := os.ReadFile("testdata/issues.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	res, err := importBytes(t, d, "issues.jsonl", data, watcher.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts[watcher.ShapeGitHubIssue]; c == nil || c.New != 6 {
		t.Errorf("issues: %+v, want 6 new", c)
	}
	if c := res.Counts[watcher.ShapeGitHubComment]; c == nil || c.New != 3 {
		t.Errorf("comments: %+v, want 3 new", c)
	}
	// The same file again changes nothing; gzip-compressed it reads the same.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	res, err = importBytes(t, d, "issues.jsonl.gz", gz.Bytes(), watcher.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts[watcher.ShapeGitHubIssue]; c.Unchanged != 6 || c.New+c.Updated != 0 {
		t.Errorf("second import: %+v, want 6 unchanged", c)
	}
	// An edited issue counts as updated.
	edited := bytes.Replace(data, []byte("client hangs"), []byte("client stalls"), 1)
	res, err = importBytes(t, d, "edited.jsonl", edited, watcher.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts[watcher.ShapeGitHubIssue]; c.Updated != 1 || c.Unchanged != 5 {
		t.Errorf("edited import: %+v, want 1 updated, 5 unchanged", c)
	}
}

func TestImportMalformedLineImportsNothing(t *testing.T) {
	d := openData(t)
	data, _ := os.ReadFile("testdata/changes.jsonl")
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	lines = slices.Insert(lines, 2, `{"_number": 1, "project": "go", "change_id": "I1", "updated": "yesterday"}`)
	lines = slices.Insert(lines, 4, `{"truncated": `)
	bad := []byte(strings.Join(lines, "\n"))

	_, err := importBytes(t, d, "changes.jsonl", bad, watcher.ImportOptions{})
	var le *watcher.LineError
	if !errors.As(err, &le) || le.Line != 3 {
		t.Fatalf("err = %v, want a LineError at line 3", err)
	}
	if !strings.HasPrefix(err.Error(), "changes.jsonl:3: ") || !strings.Contains(err.Error(), `"yesterday"`) {
		t.Errorf("error %q does not name the file, line and reason", err)
	}
	var exported bytes.Buffer
	if n, _ := d.Export(ctx, &exported, ""); n != 0 {
		t.Fatalf("a file with a bad line imported %d objects", n)
	}

	res, err := importBytes(t, d, "changes.jsonl", bad, watcher.ImportOptions{SkipBad: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts[watcher.ShapeGerritChange]; c.New != 4 {
		t.Errorf("with SkipBad: %+v, want the 4 good changes", c)
	}
	if len(res.Bad) != 2 || res.Bad[0].Line != 3 || res.Bad[1].Line != 5 {
		t.Errorf("bad lines = %v, want lines 3 and 5", res.Bad)
	}
}

func TestImportShapes(t *testing.T) {
	d := openData(t)
	for _, tt := range []struct {
		line, shape, err string
	}{
		{`{"id": 5, "name": "x"}`, "", "not a GitHub issue or comment, Gerrit change, OSV entry or GitHub security advisory"},
		{`[1, 2]`, "", "not a JSON object"},
		{`{"number": 1, "html_url": "https://github.com/golang/go/issues/1"}`, "", "no updated_at"},
		{`{"id":"GO-2024-0001","modified":"2024-01-01T00:00:00Z"}`, "gerrit", "no _number or project"},
		{`{"id":"GO-2024-0001","modified":"2024-01-01T00:00:00Z"}`, "bogus", `unknown shape "bogus"`},
	} {
		_, err := importBytes(t, d, "x.jsonl", []byte(tt.line), watcher.ImportOptions{Shape: tt.shape})
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("import %s (shape %q): err = %v, want %q", tt.line, tt.shape, err, tt.err)
		}
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	d := loaded(t)
	var first bytes.Buffer
	n, err := d.Export(ctx, &first, "")
	if err != nil {
		t.Fatal(err)
	}
	if n != 16 {
		t.Errorf("exported %d objects, want the 16 imported", n)
	}
	d2 := openData(t)
	if _, err := importBytes(t, d2, "export.jsonl", first.Bytes(), watcher.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if _, err := d2.Export(ctx, &second, ""); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatalf("export → import → export differs:\n%s\n---\n%s", first.Bytes(), second.Bytes())
	}
	// Every fixture line is in the export, byte for byte.
	for _, f := range fixtures {
		data, _ := os.ReadFile(f)
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if !bytes.Contains(first.Bytes(), []byte(line+"\n")) {
				t.Errorf("export lost or changed %.80s…", line)
			}
		}
	}
	var vulns bytes.Buffer
	if n, _ := d.Export(ctx, &vulns, "vulndb"); n != 3 {
		t.Errorf("--source vulndb exported %d, want 3", n)
	}
	if _, err := d.Export(ctx, &vulns, "jira"); err == nil {
		t.Error("unknown source accepted")
	}
}

func search(t *testing.T, d *watcher.Data, req index.Request) []string {
	t.Helper()
	res, err := d.Index.Search(ctx, req)
	if err != nil {
		t.Fatalf("Search(%+v): %v", req, err)
	}
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

func TestSearchFilters(t *testing.T) {
	d := loaded(t)
	day := func(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }
	tests := []struct {
		name string
		req  index.Request
		want []string // in order
	}{
		{"package includes sub-packages", index.Request{Packages: []string{"golang.org/x/crypto"}, Sort: "updated"},
			[]string{"go-review:crypto/560003", "golang/go#70005", "GO-2024-2602"}},
		{"package exact", index.Request{Packages: []string{"crypto/tls"}, Sort: "updated"},
			[]string{"go-review:go/560001", "golang/go#70001", "GO-2024-2601", "golang/go#70002"}},
		{"kind", index.Request{Kinds: []string{"proposal"}, Sort: "updated"}, []string{"golang/go#70001", "golang/go#70003"}},
		{"pull", index.Request{Kinds: []string{"pull"}}, []string{"golang/go#70006"}},
		{"state", index.Request{States: []string{"merged", "abandoned"}, Sort: "updated"},
			[]string{"go-review:net/560004", "go-review:go/560002", "go-review:crypto/560003"}},
		{"stage", index.Request{Stages: []string{"accepted"}}, []string{"golang/go#70003"}},
		{"stage from comment", index.Request{Stages: []string{"active"}}, []string{"golang/go#70001"}},
		{"label", index.Request{Labels: []string{"Proposal", "Proposal-Crypto"}}, []string{"golang/go#70001"}},
		{"repo", index.Request{Repos: []string{"net"}}, []string{"go-review:net/560004"}},
		{"since and until", index.Request{Since: day("2024-02-25"), Until: day("2024-03-03"), Sort: "updated"},
			[]string{"golang/go#70004", "go-review:go/560002", "go-review:crypto/560003"}},
		{"query and package", index.Request{Query: "session ticket", Packages: []string{"crypto/tls"}, Sort: "updated"},
			[]string{"go-review:go/560001", "golang/go#70001", "GO-2024-2601"}},
		{"comment text is searched", index.Request{Query: `"edge servers"`}, []string{"golang/go#70001"}},
		{"required and excluded", index.Request{Query: "+rsa -decryption"}, []string{"golang/go#70002"}},
		{"phrase", index.Request{Query: `"rapid reset"`}, []string{"GO-2023-2100"}},
		{"ids", index.Request{IDs: []string{"GO-2023-2100", "golang/go#70004"}, Sort: "updated"}, []string{"golang/go#70004", "GO-2023-2100"}},
		{"no hits", index.Request{Query: "zanzibar"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := search(t, d, tt.req); !slices.Equal(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestSearchTitleBoostAndHighlight(t *testing.T) {
	d := loaded(t)
	res, err := d.Index.Search(ctx, index.Request{Query: "rsa", Highlight: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) < 2 {
		t.Fatalf("hits = %v", res.Hits)
	}
	for _, h := range res.Hits[:2] {
		if !strings.Contains(strings.ToLower(h.Title), "rsa") {
			t.Errorf("a hit without rsa in its title ranks in the top two: %s %q", h.ID, h.Title)
		}
	}
	h := res.Hits[0]
	if !strings.Contains(h.Snippet.Text(), "«") || !strings.Contains(h.Snippet.HTML(), "<mark>") {
		t.Errorf("snippet not highlighted: %q", h.Snippet)
	}
	if h.URL == "" || h.Updated.IsZero() || h.Kind == "" || h.Number == 0 {
		t.Errorf("hit lacks stored fields: %+v", h)
	}
}

func TestSearchBadQuery(t *testing.T) {
	d := loaded(t)
	for _, q := range []string{`"unclosed phrase`, `title:`, `updated:>2024-01-01`} {
		_, err := d.Index.Search(ctx, index.Request{Query: q})
		var qe *index.QueryError
		if !errors.As(err, &qe) {
			t.Errorf("Search(%q) = %v, want a QueryError", q, err)
		}
	}
}

func TestReindexGivesIdenticalResults(t *testing.T) {
	d := loaded(t)
	reqs := []index.Request{
		{Query: "session ticket"},
		{Query: "rsa decryption", Sort: "updated"},
		{Packages: []string{"net/http"}},
		{Kinds: []string{"change"}, Sort: "updated"},
	}
	var before []string
	for _, r := range reqs {
		res, err := d.Index.Search(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, fmt.Sprint(res.Total, res.Hits))
	}
	n, err := d.Reindex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 13 {
		t.Errorf("reindexed %d items, want 13", n)
	}
	for i, r := range reqs {
		res, err := d.Index.Search(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(res.Total, res.Hits); got != before[i] {
			t.Errorf("after reindex, %+v:\n got %s\nwant %s", r, got, before[i])
		}
	}
}

func TestIndexPendingIsIncremental(t *testing.T) {
	d := loaded(t)
	if n, err := d.IndexPending(ctx); err != nil || n != 0 {
		t.Fatalf("nothing new: indexed %d, %v", n, err)
	}
	// A new comment on an issue re-indexes that issue alone.
	c := `{"url":"https://api.github.com/repos/golang/go/issues/comments/3000009","html_url":"https://github.com/golang/go/issues/70004#issuecomment-3000009","issue_url":"https://api.github.com/repos/golang/go/issues/70004","id":3000009,"user":{"login":"x"},"created_at":"2024-03-03T10:00:00Z","updated_at":"2024-03-03T10:00:00Z","body":"Reproduced with a zanzibar client."}`
	if _, err := importBytes(t, d, "c.jsonl", []byte(c), watcher.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := d.IndexPending(ctx); err != nil || n != 1 {
		t.Fatalf("after one comment: indexed %d, %v; want 1", n, err)
	}
	if got := search(t, d, index.Request{Query: "zanzibar"}); !slices.Equal(got, []string{"golang/go#70004"}) {
		t.Errorf("new comment not searchable: %v", got)
	}
}

func TestItemAndNotFound(t *testing.T) {
	d := loaded(t)
	it, raw, err := d.Item("go-review:crypto/560003")
	if err != nil {
		t.Fatal(err)
	}
	if it.Title != "ssh: time out reading the server banner" || !bytes.HasPrefix(raw, []byte(`{"id":"crypto~master~`)) {
		t.Errorf("Item = %q, raw %.40s", it.Title, raw)
	}
	if _, _, err := d.Item("golang/go#1"); !errors.Is(err, watcher.ErrNotFound) {
		t.Errorf("missing item: %v", err)
	}
}

func TestReadOnlyDataNeedsAStore(t *testing.T) {
	_, err := watcher.OpenData(filepath.Join(t.TempDir(), "none"), true, nil)
	if err == nil || !strings.Contains(err.Error(), "nothing imported or synced yet") {
		t.Errorf("OpenData on an empty directory: %v", err)
	}
}

// Import stores a large file in transactions bounded by objects and bytes,
// still imports nothing from a file whose last line is bad, and reads from
// a reader that cannot seek.
func TestImportBoundedTransactions(t *testing.T) {
	var data []byte
	for _, name := range fixtures {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, bytes.TrimSpace(b)...)
		data = append(data, '\n')
	}
	lines := bytes.Count(data, []byte("\n"))
	if lines < 7 {
		t.Fatalf("the fixtures have %d lines; the test needs 7", lines)
	}
	var txs [][2]int
	defer watcher.SetImportBounds(3, 1<<20, func(o, b int) { txs = append(txs, [2]int{o, b}) })()

	d := openData(t)
	bad := append(append([]byte(nil), data...), []byte("\n{\"_number\": \n")...)
	if _, err := importBytes(t, d, "bad.jsonl", bad, watcher.ImportOptions{}); err == nil {
		t.Fatal("a file with a bad last line imported without error")
	}
	if len(txs) != 0 || storedCount(t, d) != 0 {
		t.Fatalf("a file with a bad last line stored something: %d transactions, %d items", len(txs), storedCount(t, d))
	}

	// Through a reader that cannot seek (a pipe).
	res, err := d.Import(ctx, "fixtures.jsonl", struct{ io.Reader }{bytes.NewReader(data)}, watcher.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (lines + 2) / 3; len(txs) != want {
		t.Errorf("%d lines stored in %d transactions, want %d of at most 3: %v", lines, len(txs), want, txs)
	}
	for _, tx := range txs {
		if tx[0] > 3 {
			t.Errorf("a transaction stored %d objects, more than 3", tx[0])
		}
	}
	if res.Total() != lines || storedCount(t, d) == 0 {
		t.Errorf("imported %d of %d lines, stored %d items", res.Total(), lines, storedCount(t, d))
	}

	// Bounded by bytes: each line is over 100 bytes, so one line each.
	txs = nil
	watcher.SetImportBounds(1000, 100, func(o, b int) { txs = append(txs, [2]int{o, b}) })
	d2 := openData(t)
	if _, err := importBytes(t, d2, "fixtures.jsonl", data, watcher.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(txs) != lines {
		t.Errorf("with a 100-byte bound, %d transactions for %d lines", len(txs), lines)
	}
}

func storedCount(t *testing.T, d *watcher.Data) int {
	t.Helper()
	n := 0
	d.Store.View(func(tx *store.Tx) error { n = tx.Count(); return nil })
	return n
}
