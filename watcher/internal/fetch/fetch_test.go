package fetch_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/internal/fakehttp"
	"github.com/reciprocal-access/reciprocal/watcher/internal/fetch"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"Tue, 24 Nov 2026 08:05:00 GMT", 5 * time.Minute, true},
		{"Tue, 24 Nov 2026 07:00:00 GMT", 0, true}, // in the past: now
		{"-5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, ok := fetch.RetryAfter(tc.v, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	for n := 1; n <= 4; n++ {
		d := time.Second << (n - 1)
		for range 100 {
			if b := fetch.Backoff(n); b < d/2 || b > d {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", n, b, d/2, d)
			}
		}
	}
}

type sleeper struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sleeps = append(s.sleeps, d)
	return ctx.Err()
}

// server answers with the statuses given, in turn, then 200 "ok".
func server(t *testing.T, answers ...func(w http.ResponseWriter)) (*httptest.Server, *fakehttp.Faults) {
	var mu sync.Mutex
	q := new(fakehttp.Faults)
	srv := httptest.NewServer(q.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		var a func(http.ResponseWriter)
		if len(answers) > 0 {
			a, answers = answers[0], answers[1:]
		}
		mu.Unlock()
		if a != nil {
			a(w)
			return
		}
		w.Write([]byte("ok"))
	})))
	t.Cleanup(srv.Close)
	return srv, q
}

func status(code int, header ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		http.Error(w, "no luck", code)
	}
}

func TestGet(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	for _, tc := range []struct {
		name     string
		answers  []func(http.ResponseWriter)
		maxWait  time.Duration
		sleeps   int
		wantErr  string
		limit    bool
		requests int
	}{
		{name: "ok", requests: 1},
		{name: "500 then ok", answers: a(status(500)), sleeps: 1, requests: 2},
		{name: "502 503 504 then ok", answers: a(status(502), status(503), status(504)), sleeps: 3, requests: 4},
		{name: "408 then ok", answers: a(status(408)), sleeps: 1, requests: 2},
		{name: "500 five times", answers: a(status(500), status(500), status(500), status(500), status(500)), sleeps: 4, wantErr: "500 Internal Server Error: no luck (gave up after 5 attempts)", requests: 5},
		{name: "404", answers: a(status(404)), wantErr: "404 Not Found: no luck", requests: 1},
		{name: "400", answers: a(status(400)), wantErr: "400 Bad Request", requests: 1},
		{name: "429 within MaxWait", answers: a(status(429, "Retry-After", "60")), sleeps: 1, requests: 2},
		{name: "429 without Retry-After", answers: a(status(429)), sleeps: 1, requests: 2},
		{name: "503 with Retry-After", answers: a(status(503, "Retry-After", "Tue, 24 Nov 2026 08:10:00 GMT")), sleeps: 1, requests: 2},
		{name: "429 beyond MaxWait", answers: a(status(429, "Retry-After", "3600")), limit: true, wantErr: "asked to retry at 2026-11-24T09:00:00Z (1h0m0s away, longer than the 15m0s a sync waits)", requests: 1},
		{name: "429 never wait", answers: a(status(429, "Retry-After", "1")), maxWait: -1, limit: true, requests: 1},
		{name: "429 four times", answers: a(status(429), status(429), status(429), status(429)), sleeps: 3, wantErr: "still limited after waiting 3 times", requests: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, q := server(t, tc.answers...)
			sl := new(sleeper)
			g := &fetch.Getter{Source: "test", Client: srv.Client(), Sleep: sl.Sleep, Now: clock, MaxWait: tc.maxWait}
			resp, err := g.Get(context.Background(), srv.URL+"/x", nil)
			if tc.wantErr == "" && !tc.limit {
				if err != nil || resp.Status != 200 || string(resp.Body) != "ok" {
					t.Fatalf("Get = %+v, %v", resp, err)
				}
			} else {
				if err == nil {
					t.Fatalf("Get succeeded")
				}
				if !strings.HasPrefix(err.Error(), "test: GET "+srv.URL+"/x: ") || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want it to name the URL and say %q", err, tc.wantErr)
				}
				var le *fetch.LimitError
				if errors.As(err, &le) != tc.limit {
					t.Errorf("err = %T, limit %v", err, tc.limit)
				}
			}
			if len(sl.sleeps) != tc.sleeps {
				t.Errorf("slept %v, want %d sleeps", sl.sleeps, tc.sleeps)
			}
			if g.Requests() != tc.requests || q.Stats().Requests != tc.requests {
				t.Errorf("requests: getter %d, server %d, want %d", g.Requests(), q.Stats().Requests, tc.requests)
			}
		})
	}
}

func a(f ...func(http.ResponseWriter)) []func(http.ResponseWriter) { return f }

func TestGetRetryAfterWaits(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	srv, _ := server(t, status(503, "Retry-After", "Tue, 24 Nov 2026 08:10:00 GMT"), status(429, "Retry-After", "42"))
	sl := new(sleeper)
	g := &fetch.Getter{Source: "test", Client: srv.Client(), Sleep: sl.Sleep, Now: func() time.Time { return now }}
	if _, err := g.Get(context.Background(), srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	if len(sl.sleeps) != 2 || sl.sleeps[0] != 10*time.Minute || sl.sleeps[1] != 42*time.Second {
		t.Errorf("sleeps = %v, want [10m 42s]", sl.sleeps)
	}
}

func TestGetFaults(t *testing.T) {
	srv, q := server(t)
	sl := new(sleeper)
	g := &fetch.Getter{Source: "test", Client: srv.Client(), Sleep: sl.Sleep}

	q.FailNext(1, fakehttp.ConnReset, 0)
	if resp, err := g.Get(context.Background(), srv.URL, nil); err != nil || string(resp.Body) != "ok" {
		t.Errorf("after a reset: %v, %v", resp, err)
	}
	// A body cut short is asked for again, like after a reset.
	q.FailNext(1, fakehttp.Truncate, 0)
	if resp, err := g.Get(context.Background(), srv.URL, nil); err != nil || string(resp.Body) != "ok" {
		t.Errorf("after a cut body: %v, %v", resp, err)
	}
	if len(sl.sleeps) != 2 {
		t.Errorf("sleeps = %v, want two (the reset, the cut body)", sl.sleeps)
	}
	// Cut short every time: an error naming the URL, after the retries.
	q.FailNext(5, fakehttp.Truncate, 0)
	_, err := g.Get(context.Background(), srv.URL+"/y", nil)
	if !errors.Is(err, fetch.ErrTruncated) || !strings.Contains(err.Error(), "test: GET "+srv.URL+"/y: response body cut short after 1 bytes (gave up after 5 attempts)") {
		t.Errorf("truncated: err = %v", err)
	}
	if len(sl.sleeps) != 6 {
		t.Errorf("sleeps = %v, want 6", sl.sleeps)
	}

	// With Valid, a well-formed answer whose content is cut is retried
	// too; a Getter without Valid cannot tell.
	jsrv := httptest.NewServer(q.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, ")]}'\n[{\"id\": \"a\"}, {\"id\": \"b\"}]")
	})))
	defer jsrv.Close()
	sl.sleeps = nil
	gj := &fetch.Getter{Source: "test", Client: jsrv.Client(), Sleep: sl.Sleep, Valid: fetch.ValidJSON(")]}'")}
	q.FailNext(1, fakehttp.Malformed, 0)
	if resp, err := gj.Get(context.Background(), jsrv.URL, nil); err != nil || !strings.HasSuffix(string(resp.Body), "]") {
		t.Errorf("after a malformed body: %v, %v", resp, err)
	}
	q.FailNext(5, fakehttp.Malformed, 0)
	if _, err := gj.Get(context.Background(), jsrv.URL, nil); !errors.Is(err, fetch.ErrMalformed) || !strings.Contains(err.Error(), "malformed response (") || !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Errorf("malformed every time: err = %v", err)
	}
	if len(sl.sleeps) != 5 {
		t.Errorf("sleeps = %v, want 5", sl.sleeps)
	}

	// A request that times out is retried.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Second):
		}
	}))
	defer slow.Close()
	g = &fetch.Getter{Source: "test", Client: &http.Client{Timeout: 20 * time.Millisecond}, Sleep: sl.Sleep, Retries: 1}
	if _, err := g.Get(context.Background(), slow.URL, nil); err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") {
		t.Errorf("timeouts: err = %v", err)
	}

	// Cancellation is returned as is.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Get(ctx, srv.URL, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}
