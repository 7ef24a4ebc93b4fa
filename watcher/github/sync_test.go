package github_test

import (
	"github.com/reciprocal-access/reciprocal/watcher/store"
	"testing"
)

// A first sync reads each listing once, page by page, plus one request per
// listing to learn the ETag of the listing since its new cursor; a second
// sync with nothing changed is two conditional requests, both answered 304.
func TestSyncRequests(t *testing.T) {
	const n, c = 250, 130
	srv := newServer(t)
	populate(t, srv, n, c)
	e := newEnv(t, srv)

	stats := e.mustSync(t)
	want := pages(n) + pages(c) + 2
	if got := srv.Stats().Requests; got != want {
		t.Errorf("first sync: server saw %d requests, want ⌈%d/100⌉ + ⌈%d/100⌉ + 2 = %d", got, n, c, want)
	}
	if stats.Requests != want || stats.NotModified != 0 {
		t.Errorf("first sync: stats %d requests, %d not modified; want %d, 0", stats.Requests, stats.NotModified, want)
	}
	if stats.New != n || stats.Updated != 0 || stats.Comments.New != c || stats.Comments.Updated != 0 {
		t.Errorf("first sync: %d new, %d updated issues, %+v comments; want %d new issues, %d new comments", stats.New, stats.Updated, stats.Comments, n, c)
	}
	if stats.Estimate != want || stats.RateRemaining <= 0 || stats.RateReset.IsZero() {
		t.Errorf("first sync: estimate %d, rate %d until %v; want estimate %d and a rate", stats.Estimate, stats.RateRemaining, stats.RateReset, want)
	}
	for _, l := range []string{"issues", "comments"} {
		cur, ok, err := e.src.Cursor(e.data.Store, l)
		if err != nil || !ok || cur.ETag == "" {
			t.Errorf("%s cursor after first sync: %+v, %v, %v; want one with an ETag", l, cur, ok, err)
		}
	}
	var count int
	var ncomments int
	e.data.Store.View(func(tx *store.Tx) error {
		count = tx.Count()
		return tx.ForEachComment(func(string, int64, []byte) error { ncomments++; return nil })
	})
	if count != n || ncomments != c {
		t.Errorf("store holds %d items and %d comments, want %d and %d", count, ncomments, n, c)
	}

	srv.ResetStats()
	stats = e.mustSync(t)
	if s := srv.Stats(); s.Requests != 2 || s.NotModified != 2 {
		t.Errorf("sync without changes: server saw %+v, want 2 requests, both 304", s)
	}
	if stats.Requests != 2 || stats.NotModified != 2 || stats.New+stats.Updated+stats.Unchanged != 0 || stats.Pages != 0 {
		t.Errorf("sync without changes: stats %+v; want 2 requests, 2 not modified, nothing stored", stats)
	}
}
