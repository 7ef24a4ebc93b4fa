package watcher_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher"
)

// cancelAfter is a context whose Err reports cancellation after it has
// said nil n times: indexing checks it once per batch, so it interrupts
// the (n+1)th batch as Ctrl-C or a kill between batches would.
type cancelAfter struct {
	context.Context
	n int
}

func (c *cancelAfter) Err() error {
	if c.n == 0 {
		return context.Canceled
	}
	c.n--
	return nil
}

// generated returns a data directory holding n GitHub issues in the store,
// not yet indexed.
func generated(t *testing.T, n int) *watcher.Data {
	t.Helper()
	d := openData(t)
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"url":"https://api.github.com/repos/golang/go/issues/%d","repository_url":"https://api.github.com/repos/golang/go","html_url":"https://github.com/golang/go/issues/%[1]d","number":%[1]d,"title":"crypto/tls: issue %[1]d","user":{"login":"a"},"labels":[],"state":"open","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-02T00:00:00Z","body":"b"}`+"\n", i)
	}
	if _, err := importBytes(t, d, "gen.jsonl", []byte(b.String()), watcher.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return d
}

func lagAndCount(t *testing.T, d *watcher.Data) (int, uint64) {
	t.Helper()
	lag, err := d.IndexLag()
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.Index.Count()
	if err != nil {
		t.Fatal(err)
	}
	return lag, n
}

// Indexing interrupted after its first batch leaves an index that knows
// how far behind it is, and the next run catches up.
func TestInterruptedIndexingShowsLag(t *testing.T) {
	d := generated(t, 2500)
	if _, err := d.IndexPending(&cancelAfter{ctx, 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("IndexPending interrupted: %v, want context.Canceled", err)
	}
	if lag, n := lagAndCount(t, d); lag != 1500 || n != 1000 {
		t.Fatalf("after the interruption: lag %d, %d indexed; want 1500 and 1000", lag, n)
	}
	if n, err := d.IndexPending(ctx); err != nil || n != 1500 {
		t.Fatalf("IndexPending = %d, %v; want the 1500 left", n, err)
	}
	if lag, n := lagAndCount(t, d); lag != 0 || n != 2500 {
		t.Fatalf("after catching up: lag %d, %d indexed; want 0 and 2500", lag, n)
	}
}

// An interrupted reindex leaves the old index whole and current, and no
// half-built index behind.
func TestInterruptedReindexKeepsTheOldIndex(t *testing.T) {
	d := generated(t, 2500)
	if _, err := d.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reindex(&cancelAfter{ctx, 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reindex interrupted: %v, want context.Canceled", err)
	}
	if lag, n := lagAndCount(t, d); lag != 0 || n != 2500 {
		t.Fatalf("after an interrupted reindex: lag %d, %d indexed; want 0 and 2500", lag, n)
	}
	if _, err := os.Stat(d.IndexPath() + ".new"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the half-built index is still there: %v", err)
	}
	if n, err := d.Reindex(ctx); err != nil || n != 2500 {
		t.Fatalf("Reindex = %d, %v; want 2500", n, err)
	}
}

// A first indexing of many items builds the index whole, as one segment;
// interrupted, it leaves the index empty, and the next run builds it whole
// again. Later runs add to the index batch by batch.
func TestFirstIndexingBuildsWhole(t *testing.T) {
	defer watcher.SetBuildAbove(1000)()
	d := generated(t, 2500)
	if _, err := d.IndexPending(&cancelAfter{ctx, 3}); !errors.Is(err, context.Canceled) {
		t.Fatalf("IndexPending interrupted: %v, want context.Canceled", err)
	}
	if lag, n := lagAndCount(t, d); lag != 2500 || n != 0 {
		t.Fatalf("after the interruption: lag %d, %d indexed; want 2500 and 0", lag, n)
	}
	if _, err := os.Stat(d.IndexPath() + ".new"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the half-built index is still there: %v", err)
	}
	if n, err := d.IndexPending(ctx); err != nil || n != 2500 {
		t.Fatalf("IndexPending = %d, %v; want 2500", n, err)
	}
	if lag, n := lagAndCount(t, d); lag != 0 || n != 2500 {
		t.Fatalf("after the build: lag %d, %d indexed; want 0 and 2500", lag, n)
	}
	if segs := zapFiles(t, d); segs != 1 {
		t.Errorf("the built index has %d segments, want 1", segs)
	}
	c := `{"url":"https://api.github.com/repos/golang/go/issues/comments/9","html_url":"https://github.com/golang/go/issues/7#issuecomment-9","issue_url":"https://api.github.com/repos/golang/go/issues/7","id":9,"user":{"login":"x"},"created_at":"2024-03-03T10:00:00Z","updated_at":"2024-03-03T10:00:00Z","body":"Reproduced with a zanzibar client."}`
	if _, err := importBytes(t, d, "c.jsonl", []byte(c), watcher.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := d.IndexPending(ctx); err != nil || n != 1 {
		t.Fatalf("after one comment: indexed %d, %v; want 1", n, err)
	}
	if got := search(t, d, index.Request{Query: "zanzibar"}); !slices.Equal(got, []string{"golang/go#7"}) {
		t.Errorf("new comment not searchable: %v", got)
	}
	if segs := zapFiles(t, d); segs != 2 {
		t.Errorf("%d segments after a batch, want 2", segs)
	}
}

func zapFiles(t *testing.T, d *watcher.Data) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(d.IndexPath(), "store", "*.zap"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}
