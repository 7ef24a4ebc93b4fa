package gerrit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit/gerrittest"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/sourcetest"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// corpusChange is one line of changes.jsonl.gz.
type corpusChange struct {
	line    int
	project string
	number  int
	raw     []byte
}

// readCorpus reads the corpus's changes, in file order.
func readCorpus(tb testing.TB, path string) []corpusChange {
	tb.Helper()
	var out []corpusChange
	sourcetest.EachLine(tb, path, func(n int, raw []byte) error {
		var v struct {
			Project string `json:"project"`
			Number  int    `json:"_number"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		out = append(out, corpusChange{n, v.Project, v.Number, append([]byte(nil), raw...)})
		return nil
	})
	return out
}

// The real corpus served by the fake: a full sync stores every change as
// served, and a second sync finds nothing new.
func TestCorpusSync(t *testing.T) {
	path := corpusFile(t, "changes.jsonl.gz")
	lines := readCorpus(t, path)

	// Gerrit numbers changes per host: one number is one change, one
	// item ID. The corpus has 4804 lines but two of them are change
	// crypto/224279 (two uploads with different Change-Ids), so the
	// fake, like a real server, holds one change for that number — the
	// later line, which replaced the earlier — and the store holds one
	// item per distinct (project, number): lines less one.
	last := make(map[string]corpusChange) // by item ID; the later line wins
	perProject := make(map[string]int)
	for _, c := range lines {
		id := gerrit.ID(gerritURL, c.project, c.number)
		if _, dup := last[id]; !dup {
			perProject[c.project]++
		}
		last[id] = c
	}
	var projects []string
	for p := range perProject {
		projects = append(projects, p)
	}
	slices.Sort(projects)

	e := newEnv(t, gerrit.DefaultPageSize, projects...)
	n := sourcetest.AddFile(t, e.srv, path)
	if n != len(lines) || e.srv.Len() != len(last) {
		t.Fatalf("fake read %d lines and holds %d changes; the file has %d lines, %d distinct changes", n, e.srv.Len(), len(lines), len(last))
	}
	t.Logf("%d lines, %d distinct changes in %d projects", len(lines), len(last), len(projects))
	if len(lines) == 4804 && len(last) != 4803 {
		t.Errorf("the corpus of 4804 lines should hold 4803 distinct changes, has %d", len(last))
	}

	e.srv.ResetStats()
	st, err := e.src.Sync(context.Background(), e.data.Store, source.Options{Now: e.clock.Now, Since: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	wantReq := 0
	for _, p := range projects {
		wantReq += pages(perProject[p], gerrit.DefaultPageSize)
	}
	if st.New != len(last) || st.Updated != 0 || st.Requests != wantReq || e.srv.Stats().Requests != wantReq {
		t.Errorf("full sync: %+v; want %d new in %d requests", st, len(last), wantReq)
	}
	if c := e.count(); c != len(last) {
		t.Errorf("store holds %d items, want %d", c, len(last))
	}
	e.data.Store.View(func(tx *store.Tx) error {
		for id, c := range last {
			rec, ok, err := tx.Item(id)
			if err != nil || !ok || string(rec.Raw) != string(c.raw) {
				t.Errorf("%s: stored bytes differ from line %d of the corpus", id, c.line)
			}
		}
		return nil
	})
	it, _, err := e.data.Item("go-review:crypto/224279")
	if err != nil || it.State != index.StateMerged {
		t.Errorf("crypto/224279: %+v, %v", it, err)
	}

	st = e.mustSync()
	if st.New != 0 || st.Updated != 0 || st.Requests != len(projects) {
		t.Errorf("no-change sync: %+v; want %d requests, nothing new", st, len(projects))
	}
}

// corpusServer returns a fake Gerrit holding the corpus's changes, or as
// many synthesized ones when the corpus is absent, and its projects.
func corpusServer(b *testing.B) (*gerrittest.Server, []string, int) {
	srv := gerrittest.NewServer()
	b.Cleanup(srv.Close)
	projects := map[string]bool{}
	if path := corpusPath(); path != "" {
		for _, c := range readCorpus(b, path) {
			if err := srv.Put(c.raw); err != nil {
				b.Fatal(err)
			}
			projects[c.project] = true
		}
	} else {
		b.Log("corpus not available: synthesizing 4800 changes")
		names := []string{"build", "website", "crypto", "go", "oscar", "proposal"}
		for i := range 4800 {
			p := names[i%len(names)]
			projects[p] = true
			raw := gerrittest.NewChange(gerrittest.ChangeSpec{
				Project: p, Number: 100000 + i, Status: "MERGED",
				Subject: fmt.Sprintf("crypto/tls: synthesized change %d", i),
				Body:    "A paragraph of commit message explaining the change in some detail, as real ones do.",
				Updated: t0.Add(time.Duration(i) * 17 * time.Minute),
				Files:   []string{"src/crypto/tls/conn.go", "src/crypto/tls/handshake_client.go"},
				Messages: []gerrittest.MessageSpec{
					{Author: "Gopher", Date: t0, Text: "Uploaded patch set 1."},
					{Author: "Reviewer", Date: t0, Text: "Patch Set 1: Code-Review+2"},
				},
			})
			if err := srv.Put(raw); err != nil {
				b.Fatal(err)
			}
		}
	}
	var list []string
	for p := range projects {
		list = append(list, p)
	}
	slices.Sort(list)
	return srv, list, srv.Len()
}

func corpusPath() string {
	p := "../../../shared/corpus/changes.jsonl.gz"
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

func benchSource(b *testing.B, srv *gerrittest.Server, projects []string) *gerrit.Source {
	s, err := gerrit.NewSource(gerrit.Config{URL: gerritURL, Projects: projects}, gerrit.WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

var longAgo = source.Options{Since: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}

// BenchmarkGerritSyncCorpus is a full sync of the corpus through the fake
// into an empty store (the index is not built). The fake runs in the same
// process, so its work is counted too.
func BenchmarkGerritSyncCorpus(b *testing.B) {
	srv, projects, n := corpusServer(b)
	sourcetest.BenchFirstSync(b, benchSource(b, srv, projects), n, longAgo)
}

// BenchmarkNoChangeSync is a sync that finds nothing new: one request a
// project, the overlap's changes compared with the store.
func BenchmarkNoChangeSync(b *testing.B) {
	srv, projects, n := corpusServer(b)
	src := benchSource(b, srv, projects)
	d, err := watcher.OpenData(b.TempDir(), false, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if stats, err := src.Sync(context.Background(), d.Store, longAgo); err != nil || stats.New != n {
		b.Fatalf("first sync: %+v, %v", stats, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		stats, err := src.Sync(context.Background(), d.Store, longAgo)
		if err != nil || stats.New+stats.Updated != 0 {
			b.Fatalf("sync: %+v, %v", stats, err)
		}
	}
}
