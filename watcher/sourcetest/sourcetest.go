// Package sourcetest holds what the tests and benchmarks of the source
// packages share: opening a data directory for a test, reading the real
// corpus in place, and the benchmark of a first sync.
//
// It drives package watcher (a data directory, export), so it stands beside
// the source packages, like their fake servers, rather than in
// watcher/internal, which the sources themselves import.
package sourcetest

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/reciprocal-access/reciprocal/internal/jsonl"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/internal/fakehttp"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// OpenData opens a writable data directory in dir, closed when the test
// ends.
func OpenData(tb testing.TB, dir string) *watcher.Data {
	tb.Helper()
	d, err := watcher.OpenData(dir, false, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// EachLine calls fn with each line of the JSON Lines file at path (plain
// or gzip-compressed, like the corpus) and its number, failing the test on
// a read error or an error of fn.
func EachLine(tb testing.TB, path string, fn func(n int, raw []byte) error) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := jsonl.Each(f, fn); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}

// A Loader is a fake server that reads JSON Lines of its raw objects.
type Loader interface {
	AddJSONL(r io.Reader) (int, error)
}

// AddFile puts the objects of the JSON Lines file at path (plain or
// gzip-compressed, like the corpus) into the fake srv, failing the test on
// an error, and returns how many lines it read.
func AddFile(tb testing.TB, srv Loader, path string) int {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	n, err := srv.AddJSONL(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return n
}

// CountLines returns how many lines the JSON Lines file at path has.
func CountLines(tb testing.TB, path string) int {
	tb.Helper()
	n := 0
	EachLine(tb, path, func(int, []byte) error { n++; return nil })
	return n
}

// BenchFirstSync benchmarks the first sync of src into an empty store,
// which must store n new items, and reports items/s. It returns the stats
// of the last sync.
func BenchFirstSync(b *testing.B, src source.Source, n int, opts source.Options) source.Stats {
	b.Helper()
	var stats source.Stats
	BenchEmptyStore(b, n, func(st *store.Store) {
		var err error
		stats, err = src.Sync(context.Background(), st, opts)
		if err != nil || stats.New != n {
			b.Fatalf("sync: %d new of %d, %+v, %v", stats.New, n, stats, err)
		}
	})
	return stats
}

// BenchEmptyStore times fn on an empty store, a new one each iteration
// (opening and closing it are not timed), and reports allocations and n
// items a call as items/s.
func BenchEmptyStore(b *testing.B, n int, fn func(st *store.Store)) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		st, err := store.Open(b.TempDir(), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		fn(st)
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// A Fake is what MustSync needs of a fake server: its request counts.
type Fake interface {
	ResetStats()
	Stats() fakehttp.Stats
}

// MustSync runs sync against the fake srv, failing the test on an error,
// and checks that the sync counted the requests the server answered.
func MustSync(tb testing.TB, srv Fake, sync func() (source.Stats, error)) source.Stats {
	tb.Helper()
	srv.ResetStats()
	st, err := sync()
	if err != nil {
		tb.Fatalf("sync: %v", err)
	}
	if n := srv.Stats().Requests; n != st.Requests {
		tb.Errorf("sync counted %d requests, the server %d", st.Requests, n)
	}
	return st
}

// Export returns the objects of d's store as JSON Lines, in store order.
func Export(tb testing.TB, d *watcher.Data) []byte {
	tb.Helper()
	var b bytes.Buffer
	if _, err := d.Export(context.Background(), &b, ""); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// Count returns how many items d's store holds.
func Count(d *watcher.Data) int {
	n := 0
	d.Store.View(func(tx *store.Tx) error { n = tx.Count(); return nil })
	return n
}

// CorpusFile returns the path of a file of the shared corpus of real Go
// tracker data (../shared/corpus beside the repository), read in place,
// and skips the test when it is absent.
func CorpusFile(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join("..", "..", "..", "shared", "corpus", name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("corpus not available: %v", err)
	}
	return p
}
