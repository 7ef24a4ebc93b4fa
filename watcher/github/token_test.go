package github_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// The token reaches the API and nothing else: not errors, logs, stats or
// the store.
func TestTokenNeverShown(t *testing.T) {
	const secret = "ghp_RECIPROCALxTESTxSECRETx0123456789abcdef"
	const env = "RECIPROCAL_TEST_GITHUB_TOKEN"
	t.Setenv(env, secret)

	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)

	srv := newServer(t)
	populate(t, srv, 150, 10)
	srv.RequireToken(secret)
	clock := newClock()
	srv.SetClock(clock.Now)
	cfg := configsFor(srv)
	cfg.TokenEnv = env
	src, err := github.NewSource(cfg, github.WithHTTPClient(srv.Client()), github.WithSleep(clock.Sleep))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if o := src.TokenOrigin(ctx); o.Kind != github.TokenFromEnv || o.Env != env || o.String() != "$"+env {
		t.Errorf("TokenOrigin = %+v (%s), want the environment variable %s", o, o, env)
	}
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := source.Options{Since: t0.Add(-time.Hour), Now: clock.Now}

	var shown []string
	record := func(stats source.Stats, err error) {
		j, _ := json.Marshal(stats)
		shown = append(shown, string(j))
		if err != nil {
			shown = append(shown, err.Error(), fmt.Sprintf("%v|%+v|%#v", err, err, err))
			// The error chain holds go-github's errors, and their
			// responses the requests as sent.
			var ere *gh.ErrorResponse
			if errors.As(err, &ere) && ere.Response != nil && ere.Response.Request != nil {
				shown = append(shown, fmt.Sprint(ere.Response.Request.Header))
			}
			var rle *gh.RateLimitError
			if errors.As(err, &rle) && rle.Response != nil && rle.Response.Request != nil {
				shown = append(shown, fmt.Sprint(rle.Response.Request.Header))
			}
		}
	}
	mustFail := func(what string, stats source.Stats, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: sync succeeded, want an error", what)
		}
		record(stats, err)
	}

	srv.FailNext(5, githubtest.ServerError)
	stats, err := src.Sync(ctx, st, opts)
	mustFail("500s", stats, err)

	srv.FailNext(5, githubtest.Truncate) // cut short every time it is retried
	stats, err = src.Sync(ctx, st, opts)
	mustFail("truncated", stats, err)

	srv.ExhaustRateLimit(clock.Now().Add(2 * time.Hour))
	stats, err = src.Sync(ctx, st, opts)
	mustFail("rate limit", stats, err)
	clock.Advance(3 * time.Hour)

	srv.RequireToken("some-other-token")
	stats, err = src.Sync(ctx, st, opts)
	mustFail("bad credentials", stats, err)
	if err != nil && !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "$"+env) {
		t.Errorf("bad credentials: error %q does not say the token from $%s was refused", err, env)
	}
	srv.RequireToken(secret)

	stats, err = src.Sync(ctx, st, opts)
	if err != nil {
		t.Fatalf("sync with the right token: %v", err)
	}
	record(stats, err)
	if got := srv.LastAuthorization(); got != "Bearer "+secret {
		t.Errorf("server saw Authorization %q, want the token as Bearer", got)
	}
	shown = append(shown, logs.String(), src.TokenOrigin(ctx).String(), fmt.Sprintf("%v %+v", src, src.TokenOrigin(ctx)))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	shown = append(shown, string(db))

	for _, s := range shown {
		if strings.Contains(s, secret) || strings.Contains(s, secret[8:30]) {
			t.Errorf("the token appears in %.300q", s)
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("logs show no retries; the test did not exercise them:\n%s", logs.String())
	}
}

// FindToken looks in the environment, then asks gh, then gives up, and
// never says what the token is.
func TestFindToken(t *testing.T) {
	const env = "RECIPROCAL_TEST_GITHUB_TOKEN"
	ctx := context.Background()
	bin := t.TempDir()
	t.Setenv("PATH", bin)
	cfg := github.Config{Repo: repo, TokenEnv: env}

	t.Setenv(env, "from-env")
	if o := github.FindToken(ctx, cfg); o.Kind != github.TokenFromEnv || o.Env != env || !o.Authenticated() {
		t.Errorf("with $%s set: %+v, want the environment", env, o)
	}

	t.Setenv(env, "")
	if o := github.FindToken(ctx, cfg); o.Kind != github.NoToken || o.Authenticated() || !strings.Contains(o.String(), "unauthenticated") {
		t.Errorf("without $%s or gh: %+v (%s), want no token", env, o, o)
	}

	// A gh that knows a token, and records how it was asked.
	args := filepath.Join(t.TempDir(), "args")
	script := fmt.Sprintf("#!/bin/sh\necho \"$@\" > %s\necho gho_FROMxGH\n", args)
	if err := os.WriteFile(filepath.Join(bin, "gh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if o := github.FindToken(ctx, cfg); o.Kind != github.TokenFromGH || o.String() != "gh auth token" {
		t.Errorf("with gh: %+v (%s), want gh auth token", o, o)
	}
	if b, _ := os.ReadFile(args); strings.TrimSpace(string(b)) != "auth token" {
		t.Errorf("gh was run with %q, want auth token", b)
	}
	cfg.APIURL = "https://ghe.example.com/api/v3/"
	github.FindToken(ctx, cfg)
	if b, _ := os.ReadFile(args); strings.TrimSpace(string(b)) != "auth token --hostname ghe.example.com" {
		t.Errorf("gh was run with %q for an enterprise server, want auth token --hostname ghe.example.com", b)
	}

	// The token from gh reaches the API.
	srv := newServer(t)
	populate(t, srv, 3, 0)
	srv.RequireToken("gho_FROMxGH")
	src, err := github.NewSource(github.Config{Repo: repo, APIURL: srv.URL(), TokenEnv: env}, github.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Sync(ctx, openData(t, t.TempDir()).Store, source.Options{Since: t0}); err != nil {
		t.Errorf("sync with the token from gh: %v", err)
	}

	// A gh that fails leaves the sync unauthenticated.
	if err := os.WriteFile(filepath.Join(bin, "gh"), []byte("#!/bin/sh\necho 'not logged in' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if o := github.FindToken(ctx, cfg); o.Kind != github.NoToken {
		t.Errorf("with a failing gh: %+v, want no token", o)
	}
}
