package match

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
	"github.com/reciprocal-access/reciprocal/watcher/topic"
)

// Stale prompts. A concern's fingerprint changes when the maintainer edits
// it and when the matching rules change (fingerprintVersion); either way it
// is evaluated over the whole index again. Only an edit withdraws prompts:
// the store keeps, beside the fingerprint, a hash of the concern as written
// (contentOf), and when that changed, the open prompts of the concern that
// nobody acted on and none of whose members match any more are withdrawn
// ("concern edited on DATE"; see queue.Withdraw), in the transaction that
// records the new evaluation. A concern last evaluated by a reciprocal that
// did not keep the hash is not known to be edited: nothing is withdrawn.

// contentOf hashes what the maintainer wrote that decides what c matches:
// its packages, query, kinds and routine key, without the rules version.
func contentOf(c *configs.Concern) string {
	pkgs := slices.Clone(c.Packages)
	slices.Sort(pkgs)
	kinds := slices.Clone(c.Kinds)
	slices.Sort(kinds)
	h := sha256.New()
	for _, s := range []string{strings.Join(pkgs, "\x01"), strings.TrimSpace(c.Query), strings.Join(kinds, "\x01"), fmt.Sprint(c.Routine)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// edited reports whether the concern was edited since its last evaluation.
func edited(old concernState, ce *concernEval) bool {
	return old.Content != "" && old.Content != ce.content
}

// editNote is the note of a prompt withdrawn on day now.
func editNote(now time.Time) string {
	return "concern edited on " + now.Format(time.DateOnly)
}

func hitSet(hits []index.Hit) func(string) bool {
	set := make(map[string]bool, len(hits))
	for _, h := range hits {
		set[h.ID] = true
	}
	return func(id string) bool { return set[id] }
}

func readStates(tx *store.Tx) (map[string]concernState, error) {
	states := map[string]concernState{}
	b, err := tx.Bucket(bucketConcerns)
	if err != nil || b == nil {
		return states, err
	}
	err = b.ForEach(func(k, v []byte) error {
		var s concernState
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("concern %q: %w", k, err)
		}
		states[string(k)] = s
		return nil
	})
	return states, err
}

// An EditPreview is what the next match will do about an edited concern.
type EditPreview struct {
	// Adds are the items the concern matches now that none of its prompts
	// holds yet.
	Adds []index.Hit `json:"adds"`
	// NewTopics is how many prompts the adds will open (or record as
	// history): the others join a prompt of their topic.
	NewTopics int `json:"new_topics"`
	// Withdraws are the prompts the next match will withdraw.
	Withdraws []*queue.Prompt `json:"withdraws"`
}

// PreviewEdits evaluates every edited concern of profiles over the whole
// index, as the next Run will, and says what that run will add and
// withdraw, changing nothing. Concerns that were not edited (or are new)
// are left out.
func PreviewEdits(ctx context.Context, d *watcher.Data, profiles configs.Profiles, now time.Time) (map[ConcernID]*EditPreview, error) {
	var states map[string]concernState
	err := d.Store.View(func(tx *store.Tx) error {
		var err error
		states, err = readStates(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	out := map[ConcernID]*EditPreview{}
	for _, p := range profiles {
		for i := range p.Concerns {
			ce := newConcernEval(p, &p.Concerns[i])
			if !edited(states[ce.key()], ce) {
				continue
			}
			hits, err := query(ctx, d.Index, ce, nil)
			if err != nil {
				return nil, fmt.Errorf("match: %w", err)
			}
			pv := &EditPreview{}
			err = d.Store.View(func(tx *store.Tx) error {
				topics := map[string]bool{}
				for _, h := range hits {
					tid, err := topic.Of(tx, h.ID)
					if err != nil {
						return err
					}
					pr, err := queue.Find(tx, p.ID, ce.concern.ID, tid)
					if err != nil {
						return err
					}
					if pr != nil && pr.Member(h.ID) != nil && pr.State != queue.Withdrawn {
						continue
					}
					pv.Adds = append(pv.Adds, h)
					if (pr == nil || pr.State == queue.Withdrawn) && !topics[tid] {
						topics[tid] = true
						pv.NewTopics++
					}
				}
				pv.Withdraws, err = queue.Stale(tx, p.ID, ce.concern.ID, hitSet(hits), now)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("match: %w", err)
			}
			out[ConcernID{p.ID, ce.concern.ID}] = pv
		}
	}
	return out, nil
}
