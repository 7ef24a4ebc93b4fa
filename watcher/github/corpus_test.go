package github_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
	"github.com/reciprocal-access/reciprocal/watcher/sourcetest"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// corpusIssues is the shared corpus of real golang/go issues, beside the
// repository.
var corpusIssues = filepath.Join("..", "..", "..", "shared", "corpus", "issues.jsonl.gz")

// serveCorpus puts the corpus issues on srv and returns how many lines the
// file has. It reports false if the corpus is absent.
func serveCorpus(tb testing.TB, srv *githubtest.Server) (int, bool) {
	tb.Helper()
	if _, err := os.Stat(corpusIssues); err != nil {
		return 0, false
	}
	return sourcetest.AddFile(tb, srv, corpusIssues), true
}

func TestSyncCorpus(t *testing.T) {
	srv := newServer(t)
	n, ok := serveCorpus(t, srv)
	if !ok {
		t.Skipf("corpus not available: %s", corpusIssues)
	}
	if lines := sourcetest.CountLines(t, corpusIssues); n != lines {
		t.Fatalf("served %d issues, the file has %d lines", n, lines)
	}
	e := newEnv(t, srv)
	e.opts.Since = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	stats := e.mustSync(t)
	var count int
	e.data.Store.View(func(tx *store.Tx) error { count = tx.Count(); return nil })
	if stats.New != n || count != n {
		t.Errorf("first sync: %d new, store holds %d; want %d (the file's lines)", stats.New, count, n)
	}
	// No comments in the corpus: the comment listing is one empty page.
	if want := pages(n) + 1 + 1; stats.Requests != want {
		t.Errorf("first sync: %d requests, want ⌈%d/100⌉ + 1 + 1 = %d", stats.Requests, n, want)
	}
	t.Logf("first sync: %d issues in %d requests (%.4f requests/issue)", n, stats.Requests, float64(stats.Requests)/float64(n))

	srv.ResetStats()
	stats = e.mustSync(t)
	if s := srv.Stats(); s.Requests != 2 || s.NotModified != 2 || stats.New+stats.Updated != 0 {
		t.Errorf("incremental sync: server %+v, %d new, %d updated; want two 304s and nothing stored", s, stats.New, stats.Updated)
	}
}
