package advisories_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/advisories"
	"github.com/reciprocal-access/reciprocal/watcher/advisories/advisoriestest"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func lines(t *testing.T) []string {
	data, err := os.ReadFile("testdata/advisories.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func TestNormalize(t *testing.T) {
	it, err := advisories.Normalize([]byte(lines(t)[0]))
	if err != nil {
		t.Fatal(err)
	}
	if it.ID != "GHSA-7x2m-q9vp-4c3r" || it.Source != advisories.Kind || it.Kind != index.KindVuln || it.Repo != "example-labs/tlsproxy" {
		t.Errorf("item %+v", it)
	}
	if !it.Created.Equal(time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)) || it.State != index.StatePublished {
		t.Errorf("created %v, state %s", it.Created, it.State)
	}
	if !reflect.DeepEqual(it.Aliases, []string{"CVE-2026-41001"}) || !reflect.DeepEqual(it.Packages, []string{"github.com/example-labs/tlsproxy"}) {
		t.Errorf("aliases %v, packages %v", it.Aliases, it.Packages)
	}
	want := []index.Affected{{Module: "github.com/example-labs/tlsproxy", Packages: []string{"github.com/example-labs/tlsproxy"}, Versions: "< 1.4.2", Fixed: []string{"1.4.2"}}}
	if !reflect.DeepEqual(it.Affected, want) {
		t.Errorf("affected %+v", it.Affected)
	}
	if !strings.Contains(it.Body, "github.com/example-labs/tlsproxy: Listener.Accept") {
		t.Errorf("body %q", it.Body)
	}
	if !advisories.ValidID(it.ID) {
		t.Errorf("ID %q is not a GHSA ID", it.ID)
	}
	withdrawn := strings.Replace(lines(t)[1], `"withdrawn_at":null`, `"withdrawn_at":"2025-03-01T00:00:00Z"`, 1)
	if it, err := advisories.Normalize([]byte(withdrawn)); err != nil || it.State != index.StateWithdrawn {
		t.Errorf("withdrawn: %+v, %v", it.State, err)
	}
	for _, bad := range []string{`{}`, `{"ghsa_id":"GHSA-zzzz"}`, `{"ghsa_id":"GHSA-7x2m-q9vp-4c3r"}`, `[`} {
		if _, err := advisories.Normalize([]byte(bad)); err == nil {
			t.Errorf("Normalize(%s) accepted", bad)
		}
	}
}

func newStore(t *testing.T) *store.Store {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestSyncIncremental(t *testing.T) {
	srv := advisoriestest.NewServer()
	defer srv.Close()
	for _, l := range lines(t) {
		if err := srv.Put([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	st := newStore(t)
	src, err := advisories.NewSource(advisories.Config{Repo: "example-labs/tlsproxy", APIURL: srv.URL()}, advisories.WithToken("t0ken"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sync := func() source.Stats {
		t.Helper()
		s, err := src.Sync(ctx, st, source.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := sync(); s.New != 2 || s.Requests != 1 || s.Pages != 1 || s.RateRemaining < 0 {
		t.Fatalf("first sync: %+v", s)
	}
	// Nothing changed: one conditional request, answered 304.
	if s := sync(); s.New+s.Updated+s.Unchanged != 0 || s.Requests != 1 || s.NotModified != 1 {
		t.Fatalf("no-change sync: %+v", s)
	}
	// An amended advisory: only it is stored again.
	amended := strings.Replace(strings.Replace(lines(t)[0], `"updated_at":"2026-06-10T14:00:00Z"`, `"updated_at":"2026-06-12T08:00:00Z"`, 1), `"patched_versions":"1.4.2"`, `"patched_versions":"1.4.2, 1.3.9"`, 1)
	if err := srv.Put([]byte(amended)); err != nil {
		t.Fatal(err)
	}
	if s := sync(); s.Updated != 1 || s.New != 0 || s.Unchanged != 0 {
		t.Fatalf("amendment: %+v", s)
	}
	st.View(func(tx *store.Tx) error {
		rec, ok, err := tx.Item("GHSA-7x2m-q9vp-4c3r")
		if !ok || err != nil || string(rec.Raw) != amended || rec.Source != advisories.Kind {
			t.Errorf("stored %s, %v, %v", rec.Raw, ok, err)
		}
		return nil
	})
}

func TestSyncPages(t *testing.T) {
	srv := advisoriestest.NewServer()
	defer srv.Close()
	base := lines(t)[1]
	for i := 0; i < 150; i++ {
		id := fmt.Sprintf("GHSA-%04d-aaaa-bbbb", i)
		upd := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
		raw := strings.ReplaceAll(base, "GHSA-3hq8-v5wr-m2jf", id)
		raw = strings.Replace(raw, `"updated_at":"2025-02-04T10:00:00Z"`, `"updated_at":"`+upd+`"`, 1)
		if err := srv.Put([]byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	st := newStore(t)
	src, _ := advisories.NewSource(advisories.Config{Repo: "example-labs/tlsproxy", APIURL: srv.URL()})
	s, err := src.Sync(context.Background(), st, source.Options{})
	if err != nil || s.New != 150 || s.Pages != 2 || s.Requests != 2 {
		t.Fatalf("paged sync: %+v, %v", s, err)
	}
}

func TestSyncErrors(t *testing.T) {
	srv := advisoriestest.NewServer()
	defer srv.Close()
	st := newStore(t)
	src, _ := advisories.NewSource(advisories.Config{Repo: "example-labs/missing", APIURL: srv.URL(), TokenEnv: "GITHUB_TOKEN"},
		advisories.WithSleep(func(context.Context, time.Duration) error { return nil }))
	_, err := src.Sync(context.Background(), st, source.Options{})
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "is example-labs/missing a repository you can read?") {
		t.Errorf("missing repository: %v", err)
	}
}
