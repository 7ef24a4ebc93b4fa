package vulndb_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/internal/fakehttp"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb/vulndbtest"
)

func TestNewSource(t *testing.T) {
	s, err := vulndb.NewSource(vulndb.Config{})
	if err != nil || s.Name() != "vulndb" {
		t.Errorf("default: %v, %v", s, err)
	}
	if _, err := vulndb.NewSource(vulndb.Config{URL: "vuln.go.dev"}); err == nil {
		t.Error("NewSource accepted a URL without a scheme")
	}
	if _, err := vulndb.NewSource(vulndb.Config{}, vulndb.WithBatchSize(0)); err == nil {
		t.Error("NewSource accepted a batch size of 0")
	}
}

// The first sync fetches the index and every entry; a sync with nothing new
// is one request, answered 304.
func TestFirstSyncAndNoChange(t *testing.T) {
	e := newEnv(t, 100)
	e.fill(1, 250)
	var progress []source.Stats
	opts := e.opts()
	opts.Since = t0.Add(24 * time.Hour) // ignored: the whole database is taken
	opts.Progress = func(s source.Stats) { progress = append(progress, s) }
	st, err := e.src.Sync(context.Background(), e.data.Store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 251 || st.New != 250 || st.Pages != 3 || st.NotModified != 0 || st.Estimate != 251 || st.Source != "vulndb" {
		t.Errorf("first sync: %+v; want 251 requests, 250 new, 3 pages", st)
	}
	if len(progress) != 4 || progress[0].Estimate != 251 || progress[0].Requests != 1 {
		t.Errorf("progress = %+v; want the estimate after the index, then one call a batch", progress)
	}
	e.checkStored(ids(1, 250)...)
	c, ok, err := e.src.Cursor(e.data.Store)
	if err != nil || !ok || c.ETag == "" || c.LastModified == "" || c.Entries != 250 || !c.DBModified.Equal(t0.Add(250*time.Minute)) {
		t.Errorf("cursor = %+v, %v, %v", c, ok, err)
	}
	before := e.export()

	st = e.mustSync()
	if st.Requests != 1 || st.NotModified != 1 || st.New+st.Updated+st.Unchanged != 0 || st.Pages != 0 {
		t.Errorf("no-change sync: %+v; want one request answered 304", st)
	}
	if s := e.srv.Stats(); s.NotModified != 1 {
		t.Errorf("server stats %+v", s)
	}
	if !bytes.Equal(before, e.export()) {
		t.Error("a no-change sync changed the store")
	}
}

// An amended entry (its modified moved) and a new entry: the next sync
// fetches exactly those two, and the index shows them.
func TestAmendedAndNew(t *testing.T) {
	e := newEnv(t, 100)
	e.fill(1, 30)
	e.mustSync()
	if _, err := e.data.IndexPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Amend(id(7), t0.Add(48*time.Hour), "Session ticket keys leak in crypto/tls"); err != nil {
		t.Fatal(err)
	}
	e.fill(31, 1)

	st := e.mustSync()
	if got := e.fetched(); fmt.Sprint(got) != fmt.Sprint([]string{id(7), id(31)}) {
		t.Errorf("fetched %v, want %s and %s", got, id(7), id(31))
	}
	if st.Requests != 3 || st.New != 1 || st.Updated != 1 || st.Unchanged != 0 {
		t.Errorf("stats = %+v; want 3 requests, 1 new, 1 updated", st)
	}
	e.checkStored(id(7), id(31))

	if n, err := e.data.IndexPending(context.Background()); err != nil || n != 2 {
		t.Fatalf("IndexPending = %d, %v; want 2", n, err)
	}
	res, err := e.data.Index.Search(context.Background(), index.Request{Query: `"session ticket"`, Kinds: []string{index.KindVuln}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || res.Hits[0].ID != id(7) || !res.Hits[0].Updated.Equal(t0.Add(48*time.Hour)) {
		t.Errorf("search for the amended summary: %+v", res.Hits)
	}
	if st := e.mustSync(); st.Requests != 1 || st.NotModified != 1 {
		t.Errorf("then: %+v, want one 304", st)
	}
}

// A malformed entry is asked for again like a cut one, then is an error
// naming its URL; the entries after it are still stored, and the next sync
// tries only it again.
func TestMalformedEntry(t *testing.T) {
	e := newEnv(t, 10)
	e.fill(1, 25)
	// Entry 12 sorts in the middle of the fetch order (by modified).
	e.srv.PutRaw(id(12), t0.Add(12*time.Minute), []byte(`{"id":"GO-2026-0012","modified":"2026-03-01T12:12:00Z","summary":"cut`))
	st, err := e.sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "vulndb: GET "+e.srv.URL()+"/ID/"+id(12)+".json: malformed response") || !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Fatalf("err = %v, want one naming the entry's URL", err)
	}
	if st.New != 24 {
		t.Errorf("stats = %+v; want the 24 good entries stored", st)
	}
	if e.count() != 24 {
		t.Errorf("store holds %d entries, want 24", e.count())
	}
	if ok, _ := e.src.HasCursor(e.data.Store); ok {
		t.Error("the cursor was saved although an entry is missing")
	}

	// Still broken: the next sync asks the index (no 304: the cursor did
	// not move) and that entry only.
	e.srv.ResetStats()
	if _, err := e.sync(context.Background()); err == nil {
		t.Error("no error for the still broken entry")
	}
	if got := slices.Compact(e.fetched()); fmt.Sprint(got) != fmt.Sprint([]string{id(12)}) {
		t.Errorf("second sync fetched %v, want only %s", got, id(12))
	}
	if s := e.srv.Stats(); s.Requests != 1+5 || s.NotModified != 0 {
		t.Errorf("second sync: server stats %+v, want the index and 5 attempts at the entry", s)
	}

	// Mended: fetched, and the cursor saved.
	e.fill(12, 1)
	st = e.mustSync()
	if st.New != 1 || st.Requests != 2 {
		t.Errorf("after the fix: %+v", st)
	}
	e.checkStored(ids(1, 25)...)
	if st := e.mustSync(); st.NotModified != 1 || st.Requests != 1 {
		t.Errorf("then: %+v, want one 304", st)
	}

	// An entry that is not the one its URL names is malformed too.
	e.srv.PutRaw(id(40), t0.Add(time.Hour), vulndbtest.NewEntry(vulndbtest.EntrySpec{ID: id(41), Modified: t0.Add(time.Hour)}))
	if _, err := e.sync(context.Background()); err == nil || !strings.Contains(err.Error(), "the entry is "+id(41)) {
		t.Errorf("err = %v", err)
	}
	// As is an empty one, without stopping the rest.
	e.srv.Remove(id(40))
	e.srv.PutRaw(id(42), t0.Add(time.Hour), nil)
	e.fill(43, 1)
	_, err = e.sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), id(42)) {
		t.Errorf("err = %v", err)
	}
	e.checkStored(id(43))
}

// An entry listed in the index but gone when fetched (404) only concerns
// that entry.
func TestMissingEntry(t *testing.T) {
	e := newEnv(t, 10)
	e.fill(1, 5)
	e.mustSync()
	e.fill(6, 2)
	// Remove entry 6 right after the index is served.
	e.srv.OnRequest(func(r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/ID/") {
			e.srv.Remove(id(6))
		}
	})
	_, err := e.sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "/ID/"+id(6)+".json: 404 Not Found") {
		t.Errorf("err = %v", err)
	}
	e.checkStored(id(7))
}

// An index cut short once is asked for again.
func TestTruncatedIndexRetried(t *testing.T) {
	for _, f := range []fakehttp.Fault{fakehttp.Truncate, fakehttp.Malformed} {
		t.Run(f.String(), func(t *testing.T) {
			e := newEnv(t, 100)
			e.fill(1, 20)
			e.srv.FailNext(1, f, 0)
			if st := e.mustSync(); st.New != 20 {
				t.Errorf("stats %+v, want 20 new", st)
			}
		})
	}
}

// An index cut short every time is, after the retries, an error naming
// its URL; nothing changes.
func TestTruncatedIndex(t *testing.T) {
	e := newEnv(t, 100)
	e.fill(1, 20)
	e.mustSync()
	c0, _, _ := e.src.Cursor(e.data.Store)
	before := e.export()
	e.fill(21, 1)
	e.srv.FailNext(5, fakehttp.Truncate, 0)
	_, err := e.sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "vulndb: GET "+e.srv.URL()+"/index/vulns.json: response body cut short") {
		t.Fatalf("err = %v", err)
	}
	if c, _, _ := e.src.Cursor(e.data.Store); c != c0 {
		t.Errorf("cursor moved from %+v to %+v", c0, c)
	}
	if !bytes.Equal(before, e.export()) {
		t.Error("the store changed")
	}
	if st := e.mustSync(); st.New != 1 {
		t.Errorf("next sync: %+v", st)
	}
}

// 500s and reset connections are retried; Retry-After within MaxWait is
// waited out, beyond it the sync stops with what it stored saved.
func TestFaults(t *testing.T) {
	for _, f := range []fakehttp.Fault{fakehttp.ServerError, fakehttp.ConnReset, fakehttp.TooManyRequests, fakehttp.Unavailable} {
		t.Run(f.String(), func(t *testing.T) {
			e := newEnv(t, 10)
			e.fill(1, 25)
			e.srv.FailNext(3, f, 30*time.Second)
			st, err := e.sync(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.New != 25 || e.srv.Stats().Faults != 3 || len(e.clock.Sleeps()) != 3 {
				t.Errorf("stats %+v, server %+v, sleeps %v", st, e.srv.Stats(), e.clock.Sleeps())
			}
			if f == fakehttp.TooManyRequests && e.clock.Sleeps()[0] != 30*time.Second {
				t.Errorf("sleeps = %v, want Retry-After's 30s", e.clock.Sleeps())
			}
			e.checkStored(ids(1, 25)...)
		})
	}

	e := newEnv(t, 10)
	e.fill(1, 25)
	opts := e.opts()
	batches := 0
	opts.Progress = func(s source.Stats) {
		if s.Pages == 1 && batches == 0 {
			batches++
			e.srv.FailNext(1, fakehttp.TooManyRequests, 2*time.Hour)
		}
	}
	start := e.clock.Now()
	st, err := e.src.Sync(context.Background(), e.data.Store, opts)
	var le *vulndb.LimitError
	if !errors.As(err, &le) || !le.RetryAfter.Equal(start.Add(2*time.Hour)) || !st.RetryAfter.Equal(le.RetryAfter) {
		t.Fatalf("err = %v, stats %+v; want a *LimitError to retry in 2h", err, st)
	}
	if st.New < 10 || st.New >= 25 {
		t.Errorf("stats = %+v; want the first batch (and what else was in flight) stored", st)
	}
	stored := e.count()
	e.srv.ResetStats()
	st = e.mustSync()
	if st.New != 25-stored || len(e.fetched()) != 25-stored {
		t.Errorf("after the limit: %+v, fetched %d; want the %d left", st, len(e.fetched()), 25-stored)
	}
	e.checkStored(ids(1, 25)...)
}

// Cancelling after any batch and syncing again ends with the store an
// uninterrupted sync makes, byte for byte.
func TestCancelAfterEveryBatch(t *testing.T) {
	ref := newEnv(t, 10)
	ref.fill(1, 45)
	ref.mustSync()
	want := ref.export()
	for k := 1; k <= 5; k++ {
		e := newEnv(t, 10)
		e.fill(1, 45)
		ctx, cancel := context.WithCancel(context.Background())
		opts := e.opts()
		opts.Progress = func(s source.Stats) {
			if s.Pages == k {
				cancel()
			}
		}
		_, err := e.src.Sync(ctx, e.data.Store, opts)
		cancel()
		if k < 5 && !errors.Is(err, context.Canceled) {
			t.Errorf("k=%d: err = %v", k, err)
		}
		if e.count() < min(10*k, 45) {
			t.Errorf("k=%d: %d stored", k, e.count())
		}
		e.srv.ResetStats()
		st := e.mustSync()
		if k < 5 && st.New != 45-10*k {
			t.Errorf("k=%d: resumed sync stored %d new, want %d", k, st.New, 45-10*k)
		}
		if got := e.export(); !bytes.Equal(got, want) {
			t.Errorf("k=%d: the store differs from an uninterrupted sync's", k)
		}
	}
}

// A server that sends neither ETag nor Last-Modified: db.json says whether
// anything changed.
func TestNoValidators(t *testing.T) {
	e := newEnv(t, 100)
	e.srv.SetValidators(false)
	e.fill(1, 10)
	if st := e.mustSync(); st.Requests != 11 {
		t.Errorf("first sync: %+v", st)
	}
	c, _, _ := e.src.Cursor(e.data.Store)
	if c.ETag != "" || c.LastModified != "" || !c.DBModified.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("cursor = %+v", c)
	}
	if st := e.mustSync(); st.Requests != 1 || fmt.Sprint(e.srv.Served()) != "[/index/db.json]" {
		t.Errorf("no-change sync: %+v, served %v; want db.json only", st, e.srv.Served())
	}
	e.fill(11, 1)
	if st := e.mustSync(); st.Requests != 3 || st.New != 1 {
		t.Errorf("sync after a change: %+v, served %v", st, e.srv.Served())
	}
}

// Entries imported from a file are not fetched again when the index lists
// them with the modified time they have.
func TestImportedEntries(t *testing.T) {
	e := newEnv(t, 100)
	e.fill(1, 20)
	var jsonl bytes.Buffer
	for _, id := range ids(1, 20) {
		raw, _ := e.srv.Entry(id)
		jsonl.Write(raw)
		jsonl.WriteByte('\n')
	}
	if _, err := e.data.Import(context.Background(), "osv.jsonl", &jsonl, watcher.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	e.srv.Amend(id(5), t0.Add(time.Hour), "")
	st := e.mustSync()
	if st.Requests != 2 || fmt.Sprint(e.fetched()) != "["+id(5)+"]" || st.Updated != 1 {
		t.Errorf("sync after import: %+v, fetched %v; want only the amended entry", st, e.fetched())
	}
	if st := e.mustSync(); st.NotModified != 1 {
		t.Errorf("then: %+v", st)
	}
	// The times are now recorded: a changed index needs no stored JSON.
	e.fill(21, 1)
	if st := e.mustSync(); st.New != 1 || st.Requests != 2 {
		t.Errorf("then: %+v", st)
	}
}

// Several entries are fetched at once, but each batch is stored in order.
func TestConcurrency(t *testing.T) {
	for _, n := range []int{1, 3, 16} {
		e := newEnv(t, 7)
		e.src = e.newSource(vulndb.WithConcurrency(n))
		e.fill(1, 40)
		if st := e.mustSync(); st.New != 40 || st.Requests != 41 || st.Pages != 6 {
			t.Errorf("concurrency %d: %+v", n, st)
		}
		var b bytes.Buffer
		for _, id := range ids(1, 40) {
			raw, _ := e.srv.Entry(id)
			b.Write(raw)
			b.WriteByte('\n')
		}
		if !bytes.Equal(e.export(), b.Bytes()) {
			t.Errorf("concurrency %d: store order differs from modified order", n)
		}
	}
}

// Hundreds of bad entries make one line: a count and the first few.
func TestManyBadEntriesOneLine(t *testing.T) {
	e := newEnv(t, 100)
	e.fill(1, 10)
	for i := 11; i <= 250; i++ {
		// Each entry names another one: malformed, and not retried.
		e.srv.PutRaw(id(i), t0.Add(time.Duration(i)*time.Minute), vulndbtest.NewEntry(vulndbtest.EntrySpec{ID: id(i + 1000), Modified: t0.Add(time.Duration(i) * time.Minute)}))
	}
	st, err := e.sync(context.Background())
	if err == nil {
		t.Fatal("no error for 240 bad entries")
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "vulndb: 240 entries could not be fetched or read (the next sync asks for them again): vulndb: GET ") || !strings.HasSuffix(msg, "; and 237 more") {
		t.Errorf("err = %q, want one line with the count, three entries and how many more", msg)
	}
	if n := strings.Count(msg, "the entry is "); n != 3 {
		t.Errorf("err names %d entries, want 3", n)
	}
	var ee *vulndb.EntriesError
	if !errors.As(err, &ee) || len(ee.Errs) != 240 {
		t.Errorf("err is not an *EntriesError with every entry's error")
	}
	if st.New != 10 {
		t.Errorf("stats %+v, want the 10 good entries stored", st)
	}
}
