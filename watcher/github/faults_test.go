package github_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

const faultN, faultC = 250, 30

// faultEnv is an env with faultN issues and faultC comments, and the export
// of a store that synced them without trouble.
func faultEnv(t *testing.T) (*env, string) {
	t.Helper()
	srv := newServer(t)
	populate(t, srv, faultN, faultC)
	ref := newEnv(t, srv)
	ref.mustSync(t)
	want := export(t, ref.data)
	srv.ResetStats()
	return newEnv(t, srv), want
}

// onRequest calls fn before the server answers its request number n
// (counting from 1 at the time of the call).
func onRequest(srv *githubtest.Server, n int, fn func()) {
	var count atomic.Int32
	srv.OnRequest(func(*http.Request) {
		if int(count.Add(1)) == n {
			fn()
		}
	})
}

// normal is the number of requests of a first sync of faultEnv's data.
var normal = pages(faultN) + pages(faultC) + 2

func TestSyncServerErrorThenOK(t *testing.T) {
	e, want := faultEnv(t)
	onRequest(e.srv, 2, func() { e.srv.FailNext(1, githubtest.ServerError) })
	stats := e.mustSync(t)
	if got := export(t, e.data); got != want {
		t.Errorf("store differs from a sync without faults:\n%s", firstDiff(got, want))
	}
	if stats.Requests != normal+1 {
		t.Errorf("%d requests, want %d (one retry)", stats.Requests, normal+1)
	}
	if slept, n := e.clock.Slept(); n != 1 || slept <= 0 || slept > time.Second {
		t.Errorf("slept %v in %d sleeps, want one backoff of at most 1s", slept, n)
	}
}

func TestSyncServerErrorGivesUp(t *testing.T) {
	e, _ := faultEnv(t)
	onRequest(e.srv, 2, func() { e.srv.FailNext(5, githubtest.ServerError) })
	_, err := e.sync(t)
	if err == nil || !strings.Contains(err.Error(), "500 Internal Server Error") || !strings.Contains(err.Error(), "gave up after 5 attempts") || !strings.Contains(err.Error(), "page=2") {
		t.Fatalf("sync error %v; want the 500, the URL of page 2 and 5 attempts", err)
	}
	if _, n := e.clock.Slept(); n != 4 {
		t.Errorf("%d backoffs, want 4", n)
	}
	// Page 1 is committed; its cursor is where the next sync starts.
	cur, ok, _ := e.src.Cursor(e.data.Store, github.ListIssues)
	if !ok || !cur.Since.Equal(issueTime(100)) || cur.ETag != "" {
		t.Errorf("cursor %+v, %v; want since %v (page 1's last issue)", cur, ok, issueTime(100))
	}
}

func TestSyncConnReset(t *testing.T) {
	e, want := faultEnv(t)
	onRequest(e.srv, 2, func() { e.srv.FailNext(2, githubtest.ConnReset) })
	e.mustSync(t)
	if got := export(t, e.data); got != want {
		t.Errorf("store differs from a sync without faults:\n%s", firstDiff(got, want))
	}
	if f := e.srv.Stats().Faults; f != 2 {
		t.Errorf("server reset %d connections, want 2", f)
	}
}

// A page cut short, or cut so that its JSON is malformed, is asked for
// again like after a reset connection: the sync completes as if nothing
// happened.
func TestSyncTruncatedRetried(t *testing.T) {
	for _, f := range []githubtest.Fault{githubtest.Truncate, githubtest.Malformed} {
		t.Run(f.String(), func(t *testing.T) {
			e, want := faultEnv(t)
			onRequest(e.srv, 2, func() { e.srv.FailNext(1, f) })
			stats := e.mustSync(t)
			if got := export(t, e.data); got != want {
				t.Errorf("store differs from a sync without faults:\n%s", firstDiff(got, want))
			}
			if stats.Requests != normal+1 {
				t.Errorf("%d requests, want %d (one retry)", stats.Requests, normal+1)
			}
			if _, n := e.clock.Slept(); n != 1 {
				t.Errorf("%d backoffs, want 1", n)
			}
		})
	}
}

// A page cut short every time it is asked for fails the sync after the
// retries, naming the URL, and does not move the cursor past the pages
// before it.
func TestSyncTruncatedGivesUp(t *testing.T) {
	e, want := faultEnv(t)
	onRequest(e.srv, 2, func() { e.srv.FailNext(5, githubtest.Truncate) })
	stats, err := e.sync(t)
	if err == nil {
		t.Fatal("sync of a page cut short five times succeeded")
	}
	for _, s := range []string{"github: GET " + e.srv.URL() + "repos/golang/go/issues?", "page=2", "truncated", "gave up after 5 attempts"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	if stats.New != 100 {
		t.Errorf("%d new issues, want 100 (page 1)", stats.New)
	}
	cur, _, _ := e.src.Cursor(e.data.Store, github.ListIssues)
	if !cur.Since.Equal(issueTime(100)) {
		t.Errorf("cursor since %v, want %v: a truncated page must not move it", cur.Since, issueTime(100))
	}
	e.mustSync(t)
	if got := export(t, e.data); got != want {
		t.Errorf("store after the next sync differs from a sync without faults:\n%s", firstDiff(got, want))
	}
}

// An issue with a 1 MB body is stored byte for byte.
func TestSyncLargeIssue(t *testing.T) {
	srv := newServer(t)
	populate(t, srv, 3, 0)
	big := newIssue(2, issueTime(2))
	big.Body = strings.Repeat("crypto/tls session tickets \u00e9\u00e8 \"quoted\"\n", 1<<20/30)
	raw := big.JSON()
	if len(raw) < 1<<20 {
		t.Fatalf("issue is %d bytes, want over 1 MB", len(raw))
	}
	srv.PutIssue(raw)
	e := newEnv(t, srv)
	e.mustSync(t)
	e.data.Store.View(func(tx *store.Tx) error {
		rec, ok, err := tx.Item("golang/go#2")
		if err != nil || !ok || !bytes.Equal(rec.Raw, raw) {
			t.Errorf("stored issue is not the served bytes (ok %v, err %v, %d bytes, want %d)", ok, err, len(rec.Raw), len(raw))
		}
		return nil
	})
}

// Pull requests come in the issues listing, with a pull_request member.
func TestSyncPullRequest(t *testing.T) {
	srv := newServer(t)
	populate(t, srv, 3, 0)
	pr := newIssue(4, issueTime(4))
	pr.Title = "crypto/tls: add session ticket control"
	merged := pr.UpdatedAt
	pr.PullRequest = &pull{URL: "https://api.github.com/repos/golang/go/pulls/4", MergedAt: &merged}
	pr.State = "closed"
	srv.PutIssue(pr.JSON())
	e := newEnv(t, srv)
	if _, err := e.data.SyncAll(context.Background(), []source.Source{e.src}, e.opts); err != nil {
		t.Fatal(err)
	}
	it, _, err := e.data.Item("golang/go#4")
	if err != nil {
		t.Fatal(err)
	}
	if it.Kind != index.KindPull || it.State != index.StateMerged {
		t.Errorf("pull request stored as kind %s, state %s; want pull, merged", it.Kind, it.State)
	}
}

// The primary limit runs out after page 1 and resets 2 s later: the sync
// waits (on the fake clock) and completes.
func TestSyncRateLimitWaits(t *testing.T) {
	e, want := faultEnv(t)
	var reset time.Time
	onRequest(e.srv, 2, func() {
		reset = e.clock.Now().Add(2 * time.Second)
		e.srv.ExhaustRateLimit(reset)
	})
	stats := e.mustSync(t)
	if got := export(t, e.data); got != want {
		t.Errorf("store differs from a sync without the limit:\n%s", firstDiff(got, want))
	}
	slept, n := e.clock.Slept()
	if n != 1 || slept < 2*time.Second || slept > 4*time.Second {
		t.Errorf("slept %v in %d sleeps; want one wait of 2-4s", slept, n)
	}
	if !stats.RetryAfter.IsZero() {
		t.Errorf("RetryAfter %v set by a sync that waited", stats.RetryAfter)
	}
	if stats.Requests != normal+1 {
		t.Errorf("%d requests, want %d (one refused)", stats.Requests, normal+1)
	}
}

// The primary limit runs out after page 1 and resets in 2 h: the sync stops
// with its cursor saved and says when to retry; after the reset, the next
// sync completes.
func TestSyncRateLimitStops(t *testing.T) {
	e, want := faultEnv(t)
	reset := e.clock.Now().Add(2 * time.Hour)
	onRequest(e.srv, 2, func() { e.srv.ExhaustRateLimit(reset) })
	stats, err := e.sync(t)
	var lerr *github.LimitError
	if !errors.As(err, &lerr) {
		t.Fatalf("sync error %v, want a *github.LimitError", err)
	}
	if lerr.Secondary || lerr.RetryAfter.Before(reset) || lerr.RetryAfter.After(reset.Add(2*time.Second)) || !stats.RetryAfter.Equal(lerr.RetryAfter) {
		t.Errorf("LimitError %+v, stats.RetryAfter %v; want the primary limit, retry after %v", lerr, stats.RetryAfter, reset)
	}
	if !strings.Contains(err.Error(), lerr.RetryAfter.UTC().Format(time.RFC3339)) || !strings.Contains(err.Error(), "sync again") {
		t.Errorf("error %q does not say when to sync again", err)
	}
	if stats.RateRemaining != 0 {
		t.Errorf("RateRemaining %d, want 0", stats.RateRemaining)
	}
	if _, n := e.clock.Slept(); n != 0 {
		t.Errorf("slept %d times, want none", n)
	}
	cur, _, _ := e.src.Cursor(e.data.Store, github.ListIssues)
	if !cur.Since.Equal(issueTime(100)) {
		t.Errorf("cursor since %v, want %v (page 1 saved)", cur.Since, issueTime(100))
	}

	e.clock.Advance(2*time.Hour + time.Second)
	e.mustSync(t)
	if got := export(t, e.data); got != want {
		t.Errorf("store after the retry differs from a sync without the limit:\n%s", firstDiff(got, want))
	}
}

// The secondary limit's Retry-After is honoured when short, and stops the
// sync when long.
func TestSyncSecondaryLimit(t *testing.T) {
	e, want := faultEnv(t)
	onRequest(e.srv, 2, func() { e.srv.SecondaryLimitNext(30 * time.Second) })
	e.mustSync(t)
	if got := export(t, e.data); got != want {
		t.Errorf("store differs from a sync without the limit:\n%s", firstDiff(got, want))
	}
	if slept, n := e.clock.Slept(); n != 1 || slept != 30*time.Second {
		t.Errorf("slept %v in %d sleeps; want 30s once", slept, n)
	}

	e, _ = faultEnv(t)
	onRequest(e.srv, 2, func() { e.srv.SecondaryLimitNext(time.Hour) })
	stats, err := e.sync(t)
	var lerr *github.LimitError
	if !errors.As(err, &lerr) || !lerr.Secondary || !stats.RetryAfter.Equal(e.clock.Now().Add(time.Hour)) {
		t.Fatalf("sync error %v, RetryAfter %v; want a secondary *github.LimitError an hour away", err, stats.RetryAfter)
	}
}

// Waiting for a rate limit ends when the context is cancelled.
func TestSyncWaitCancelled(t *testing.T) {
	srv := newServer(t)
	populate(t, srv, 250, 0)
	srv.ExhaustRateLimit(time.Now().Add(10 * time.Minute))
	src, err := github.NewSource(configsFor(srv), github.WithToken(""), github.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	d := openData(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = src.Sync(ctx, d.Store, source.Options{})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("sync returned %v after %v; want the context's error at once", err, time.Since(start))
	}
}

// GitHub also answers the secondary limit with 429 Too Many Requests,
// which go-github does not type; the sync honours its Retry-After too.
func TestSyncTooManyRequests(t *testing.T) {
	e, want := faultEnv(t)
	target, err := url.Parse(e.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var n atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 2 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"message":"Too many requests"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	cfg := configsFor(e.srv)
	cfg.APIURL = front.URL
	src, err := github.NewSource(cfg, github.WithToken(""), github.WithSleep(e.clock.Sleep))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Sync(context.Background(), e.data.Store, e.opts); err != nil {
		t.Fatal(err)
	}
	if got := export(t, e.data); got != want {
		t.Errorf("store differs from a sync without the limit:\n%s", firstDiff(got, want))
	}
	if slept, n := e.clock.Slept(); n != 1 || slept != 7*time.Second {
		t.Errorf("slept %v in %d sleeps; want 7s once", slept, n)
	}
}

// When a response says the budget is spent, go-github refuses the next
// request without sending it; the sync treats that as the limit it is.
func TestSyncRateLimitBudget(t *testing.T) {
	e, want := faultEnv(t)
	e.srv.SetRateLimit(2)
	stats, err := e.sync(t)
	var lerr *github.LimitError
	if !errors.As(err, &lerr) {
		t.Fatalf("sync error %v, want a *github.LimitError", err)
	}
	if s := e.srv.Stats(); s.Requests != 2 || stats.Requests != 2 || stats.RateRemaining != 0 {
		t.Errorf("server saw %d requests, stats %d, remaining %d; want 2, 2, 0 (the third not sent)", s.Requests, stats.Requests, stats.RateRemaining)
	}
	e.clock.Advance(time.Hour + time.Second)
	e.srv.SetRateLimit(githubtest.DefaultRateLimit)
	e.mustSync(t)
	if got := export(t, e.data); got != want {
		t.Errorf("store after the retry differs from a sync without the limit:\n%s", firstDiff(got, want))
	}
}
