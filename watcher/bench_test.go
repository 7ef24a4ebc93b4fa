package watcher_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

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
