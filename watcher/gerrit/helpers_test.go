package gerrit_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit/gerrittest"
	"github.com/reciprocal-access/reciprocal/watcher/internal/fakeclock"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/sourcetest"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// gerritURL is the URL the tests configure: the fake's client routes it to
// the fake, and item IDs come out as go-review:….
const gerritURL = "http://go-review.test"

// t0 is when the test projects' history starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newClock returns a test's clock, a month after t0.
func newClock() *fakeclock.Clock { return fakeclock.New(t0.Add(30 * 24 * time.Hour)) }

// env is a fake Gerrit, a data directory and a Source between them.
type env struct {
	t       testing.TB
	srv     *gerrittest.Server
	clock   *fakeclock.Clock
	data    *watcher.Data
	src     *gerrit.Source
	cfg     gerrit.Config
	options []gerrit.Option
}

// newEnv starts a fake Gerrit and opens a data directory, and makes a
// Source for the projects with the given page size.
func newEnv(t testing.TB, pageSize int, projects ...string) *env {
	t.Helper()
	e := &env{t: t, srv: gerrittest.NewServer(), clock: newClock()}
	t.Cleanup(e.srv.Close)
	e.cfg = gerrit.Config{URL: gerritURL, Projects: projects}
	e.options = []gerrit.Option{
		gerrit.WithHTTPClient(e.srv.Client()),
		gerrit.WithSleep(e.clock.Sleep),
		gerrit.WithPageSize(pageSize),
	}
	e.data = openData(t, t.TempDir())
	e.src = e.newSource()
	return e
}

func (e *env) newSource(extra ...gerrit.Option) *gerrit.Source {
	e.t.Helper()
	s, err := gerrit.NewSource(e.cfg, append(append([]gerrit.Option(nil), e.options...), extra...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// openData opens a data directory in dir for the test.
var openData = sourcetest.OpenData

// opts returns the sync options of a test: its clock, and a first sync
// that reaches back before t0.
func (e *env) opts() source.Options {
	return source.Options{Now: e.clock.Now, Since: t0.Add(-24 * time.Hour)}
}

// sync runs one sync of the env's Source into its store.
func (e *env) sync(ctx context.Context) (source.Stats, error) {
	return e.src.Sync(ctx, e.data.Store, e.opts())
}

// mustSync runs one sync, which must succeed and count the requests the
// fake answered.
func (e *env) mustSync() source.Stats {
	e.t.Helper()
	return sourcetest.MustSync(e.t, e.srv, func() (source.Stats, error) { return e.sync(context.Background()) })
}

// fill puts n changes of project numbered from first, change i updated i
// minutes (and a few milliseconds) after start.
func (e *env) fill(project string, first, n int, start time.Time) {
	e.t.Helper()
	for i := range n {
		raw := gerrittest.NewChange(gerrittest.ChangeSpec{
			Project: project,
			Number:  first + i,
			Subject: fmt.Sprintf("crypto/tls: change %d of %s", first+i, project),
			Owner:   "Gopher",
			Updated: start.Add(time.Duration(i)*time.Minute + time.Duration(first%7)*time.Millisecond),
			Files:   []string{"src/crypto/tls/conn.go"},
			Messages: []gerrittest.MessageSpec{
				{Author: "Gopher", Date: start, Text: "Uploaded patch set 1."},
			},
		})
		if err := e.srv.Put(raw); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) cursor(project string) gerrit.Cursor {
	e.t.Helper()
	c, ok, err := e.src.Cursor(e.data.Store, project)
	if err != nil || !ok {
		e.t.Fatalf("cursor of %s: %v, %v", project, ok, err)
	}
	return c
}

func (e *env) count() int { return sourcetest.Count(e.data) }

// export returns the store's objects as JSON Lines, in store order.
func (e *env) export() []byte {
	e.t.Helper()
	return sourcetest.Export(e.t, e.data)
}

var export = sourcetest.Export

// checkStored checks that the store holds every change of the fake byte for
// byte as the fake serves it.
func (e *env) checkStored(project string, numbers ...int) {
	e.t.Helper()
	e.data.Store.View(func(tx *store.Tx) error {
		for _, n := range numbers {
			want, ok := e.srv.Change(project, n)
			if !ok {
				e.t.Fatalf("fake has no %s/%d", project, n)
			}
			id := gerrit.ID(gerritURL, project, n)
			rec, ok, err := tx.Item(id)
			if err != nil || !ok {
				e.t.Errorf("%s: not stored (%v)", id, err)
				continue
			}
			if !bytes.Equal(rec.Raw, want) {
				e.t.Errorf("%s: stored\n%s\nwant\n%s", id, rec.Raw, want)
			}
		}
		return nil
	})
}

// pages returns how many pages a listing of n changes takes.
func pages(n, size int) int { return max(1, (n+size-1)/size) }

func seq(first, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = first + i
	}
	return s
}

// corpusFile returns the path of a corpus file, skipping the test if it
// is absent.
var corpusFile = sourcetest.CorpusFile
