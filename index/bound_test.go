package index

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestBound(t *testing.T) {
	it := Item{
		Title:    strings.Repeat("é", MaxTitle), // two bytes each: cut in the middle of one would be invalid
		Body:     "short",
		Comments: "old " + strings.Repeat("ü", MaxComments/2) + " newest",
	}
	if !it.Bound() {
		t.Fatal("Bound cut nothing")
	}
	if len(it.Title) > MaxTitle || !utf8.ValidString(it.Title) || len(it.Title) < MaxTitle-1 {
		t.Errorf("title: %d bytes, valid %v", len(it.Title), utf8.ValidString(it.Title))
	}
	if it.Body != "short" {
		t.Errorf("body changed: %q", it.Body)
	}
	if len(it.Comments) > MaxComments || !utf8.ValidString(it.Comments) || !strings.HasSuffix(it.Comments, " newest") || strings.HasPrefix(it.Comments, "old") {
		t.Errorf("comments: %d bytes, want the newest %d", len(it.Comments), MaxComments)
	}
	if it.Bound() {
		t.Error("a bounded item was cut again")
	}
}

// TestHugeItem indexes one item with a 30 MB title, as a hostile or broken
// tracker could serve, and checks that indexing it allocates a bounded
// amount of memory (without the bound it took gigabytes) and that it is
// still found by the words at its start.
func TestHugeItem(t *testing.T) {
	x, err := Create(filepath.Join(t.TempDir(), "index"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var title strings.Builder
	title.WriteString("crypto/tls: handshake stalls ")
	for i := 0; title.Len() < 30<<20; i++ {
		fmt.Fprintf(&title, "word%d ", i)
	}
	it := &Item{ID: "golang/go#1", Source: "github", Kind: KindIssue, Title: title.String(), Updated: time.Now()}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b := x.NewBatch()
	if err := b.Add(it); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("indexing a %d MB title allocated %d MB", len(it.Title)>>20, alloc>>20)
	if alloc > 64<<20 {
		t.Errorf("indexing one item allocated %d MB, want at most 64 MB", alloc>>20)
	}
	if len(it.Title) < 30<<20 {
		t.Error("indexing cut the caller's item")
	}
	res, err := x.Search(context.Background(), Request{Query: "handshake stalls", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || len(res.Hits[0].Title) > MaxTitle {
		t.Fatalf("search: %d hits, want the huge item with a bounded title", len(res.Hits))
	}
}
