package github_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
	"github.com/reciprocal-access/reciprocal/watcher/internal/fakeclock"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/sourcetest"
)

const repo = "golang/go"

// t0 is when the test repositories' history starts.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newClock starts at the real time (a whole second): go-github compares
// rate-limit resets with the wall clock, so they must lie in its future.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Now().UTC().Truncate(time.Second)) }

// issue is a GitHub issue object as the REST API serves it (the members
// reciprocal reads, and a few it does not).
type issue struct {
	URL           string     `json:"url"`
	RepositoryURL string     `json:"repository_url"`
	HTMLURL       string     `json:"html_url"`
	ID            int64      `json:"id"`
	Number        int        `json:"number"`
	Title         string     `json:"title"`
	User          user       `json:"user"`
	Labels        []label    `json:"labels"`
	State         string     `json:"state"`
	Comments      int        `json:"comments"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	ClosedAt      *time.Time `json:"closed_at"`
	Body          string     `json:"body"`
	PullRequest   *pull      `json:"pull_request,omitempty"`
}

type user struct {
	Login string `json:"login"`
}

type label struct {
	Name string `json:"name"`
}

type pull struct {
	URL      string     `json:"url"`
	MergedAt *time.Time `json:"merged_at"`
}

func newIssue(n int, updated time.Time) *issue {
	return &issue{
		URL:           fmt.Sprintf("https://api.github.com/repos/%s/issues/%d", repo, n),
		RepositoryURL: "https://api.github.com/repos/" + repo,
		HTMLURL:       fmt.Sprintf("https://github.com/%s/issues/%d", repo, n),
		ID:            int64(1e9 + n),
		Number:        n,
		Title:         fmt.Sprintf("crypto/tls: issue number %d", n),
		User:          user{Login: "gopher"},
		Labels:        []label{},
		State:         "open",
		CreatedAt:     updated.Add(-time.Hour),
		UpdatedAt:     updated,
		Body:          fmt.Sprintf("Body of issue %d.", n),
	}
}

func (is *issue) JSON() []byte {
	b, err := json.Marshal(is)
	if err != nil {
		panic(err)
	}
	return b
}

type comment struct {
	URL       string    `json:"url"`
	HTMLURL   string    `json:"html_url"`
	IssueURL  string    `json:"issue_url"`
	ID        int64     `json:"id"`
	User      user      `json:"user"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Body      string    `json:"body"`
}

func newComment(issueN int, id int64, updated time.Time, body string) []byte {
	c := comment{
		URL:       fmt.Sprintf("https://api.github.com/repos/%s/issues/comments/%d", repo, id),
		HTMLURL:   fmt.Sprintf("https://github.com/%s/issues/%d#issuecomment-%d", repo, issueN, id),
		IssueURL:  fmt.Sprintf("https://api.github.com/repos/%s/issues/%d", repo, issueN),
		ID:        id,
		User:      user{Login: "commenter"},
		CreatedAt: updated,
		UpdatedAt: updated,
		Body:      body,
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return b
}

// populate puts n issues (#1..#n, a minute apart, every tenth pair sharing
// a time) and c comments (on issues 1..n in turn) on the server.
func populate(t testing.TB, srv *githubtest.Server, n, c int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if err := srv.PutIssue(newIssue(i, issueTime(i)).JSON()); err != nil {
			t.Fatal(err)
		}
	}
	for j := 1; j <= c; j++ {
		raw := newComment((j-1)%n+1, int64(5000+j), t0.Add(time.Duration(j)*time.Minute+30*time.Second), fmt.Sprintf("comment %d", j))
		if err := srv.PutComment(raw); err != nil {
			t.Fatal(err)
		}
	}
}

// issueTime is the updated_at of issue i in populate's data.
func issueTime(i int) time.Time {
	m := i
	if i%10 == 0 {
		m = i - 1 // share a time with the issue before
	}
	return t0.Add(time.Duration(m) * time.Minute)
}

// env is a fake GitHub, a data directory and a Source reading one from the
// other.
type env struct {
	srv   *githubtest.Server
	clock *fakeclock.Clock
	data  *watcher.Data
	src   *github.Source
	opts  source.Options
}

func newEnv(t testing.TB, srv *githubtest.Server) *env {
	t.Helper()
	clock := newClock()
	srv.SetClock(clock.Now)
	e := &env{srv: srv, clock: clock}
	e.data = openData(t, t.TempDir())
	e.src = newSource(t, srv, clock)
	e.opts = source.Options{Since: t0.Add(-time.Hour), Now: clock.Now}
	return e
}

func newServer(t testing.TB) *githubtest.Server {
	srv := githubtest.NewServer()
	t.Cleanup(srv.Close)
	return srv
}

func newSource(t testing.TB, srv *githubtest.Server, clock *fakeclock.Clock, opts ...github.Option) *github.Source {
	t.Helper()
	opts = append([]github.Option{github.WithToken(""), github.WithSleep(clock.Sleep), github.WithHTTPClient(srv.Client())}, opts...)
	src, err := github.NewSource(github.Config{Repo: repo, APIURL: srv.URL()}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// openData opens a data directory in dir for the test.
var openData = sourcetest.OpenData

// sync runs one sync of the env's source straight into the store.
func (e *env) sync(t testing.TB) (source.Stats, error) {
	t.Helper()
	return e.src.Sync(context.Background(), e.data.Store, e.opts)
}

func (e *env) mustSync(t testing.TB) source.Stats {
	t.Helper()
	stats, err := e.sync(t)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return stats
}

// export returns the store's contents as JSON Lines.
func export(t testing.TB, d *watcher.Data) string {
	t.Helper()
	return string(sourcetest.Export(t, d))
}

// pages is ⌈n/100⌉, the pages of a listing of n objects.
func pages(n int) int { return (n + 99) / 100 }

func configsFor(srv *githubtest.Server) github.Config {
	return github.Config{Repo: repo, APIURL: srv.URL()}
}
