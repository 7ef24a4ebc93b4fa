package match

import (
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

const toolchain = `
id   = "initech"
name = "Initech"
tier = "silver"

[[concern]]
id      = "toolchain"
summary = "Toolchain downloads through their proxy"
told    = 2024-01-02
query   = "toolchain"
`

func TestFeatures(t *testing.T) {
	it := queue.ItemInfo{ID: "go-review:build/12", Kind: "change", Title: "[release-branch.go1.26] x/build/cmd/gomote, x/build/internal: fix", Routine: "test-only change",
		Packages: []string{"golang.org/x/build/cmd/gomote"}}
	var got []string
	for _, f := range featuresOf(&it) {
		got = append(got, f.class+"="+f.value)
	}
	want := "area=x/build/cmd/gomote area=x/build area=x/build/internal area=x/build package=golang.org/x/build/cmd/gomote repo=build kind=change routine=test-only change"
	if strings.Join(got, " ") != want {
		t.Errorf("features:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestLearning(t *testing.T) {
	f := newFixture(t, toolchain)
	day := 0
	step := func(objs ...string) *Result {
		t.Helper()
		day++
		f.now = now.Add(time.Duration(day) * time.Hour)
		f.load(objs...)
		return f.run()
	}
	cl := func(n int, project, subject string) string {
		return change{Project: project, N: n, Subject: subject, Files: []string{"cmd/x/main.go"}, Updated: now.Add(time.Duration(day+1) * time.Hour)}.String()
	}
	// Two x/build CLs about the builders' toolchain: marked not relevant.
	res := step(cl(800, "build", "cmd/coordinator: bootstrap the toolchain from source"),
		cl(801, "build", "cmd/gomote: download a toolchain for each builder"))
	if len(res.New) != 2 {
		t.Fatalf("%d new, want 2", len(res.New))
	}
	for _, p := range res.New {
		f.update(p.ID, func(p *queue.Prompt) error { return p.DismissNotRelevant(f.now, "their builders, not ours") })
	}
	// A cmd/go toolchain issue: relevant.
	res = step(issue{N: 300, Title: "cmd/go: toolchain download ignores GOPROXY", Updated: now.Add(time.Duration(day+1) * time.Hour)}.String())
	f.update(res.New[0].ID, func(p *queue.Prompt) error { return p.MarkDone(f.now, "asked") })

	// Another x/build CL is held back, with its reason; a cmd/go one is not.
	res = step(cl(802, "build", "cmd/relui: pin the bootstrap toolchain"),
		issue{N: 301, Title: "cmd/go: toolchain switch loops", Updated: now.Add(time.Duration(day+1) * time.Hour)}.String())
	if len(res.Held) != 1 || res.Held[0].Item.ID != "go-review:build/802" {
		t.Fatalf("held %v, want the x/build CL", res.Held)
	}
	if want := "like 2 prompts you marked not relevant: golang.org/x/build/cmd/x, kind change"; res.Held[0].HeldReason != want {
		t.Errorf("reason %q, want %q", res.Held[0].HeldReason, want)
	}
	if len(res.New) != 1 || res.New[0].Item.ID != "golang/go#301" {
		t.Errorf("new %v, want golang/go#301", res.New)
	}
	if es := f.queue(); len(es) != 1 {
		t.Errorf("queue: %d open, want golang/go#301 only", len(es))
	}

	// Without learning the same match is prompted.
	g := newFixture(t, toolchain)
	g.d, g.now = f.d, f.now
	opts := g.opts()
	opts.NoLearning = true
	f.load(cl(803, "build", "cmd/relui: bump the toolchain"))
	r, err := Run(t.Context(), f.d, f.profiles, opts)
	if err != nil || len(r.Held) != 0 || len(r.New) != 1 {
		t.Errorf("without learning: %d held, %d new, %v", len(r.Held), len(r.New), err)
	}

	// One relevant x/build prompt at the same level lets the next through.
	f.update(r.New[0].ID, func(p *queue.Prompt) error { return p.MarkDone(f.now, "they do run a builder") })
	if res := step(cl(804, "build", "cmd/gomote: toolchain cache")); len(res.Held) != 0 || len(res.New) != 1 {
		t.Errorf("after a relevant x/build prompt: %d held, %d new", len(res.Held), len(res.New))
	}

	l, err := Learnings(f.d.Store)
	if err != nil {
		t.Fatal(err)
	}
	if got := l[ConcernID{"initech", "toolchain"}]; got.Relevant != 2 || got.NotRelevant != 2 {
		t.Errorf("learned %+v", got)
	}

	// Forget releases what was held and drops the judgements.
	var released []*queue.Prompt
	f.d.Store.Update(func(tx *store.Tx) error {
		released, err = queue.Forget(tx, "initech", "toolchain", f.now)
		return err
	})
	if err != nil || len(released) != 1 || released[0].Item.ID != "go-review:build/802" {
		t.Errorf("forget released %v, %v", released, err)
	}
	if l, _ := Learnings(f.d.Store); len(l) != 0 {
		t.Errorf("after forget: learned %v", l)
	}
}
