package watcher_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/index/pkgpath"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func countLines(t testing.TB, name string) int {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	br := bufio.NewReader(zr)
	for {
		_, err := br.ReadString('\n')
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

func TestCorpusImport(t *testing.T) {
	files := corpusFiles(t)
	d := openData(t)
	total := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.Import(ctx, name, f, watcher.ImportOptions{})
		f.Close()
		if err != nil {
			t.Fatalf("import %s: %v", name, err)
		}
		if len(res.Bad) != 0 {
			t.Errorf("%s: bad lines %v", name, res.Bad)
		}
		if want := countLines(t, name); res.Total() != want {
			t.Errorf("%s: imported %d objects, the file has %d lines", name, res.Total(), want)
		}
		total += res.Total()
	}
	n, err := d.IndexPending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// changes.jsonl.gz lists one change twice (the later line updates
	// it), so the store holds one item fewer than the lines imported.
	var stored int
	d.Store.View(func(tx *store.Tx) error { stored = tx.Count(); return nil })
	if n != stored || stored < total-5 {
		t.Errorf("indexed %d, stored %d, imported %d", n, stored, total)
	}

	// Session tickets, restricted to crypto/tls: every hit touches it.
	res, err := d.Index.Search(ctx, index.Request{Query: "session ticket", Packages: []string{"crypto/tls"}, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) < 5 {
		t.Fatalf("only %d crypto/tls hits for session ticket", len(res.Hits))
	}
	for _, h := range res.Hits {
		if !touches(h.Packages, "crypto/tls") {
			t.Errorf("%s (%s) does not touch crypto/tls: %v", h.ID, h.Title, h.Packages)
		}
	}
	// Without the filter the words alone still rank crypto/tls items first.
	res, err = d.Index.Search(ctx, index.Request{Query: "session ticket", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Hits {
		if !touches(h.Packages, "crypto/tls") {
			t.Errorf("top hit %s (%s) does not touch crypto/tls: %v", h.ID, h.Title, h.Packages)
		}
	}

	// Every x/crypto CL with files under ssh/ touches x/crypto/ssh.
	checked := 0
	err = d.Store.View(func(tx *store.Tx) error {
		return tx.Since(0, func(rec store.Record) error {
			if rec.Source != gerrit.Kind || !strings.HasPrefix(rec.ID, "go-review:crypto/") {
				return nil
			}
			it, err := d.Norm.Item(tx, rec)
			if err != nil {
				return err
			}
			for _, f := range it.Files {
				if strings.HasPrefix(f, "ssh/") {
					checked++
					if !touches(it.Packages, "golang.org/x/crypto/ssh") {
						t.Errorf("%s touches %v, files %v", it.ID, it.Packages, it.Files)
					}
					break
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Errorf("only %d x/crypto CLs touch ssh/", checked)
	}
}

func touches(pkgs []string, p string) bool {
	for _, q := range pkgs {
		if pkgpath.Within(q, p) {
			return true
		}
	}
	return false
}

// bigCorpus writes the corpus plus a second copy of its Gerrit changes
// under new change numbers, for benchmarks that need at least 10,000 items.
func bigCorpus(b *testing.B) []string {
	files := corpusFiles(b)
	extra := b.TempDir() + "/changes-copy.jsonl"
	out, err := os.Create(extra)
	if err != nil {
		b.Fatal(err)
	}
	f, _ := os.Open(files[1])
	zr, _ := gzip.NewReader(f)
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 64<<20)
	w := bufio.NewWriter(out)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			b.Fatal(err)
		}
		m["_number"] = m["_number"].(float64) + 10_000_000
		m["id"] = fmt.Sprint(m["id"], "-copy")
		line, _ := json.Marshal(m)
		w.Write(line)
		w.WriteByte('\n')
	}
	w.Flush()
	out.Close()
	f.Close()
	return append(files, extra)
}

func BenchmarkSearch(b *testing.B) {
	files := bigCorpus(b)
	d, err := watcher.OpenData(b.TempDir(), false, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	importFiles(b, d, files)
	if _, err := d.IndexPending(context.Background()); err != nil {
		b.Fatal(err)
	}
	count, _ := d.Index.Count()
	if count < 10_000 {
		b.Fatalf("only %d items indexed", count)
	}
	b.ReportMetric(float64(count), "items")
	for _, bc := range []struct {
		name string
		req  index.Request
	}{
		{"TwoTermsPackage", index.Request{Query: "session ticket", Packages: []string{"crypto/tls"}, Limit: 20}},
		{"TwoTermsPackageHighlight", index.Request{Query: "session ticket", Packages: []string{"crypto/tls"}, Limit: 20, Highlight: true}},
		{"FiltersOnly", index.Request{Kinds: []string{"change"}, States: []string{"merged"}, Sort: "updated", Limit: 20}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := d.Index.Search(context.Background(), bc.req)
				if err != nil || len(res.Hits) == 0 {
					b.Fatal(err, res)
				}
			}
		})
	}
}

func BenchmarkReindexCorpus(b *testing.B) {
	files := corpusFiles(b)
	d, err := watcher.OpenData(b.TempDir(), false, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	items := importFiles(b, d, files)
	b.ReportAllocs()
	start := usageNow()
	for b.Loop() {
		if _, err := d.Reindex(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	reportItems(b, items, start)
}
