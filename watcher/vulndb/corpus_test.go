package vulndb_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/sourcetest"
	"github.com/reciprocal-access/reciprocal/watcher/store"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb/vulndbtest"
)

// The real corpus served by the fake: a full sync fetches and stores every
// entry as served; the next sync is one 304.
func TestCorpusSync(t *testing.T) {
	path := corpusFile(t, "osv.jsonl.gz")
	lines := sourcetest.CountLines(t, path)
	e := newEnv(t, vulndb.DefaultBatchSize)
	n := sourcetest.AddFile(t, e.srv, path)
	if n != lines || e.srv.Len() != lines {
		t.Fatalf("fake read %d lines, holds %d entries; the file has %d lines (one entry each, IDs distinct)", n, e.srv.Len(), lines)
	}
	st := e.mustSync()
	if st.New != lines || st.Requests != lines+1 || st.Pages != (lines+vulndb.DefaultBatchSize-1)/vulndb.DefaultBatchSize {
		t.Errorf("full sync: %+v; want %d new in %d requests", st, lines, lines+1)
	}
	if c := e.count(); c != lines {
		t.Errorf("store holds %d items, want %d", c, lines)
	}
	e.data.Store.View(func(tx *store.Tx) error {
		n := 0
		return tx.Since(0, func(rec store.Record) error {
			if want, _ := e.srv.Entry(rec.ID); string(want) != string(rec.Raw) {
				t.Errorf("%s: stored bytes differ from the corpus line", rec.ID)
			}
			if n++; n%500 == 0 {
				if _, err := vulndb.Normalize(rec.Raw); err != nil {
					t.Errorf("%s: %v", rec.ID, err)
				}
			}
			return nil
		})
	})
	st = e.mustSync()
	if st.Requests != 1 || st.NotModified != 1 || st.New+st.Updated != 0 {
		t.Errorf("no-change sync: %+v; want one 304", st)
	}
}

// corpusServer returns a fake database holding the corpus's entries, or as
// many synthesized ones when the corpus is absent.
func corpusServer(b *testing.B) (*vulndbtest.Server, int) {
	srv := vulndbtest.NewServer()
	b.Cleanup(srv.Close)
	if p := "../../../shared/corpus/osv.jsonl.gz"; statOK(p) {
		sourcetest.AddFile(b, srv, p)
	} else {
		b.Log("corpus not available: synthesizing 2100 entries")
		for i := range 2100 {
			raw := vulndbtest.NewEntry(vulndbtest.EntrySpec{
				ID:       fmt.Sprintf("GO-%d-%04d", 2020+i/400, i%400),
				Modified: t0.Add(time.Duration(i) * time.Hour),
				Summary:  "Denial of service in net/http",
				Details:  "A crafted request makes the server allocate without bound. This paragraph stands for the details of a real report.",
				Aliases:  []string{fmt.Sprintf("CVE-2024-%d", 20000+i), fmt.Sprintf("GHSA-xxxx-%04d", i)},
				Packages: []string{"net/http", "net/http/internal"},
			})
			if err := srv.Put(raw); err != nil {
				b.Fatal(err)
			}
		}
	}
	return srv, srv.Len()
}

func benchSource(b *testing.B, srv *vulndbtest.Server) *vulndb.Source {
	s, err := vulndb.NewSource(vulndb.Config{URL: srv.URL()}, vulndb.WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkVulnDBSyncCorpus is a full sync of the corpus through the fake
// into an empty store (the index is not built). The fake runs in the same
// process, so its work is counted too.
func BenchmarkVulnDBSyncCorpus(b *testing.B) {
	srv, n := corpusServer(b)
	sourcetest.BenchFirstSync(b, benchSource(b, srv), n, source.Options{})
}

// BenchmarkNoChangeSync is a sync that finds nothing new: one conditional
// request answered 304.
func BenchmarkNoChangeSync(b *testing.B) {
	srv, n := corpusServer(b)
	src := benchSource(b, srv)
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if stats, err := src.Sync(context.Background(), st, source.Options{}); err != nil || stats.New != n {
		b.Fatalf("first sync: %+v, %v", stats, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		stats, err := src.Sync(context.Background(), st, source.Options{})
		if err != nil || stats.NotModified != 1 {
			b.Fatalf("sync: %+v, %v", stats, err)
		}
	}
}

// statOK reports whether the file at path can be found.
func statOK(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
