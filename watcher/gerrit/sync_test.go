package gerrit_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit/gerrittest"
	"github.com/reciprocal-access/reciprocal/watcher/internal/fakehttp"
	"github.com/reciprocal-access/reciprocal/watcher/source"
)

func TestNewSource(t *testing.T) {
	s, err := gerrit.NewSource(gerrit.Config{Projects: []string{"go"}})
	if err != nil || s.Name() != "gerrit go-review" {
		t.Errorf("default URL: %v, %v", s, err)
	}
	for _, cfg := range []gerrit.Config{
		{URL: "ftp://go-review.googlesource.com", Projects: []string{"go"}},
		{URL: "https://go-review.googlesource.com"},
		{URL: "https://go-review.googlesource.com", Projects: []string{"go", "go"}},
		{URL: "https://go-review.googlesource.com", Projects: []string{`go" OR "x`}},
	} {
		if _, err := gerrit.NewSource(cfg); err == nil {
			t.Errorf("NewSource(%+v) succeeded", cfg)
		}
	}
}

// A first sync reads every page of every project, one request a page, and
// stores each change as served; a second sync with nothing new makes one
// request a project and stores nothing.
func TestFirstSyncAndNoChange(t *testing.T) {
	e := newEnv(t, 5, "go", "crypto", "net")
	e.fill("go", 1000, 23, t0)
	e.fill("crypto", 5000, 10, t0) // exactly two full pages
	// net has no changes.

	var progress []source.Stats
	opts := e.opts()
	opts.Progress = func(s source.Stats) { progress = append(progress, s) }
	e.srv.ResetStats()
	st, err := e.src.Sync(context.Background(), e.data.Store, opts)
	if err != nil {
		t.Fatal(err)
	}
	wantReq := pages(23, 5) + pages(10, 5) + pages(0, 5)
	if st.Requests != wantReq || e.srv.Stats().Requests != wantReq || st.Pages != wantReq {
		t.Errorf("requests %d (server %d), pages %d; want %d", st.Requests, e.srv.Stats().Requests, st.Pages, wantReq)
	}
	if st.New != 33 || st.Updated != 0 || st.Unchanged != 0 || st.Source != "gerrit go-review" {
		t.Errorf("stats = %+v", st)
	}
	if st.Estimate != st.Requests || st.RateRemaining != -1 || !st.RetryAfter.IsZero() {
		t.Errorf("estimate %d, rate remaining %d, retry after %v", st.Estimate, st.RateRemaining, st.RetryAfter)
	}
	if len(progress) != wantReq {
		t.Errorf("progress called %d times, want %d", len(progress), wantReq)
	}
	for i, p := range progress[:len(progress)-1] {
		if p.Estimate <= p.Requests {
			t.Errorf("progress %d: estimate %d after %d requests, with more to come", i, p.Estimate, p.Requests)
		}
	}
	e.checkStored("go", seq(1000, 23)...)
	e.checkStored("crypto", seq(5000, 10)...)
	if n := e.count(); n != 33 {
		t.Errorf("store holds %d items, want 33", n)
	}
	c := e.cursor("go")
	newest, _ := e.srv.Change("go", 1022)
	if c.Pending != nil || !c.After.Equal(updatedOf(t, newest)) {
		t.Errorf("go cursor = %+v, want after = %v", c, updatedOf(t, newest))
	}
	if c := e.cursor("net"); c.Pending != nil || !c.After.Equal(t0.Add(-24*time.Hour)) {
		t.Errorf("net cursor = %+v, want the backfill time", c)
	}
	before := e.export()

	st = e.mustSync()
	if st.Requests != 3 || st.New != 0 || st.Updated != 0 || st.Pages != 3 {
		t.Errorf("no-change sync: %+v, want 3 requests and nothing new", st)
	}
	// The overlap (two minutes before the cursor) comes again, unchanged.
	if st.Unchanged != 3+3 {
		t.Errorf("no-change sync: %d unchanged, want 6 (three changes of each project's last two minutes)", st.Unchanged)
	}
	if after := e.export(); !bytes.Equal(before, after) {
		t.Error("a sync with nothing new changed the store")
	}
	// Every query asks for the same fields and pages with S.
	for _, q := range e.srv.Served() {
		for _, want := range []string{"o=CURRENT_REVISION", "o=CURRENT_COMMIT", "o=CURRENT_FILES", "o=MESSAGES", "n=5", "q=project%3A"} {
			if !strings.Contains(q, want) {
				t.Errorf("request %s lacks %s", q, want)
			}
		}
	}
}

func updatedOf(t *testing.T, raw []byte) time.Time {
	t.Helper()
	c, err := gerrit.ParseChange(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c.Updated.Time
}

// After changes on the server (a CL merged, a new review message, a CL
// abandoned, a new CL) the next sync fetches those and the index shows
// them.
func TestIncremental(t *testing.T) {
	e := newEnv(t, 10, "go", "crypto")
	e.fill("go", 1000, 10, t0)
	e.fill("crypto", 5000, 6, t0)
	e.mustSync()
	if _, err := e.data.IndexPending(context.Background()); err != nil {
		t.Fatal(err)
	}

	later := t0.Add(48 * time.Hour)
	must(t, e.srv.SetStatus("go", 1003, "MERGED", later))
	must(t, e.srv.AddMessage("go", 1005, "Filippo Valsorda", "This breaks session resumption across restarts.", later.Add(time.Minute)))
	must(t, e.srv.SetStatus("crypto", 5001, "ABANDONED", later.Add(2*time.Minute)))
	must(t, e.srv.Put(gerrittest.NewChange(gerrittest.ChangeSpec{
		Project: "crypto", Number: 5100, Subject: "ssh: support rsa-sha2-512 certificates",
		Updated: later.Add(3 * time.Minute), Files: []string{"ssh/certs.go"},
	})))

	st := e.mustSync()
	// The overlap brings three unchanged changes of each project.
	if st.New != 1 || st.Updated != 3 || st.Unchanged != 6 {
		t.Errorf("stats = %+v, want 1 new, 3 updated, 6 unchanged", st)
	}
	if st.Requests != 2 {
		t.Errorf("%d requests, want one per project", st.Requests)
	}
	e.checkStored("go", 1003, 1005)
	e.checkStored("crypto", 5001, 5100)
	if c := e.cursor("crypto"); !c.After.Equal(later.Add(3 * time.Minute)) {
		t.Errorf("crypto cursor after = %v", c.After)
	}

	n, err := e.data.IndexPending(context.Background())
	if err != nil || n != 4 {
		t.Fatalf("IndexPending = %d, %v; want 4", n, err)
	}
	for id, want := range map[string]string{
		"go-review:go/1003":     index.StateMerged,
		"go-review:go/1005":     index.StateNew,
		"go-review:crypto/5001": index.StateAbandoned,
		"go-review:crypto/5100": index.StateNew,
	} {
		it, _, err := e.data.Item(id)
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		if it.State != want {
			t.Errorf("%s: state %q, want %q", id, it.State, want)
		}
	}
	res, err := e.data.Index.Search(context.Background(), index.Request{States: []string{index.StateMerged}, Sources: []string{gerrit.Kind}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || res.Hits[0].ID != "go-review:go/1003" || res.Hits[0].State != index.StateMerged {
		t.Errorf("merged changes in the index: %+v", res.Hits)
	}
	res, err = e.data.Index.Search(context.Background(), index.Request{Query: `"session resumption"`})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || res.Hits[0].ID != "go-review:go/1005" {
		t.Errorf("search for the new message: %+v", res.Hits)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Gerrit's query times have one-second resolution: a change updated in the
// same second as the cursor, but indexed only after the last sync (or
// updated at the very same time as the newest change), is not missed, even
// with no overlap beyond that second.
func TestSameSecond(t *testing.T) {
	for _, overlap := range []time.Duration{0, gerrit.DefaultOverlap} {
		e := newEnv(t, 3, "go")
		e.src = e.newSource(gerrit.WithOverlap(overlap))
		newest := t0.Add(10*time.Minute + 700*time.Millisecond)
		e.fill("go", 1000, 5, t0)
		must(t, e.srv.Put(gerrittest.NewChange(gerrittest.ChangeSpec{Project: "go", Number: 1100, Subject: "net/http: newest", Updated: newest})))
		e.mustSync()
		if c := e.cursor("go"); !c.After.Equal(newest) {
			t.Fatalf("cursor after = %v, want %v", c.After, newest)
		}
		// Late arrivals: earlier in the same second, and at the very
		// same instant.
		must(t, e.srv.Put(gerrittest.NewChange(gerrittest.ChangeSpec{Project: "go", Number: 1101, Subject: "net/http: late", Updated: newest.Add(-500 * time.Millisecond)})))
		must(t, e.srv.Put(gerrittest.NewChange(gerrittest.ChangeSpec{Project: "go", Number: 1102, Subject: "net/http: tie", Updated: newest})))
		st := e.mustSync()
		if st.New != 2 {
			t.Errorf("overlap %v: %d new, want 2 (%+v)", overlap, st.New, st)
		}
		e.checkStored("go", 1100, 1101, 1102)
	}
}

// Cancelling a sync after any page and running it again ends with the store
// an uninterrupted sync makes, byte for byte.
func TestCancelAfterEveryPage(t *testing.T) {
	setup := func(e *env) {
		e.fill("go", 1000, 17, t0)
		e.fill("crypto", 5000, 9, t0.Add(time.Second))
		e.fill("net", 7000, 4, t0.Add(-time.Hour))
	}
	ref := newEnv(t, 4, "go", "crypto", "net")
	setup(ref)
	refStats := ref.mustSync()
	want := ref.export()
	total := refStats.Pages

	// Interrupted once, after page k.
	for k := 1; k <= total; k++ {
		e := newEnv(t, 4, "go", "crypto", "net")
		setup(e)
		ctx, cancel := context.WithCancel(context.Background())
		pagesSeen := 0
		opts := e.opts()
		opts.Progress = func(source.Stats) {
			if pagesSeen++; pagesSeen == k {
				cancel()
			}
		}
		_, err := e.src.Sync(ctx, e.data.Store, opts)
		cancel()
		if k < total && !errors.Is(err, context.Canceled) {
			t.Errorf("k=%d: interrupted sync: err = %v, want context.Canceled", k, err)
		}
		if k == total && err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("k=%d: %v", k, err)
		}
		e.mustSync()
		if got := e.export(); !bytes.Equal(got, want) {
			t.Errorf("cancelled after page %d: the store differs from an uninterrupted sync's:\n%s\nwant\n%s", k, got, want)
		}
	}

	// Interrupted again and again: each run is cancelled right after
	// the first page that stores something new.
	e := newEnv(t, 4, "go", "crypto", "net")
	setup(e)
	runs := 0
	for ; runs < 100; runs++ {
		ctx, cancel := context.WithCancel(context.Background())
		opts := e.opts()
		opts.Progress = func(s source.Stats) {
			if s.New+s.Updated > 0 {
				cancel()
			}
		}
		_, err := e.src.Sync(ctx, e.data.Store, opts)
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: %v", runs+1, err)
		}
	}
	t.Logf("%d interrupted runs", runs)
	if runs < total-1 {
		t.Errorf("only %d interrupted runs for %d pages", runs, total)
	}
	if got := e.export(); !bytes.Equal(got, want) {
		t.Errorf("after %d interrupted runs the store differs from an uninterrupted sync's", runs)
	}
	for _, p := range []string{"go", "crypto", "net"} {
		if c, rc := e.cursor(p), ref.cursor(p); c.Pending != nil || !c.After.Equal(rc.After) {
			t.Errorf("%s: cursor %+v, want %+v", p, c, rc)
		}
	}
}

// Changes updated while a listing is read move to its top and push the
// rest down; the listing sees some changes twice and misses none.
func TestChangesDuringListing(t *testing.T) {
	e := newEnv(t, 4, "go")
	e.fill("go", 1000, 14, t0)
	req := 0
	later := t0.Add(time.Hour)
	e.srv.OnRequest(func(*http.Request) {
		req++
		if req == 2 || req == 3 {
			// A change on a page not read yet, and a new one.
			n := 1000 + req
			e.srv.AddMessage("go", n, "Gopher", "ping", later.Add(time.Duration(req)*time.Minute))
			e.srv.Put(gerrittest.NewChange(gerrittest.ChangeSpec{Project: "go", Number: 2000 + req, Subject: "new", Updated: later.Add(time.Duration(req) * time.Minute)}))
		}
	})
	st := e.mustSync()
	e.srv.OnRequest(nil)
	// 1002 and 1003 moved to the top of the listing after it began,
	// before their pages were read: the listing served 1008 to 1011
	// twice and neither of them. The changes updated meanwhile are newer
	// than the cursor, so the next sync brings them.
	if st.New != 12 || st.Unchanged != 4 {
		t.Errorf("first sync: %+v, want 12 new, 4 twice", st)
	}
	st = e.mustSync()
	if st.New != 4 || st.Updated != 0 {
		t.Errorf("second sync: %+v, want 4 new", st)
	}
	e.checkStored("go", append(seq(1000, 14), 2002, 2003)...)
}

// A 500 is retried after a backoff, as is a reset connection.
func TestTransientFaults(t *testing.T) {
	for _, f := range []fakehttp.Fault{fakehttp.ServerError, fakehttp.ConnReset} {
		t.Run(f.String(), func(t *testing.T) {
			e := newEnv(t, 5, "go")
			e.fill("go", 1000, 12, t0)
			e.srv.FailNext(2, f, 0)
			st, err := e.sync(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.New != 12 || st.Pages != 3 {
				t.Errorf("stats = %+v", st)
			}
			if f == fakehttp.ServerError && st.Requests != 3+2 {
				t.Errorf("%d requests, want 5", st.Requests)
			}
			sleeps := e.clock.Sleeps()
			if len(sleeps) != 2 || sleeps[0] < 500*time.Millisecond || sleeps[0] > time.Second || sleeps[1] < time.Second || sleeps[1] > 2*time.Second {
				t.Errorf("backoffs = %v, want one in [0.5s, 1s] and one in [1s, 2s]", sleeps)
			}
			e.checkStored("go", seq(1000, 12)...)
		})
	}
}

// A server that keeps failing makes the sync give up after a bounded
// number of retries, naming the URL; what was stored stays.
func TestServerDown(t *testing.T) {
	e := newEnv(t, 5, "go", "crypto")
	e.fill("go", 1000, 12, t0)
	e.fill("crypto", 5000, 3, t0)
	e.srv.FailNext(100, fakehttp.ServerError, 0)
	st, err := e.sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "gave up after 5 attempts") || !strings.Contains(err.Error(), gerritURL+"/changes/?") {
		t.Fatalf("err = %v", err)
	}
	if st.Requests != 5 || e.srv.Stats().Requests != 5 {
		t.Errorf("%d requests (server %d), want 5: the second project is not tried against a server that is down", st.Requests, e.srv.Stats().Requests)
	}
}

// A body cut short, or cut so that its JSON is malformed, is asked for
// again: the sync completes.
func TestTruncatedRetried(t *testing.T) {
	for _, f := range []fakehttp.Fault{fakehttp.Truncate, fakehttp.Malformed} {
		t.Run(f.String(), func(t *testing.T) {
			e := newEnv(t, 5, "go")
			e.fill("go", 1000, 12, t0)
			opts := e.opts()
			pagesDone := 0
			opts.Progress = func(source.Stats) {
				if pagesDone++; pagesDone == 1 {
					e.srv.FailNext(1, f, 0)
				}
			}
			if _, err := e.src.Sync(context.Background(), e.data.Store, opts); err != nil {
				t.Fatal(err)
			}
			if n := len(e.clock.Sleeps()); n != 1 {
				t.Errorf("%d backoffs, want 1", n)
			}
			e.checkStored("go", seq(1000, 12)...)
		})
	}
}

// A body cut short every time it is asked for is, after the retries, an
// error naming the URL; nothing of that page is stored and the cursor does
// not move past the pages before it.
func TestTruncated(t *testing.T) {
	e := newEnv(t, 5, "go")
	e.fill("go", 1000, 12, t0)
	opts := e.opts()
	pagesDone := 0
	opts.Progress = func(source.Stats) {
		if pagesDone++; pagesDone == 1 {
			e.srv.FailNext(5, fakehttp.Truncate, 0)
		}
	}
	st, err := e.src.Sync(context.Background(), e.data.Store, opts)
	if err == nil || !strings.Contains(err.Error(), "gerrit: GET "+gerritURL+"/changes/?") || !strings.Contains(err.Error(), "S=5") || !strings.Contains(err.Error(), "cut short") {
		t.Fatalf("err = %v, want one naming the second page's URL", err)
	}
	if st.New != 5 || st.Pages != 1 {
		t.Errorf("stats = %+v, want the first page stored", st)
	}
	c := e.cursor("go")
	if !c.After.Equal(t0.Add(-24*time.Hour)) || c.Pending == nil || c.Pending.Offset != 5 {
		t.Errorf("cursor = %+v, want after unmoved, pending at offset 5", c)
	}
	if n := len(e.clock.Sleeps()); n != 4 {
		t.Errorf("%d backoffs, want 4: %v", n, e.clock.Sleeps())
	}
	if !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Errorf("err = %v, want it to say it gave up", err)
	}

	// Nothing new on the server, but the first page of the next
	// incremental listing is cut short: the cursor stays as it was.
	e.mustSync()
	before := e.cursor("go")
	e.srv.FailNext(5, fakehttp.Truncate, 0)
	if _, err := e.sync(context.Background()); err == nil || !strings.Contains(err.Error(), "after%3A%22") {
		t.Errorf("err = %v, want one naming the URL", err)
	}
	if after := e.cursor("go"); after.After != before.After || after.Pending != nil {
		t.Errorf("cursor moved from %+v to %+v", before, after)
	}
	e.checkStored("go", seq(1000, 12)...)
}

// A 429 or 503 with a Retry-After within MaxWait is waited out; one beyond
// it stops the sync with a *LimitError, what was stored saved.
func TestRetryAfter(t *testing.T) {
	for _, f := range []fakehttp.Fault{fakehttp.TooManyRequests, fakehttp.Unavailable} {
		t.Run(f.String(), func(t *testing.T) {
			e := newEnv(t, 5, "go", "crypto")
			e.fill("go", 1000, 12, t0)
			e.fill("crypto", 5000, 3, t0)
			e.srv.FailNext(1, f, 90*time.Second)
			st, err := e.sync(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if s := e.clock.Sleeps(); len(s) != 1 || s[0] != 90*time.Second {
				t.Errorf("sleeps = %v, want the 90s asked for", s)
			}
			if st.New != 15 || !st.RetryAfter.IsZero() {
				t.Errorf("stats = %+v", st)
			}
		})
	}

	e := newEnv(t, 5, "go", "crypto")
	e.fill("go", 1000, 12, t0)
	e.fill("crypto", 5000, 3, t0)
	opts := e.opts()
	opts.MaxWait = 15 * time.Minute
	pagesDone := 0
	opts.Progress = func(source.Stats) {
		if pagesDone++; pagesDone == 2 {
			e.srv.FailNext(1, fakehttp.TooManyRequests, time.Hour)
		}
	}
	start := e.clock.Now()
	st, err := e.src.Sync(context.Background(), e.data.Store, opts)
	var le *gerrit.LimitError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want a *LimitError", err)
	}
	if !le.RetryAfter.Equal(start.Add(time.Hour)) || !st.RetryAfter.Equal(le.RetryAfter) || le.Status != 429 {
		t.Errorf("retry after %v (stats %v), status %d; want %v", le.RetryAfter, st.RetryAfter, le.Status, start.Add(time.Hour))
	}
	if !strings.Contains(err.Error(), "sync again after") || !strings.Contains(err.Error(), "S=10") {
		t.Errorf("err = %v", err)
	}
	if len(e.clock.Sleeps()) != 0 {
		t.Errorf("slept %v", e.clock.Sleeps())
	}
	if st.New != 10 {
		t.Errorf("stats = %+v, want the two pages before the limit stored", st)
	}
	if c := e.cursor("go"); c.Pending == nil || c.Pending.Offset != 10 {
		t.Errorf("cursor = %+v", c)
	}
	if _, ok, _ := e.src.Cursor(e.data.Store, "crypto"); ok {
		t.Error("the sync went on to crypto after the limit")
	}
	// Later the sync goes on from there.
	st = e.mustSync()
	if st.New != 5 {
		t.Errorf("after the limit: %+v, want the 5 changes left", st)
	}
	e.checkStored("go", seq(1000, 12)...)
	e.checkStored("crypto", seq(5000, 3)...)
}

// Cancelling the context stops the sync at once, with the context's error.
func TestCancelled(t *testing.T) {
	e := newEnv(t, 5, "go")
	e.fill("go", 1000, 12, t0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st, err := e.sync(ctx)
	if !errors.Is(err, context.Canceled) || st.Requests != 0 {
		t.Errorf("sync with a cancelled context: %+v, %v", st, err)
	}
	// A sleep for a retry is cut short too.
	e.srv.FailNext(1, fakehttp.ServerError, 0)
	ctx, cancel = context.WithCancel(context.Background())
	e.src = e.newSource(gerrit.WithSleep(func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}))
	if _, err := e.sync(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled during backoff: err = %v", err)
	}
}

// The first sync of a project reaches back to source.Options.Since, else the
// configuration's since, else a year.
func TestBackfill(t *testing.T) {
	e := newEnv(t, 5, "go")
	s := e.src
	now := e.clock.Now()
	since := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	if got, why := s.Backfill(source.Options{Now: e.clock.Now, Since: since}); !got.Equal(since) || why != source.BackfillOption {
		t.Errorf("Backfill with Since = %v, %s", got, why)
	}
	if got, why := s.Backfill(source.Options{Now: e.clock.Now}); !got.Equal(now.AddDate(-1, 0, 0)) || why != source.BackfillDefault {
		t.Errorf("Backfill by default = %v, %s", got, why)
	}
	e.cfg.Since = since.AddDate(0, 1, 0)
	s = e.newSource()
	if got, why := s.Backfill(source.Options{Now: e.clock.Now}); !got.Equal(e.cfg.Since) || why != source.BackfillConfig {
		t.Errorf("Backfill with config since = %v, %s", got, why)
	}

	// Changes older than the backfill time are not listed.
	e.fill("go", 1000, 3, now.AddDate(-2, 0, 0))
	e.fill("go", 2000, 3, now.AddDate(0, -1, 0))
	if ok, _ := e.src.HasCursor(e.data.Store); ok {
		t.Error("HasCursor before the first sync")
	}
	st, err := e.src.Sync(context.Background(), e.data.Store, source.Options{Now: e.clock.Now})
	if err != nil || st.New != 3 {
		t.Errorf("sync = %+v, %v; want the 3 changes of the last year", st, err)
	}
	if ok, _ := e.src.HasCursor(e.data.Store); !ok {
		t.Error("no HasCursor after the first sync")
	}
	if !strings.Contains(e.srv.Served()[0], "after%3A%22"+now.AddDate(-1, 0, 0).Add(-gerrit.DefaultOverlap).Format("2006-01-02")) {
		t.Errorf("query %s", e.srv.Served()[0])
	}
}
