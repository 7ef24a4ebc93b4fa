package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"
)

// zapFiles counts the index's segment files.
func zapFiles(t *testing.T, path string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(path, "store", "*.zap"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// created opens a new, empty index in a temporary directory; it is closed
// when the test ends.
func created(t *testing.T) (*Index, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index")
	x, err := Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x, path
}

// reopened opens the index at path read-only, as a later command sees it,
// and returns it with its number of segments.
func reopened(t *testing.T, path string) (*Index, uint64) {
	t.Helper()
	x, err := Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	err = x.withScorch("count", func(s *scorch.Scorch) error {
		n, _ = s.StatsMap()["num_root_filesegments"].(uint64)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return x, n
}

// Compact merges the segments that many small batches left, drops the
// versions of documents that later batches replaced, and keeps every
// current document searchable.
func TestCompact(t *testing.T) {
	ctx := context.Background()
	x, path := created(t)
	seq := uint64(0)
	for round := range 2 {
		for i := 0; i < 200; i += 10 {
			b := x.NewBatch()
			for j := i; j < i+10; j++ {
				it := &Item{ID: fmt.Sprintf("golang/go#%d", j+1), Source: "github", Repo: "golang/go", Number: j + 1, Kind: KindIssue,
					Title: fmt.Sprintf("crypto/tls: round %d item %d", round, j), Body: strings.Repeat("session ticket resumption ", 50),
					Updated: time.Date(2024, 1, 1+j%28, 0, 0, 0, 0, time.UTC)}
				if err := b.Add(it); err != nil {
					t.Fatal(err)
				}
			}
			seq++
			if err := b.Commit(ctx, seq); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := DiskSize(path)
	segments := zapFiles(t, path)
	if err := x.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	x.Close()
	t.Logf("index: %d segments, %d bytes → %d segments, %d bytes", segments, before, zapFiles(t, path), DiskSize(path))
	x, n := reopened(t, path)
	defer x.Close()
	if n != 1 {
		t.Errorf("%v segments after Compact, want 1", n)
	}
	if n, err := x.Count(); err != nil || n != 200 {
		t.Errorf("Count = %d, %v; want 200", n, err)
	}
	if s, err := x.Seq(); err != nil || s != seq {
		t.Errorf("Seq = %d, %v; want %d", s, err, seq)
	}
	res, err := x.Search(ctx, Request{Query: "round", Limit: 300})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 200 {
		t.Errorf("search finds %d items, want 200", res.Total)
	}
	for _, h := range res.Hits {
		if !strings.Contains(h.Title, "round 1") {
			t.Errorf("%s has an old version: %q", h.ID, h.Title)
		}
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Fatal("index directory gone")
	}
}

// Settle merges what many small batches left down to what the merge
// policy keeps (at most ten segments of a tier: these are all in the
// first), persisted, with every document and the position intact.
func TestSettle(t *testing.T) {
	defer func(n uint64) { settleAbove = n }(settleAbove)
	settleAbove = 0 // settle whatever the count
	// No background merges: indexing leaves one segment per batch, as
	// when it outruns the merges on a busy machine.
	// (Segments over half the maximum size are never merged.)
	testConfig = map[string]interface{}{"scorchMergePlanOptions": map[string]interface{}{"MaxSegmentSize": 1}}
	defer func() { testConfig = nil }()
	ctx := context.Background()
	x, path := created(t)
	release, err := x.Hold() // open throughout, as indexing keeps it
	if err != nil {
		t.Fatal(err)
	}
	const batches = 60
	for i := 1; i <= batches; i++ {
		b := x.NewBatch()
		it := &Item{ID: fmt.Sprintf("golang/go#%d", i), Source: "github", Repo: "golang/go", Number: i, Kind: KindIssue,
			Title: fmt.Sprintf("crypto/tls: item %d", i), Updated: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
		if err := b.Add(it); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(ctx, uint64(i)); err != nil {
			t.Fatal(err)
		}
		x.mu.Lock()
		err := x.persisted(0) // each batch a file of its own
		x.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := zapFiles(t, path); n < 30 {
		t.Fatalf("%d segment files before Settle, want one a batch (%d)", n, batches)
	}
	if err := x.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	release()
	x.Close()
	x, n := reopened(t, path)
	defer x.Close()
	if n > 10 {
		t.Errorf("%d segments after Settle, want at most 10", n)
	}
	if n, err := x.Count(); err != nil || n != batches {
		t.Errorf("Count = %d, %v; want %d", n, err, batches)
	}
	if s, err := x.Seq(); err != nil || s != batches {
		t.Errorf("Seq = %d, %v; want %d", s, err, batches)
	}
}
