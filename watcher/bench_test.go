package watcher_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/internal/scalecorpus"
	"github.com/reciprocal-access/reciprocal/watcher"
)

// corpusFiles returns the shared corpus files, skipping the test if absent.
func corpusFiles(tb testing.TB) []string {
	tb.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus")
	files := []string{"issues.jsonl.gz", "changes.jsonl.gz", "osv.jsonl.gz"}
	for i, f := range files {
		files[i] = filepath.Join(dir, f)
		if _, err := os.Stat(files[i]); err != nil {
			tb.Skipf("corpus not available: %v", err)
		}
	}
	return files
}

func importFiles(tb testing.TB, d *watcher.Data, files []string) int {
	tb.Helper()
	total := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			tb.Fatal(err)
		}
		res, err := d.Import(context.Background(), name, f, watcher.ImportOptions{})
		f.Close()
		if err != nil {
			tb.Fatal(err)
		}
		total += res.Total()
	}
	return total
}

func BenchmarkImportIndexCorpus(b *testing.B) {
	files := corpusFiles(b)
	b.ReportAllocs()
	var items int
	start := usageNow()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		d, err := watcher.OpenData(dir, false, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		items = importFiles(b, d, files)
		if _, err := d.IndexPending(context.Background()); err != nil {
			b.Fatal(err)
		}
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
	}
	reportItems(b, items, start)
	if mb := peakRSSMB(); mb > 0 {
		b.ReportMetric(mb, "peak-RSS-MB")
	}
}

// reportItems reports items/s (wall clock) and, since the machines these
// benchmarks run on are shared and wall-clock figures vary with their load,
// items per CPU-second of the whole process (every goroutine: Bleve's
// analysis workers, persister and merger included) and allocations per
// item (of the whole process too), from start, taken before the loop.
func reportItems(b *testing.B, items int, start usage) {
	end := usageNow()
	n := float64(items) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "items/s")
	if cpu := end.cpu - start.cpu; cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), "items/cpu-s")
	}
	b.ReportMetric(float64(end.mallocs-start.mallocs)/n, "allocs/item")
}

// usage is what the process has used so far: CPU time (user and system)
// and heap allocations.
type usage struct {
	cpu     time.Duration
	mallocs uint64
}

func usageNow() usage {
	var u usage
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u.mallocs = ms.Mallocs
	return u
}

// peakRSSMB returns the process's peak resident set size (Linux VmHWM).
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkIndexDiscussions indexes what a first sync of a GitHub
// repository leaves in the store: issues one after the other, each with
// its comments, since the sync lists every issue and then every comment
// (here the 1,920 issues of an 8,000-item scale corpus, with about 19,000
// comments). Such batches are bounded by the bytes of their text, not by
// their count, and are the largest a batch gets. It reports the peak of
// the live Go heap while indexing, above what was live before, which that
// bound keeps flat: the first sync of 100k items took 276 MB at its peak
// with batches bounded at 8 MB of JSON and text.
func BenchmarkIndexDiscussions(b *testing.B) {
	c, err := scalecorpus.Load(filepath.Dir(corpusFiles(b)[0]))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := c.Generate(&buf, scalecorpus.Options{Items: 8000}); err != nil {
		b.Fatal(err)
	}
	discussions := githubOnly(b, buf.Bytes())
	ctx := context.Background()
	var items int
	var peak uint64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		d, err := watcher.OpenData(b.TempDir(), false, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.Import(ctx, "discussions", bytes.NewReader(discussions), watcher.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		base := liveHeap()
		stop := watchLiveHeap()
		start := usageNow()
		b.StartTimer()
		items, err = d.IndexPending(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += usageNow().cpu - start.cpu
		if p := stop(); p > base {
			peak = max(peak, p-base)
		}
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(items)*float64(b.N)/cpu.Seconds(), "items/cpu-s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-live-MB")
}

// githubOnly returns the lines of a scale corpus that are GitHub issues
// and comments, in their order.
func githubOnly(tb testing.TB, corpus []byte) []byte {
	var out []byte
	for line := range bytes.Lines(corpus) {
		var probe struct {
			Number   *int    `json:"number"`
			IssueURL *string `json:"issue_url"`
		}
		if err := json.Unmarshal(line, &probe); err != nil {
			tb.Fatal(err)
		}
		if probe.Number != nil || probe.IssueURL != nil {
			out = append(out, line...)
		}
	}
	return out
}

// liveHeap returns the live Go heap as of the last garbage collection.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// watchLiveHeap samples the live Go heap (as of the last garbage
// collection) every millisecond until the returned function is called,
// which returns the highest sample.
func watchLiveHeap() (stop func() uint64) {
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		var peak uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, liveHeap())
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-result }
}
