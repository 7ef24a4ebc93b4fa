package watcher_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// fakeSource is a source whose Sync runs fn.
type fakeSource struct {
	name string
	fn   func(ctx context.Context) (source.Stats, error)
	runs int
}

func (f *fakeSource) Name() string { return f.name }

func (f *fakeSource) Sync(ctx context.Context, _ *store.Store, _ source.Options) (source.Stats, error) {
	f.runs++
	return f.fn(ctx)
}

// Ctrl-C while the second of three sources runs: the first is synced, the
// second is interrupted (not failed, and not recorded as failing), the third
// never ran and says so.
func TestSyncAllInterrupted(t *testing.T) {
	d := openData(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &fakeSource{name: "a", fn: func(context.Context) (source.Stats, error) { return source.Stats{New: 2}, nil }}
	b := &fakeSource{name: "b", fn: func(ctx context.Context) (source.Stats, error) {
		cancel() // the user presses Ctrl-C mid-request
		<-ctx.Done()
		return source.Stats{New: 1}, fmt.Errorf("GET /issues: %w", ctx.Err())
	}}
	c := &fakeSource{name: "c", fn: func(context.Context) (source.Stats, error) { return source.Stats{}, nil }}

	// b failed once before: an interruption keeps that record as it was.
	if _, err := d.SyncAll(context.Background(), []source.Source{&fakeSource{name: "b", fn: func(context.Context) (source.Stats, error) {
		return source.Stats{}, errors.New("503 Service Unavailable")
	}}}, source.Options{}); err == nil {
		t.Fatal("the failing source did not fail")
	}

	res, err := d.SyncAll(ctx, []source.Source{a, b, c}, source.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to include context.Canceled", err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want one per source: %+v", len(res), res)
	}
	if r := res[0]; r.Err != nil || r.Interrupted || r.NotRun || r.New != 2 {
		t.Errorf("a: %+v, want synced", r)
	}
	if r := res[1]; r.Err != nil || !r.Interrupted || r.NotRun || r.New != 1 {
		t.Errorf("b: %+v (err %v), want interrupted, not failed, with what it stored", r, r.Err)
	}
	if r := res[2]; r.Err != nil || r.Interrupted || !r.NotRun || r.Source != "c" {
		t.Errorf("c: %+v, want not run", r)
	}
	if c.runs != 0 {
		t.Errorf("c ran %d times after the interrupt", c.runs)
	}

	sts, err := d.SyncStatuses()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for i, s := range sts {
		byName[s.Source] = i
	}
	if _, ok := byName["c"]; ok {
		t.Error("a source that never ran has a recorded sync")
	}
	sb := sts[byName["b"]]
	if !sb.Interrupted || sb.LastError != "503 Service Unavailable" && sb.LastError != "b: 503 Service Unavailable" || sb.Last.New != 1 {
		t.Errorf("b's status = %+v, want interrupted with the earlier failure kept", sb)
	}
	if sa := sts[byName["a"]]; sa.LastError != "" || sa.Interrupted || sa.LastSuccess.IsZero() {
		t.Errorf("a's status = %+v, want ok", sa)
	}

	// An interrupted source that never failed is not failing.
	d2 := openData(t)
	ctx2, cancel2 := context.WithCancel(context.Background())
	b.fn = func(ctx context.Context) (source.Stats, error) { cancel2(); return source.Stats{}, ctx.Err() }
	d2.SyncAll(ctx2, []source.Source{b}, source.Options{})
	sts, _ = d2.SyncStatuses()
	if len(sts) != 1 || sts[0].LastError != "" || !sts[0].FailingSince.IsZero() || !sts[0].Interrupted {
		t.Errorf("status after an interrupted first sync = %+v", sts)
	}
}
