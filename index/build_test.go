package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// buildItems returns n items of varied text, kinds, packages and dates.
func buildItems(n int) []*Item {
	words := []string{"session", "ticket", "resumption", "handshake", "proxy", "chunked", "vendor", "workspace", "entropy", "signature"}
	pkgs := []string{"crypto/tls", "net/http", "cmd/go", "crypto/rand", "crypto/ecdsa"}
	kinds := []string{KindIssue, KindChange, KindProposal, KindVuln}
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	items := make([]*Item, n)
	for i := range items {
		w1, w2 := words[i%len(words)], words[(i/len(words))%len(words)]
		items[i] = &Item{
			ID:       fmt.Sprintf("golang/go#%d", 1000+i),
			Source:   "github",
			Repo:     "golang/go",
			Number:   1000 + i,
			Kind:     kinds[i%len(kinds)],
			State:    StateOpen,
			Title:    fmt.Sprintf("%s: %s %s number%d", pkgs[i%len(pkgs)], w1, w2, i),
			Body:     fmt.Sprintf("The %s breaks the %s when %s meets %s.", w1, w2, w2, w1),
			Comments: fmt.Sprintf("comment about %s", w2),
			Packages: []string{pkgs[i%len(pkgs)]},
			Labels:   []string{fmt.Sprintf("label%d", i%3)},
			Created:  day.Add(time.Duration(i) * time.Hour),
			Updated:  day.Add(time.Duration(i) * 2 * time.Hour),
			URL:      fmt.Sprintf("https://go.dev/issue/%d", 1000+i),
		}
	}
	return items
}

// adding starts a Builder in a temporary directory and adds items,
// flushing every batch items and after the last.
func adding(t *testing.T, items []*Item, batch int) (*Builder, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index")
	b, err := Build(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if err := b.Add(it); err != nil {
			t.Fatal(err)
		}
		if (i+1)%batch == 0 || i == len(items)-1 {
			if err := b.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b, path
}

// built writes items with a Builder, flushing every batch items, and
// records seq.
func built(t *testing.T, items []*Item, batch int, seq uint64) string {
	t.Helper()
	b, path := adding(t, items, batch)
	if err := b.Finish(context.Background(), seq); err != nil {
		t.Fatal(err)
	}
	return path
}

// An index written by a Builder, whose segments were merged over several
// levels, answers every search as an index written batch by batch does,
// records its position and analysis, and leaves nothing of the build
// behind.
func TestBuild(t *testing.T) {
	defer func(m int) { builderMergeMax = m }(builderMergeMax)
	builderMergeMax = 3 // 25 segments: 9, 3, 1

	items := buildItems(1000)
	path := built(t, items, 40, 4242)

	online, _ := created(t)
	for i := 0; i < len(items); i += 100 {
		b := online.NewBatch()
		for _, it := range items[i : i+100] {
			if err := b.Add(it); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(context.Background(), uint64(i+100)); err != nil {
			t.Fatal(err)
		}
	}

	x, segments := reopened(t, path)
	defer x.Close()
	if segments != 1 {
		t.Errorf("%d segments, want 1", segments)
	}
	if n, err := x.Count(); err != nil || n != uint64(len(items)) {
		t.Errorf("Count = %d, %v; want %d", n, err, len(items))
	}
	if seq, err := x.Seq(); err != nil || seq != 4242 {
		t.Errorf("Seq = %d, %v; want 4242", seq, err)
	}
	if x.Analysis() != AnalysisVersion || x.Stale() {
		t.Errorf("analysis version %d, want %d", x.Analysis(), AnalysisVersion)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"index_meta.json", "store"}; !reflect.DeepEqual(names, want) {
		t.Errorf("index directory holds %v, want %v", names, want)
	}

	ctx := context.Background()
	for _, req := range []Request{
		{Query: "session", Limit: 1000},
		{Query: `"ticket resumption"`, Limit: 1000},
		{Query: "number999", Highlight: true},
		{Query: "number0"},
		{Query: "handshake", Kinds: []string{KindChange}, Packages: []string{"crypto"}, Limit: 1000},
		{Query: "entropy", Labels: []string{"label2"}, Sort: SortUpdated, Limit: 1000},
		{Since: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2024, 2, 10, 0, 0, 0, 0, time.UTC), Sort: SortUpdated, Limit: 1000},
	} {
		want, err := online.Search(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := x.Search(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if got.Total == 0 || got.Total != want.Total || len(got.Hits) != len(want.Hits) {
			t.Errorf("%+v: %d hits (%d shown), want %d (%d)", req, got.Total, len(got.Hits), want.Total, len(want.Hits))
			continue
		}
		for i := range got.Hits {
			g, w := got.Hits[i], want.Hits[i]
			g.Score, w.Score, g.After, w.After = 0, 0, nil, nil
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%+v: hit %d is\n%+v, want\n%+v", req, i, g, w)
				break
			}
		}
	}
	// Term statistics, which the matcher reads, count every segment's.
	for _, term := range []string{"session", "number5"} {
		got, err := x.TermShare(term)
		if err != nil {
			t.Fatal(err)
		}
		want, err := online.TermShare(term)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || got == 0 {
			t.Errorf("TermShare(%q) = %v, want %v", term, got, want)
		}
	}
}

// An index built from nothing is empty, and is an index.
func TestBuildNothing(t *testing.T) {
	path := built(t, nil, 1, 7)
	x, err := Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if n, err := x.Count(); err != nil || n != 0 {
		t.Errorf("Count = %d, %v", n, err)
	}
	if seq, err := x.Seq(); err != nil || seq != 7 {
		t.Errorf("Seq = %d, %v; want 7", seq, err)
	}
}

// A build that is abandoned, cancelled or given a bad item leaves nothing
// where the index would have been.
func TestBuildLeavesNothing(t *testing.T) {
	items := buildItems(50)
	start := func(t *testing.T) (*Builder, string) { return adding(t, items, len(items)) }
	gone := func(t *testing.T, path string) {
		t.Helper()
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is left: %v", path, err)
		}
	}
	t.Run("abort", func(t *testing.T) {
		b, path := start(t)
		b.Abort()
		gone(t, path)
	})
	t.Run("cancelled", func(t *testing.T) {
		b, path := start(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := b.Finish(ctx, 1); !errors.Is(err, context.Canceled) {
			t.Errorf("Finish = %v, want context.Canceled", err)
		}
		gone(t, path)
	})
	t.Run("no ID", func(t *testing.T) {
		b, path := start(t)
		if err := b.Add(&Item{Title: "no ID"}); err == nil {
			t.Error("an item without an ID was added")
		}
		b.Abort()
		gone(t, path)
	})
	t.Run("exists", func(t *testing.T) {
		path := t.TempDir()
		if _, err := Build(path); err == nil {
			t.Error("Build over an existing directory succeeded")
		}
	})
}
