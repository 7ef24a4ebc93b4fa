package watcher_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit/gerrittest"
	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb/vulndbtest"
)

// sleeps records the backoffs of a sync instead of waiting them out.
type sleeps struct {
	mu sync.Mutex
	n  int
}

func (s *sleeps) sleep(ctx context.Context, _ time.Duration) error {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	return ctx.Err()
}

func ghIssue(n int, updated time.Time) []byte {
	return fmt.Appendf(nil, `{"url":"https://api.github.com/repos/golang/go/issues/%[1]d","repository_url":"https://api.github.com/repos/golang/go","html_url":"https://github.com/golang/go/issues/%[1]d","id":%[1]d,"number":%[1]d,"title":"crypto/tls: issue %[1]d","user":{"login":"gopher"},"labels":[],"state":"open","comments":0,"created_at":"2026-01-01T00:00:00Z","updated_at":%[2]q,"closed_at":null,"body":"body of %[1]d"}`,
		n, updated.UTC().Format(time.RFC3339))
}

// Servers that cut every fifth response short: each sync retries the cut
// requests and completes, ten times in a row, with the store as a sync
// without faults leaves it. (Before cut bodies were retried, the same
// request failed every sync.)
func TestSyncEveryFifthResponseCut(t *testing.T) {
	gh := githubtest.NewServer()
	gr := gerrittest.NewServer()
	vd := vulndbtest.NewServer()
	t.Cleanup(func() { gh.Close(); gr.Close(); vd.Close() })
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	add := func(round, n int) {
		for i := range n {
			k := round*n + i + 1
			at := t0.Add(time.Duration(k) * time.Minute)
			if err := gh.PutIssue(ghIssue(80000+k, at)); err != nil {
				t.Fatal(err)
			}
			if err := gr.Put(gerrittest.NewChange(gerrittest.ChangeSpec{Project: "go", Number: 900000 + k, Subject: fmt.Sprintf("crypto/tls: change %d", k), Updated: at, Files: []string{"src/crypto/tls/conn.go"}})); err != nil {
				t.Fatal(err)
			}
			if err := vd.Put(vulndbtest.NewEntry(vulndbtest.EntrySpec{ID: fmt.Sprintf("GO-2026-%04d", k), Modified: at, Summary: fmt.Sprintf("entry %d", k), Packages: []string{"crypto/tls"}})); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(0, 12)

	sl := new(sleeps)
	since := t0.Add(-time.Hour)
	sources := func() []source.Source {
		ghSrc, err := github.NewSource(github.Config{Repo: "golang/go", APIURL: gh.URL(), Since: since}, github.WithToken(""), github.WithSleep(sl.sleep))
		if err != nil {
			t.Fatal(err)
		}
		grSrc, err := gerrit.NewSource(gerrit.Config{URL: "http://go-review.googlesource.com", Projects: []string{"go"}, Since: since},
			gerrit.WithHTTPClient(gr.Client()), gerrit.WithSleep(sl.sleep), gerrit.WithPageSize(3))
		if err != nil {
			t.Fatal(err)
		}
		vdSrc, err := vulndb.NewSource(vulndb.Config{URL: vd.URL()}, vulndb.WithSleep(sl.sleep), vulndb.WithConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		return []source.Source{ghSrc, grSrc, vdSrc}
	}

	d := openData(t)
	gh.CutEvery(5)
	gr.CutEvery(5)
	vd.CutEvery(5)
	for round := range 10 {
		if round > 0 {
			add(round, 3)
		}
		res, err := d.SyncAll(context.Background(), sources(), source.Options{})
		if err != nil {
			t.Fatalf("sync %d of 10: %v", round+1, err)
		}
		for _, r := range res {
			if r.Err != nil || r.Interrupted || r.NotRun {
				t.Fatalf("sync %d of 10: %s: %+v", round+1, r.Source, r)
			}
		}
	}
	cut := gh.Stats().Faults + gr.Stats().Faults + vd.Stats().Faults
	// Cuts of bodiless answers (304 Not Modified) cost no retry.
	if sl.n < 10 || sl.n > cut {
		t.Errorf("%d responses cut, %d retries: want at least ten retries, none without a cut", cut, sl.n)
	}

	// The same data synced without faults gives the same store.
	gh.CutEvery(0)
	gr.CutEvery(0)
	vd.CutEvery(0)
	ref := openData(t)
	if _, err := ref.SyncAll(context.Background(), sources(), source.Options{}); err != nil {
		t.Fatal(err)
	}
	if got, want := exportString(t, d), exportString(t, ref); got != want {
		t.Errorf("store after ten cut syncs differs from one synced without faults")
	}
	t.Logf("%d responses cut, %d retries", cut, sl.n)
}

// exportString is the store's export, its lines sorted: the same objects
// stored in another order give the same string.
func exportString(t *testing.T, d *watcher.Data) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := d.Export(context.Background(), &b, ""); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
