package topic_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/sourcetest"
	"github.com/reciprocal-access/reciprocal/watcher/store"
	. "github.com/reciprocal-access/reciprocal/watcher/topic"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb"
)

// The links of the test's records come from the registered sources'
// descriptors, as in 'reciprocal match'.
var linker = watcher.Sources.Links

func js(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func ghIssue(id, login, title, body string, pull bool) store.Record {
	m := map[string]any{"title": title, "body": body, "user": map[string]string{"login": login}}
	if pull {
		m["pull_request"] = map[string]any{"merged_at": nil}
	}
	return store.Record{ID: id, Source: github.Kind, Raw: js(m)}
}

func cl(id, project, branch, changeID string, n int, msg string, files ...string) store.Record {
	fs := map[string]any{}
	for _, f := range files {
		fs[f] = map[string]any{}
	}
	return store.Record{ID: id, Source: gerrit.Kind, Raw: js(map[string]any{
		"project": project, "branch": branch, "change_id": changeID, "_number": n,
		"subject": msg, "current_revision": "r1",
		"revisions": map[string]any{"r1": map[string]any{"commit": map[string]any{"message": msg}, "files": fs}},
	})}
}

func osv(id string, urls ...string) store.Record {
	var refs []map[string]string
	for _, u := range urls {
		refs = append(refs, map[string]string{"type": "FIX", "url": u})
	}
	return store.Record{ID: id, Source: vulndb.Kind, Raw: js(map[string]any{"id": id, "references": refs})}
}

func TestLinks(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  store.Record
		want []Link
	}{
		{"fixes, updates, for and URLs in a CL",
			cl("go-review:go/700", "go", "master", "Iabc", 700,
				"crypto/tls: fix it\n\nFixes #1, #2\nUpdates golang/go#3\nFor #4.\nSee go.dev/issue/5 and https://golang.org/issue/6.\n\nChange-Id: Iabc\n"),
			[]Link{{"~cl:700", LinkReference}, {"~change-id:go:Iabc", LinkBranch},
				{"golang/go#1", LinkFixes}, {"golang/go#2", LinkFixes}, {"golang/go#3", LinkUpdates}, {"golang/go#4", LinkUpdates},
				{"golang/go#5", LinkCites}, {"golang/go#6", LinkCites}}},
		{"an x/ repository's bare #N is a golang/go issue",
			cl("go-review:crypto/701", "crypto", "master", "Idef", 701, "ssh: fix\n\nFixes golang/go#7\nFixes #8\n"),
			[]Link{{"~cl:701", LinkReference}, {"~change-id:crypto:Idef", LinkBranch}, {"golang/go#7", LinkFixes}, {"golang/go#8", LinkFixes}}},
		{"a CL imported from a pull request",
			cl("go-review:go/704", "go", "master", "Ijkl", 704, "net/http: document it\n\nChange-Id: Ijkl\nGitHub-Last-Rev: abc\nGitHub-Pull-Request: golang/go#76459\n"),
			[]Link{{"~cl:704", LinkReference}, {"~change-id:go:Ijkl", LinkBranch}, {"golang/go#76459", LinkImported}}},
		{"a release-branch cherry-pick meets its main CL at the Change-Id",
			cl("go-review:go/702", "go", "release-branch.go1.26", "Iabc", 702, "[release-branch.go1.26] crypto/tls: fix it\n\nFixes #9\n"),
			[]Link{{"~cl:702", LinkReference}, {"~change-id:go:Iabc", LinkBranch}, {"golang/go#9", LinkFixes}}},
		{"a design doc names its proposal",
			cl("go-review:proposal/703", "proposal", "master", "Ighi", 703, "design/60105-session-tickets.md: add", "design/60105-session-tickets.md"),
			[]Link{{"~cl:703", LinkReference}, {"~change-id:proposal:Ighi", LinkBranch}, {"golang/go#60105", LinkDesign}}},
		{"a backport issue by gopherbot names its parent",
			ghIssue("golang/go#20", "gopherbot", "crypto/tls: bug [1.26 backport]", "@x requested issue #19 to be considered for backport to the next 1.26 minor release.", false),
			[]Link{{"golang/go#19", LinkBackport}}},
		{"a backport title by someone else is not a backport",
			ghIssue("golang/go#21", "mallory", "crypto/tls: bug [1.26 backport]", "requested issue #19", false), nil},
		{"an issue's own mentions are not links",
			ghIssue("golang/go#22", "gopher", "crypto/tls: bug", "Fixes #19? see go.dev/issue/18", false), nil},
		{"a pull request links like a CL",
			ghIssue("golang/go#23", "gopher", "net/http: fix", "Fixes #19", true), []Link{{"golang/go#19", LinkFixes}}},
		{"a vulnerability's references",
			osv("GO-2026-0001", "https://go.dev/cl/700", "https://go.dev/issue/1", "https://groups.google.com/g/golang-announce/c/x"),
			[]Link{{"~cl:700", LinkReference}, {"golang/go#1", LinkReference}}},
	} {
		got, err := linker(tc.rec)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
	if _, err := Record(nil, []store.Record{{ID: "golang/go#1", Source: github.Kind, Raw: []byte("{")}}, linker); err == nil {
		t.Error("bad JSON: no error")
	}
}

// TestRecord builds the CVE story of the demo item by item, in an order
// where two topics form first and then merge.
func TestRecord(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	link := func(recs ...store.Record) (ms []Merge) {
		t.Helper()
		err := st.Update(func(tx *store.Tx) error {
			var err error
			ms, err = Record(tx, recs, linker)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	of := func(node string) (root string, members []string) {
		t.Helper()
		st.View(func(tx *store.Tx) error {
			root, _ = Of(tx, node)
			members, _ = Members(tx, root)
			return nil
		})
		return root, members
	}

	if r, m := of("golang/go#1"); r != "golang/go#1" || !slices.Equal(m, []string{"golang/go#1"}) {
		t.Errorf("unlinked item: topic %s, members %v", r, m)
	}
	// The issue and its backport.
	link(ghIssue("golang/go#1", "gopher", "crypto/tls: bug", "", false))
	if ms := link(ghIssue("golang/go#2", "gopherbot", "crypto/tls: bug [1.26 backport]", "requested issue #1 to be", false)); len(ms) != 1 {
		t.Errorf("backport: merges %v, want one", ms)
	}
	// The vulnerability names a CL not synced yet: its own topic.
	link(osv("GO-2026-0001", "https://go.dev/cl/700"))
	if r, m := of("GO-2026-0001"); r != "GO-2026-0001" || !slices.Equal(m, []string{"GO-2026-0001"}) {
		t.Errorf("vuln alone: topic %s, members %v", r, m)
	}
	// The fix CL joins the two topics; the cherry-pick comes along by its Change-Id.
	ms := link(cl("go-review:go/700", "go", "master", "Iabc", 700, "crypto/tls: fix\n\nFixes #1\n"))
	if len(ms) < 2 {
		t.Errorf("fix CL: merges %v, want the vulnerability's topic and the issue's", ms)
	}
	link(cl("go-review:go/701", "go", "release-branch.go1.26", "Iabc", 701, "[release-branch.go1.26] crypto/tls: fix\n\nFixes #2\n"))
	want := []string{"GO-2026-0001", "go-review:go/700", "go-review:go/701", "golang/go#1", "golang/go#2"}
	root, members := of("go-review:go/701")
	if !slices.Equal(members, want) {
		t.Errorf("members %v, want %v", members, want)
	}
	for _, n := range want {
		if r, _ := of(n); r != root {
			t.Errorf("%s: topic %s, want %s", n, r, root)
		}
	}
	if !IsItem(root) {
		t.Errorf("topic ID %s is not an item", root)
	}
	// Linking again changes nothing.
	if ms := link(cl("go-review:go/700", "go", "master", "Iabc", 700, "crypto/tls: fix\n\nFixes #1\n")); len(ms) != 0 {
		t.Errorf("relinking: merges %v", ms)
	}
	st.View(func(tx *store.Tx) error {
		es, _ := Edges(tx, "go-review:go/700")
		if !slices.Contains(es, Link{"golang/go#1", LinkFixes}) {
			t.Errorf("edges of the CL: %v", es)
		}
		return nil
	})
}

func BenchmarkRecord(b *testing.B) {
	var recs []store.Record
	for i := range 500 {
		recs = append(recs, cl("go-review:go/"+itoa(1000+i), "go", "master", "I"+itoa(i%250), 1000+i,
			"net/http: change\n\nFixes #"+itoa(i%100)+"\nUpdates #"+itoa(i%37)+"\n"))
	}
	sourcetest.BenchEmptyStore(b, len(recs), func(st *store.Store) {
		err := st.Update(func(tx *store.Tx) error { _, err := Record(tx, recs, linker); return err })
		if err != nil {
			b.Fatal(err)
		}
	})
}

func itoa(n int) string { return string(js(n)) }
