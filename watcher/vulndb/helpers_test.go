package vulndb_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/internal/fakeclock"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/sourcetest"
	"github.com/reciprocal-access/reciprocal/watcher/store"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb/vulndbtest"
)

// t0 is when the test database's history starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newClock returns a test's clock, a month after t0.
func newClock() *fakeclock.Clock { return fakeclock.New(t0.Add(30 * 24 * time.Hour)) }

// env is a fake database, a data directory and a Source between them.
type env struct {
	t       testing.TB
	srv     *vulndbtest.Server
	clock   *fakeclock.Clock
	data    *watcher.Data
	src     *vulndb.Source
	options []vulndb.Option
}

func newEnv(t testing.TB, batch int) *env {
	t.Helper()
	e := &env{t: t, srv: vulndbtest.NewServer(), clock: newClock()}
	t.Cleanup(e.srv.Close)
	e.options = []vulndb.Option{
		vulndb.WithHTTPClient(e.srv.Client()),
		vulndb.WithSleep(e.clock.Sleep),
		vulndb.WithBatchSize(batch),
	}
	d, err := watcher.OpenData(t.TempDir(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	e.data = d
	e.src = e.newSource()
	return e
}

func (e *env) newSource(extra ...vulndb.Option) *vulndb.Source {
	e.t.Helper()
	s, err := vulndb.NewSource(vulndb.Config{URL: e.srv.URL()}, append(append([]vulndb.Option(nil), e.options...), extra...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) opts() source.Options { return source.Options{Now: e.clock.Now} }

func (e *env) sync(ctx context.Context) (source.Stats, error) {
	return e.src.Sync(ctx, e.data.Store, e.opts())
}

// mustSync runs one sync, which must succeed and count the requests the
// fake answered.
func (e *env) mustSync() source.Stats {
	e.t.Helper()
	return sourcetest.MustSync(e.t, e.srv, func() (source.Stats, error) { return e.sync(context.Background()) })
}

// id returns the ID of test entry i.
func id(i int) string { return fmt.Sprintf("GO-2026-%04d", i) }

// fill puts entries first … first+n-1, entry i modified i minutes after t0.
func (e *env) fill(first, n int) {
	e.t.Helper()
	for i := first; i < first+n; i++ {
		raw := vulndbtest.NewEntry(vulndbtest.EntrySpec{
			ID:       id(i),
			Modified: t0.Add(time.Duration(i) * time.Minute),
			Summary:  fmt.Sprintf("Denial of service in crypto/tls (%d)", i),
			Details:  "A crafted handshake makes the server loop.",
			Aliases:  []string{fmt.Sprintf("CVE-2026-%d", 10000+i)},
			Packages: []string{"crypto/tls"},
		})
		if err := e.srv.Put(raw); err != nil {
			e.t.Fatal(err)
		}
	}
}

// checkStored checks that the store holds the entries byte for byte as the
// fake serves them.
func (e *env) checkStored(ids ...string) {
	e.t.Helper()
	e.data.Store.View(func(tx *store.Tx) error {
		for _, id := range ids {
			want, ok := e.srv.Entry(id)
			if !ok {
				e.t.Fatalf("fake has no %s", id)
			}
			rec, ok, err := tx.Item(id)
			if err != nil || !ok {
				e.t.Errorf("%s: not stored (%v)", id, err)
				continue
			}
			if !bytes.Equal(rec.Raw, want) || rec.Source != "vulndb" {
				e.t.Errorf("%s: stored (%s)\n%s\nwant\n%s", id, rec.Source, rec.Raw, want)
			}
		}
		return nil
	})
}

func (e *env) count() int { return sourcetest.Count(e.data) }

func (e *env) export() []byte {
	e.t.Helper()
	return sourcetest.Export(e.t, e.data)
}

// fetched returns the entry IDs the server served since the last
// ResetStats, sorted.
func (e *env) fetched() []string {
	var ids []string
	for _, p := range e.srv.Served() {
		if rest, ok := strings.CutPrefix(p, "/ID/"); ok {
			ids = append(ids, strings.TrimSuffix(rest, ".json"))
		}
	}
	slices.Sort(ids)
	return ids
}

func ids(first, n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = id(first + i)
	}
	return s
}

// corpusFile returns the path of a corpus file, skipping the test if it
// is absent.
var corpusFile = sourcetest.CorpusFile
