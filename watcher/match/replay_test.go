package match

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// replayChunks is how many runs of the matcher the corpus's timeline is
// cut into.
const replayChunks = 12

// arrival is when a corpus item first appeared: an issue's or change's
// creation, a vulnerability's publication.
func arrival(tb testing.TB, line []byte) time.Time {
	var v struct {
		CreatedAt string `json:"created_at"`
		Created   string `json:"created"`
		Published string `json:"published"`
	}
	if err := json.Unmarshal(line, &v); err != nil {
		tb.Fatal(err)
	}
	if v.Created != "" {
		t, err := time.Parse(gerrit.TimeLayout, v.Created)
		if err == nil {
			return t
		}
	}
	for _, s := range []string{v.CreatedAt, v.Published} {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t
		}
	}
	tb.Fatalf("no creation time in %.200s", line)
	return time.Time{}
}

// replay feeds the corpus to the matcher in time order, in replayChunks
// runs, with the relevance set's profiles. After each run the maintainer
// judges every new open prompt as the labels say: done if one of its items
// is relevant, dismissed as not relevant if none is and one is not
// borderline. It returns, per concern, the items prompted (members of
// prompts that were not held back) and the arrival time of every item.
func replay(t *testing.T, profiles configs.Profiles, labels map[string]relevanceLabels, learn bool) (map[string][]string, map[labelKey]time.Time, int) {
	lines := corpusLines(t)
	arrived := make([]time.Time, len(lines))
	byKey := map[labelKey]time.Time{}
	order := make([]int, len(lines))
	for i, l := range lines {
		arrived[i] = arrival(t, l)
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return arrived[order[a]].Before(arrived[order[b]]) })
	d, err := watcher.OpenData(t.TempDir(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	for c := range replayChunks {
		lo, hi := c*len(order)/replayChunks, (c+1)*len(order)/replayChunks
		var buf bytes.Buffer
		var now time.Time
		for _, i := range order[lo:hi] {
			buf.Write(lines[i])
			buf.WriteByte('\n')
			now = arrived[i]
		}
		res, err := d.Import(ctx, "corpus", &buf, watcher.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_ = res
		_, err = Run(ctx, d, profiles, Options{
			Now: func() time.Time { return now }, Lookback: 30 * 365 * 24 * time.Hour,
			Logger: slog.New(slog.DiscardHandler), NoLearning: !learn,
		})
		if err != nil {
			t.Fatal(err)
		}
		// The maintainer judges what arrived.
		err = d.Store.Update(func(tx *store.Tx) error {
			var todo []*queue.Prompt
			err := queue.Scan(tx, []queue.State{queue.Open}, func(p *queue.Prompt) error {
				if len(p.Log) == 0 {
					todo = append(todo, p)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, p := range todo {
				l, ok := labels[p.Concern]
				if !ok {
					continue
				}
				verdict := ""
				for _, m := range p.Members {
					k := keyOf(m.Item.ID)
					switch {
					case slices.ContainsFunc(l.Relevant, func(id string) bool { return keyOf(id) == k }):
						verdict = queue.JudgedRelevant
					case verdict == "" && !slices.ContainsFunc(l.Borderline, func(id string) bool { return keyOf(id) == k }):
						verdict = queue.JudgedNotRelevant
					}
				}
				switch verdict {
				case queue.JudgedRelevant:
					err = p.MarkDone(now, "replay")
				case queue.JudgedNotRelevant:
					err = p.DismissNotRelevant(now, "replay")
				default:
					continue
				}
				if err != nil {
					return err
				}
				if err := queue.Put(tx, p); err != nil {
					return err
				}
				if testing.Verbose() && learn {
					t.Logf("judged %s %s %s %q %v (%d members)", now.Format(time.DateOnly), p.Concern, verdict, p.Item.Title, p.Item.Packages, len(p.Members))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range order {
		var v struct {
			ID        string `json:"id"`
			Number    int    `json:"number"`
			GerritNum int    `json:"_number"`
		}
		json.Unmarshal(lines[i], &v)
		id := v.ID
		if v.GerritNum > 0 {
			id = "cl " + itoa(v.GerritNum)
		} else if v.Number > 0 {
			id = "#" + itoa(v.Number)
		}
		if _, ok := byKey[keyOf(id)]; !ok {
			byKey[keyOf(id)] = arrived[i]
		}
	}
	got := map[string][]string{}
	held := 0
	err = d.Store.View(func(tx *store.Tx) error {
		return queue.Scan(tx, nil, func(p *queue.Prompt) error {
			switch p.State {
			case queue.Held:
				held++
				if testing.Verbose() {
					t.Logf("held %s %s %q: %s", p.Concern, p.Item.ID, p.Item.Title, p.HeldReason)
				}
				return nil
			case queue.Merged, queue.Withdrawn, queue.History:
				return nil
			}
			for _, m := range p.Members {
				got[p.Concern] = append(got[p.Concern], m.Item.ID)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, byKey, held
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestLearningReplay measures learning from the maintainer: the corpus
// arrives in time order and the maintainer judges each prompt as the
// relevance labels say. Precision and recall over the items that arrive
// in the second half of the timeline, with and without learning, are
// logged; learning must never lower precision.
func TestLearningReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the whole corpus twice")
	}
	clients := filepath.Join(relevanceDir, "clients")
	if _, err := os.Stat(clients); err != nil {
		t.Skipf("relevance set not available: %v", err)
	}
	profiles, err := configs.LoadProfiles(clients)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]relevanceLabels{}
	dir := filepath.Join(relevanceDir, "labels")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var l relevanceLabels
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		labels[l.Concern] = l
	}

	var scores [2]score
	for i, learn := range []bool{false, true} {
		got, arrivedAt, held := replay(t, profiles, labels, learn)
		// The second half of the timeline: by the arrival of the items
		// that matter to it, those labelled relevant or matched.
		var times []time.Time
		add := func(id string) {
			if at, ok := arrivedAt[keyOf(id)]; ok {
				times = append(times, at)
			}
		}
		for _, l := range labels {
			for _, id := range l.Relevant {
				add(id)
			}
		}
		for _, ids := range got {
			for _, id := range ids {
				add(id)
			}
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		mid := times[len(times)/2]
		late := func(id string) bool { at, ok := arrivedAt[keyOf(id)]; return ok && !at.Before(mid) }
		half := map[string][]string{}
		for c, ids := range got {
			for _, id := range ids {
				if late(id) {
					half[c] = append(half[c], id)
				}
			}
		}
		// Labels restricted to the second half too.
		tmp := t.TempDir()
		for _, l := range labels {
			l2 := l
			l2.Relevant = slices.DeleteFunc(slices.Clone(l.Relevant), func(id string) bool { return !late(id) })
			b, _ := json.Marshal(l2)
			if err := os.WriteFile(filepath.Join(tmp, l.Concern+".json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		per, all, misses := scoreRelevance(t, tmp, half)
		if testing.Verbose() && learn {
			for c, ms := range misses {
				for _, m := range ms {
					t.Logf("second half %s: %s", c, m)
				}
			}
		}
		var names []string
		for c := range per {
			names = append(names, c)
		}
		slices.Sort(names)
		for _, c := range names {
			t.Logf("learning %-5v %-24s %v", learn, c, per[c])
		}
		t.Logf("learning %-5v %-24s %v  (second half from %s; %d held back)", learn, "overall", all, mid.Format(time.DateOnly), held)
		scores[i] = all
	}
	if scores[1].precision() < scores[0].precision() {
		t.Errorf("learning lowered precision over the second half: %.3f → %.3f", scores[0].precision(), scores[1].precision())
	}
}
