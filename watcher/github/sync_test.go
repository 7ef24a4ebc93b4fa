package github_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
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

// After the tracker changes a few objects, the next sync fetches those and
// no others (besides the boundary objects GitHub's inclusive since serves
// again), and the index shows the changes.
func TestSyncChanges(t *testing.T) {
	const n, c = 250, 130
	srv := newServer(t)
	populate(t, srv, n, c)
	// Issue 30 is a proposal.
	prop := newIssue(30, issueTime(30))
	prop.Title = "proposal: crypto/tls: control session ticket contents"
	prop.Labels = []label{{"Proposal"}}
	srv.PutIssue(prop.JSON())
	e := newEnv(t, srv)
	ctx := context.Background()
	if _, err := e.data.SyncAll(ctx, []source.Source{e.src}, e.opts); err != nil {
		t.Fatal(err)
	}

	later := t0.Add(1000 * time.Hour)
	retitled := newIssue(10, later)
	retitled.Title = "crypto/tls: resumption across a fleet of servers"
	commented := newIssue(20, later.Add(time.Minute))
	commented.Comments = 1
	fcp := *prop
	fcp.UpdatedAt = later.Add(2 * time.Minute)
	fcp.Labels = []label{{"Proposal"}, {"Proposal-FinalCommentPeriod"}}
	closed := newIssue(40, later.Add(3*time.Minute))
	closed.State = "closed"
	closedAt := closed.UpdatedAt
	closed.ClosedAt = &closedAt
	for _, is := range []*issue{retitled, commented, &fcp, closed} {
		if err := srv.PutIssue(is.JSON()); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.PutComment(newComment(20, 9999, later.Add(time.Minute), "We rely on xylophonic ticket keys.")); err != nil {
		t.Fatal(err)
	}

	srv.ResetStats()
	res, err := e.data.SyncAll(ctx, []source.Source{e.src}, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	stats := res[0].Stats
	// Each listing: one pass with the changes (and the object at the old
	// cursor, served again), one pass for the ETag (the newest object).
	if stats.Requests != 4 || srv.Stats().Requests != 4 {
		t.Errorf("sync after changes made %d requests (server %d), want 4", stats.Requests, srv.Stats().Requests)
	}
	// Unchanged: issues 249 and 250, which share the old cursor's time,
	// and the newest issue again in the ETag pass.
	if stats.New != 0 || stats.Updated != 4 || stats.Unchanged != 3 {
		t.Errorf("issues: %d new, %d updated, %d unchanged; want 0, 4, 3", stats.New, stats.Updated, stats.Unchanged)
	}
	if cs := stats.Comments; cs.New != 1 || cs.Updated != 0 || cs.Unchanged != 2 {
		t.Errorf("comments: %+v; want 1 new, 2 unchanged", cs)
	}

	check := func(id string, fn func(it index.Item) string) {
		t.Helper()
		it, _, err := e.data.Item(id)
		if err != nil {
			t.Fatal(err)
		}
		if msg := fn(it); msg != "" {
			t.Errorf("%s: %s", id, msg)
		}
	}
	check("golang/go#10", func(it index.Item) string {
		if it.Title != retitled.Title {
			return "title " + it.Title
		}
		return ""
	})
	check("golang/go#20", func(it index.Item) string {
		if !strings.Contains(it.Comments, "xylophonic") {
			return "comments do not show the new one: " + it.Comments
		}
		return ""
	})
	check("golang/go#30", func(it index.Item) string {
		if it.Kind != index.KindProposal || it.Stage != index.StageFinal {
			return fmt.Sprintf("kind %s stage %s, want a proposal in final comment", it.Kind, it.Stage)
		}
		return ""
	})
	check("golang/go#40", func(it index.Item) string {
		if it.State != index.StateClosed || !it.Closed.Equal(closedAt) {
			return fmt.Sprintf("state %s closed %v, want closed at %v", it.State, it.Closed, closedAt)
		}
		return ""
	})

	for q, want := range map[string]string{
		"xylophonic":     "golang/go#20",
		"fleet":          "golang/go#10",
		"session ticket": "golang/go#30",
	} {
		r, err := e.data.Index.Search(ctx, index.Request{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Hits) == 0 || r.Hits[0].ID != want {
			t.Errorf("search %q: %+v, want %s first", q, r.Hits, want)
		}
	}
	r, err := e.data.Index.Search(ctx, index.Request{Stages: []string{index.StageFinal}})
	if err != nil || r.Total != 1 {
		t.Errorf("search for final-comment proposals: %v, %v; want golang/go#30 only", r, err)
	}
}

// A sync cancelled after every page, and run again until it completes,
// leaves the store exactly as one uninterrupted sync does.
func TestSyncCancelEveryPage(t *testing.T) {
	const n, c = 250, 230
	srv := newServer(t)
	populate(t, srv, n, c)

	ref := newEnv(t, srv)
	ref.mustSync(t)
	want := export(t, ref.data)

	e := newEnv(t, srv)
	runs := 0
	for {
		runs++
		if runs > 50 {
			t.Fatal("sync did not complete after 50 interrupted runs")
		}
		ctx, cancel := context.WithCancel(context.Background())
		opts := e.opts
		opts.Progress = func(s source.Stats) {
			if s.Pages > 0 {
				cancel() // right after a page is committed
			}
		}
		stats, err := e.src.Sync(ctx, e.data.Store, opts)
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: %v", runs, err)
		}
		if stats.Pages != 1 {
			t.Fatalf("run %d committed %d pages, want 1", runs, stats.Pages)
		}
	}
	t.Logf("sync completed after %d runs", runs)
	// Issues: 3 pages and the ETag pass; comments the same.
	if runs < 8 {
		t.Errorf("sync completed after %d runs; want at least 8 interruptions", runs)
	}
	if got := export(t, e.data); got != want {
		t.Errorf("store after interrupted syncs differs from one uninterrupted sync:\n%s", firstDiff(got, want))
	}

	// And it is settled: nothing changed, so the next sync is two 304s.
	srv.ResetStats()
	if stats := e.mustSync(t); stats.NotModified != 2 || stats.Requests != 2 {
		t.Errorf("sync after the interrupted ones: %d requests, %d not modified; want 2, 2", stats.Requests, stats.NotModified)
	}
}

// firstDiff describes where two exports first differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\ngot  %.200s\nwant %.200s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}

// An issue updated while the sync pages moves to the end of the listing,
// and the issue after the next page boundary slides into a page already
// read. The sync notices the issue met twice and reads again from where it
// first met it, so nothing slides past.
func TestSyncUpdateWhilePaging(t *testing.T) {
	const n = 250
	srv := newServer(t)
	populate(t, srv, n, 0)
	e := newEnv(t, srv)
	moved := newIssue(5, t0.Add(1000*time.Hour))
	moved.Title = "crypto/tls: updated while the sync pages"
	var seen []string
	srv.OnRequest(func(r *http.Request) {
		seen = append(seen, r.URL.Query().Get("since")+" page "+r.URL.Query().Get("page"))
		if len(seen) == 2 { // after page 1, before page 2
			srv.PutIssue(moved.JSON())
		}
	})
	stats := e.mustSync(t)
	var count int
	e.data.Store.View(func(tx *store.Tx) error { count = tx.Count(); return nil })
	if count != n {
		t.Errorf("store holds %d issues, want %d: one slid past a page boundary (requests: %q)", count, n, seen)
	}
	if stats.New != n || stats.Updated != 1 {
		t.Errorf("%d new, %d updated; want %d new and issue 5 updated", stats.New, stats.Updated, n)
	}
	it, _, err := e.data.Item("golang/go#5")
	if err != nil || it.Title != moved.Title {
		t.Errorf("issue 5: %q, %v; want the updated title", it.Title, err)
	}
}

// The first sync reaches back to source.Options.Since, else the configured
// since, else a year.
func TestSyncBackfill(t *testing.T) {
	srv := newServer(t)
	clock := newClock()
	configured := t0.Add(24 * time.Hour)
	for _, tc := range []struct {
		optSince, cfgSince time.Time
		want               time.Time
		from               string
	}{
		{t0, configured, t0, source.BackfillOption},
		{time.Time{}, configured, configured, source.BackfillConfig},
		{time.Time{}, time.Time{}, clock.Now().AddDate(-1, 0, 0), source.BackfillDefault},
	} {
		cfg := configsFor(srv)
		cfg.Since = tc.cfgSince
		src, err := github.NewSource(cfg, github.WithToken(""), github.WithHTTPClient(srv.Client()))
		if err != nil {
			t.Fatal(err)
		}
		opts := source.Options{Since: tc.optSince, Now: clock.Now}
		since, from := src.Backfill(opts)
		if !since.Equal(tc.want) || from != tc.from {
			t.Errorf("Backfill = %v, %s; want %v, %s", since, from, tc.want, tc.from)
		}
		var asked []string
		srv.OnRequest(func(r *http.Request) { asked = append(asked, r.URL.Query().Get("since")) })
		if _, err := src.Sync(context.Background(), openData(t, t.TempDir()).Store, opts); err != nil {
			t.Fatal(err)
		}
		if w := tc.want.Format(time.RFC3339); len(asked) != 2 || asked[0] != w || asked[1] != w {
			t.Errorf("%s: asked since %q, want %s for both listings", from, asked, w)
		}
	}
}
