package watcher_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit/gerrittest"
	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb/vulndbtest"
)

// corpusServers starts the three fake trackers serving the shared corpus.
func corpusServers(b *testing.B) (srcs []source.Source, items int) {
	files := corpusFiles(b)
	gh := githubtest.NewServer()
	gr := gerrittest.NewServer()
	vd := vulndbtest.NewServer()
	b.Cleanup(func() { gh.Close(); gr.Close(); vd.Close() })
	for i, add := range []func(f *os.File) (int, error){
		func(f *os.File) (int, error) { return gh.AddJSONL(f) },
		func(f *os.File) (int, error) { return gr.AddJSONL(f) },
		func(f *os.File) (int, error) { return vd.AddJSONL(f) },
	} {
		f, err := os.Open(files[i])
		if err != nil {
			b.Fatal(err)
		}
		n, err := add(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		items += n
	}
	since := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	ghSrc, err := github.NewSource(github.Config{Repo: "golang/go", APIURL: gh.URL(), Since: since}, github.WithToken(""))
	if err != nil {
		b.Fatal(err)
	}
	grSrc, err := gerrit.NewSource(gerrit.Config{URL: "http://go-review.googlesource.com", Projects: []string{"go", "crypto", "build", "website", "proposal", "oscar"}, Since: since},
		gerrit.WithHTTPClient(gr.Client()))
	if err != nil {
		b.Fatal(err)
	}
	vdSrc, err := vulndb.NewSource(vulndb.Config{URL: vd.URL()})
	if err != nil {
		b.Fatal(err)
	}
	return []source.Source{ghSrc, grSrc, vdSrc}, items
}

// BenchmarkSyncAllCorpus is a first sync of the whole corpus from the three
// fake trackers on this machine, end to end: HTTP, store and index.
func BenchmarkSyncAllCorpus(b *testing.B) {
	srcs, items := corpusServers(b)
	b.ReportAllocs()
	var stored int
	for b.Loop() {
		b.StopTimer()
		d, err := watcher.OpenData(b.TempDir(), false, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := d.SyncAll(context.Background(), srcs, source.Options{})
		if err != nil {
			b.Fatal(err)
		}
		stored = 0
		for _, r := range res {
			stored += r.New + r.Updated
		}
		b.StopTimer()
		if n, _ := d.Index.Count(); int(n) != stored {
			b.Fatalf("indexed %d of %d stored items", n, stored)
		}
		d.Close()
		b.StartTimer()
	}
	if stored < items-5 {
		b.Fatalf("stored %d of %d served items", stored, items)
	}
	b.ReportMetric(float64(stored)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkSyncAllNoChange is an incremental sync of all three sources when
// nothing changed: conditional requests answered 304, and no indexing.
func BenchmarkSyncAllNoChange(b *testing.B) {
	srcs, _ := corpusServers(b)
	d, err := watcher.OpenData(b.TempDir(), false, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if _, err := d.SyncAll(context.Background(), srcs, source.Options{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var requests int
	for b.Loop() {
		res, err := d.SyncAll(context.Background(), srcs, source.Options{})
		if err != nil {
			b.Fatal(err)
		}
		requests = 0
		for _, r := range res {
			if r.New+r.Updated > 0 {
				b.Fatalf("%s changed: %+v", r.Source, r.Stats)
			}
			requests += r.Requests
		}
	}
	b.ReportMetric(float64(requests), "requests")
}
