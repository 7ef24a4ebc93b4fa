package match

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Learning from the maintainer
//
// The maintainer judges prompts: done means relevant, `queue dismiss
// --not-relevant` means not (queue.Prompt.Judgement). Per concern, a new
// match that resembles what was marked not relevant, and not what was
// marked relevant, is held back (state held, with its reason) instead of
// prompted. The rule is a nearest-neighbour vote on features, so that it is
// deterministic and explainable:
//
//   - Features of an item: its title area (the package paths a Go title
//     starts with, "x/build/cmd/gomote", plus the repository root
//     "x/build" of an x/ path), its packages, its repository (owner/name,
//     or the Gerrit project), its kind and its routine reason. A judged
//     prompt has the features of all its members.
//   - Levels, most specific first: area, package, repository. At the most
//     specific level where the item shares a feature with any judged
//     prompt of the concern, count the not-relevant prompts (nr) and the
//     relevant ones (r) that share one. The match is held if nr ≥ 2 and
//     r = 0; any relevant neighbour at that level, or a single
//     not-relevant one, lets it through. Kind and routine reason never
//     decide alone; they are named in the reason when every not-relevant
//     neighbour shares them.
//
// The reason reads "like 3 prompts you marked not relevant: title area
// x/build, test-only change". `queue forget CLIENT/CONCERN` drops a
// concern's judgements and releases what it held.

// minNotRelevant is how many not-relevant neighbours hold a match.
const minNotRelevant = 2

// Feature classes.
const (
	featArea    = "area"
	featPackage = "package"
	featRepo    = "repo"
	featKind    = "kind"
	featRoutine = "routine"
)

// levels are the feature classes that decide, most specific first.
var levels = []string{featArea, featPackage, featRepo}

type feature struct{ class, value string }

func (f feature) String() string {
	switch f.class {
	case featArea:
		return "title area " + f.value
	case featRepo:
		return "repository " + f.value
	case featKind:
		return "kind " + f.value
	}
	return f.value
}

// titleArea finds the package paths a Go title starts with, after any
// "[release-branch.go1.N]" tags and a "proposal:" prefix.
var titleArea = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\s*(?:\[[^\]]*\]\s*)*(?:proposal:\s*)?([A-Za-z0-9_.\-/]+(?:\s*,\s*[A-Za-z0-9_.\-/]+)*)\s*:`)
})

// featuresOf returns the features of an item.
func featuresOf(it *queue.ItemInfo) []feature {
	var fs []feature
	if m := titleArea().FindStringSubmatch(it.Title); m != nil {
		for _, a := range strings.Split(m[1], ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			fs = append(fs, feature{featArea, a})
			if parts := strings.SplitN(a, "/", 3); len(parts) >= 2 && parts[0] == "x" {
				fs = append(fs, feature{featArea, "x/" + parts[1]})
			}
		}
	}
	for _, p := range it.Packages {
		fs = append(fs, feature{featPackage, p})
	}
	if r := repoOf(it.ID); r != "" {
		fs = append(fs, feature{featRepo, r})
	}
	fs = append(fs, feature{featKind, it.Kind})
	if it.Routine != "" {
		fs = append(fs, feature{featRoutine, it.Routine})
	}
	return fs
}

// repoOf returns the repository of an item ID: owner/name on GitHub, the
// project on Gerrit, "" for a vulnerability.
func repoOf(id string) string {
	p, _ := watcher.Sources.ParseID(id)
	return p.Repo
}

// A judged prompt, as the model sees it.
type judged struct {
	id       string
	relevant bool
	feats    map[feature]bool
}

// A model is what a concern learned.
type model struct {
	judged []judged
}

// models builds every concern's model from the judgements in the store,
// keyed by concernEval.key.
func models(tx *store.Tx) (map[string]*model, error) {
	js, err := queue.Judgements(tx)
	if err != nil {
		return nil, err
	}
	out := map[string]*model{}
	for k, list := range js {
		m := &model{}
		for _, j := range list {
			fs := map[feature]bool{}
			for i := range j.Prompt.Members {
				for _, f := range featuresOf(&j.Prompt.Members[i].Item) {
					fs[f] = true
				}
			}
			m.judged = append(m.judged, judged{id: j.Prompt.ID, relevant: j.Judgement == queue.JudgedRelevant, feats: fs})
		}
		slices.SortFunc(m.judged, func(a, b judged) int { return strings.Compare(a.id, b.id) })
		out[k.Client+"\x00"+k.Concern] = m
	}
	return out, nil
}

// hold decides whether a new match on it is held back, and why.
func (m *model) hold(it *queue.ItemInfo) (string, bool) {
	if m == nil || len(m.judged) == 0 {
		return "", false
	}
	fs := featuresOf(it)
	for _, level := range levels {
		var mine []feature
		for _, f := range fs {
			if f.class == level {
				mine = append(mine, f)
			}
		}
		var nr []judged
		r := 0
		shared := map[feature]bool{}
		for _, j := range m.judged {
			hit := false
			for _, f := range mine {
				if j.feats[f] {
					hit = true
					if !j.relevant {
						shared[f] = true
					}
				}
			}
			switch {
			case !hit:
			case j.relevant:
				r++
			default:
				nr = append(nr, j)
			}
		}
		if len(nr)+r == 0 {
			continue
		}
		if r > 0 || len(nr) < minNotRelevant {
			return "", false
		}
		var why []string
		for _, f := range mine {
			if shared[f] {
				why = append(why, f.String())
			}
		}
		for _, f := range fs {
			if f.class != featKind && f.class != featRoutine {
				continue
			}
			all := true
			for _, j := range nr {
				all = all && j.feats[f]
			}
			if all {
				why = append(why, f.String())
			}
		}
		return fmt.Sprintf("like %d prompts you marked not relevant: %s", len(nr), strings.Join(why, ", ")), true
	}
	return "", false
}

// A Lesson is one feature a concern has learned to hold back.
type Lesson struct {
	Feature     string `json:"feature"`
	NotRelevant int    `json:"not_relevant"`
}

// A Learned summary says what a concern learned: its judgements, and the
// features that hold a match back at their level unless something more
// specific says otherwise.
type Learned struct {
	Relevant    int      `json:"relevant"`
	NotRelevant int      `json:"not_relevant"`
	Holds       []Lesson `json:"holds,omitempty"`
}

// Learnings summarizes what every judged concern learned, keyed by concern.
func Learnings(st *store.Store) (map[ConcernID]Learned, error) {
	var ms map[string]*model
	err := st.View(func(tx *store.Tx) error {
		var err error
		ms, err = models(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	out := map[ConcernID]Learned{}
	for k, m := range ms {
		client, concern, _ := strings.Cut(k, "\x00")
		var l Learned
		nr, r := map[feature]int{}, map[feature]int{}
		for _, j := range m.judged {
			if j.relevant {
				l.Relevant++
			} else {
				l.NotRelevant++
			}
			for f := range j.feats {
				if f.class == featKind || f.class == featRoutine {
					continue
				}
				if j.relevant {
					r[f]++
				} else {
					nr[f]++
				}
			}
		}
		for f, n := range nr {
			if n >= minNotRelevant && r[f] == 0 {
				l.Holds = append(l.Holds, Lesson{Feature: f.String(), NotRelevant: n})
			}
		}
		slices.SortFunc(l.Holds, func(a, b Lesson) int {
			if a.NotRelevant != b.NotRelevant {
				return b.NotRelevant - a.NotRelevant
			}
			return strings.Compare(a.Feature, b.Feature)
		})
		out[ConcernID{client, concern}] = l
	}
	return out, nil
}
