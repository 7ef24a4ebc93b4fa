package github_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/sourcetest"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// syntheticIssues is how many issues the benchmarks serve when the corpus
// is absent.
const syntheticIssues = 2000

// quiet discards log output for the rest of the benchmark: a first sync
// logs its starting point, once per iteration.
func quiet(b *testing.B) {
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.Cleanup(func() { slog.SetDefault(old) })
}

// benchServer serves the corpus issues, or synthetic ones without it.
func benchServer(b *testing.B) (*githubtest.Server, int) {
	srv := githubtest.NewServer()
	b.Cleanup(srv.Close)
	n, ok := serveCorpus(b, srv)
	if !ok {
		n = syntheticIssues
		populate(b, srv, n, 0)
		b.Logf("corpus not available: serving %d synthetic issues", n)
	}
	return srv, n
}

func benchSource(b *testing.B, srv *githubtest.Server) *github.Source {
	src, err := github.NewSource(configsFor(srv), github.WithToken(""), github.WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	return src
}

var benchOpts = source.Options{Since: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}

// benchBackfill measures first syncs of n issues from srv into empty stores.
func benchBackfill(b *testing.B, srv *githubtest.Server, n int) {
	quiet(b)
	stats := sourcetest.BenchFirstSync(b, benchSource(b, srv), n, benchOpts)
	b.ReportMetric(float64(stats.Requests)/float64(n), "requests/item")
}

// BenchmarkSyncCorpus is a first sync of the corpus issues through the fake
// server, into the store only.
func BenchmarkSyncCorpus(b *testing.B) {
	srv, n := benchServer(b)
	benchBackfill(b, srv, n)
}

// BenchmarkSyncBackfill10k is a first sync of 10,000 synthetic issues: the
// request cost of a large backfill, where the two ETag requests no longer
// count.
func BenchmarkSyncBackfill10k(b *testing.B) {
	const n = 10000
	srv := githubtest.NewServer()
	b.Cleanup(srv.Close)
	populate(b, srv, n, 0)
	benchBackfill(b, srv, n)
}

// BenchmarkSyncNoChange is an incremental sync when nothing changed: two
// conditional requests answered 304.
func BenchmarkSyncNoChange(b *testing.B) {
	quiet(b)
	srv, _ := benchServer(b)
	src := benchSource(b, srv)
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if _, err := src.Sync(ctx, st, benchOpts); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		stats, err := src.Sync(ctx, st, benchOpts)
		if err != nil {
			b.Fatal(err)
		}
		if stats.NotModified != 2 || stats.Requests != 2 {
			b.Fatalf("%d requests, %d not modified; want two 304s", stats.Requests, stats.NotModified)
		}
	}
}
