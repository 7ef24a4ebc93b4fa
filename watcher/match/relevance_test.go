package match

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// relevanceDir is the shared relevance set: client profiles written the
// way a maintainer writes them (clients/) and hand judgements of which
// corpus items matter to each concern (labels/). See its README.md.
var relevanceDir = filepath.Join("..", "..", "..", "shared", "relevance")

// Floors of TestRelevanceSet, set at what the matcher reaches (see the
// README's relevance figures); a change that drops below them is a
// regression.
const (
	floorPrecision        = 0.98
	floorRecall           = 0.96
	floorConcernPrecision = 0.85
)

// relevanceLabels are the judgements of one concern.
type relevanceLabels struct {
	Concern    string   `json:"concern"`
	Client     string   `json:"client"`
	Relevant   []string `json:"relevant"`
	Borderline []string `json:"borderline"`
}

// A labelKey identifies an item the way the labels and the product both
// can: ("vuln", GO-YYYY-NNNN), ("issue", N) or ("cl", N). Gerrit change
// numbers are unique per server, so the project is not needed.
type labelKey struct {
	kind string
	id   string
}

var (
	vulnIDRe  = regexp.MustCompile(`GO-\d{4}-\d+`)
	issueRe   = regexp.MustCompile(`#(\d+)$`)
	lastNumRe = regexp.MustCompile(`(\d+)\D*$`)
)

// keyOf reads a label ID ("golang/go#N", "CL N (project)", "GO-…") or an
// item ID (golang/go#N, go-review:project/N, GO-…) as score.py does.
func keyOf(s string) labelKey {
	if m := vulnIDRe.FindString(s); m != "" {
		return labelKey{"vuln", m}
	}
	if m := issueRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return labelKey{"issue", strconv.Itoa(n)}
	}
	if m := lastNumRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return labelKey{"cl", strconv.Itoa(n)}
	}
	return labelKey{"?", s}
}

// A score counts true and false positives and false negatives.
type score struct{ tp, fp, fn int }

func (s score) precision() float64 {
	if s.tp+s.fp == 0 {
		return 0
	}
	return float64(s.tp) / float64(s.tp+s.fp)
}

func (s score) recall() float64 {
	if s.tp+s.fn == 0 {
		return 0
	}
	return float64(s.tp) / float64(s.tp+s.fn)
}

func (s score) String() string {
	return fmt.Sprintf("precision %.3f recall %.3f  (tp %d, fp %d, fn %d)", s.precision(), s.recall(), s.tp, s.fp, s.fn)
}

// scoreRelevance scores what matched (concern → item IDs) against the
// labels in dir as the relevance set's score.py does: borderline items
// count neither way, any other match of an item not labelled relevant is a
// false positive. It returns the score per concern and overall, and per
// concern the judged matches and misses ("hit ID", "false-alarm ID",
// "missed ID").
func scoreRelevance(tb testing.TB, dir string, got map[string][]string) (map[string]score, score, map[string][]string) {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	per := map[string]score{}
	misses := map[string][]string{}
	var all score
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		var l relevanceLabels
		if err := json.Unmarshal(b, &l); err != nil {
			tb.Fatalf("%s: %v", e.Name(), err)
		}
		rel, bor := map[labelKey]bool{}, map[labelKey]bool{}
		for _, id := range l.Relevant {
			rel[keyOf(id)] = true
		}
		for _, id := range l.Borderline {
			bor[keyOf(id)] = true
		}
		matched := map[labelKey]bool{}
		var s score
		for _, id := range got[l.Concern] {
			k := keyOf(id)
			if bor[k] || matched[k] {
				continue
			}
			matched[k] = true
			if rel[k] {
				s.tp++
				misses[l.Concern] = append(misses[l.Concern], "hit "+id)
			} else {
				s.fp++
				misses[l.Concern] = append(misses[l.Concern], "false-alarm "+id)
			}
		}
		for _, id := range l.Relevant {
			if !matched[keyOf(id)] {
				s.fn++
				misses[l.Concern] = append(misses[l.Concern], "missed "+id)
			}
		}
		per[l.Concern] = s
		all.tp += s.tp
		all.fp += s.fp
		all.fn += s.fn
	}
	return per, all, misses
}

// TestRelevanceSet matches the shared relevance set's profiles, exactly as
// written, against the whole corpus and scores the open prompts against the
// hand labels. It fails below the floors above.
func TestRelevanceSet(t *testing.T) {
	if testing.Short() {
		t.Skip("imports the whole corpus")
	}
	clients := filepath.Join(relevanceDir, "clients")
	if _, err := os.Stat(clients); err != nil {
		t.Skipf("relevance set not available: %v", err)
	}
	profiles, err := configs.LoadProfiles(clients)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := corpusData(t, 1)
	// A look-back covering the whole corpus: every match is an open prompt.
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = Run(context.Background(), d, profiles, Options{
		Now: func() time.Time { return now }, Lookback: 30 * 365 * 24 * time.Hour,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	why := map[string]string{} // concern and item → matched packages and terms
	err = d.Store.View(func(tx *store.Tx) error {
		return queue.Scan(tx, []queue.State{queue.Open}, func(p *queue.Prompt) error {
			// Every member of a topic's prompt matched the concern, as
			// the rows of 'queue --json' list them.
			for _, m := range p.Members {
				got[p.Concern] = append(got[p.Concern], m.Item.ID)
				why[p.Concern+" "+m.Item.ID] = fmt.Sprint(m.Reasons.Packages, m.Reasons.Terms)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	per, all, misses := scoreRelevance(t, filepath.Join(relevanceDir, "labels"), got)
	var names []string
	for c := range per {
		names = append(names, c)
	}
	slices.Sort(names)
	for _, c := range names {
		t.Logf("%-24s %v", c, per[c])
	}
	t.Logf("%-24s %v", "overall", all)
	if testing.Verbose() {
		logMisses(t, d, misses, why)
	}
	for _, c := range names {
		if p := per[c].precision(); p < floorConcernPrecision {
			t.Errorf("%s: precision %.3f, below the floor of %.2f", c, p, floorConcernPrecision)
		}
	}
	if p := all.precision(); p < floorPrecision {
		t.Errorf("overall precision %.3f, below the floor of %.2f", p, floorPrecision)
	}
	if r := all.recall(); r < floorRecall {
		t.Errorf("overall recall %.3f, below the floor of %.2f", r, floorRecall)
	}
}

// logMisses logs each concern's judged matches and misses with the item's
// title and packages and why it matched, to see what a change of the rules
// would do.
func logMisses(t *testing.T, d *watcher.Data, misses map[string][]string, why map[string]string) {
	titles := map[labelKey]string{}
	err := d.Store.View(func(tx *store.Tx) error {
		return tx.Since(0, func(rec store.Record) error {
			it, err := d.Norm.Item(tx, rec)
			if err != nil {
				return err
			}
			titles[keyOf(it.ID)] = fmt.Sprintf("%s %q %v", it.ID, it.Title, it.Packages)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for c := range misses {
		names = append(names, c)
	}
	slices.Sort(names)
	for _, c := range names {
		for _, m := range misses[c] {
			what, id, _ := strings.Cut(m, " ")
			t.Logf("%s: %s %s %s", c, what, titles[keyOf(id)], why[c+" "+id])
		}
	}
}
