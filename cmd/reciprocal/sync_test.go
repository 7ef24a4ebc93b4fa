package main

import (
	"strings"
	"testing"
	"time"

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
