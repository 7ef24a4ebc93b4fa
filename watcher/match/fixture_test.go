package match

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
	"github.com/reciprocal-access/reciprocal/watcher/topic"
)

// now is the fixtures' present.
var now = time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }

// A fixture is a data directory (real store, real Bleve index) with a clock
// and client profiles.
type fixture struct {
	t        testing.TB
	d        *watcher.Data
	now      time.Time
	profiles configs.Profiles
}

func newFixture(t testing.TB, profiles ...string) *fixture {
	t.Helper()
	d, err := watcher.OpenData(t.TempDir(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	f := &fixture{t: t, d: d, now: now}
	f.setProfiles(profiles...)
	return f
}

// setProfiles parses TOML profiles, one string each.
func (f *fixture) setProfiles(profiles ...string) {
	f.t.Helper()
	f.profiles = nil
	for i, src := range profiles {
		p, err := configs.ParseProfile(fmt.Sprintf("client%d.toml", i), []byte(src))
		if err != nil {
			f.t.Fatal(err)
		}
		f.profiles = append(f.profiles, p)
	}
}

// load imports raw API objects (one JSON object per argument).
func (f *fixture) load(objs ...string) {
	f.t.Helper()
	_, err := f.d.Import(context.Background(), "test", strings.NewReader(strings.Join(objs, "\n")), watcher.ImportOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) opts() Options {
	return Options{Now: func() time.Time { return f.now }, Logger: slog.New(slog.DiscardHandler)}
}

func (f *fixture) run() *Result {
	f.t.Helper()
	res, err := Run(context.Background(), f.d, f.profiles, f.opts())
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// prompt returns the prompt of (client, concern) that has item as a
// member, or nil.
func (f *fixture) prompt(client, concern, item string) *queue.Prompt {
	f.t.Helper()
	var p *queue.Prompt
	err := f.d.Store.View(func(tx *store.Tx) error {
		tid, err := topic.Of(tx, item)
		if err != nil {
			return err
		}
		if p, err = queue.Find(tx, client, concern, tid); p != nil && p.Member(item) == nil {
			p = nil
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// mustPrompt is prompt, failing the test when there is none.
func (f *fixture) mustPrompt(client, concern, item string) *queue.Prompt {
	f.t.Helper()
	p := f.prompt(client, concern, item)
	if p == nil {
		f.t.Fatalf("no prompt for %s/%s/%s", client, concern, item)
	}
	return p
}

func (f *fixture) update(id string, fn func(*queue.Prompt) error) {
	f.t.Helper()
	if _, err := queue.Update(f.d.Store, id, fn); err != nil {
		f.t.Fatal(err)
	}
}

// count returns the number of stored prompts.
func (f *fixture) count() int {
	f.t.Helper()
	n := 0
	err := f.d.Store.View(func(tx *store.Tx) error {
		return queue.Scan(tx, nil, func(*queue.Prompt) error { n++; return nil })
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) queue() []queue.Entry {
	f.t.Helper()
	es, err := queue.List(f.d.Store, f.profiles, queue.Filter{}, f.now)
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func ghTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func gerritTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000000000") }

// issue is a GitHub REST issue object of golang/go.
type issue struct {
	N       int
	Title   string
	Body    string
	State   string // default open
	Labels  []string
	Created time.Time // default Updated
	Updated time.Time
	Closed  time.Time
	Pull    bool
	Merged  bool
	User    string // default gopher
}

func (is issue) String() string {
	if is.State == "" {
		is.State = "open"
	}
	if is.Created.IsZero() {
		is.Created = is.Updated
	}
	labels := []map[string]string{}
	for _, l := range is.Labels {
		labels = append(labels, map[string]string{"name": l})
	}
	m := map[string]any{
		"number":         is.N,
		"title":          is.Title,
		"body":           is.Body,
		"state":          is.State,
		"user":           map[string]string{"login": cmp.Or(is.User, "gopher")},
		"labels":         labels,
		"created_at":     ghTime(is.Created),
		"updated_at":     ghTime(is.Updated),
		"closed_at":      nil,
		"html_url":       fmt.Sprintf("https://github.com/golang/go/issues/%d", is.N),
		"url":            fmt.Sprintf("https://api.github.com/repos/golang/go/issues/%d", is.N),
		"repository_url": "https://api.github.com/repos/golang/go",
		"comments":       0,
	}
	if !is.Closed.IsZero() {
		m["closed_at"] = ghTime(is.Closed)
	}
	if is.Pull {
		pr := map[string]any{"merged_at": nil}
		if is.Merged {
			pr["merged_at"] = ghTime(is.Closed)
		}
		m["pull_request"] = pr
	}
	return js(m)
}

// comment is a GitHub issue comment object on golang/go issue n.
func comment(n int, id int64, login, body string, at time.Time) string {
	return js(map[string]any{
		"id":         id,
		"body":       body,
		"user":       map[string]string{"login": login},
		"created_at": ghTime(at),
		"updated_at": ghTime(at),
		"issue_url":  fmt.Sprintf("https://api.github.com/repos/golang/go/issues/%d", n),
		"html_url":   fmt.Sprintf("https://github.com/golang/go/issues/%d#issuecomment-%d", n, id),
	})
}

// change is a Gerrit ChangeInfo of go-review.
type change struct {
	Project string // default go
	N       int
	Subject string
	Message string // commit message body after the subject
	Status  string // default NEW
	Files   []string
	Updated time.Time
	// Branch and ChangeID default to master and one derived from N; a
	// cherry-pick shares its main CL's ChangeID.
	Branch, ChangeID string
}

func (c change) String() string {
	if c.Project == "" {
		c.Project = "go"
	}
	if c.Status == "" {
		c.Status = "NEW"
	}
	files := map[string]any{"/COMMIT_MSG": map[string]any{}}
	for _, f := range c.Files {
		files[f] = map[string]any{"lines_inserted": 3}
	}
	rev := "0123456789abcdef0123456789abcdef01234567"
	changeID := c.ChangeID
	if changeID == "" {
		changeID = fmt.Sprintf("I%040d", c.N)
	}
	if c.Branch == "" {
		c.Branch = "master"
	}
	m := map[string]any{
		"id":               c.Project + "~" + c.Branch + "~" + changeID,
		"project":          c.Project,
		"branch":           c.Branch,
		"change_id":        changeID,
		"subject":          c.Subject,
		"status":           c.Status,
		"created":          gerritTime(c.Updated.Add(-48 * time.Hour)),
		"updated":          gerritTime(c.Updated),
		"_number":          c.N,
		"owner":            map[string]string{"name": "Gopher"},
		"current_revision": rev,
		"revisions": map[string]any{rev: map[string]any{
			"_number": 1,
			"commit":  map[string]any{"message": c.Subject + "\n\n" + c.Message + "\n\nChange-Id: " + changeID + "\n"},
			"files":   files,
		}},
	}
	if c.Status == "MERGED" {
		m["submitted"] = gerritTime(c.Updated)
	}
	return js(m)
}

// vuln is an OSV entry of the Go vulnerability database.
type vuln struct {
	ID        string
	Summary   string
	Details   string
	Imports   []string // standard library import paths
	Published time.Time
	Modified  time.Time // default Published
	Withdrawn time.Time
	// References are the URLs of its references (go.dev/cl/N, go.dev/issue/N).
	References []string
}

func (v vuln) String() string {
	if v.Modified.IsZero() {
		v.Modified = v.Published
	}
	var imports []map[string]any
	for _, p := range v.Imports {
		imports = append(imports, map[string]any{"path": p, "symbols": []string{"Conn.Handshake"}})
	}
	m := map[string]any{
		"schema_version": "1.3.1",
		"id":             v.ID,
		"modified":       ghTime(v.Modified),
		"published":      ghTime(v.Published),
		"aliases":        []string{"CVE-2026-0001"},
		"summary":        v.Summary,
		"details":        v.Details,
		"affected": []map[string]any{{
			"package":            map[string]string{"name": "stdlib", "ecosystem": "Go"},
			"ranges":             []map[string]any{{"type": "SEMVER", "events": []map[string]string{{"introduced": "0"}, {"fixed": "1.26.1"}}}},
			"ecosystem_specific": map[string]any{"imports": imports},
		}},
		"database_specific": map[string]string{"url": "https://pkg.go.dev/vuln/" + v.ID},
	}
	if !v.Withdrawn.IsZero() {
		m["withdrawn"] = ghTime(v.Withdrawn)
	}
	if len(v.References) > 0 {
		var refs []map[string]string
		for _, u := range v.References {
			refs = append(refs, map[string]string{"type": "FIX", "url": u})
		}
		m["references"] = refs
	}
	return js(m)
}
