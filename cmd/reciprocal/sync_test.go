package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/source"
)

func TestEstimateLine(t *testing.T) {
	reset := time.Date(2026, 11, 24, 10, 15, 0, 0, time.Local)
	s := source.Stats{Source: "github golang/go", Requests: 1, Estimate: 301, RateRemaining: 4999, RateReset: reset}
	got := estimateLine(s, 200*time.Millisecond)
	if got != "github golang/go: about 300 more requests to go, about 1m0s at this pace" {
		t.Errorf("within the limit: %q", got)
	}
	s.RateRemaining = 59
	got = estimateLine(s, 0)
	for _, want := range []string{"about 300 more requests to go;", "more than the 59 requests the rate limit has left before 10:15", "resume at the next sync"} {
		if !strings.Contains(got, want) {
			t.Errorf("beyond the limit: %q lacks %q", got, want)
		}
	}
}

func TestProgressAnnouncesOnce(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b, false)
	for i := 1; i <= 5; i++ {
		p.update(source.Stats{Source: "gerrit go-review", Requests: i, Estimate: 50, RateRemaining: -1})
	}
	if n := strings.Count(b.String(), "more requests to go"); n != 1 {
		t.Errorf("announced %d times:\n%s", n, b.String())
	}
}

// What sync prints after Ctrl-C: the synced source, the interrupted one
// (not FAILED), the ones that never ran, and an interruption, not a
// failure, as the error.
func TestSyncInterruptedReport(t *testing.T) {
	results := []watcher.SourceResult{
		{Stats: source.Stats{Source: "github golang/go", New: 3, Requests: 2, RateRemaining: -1}},
		{Stats: source.Stats{Source: "gerrit go-review", New: 1, Requests: 1, RateRemaining: -1}, Interrupted: true},
		{Stats: source.Stats{Source: "vulndb", RateRemaining: -1}, NotRun: true},
	}
	var lines []string
	for _, r := range results {
		lines = append(lines, summarize(r))
	}
	want := []string{
		"github golang/go: 3 new, 0 updated, 2 requests, 0s",
		"gerrit go-review: 1 new, 0 updated, 1 request, 0s — interrupted: what was stored is kept",
		"vulndb: not run (interrupted)",
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, lines[i], want[i])
		}
	}
	err := syncFailure(results, fmt.Errorf("index: %w", context.Canceled))
	if err == nil || err.Error() != "sync: interrupted; what was stored is kept and the next sync continues from there" {
		t.Errorf("syncFailure = %v", err)
	}

	// A source that failed before the interrupt is still a failure.
	results[0].Err = errors.New("github golang/go: 502 Bad Gateway")
	err = syncFailure(results, context.Canceled)
	var h hinted
	if err == nil || !strings.Contains(err.Error(), "1 of 3 sources failed (github golang/go)") || !errors.As(err, &h) || !strings.Contains(h.Hint(), "interrupted") {
		t.Errorf("syncFailure with a failure = %v", err)
	}
}
