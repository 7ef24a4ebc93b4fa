package match

import (
	"context"
	"fmt"
	"slices"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
)

// Touching evaluates every concern of profiles against the items ids
// gives for it, by the matcher's rules: the concern's index query
// (packages, query, kinds, as Request builds it) restricted to those
// items, routine changes left out
// unless the concern asks for them and third-party vulnerabilities left
// out for a concern without packages (keep). It returns item ID → client
// ID → concern IDs, in profile order; an item no concern matches is
// absent.
//
// Unlike Run it records nothing, needs no earlier run and holds nothing
// back: it answers "does this item touch the concern?" for the SLA, the
// alerts and the notes to clients, which must not depend on whether the
// matcher ran before them (a plain sync with [smtp] alerts before any
// match) nor on what learning guessed about relevance. The look-back does
// not apply either: it keeps old items out of the queue, and the SLA's
// own window decides how old a vulnerability may be.
//
// ids gives, for each concern, the items to evaluate it against (a caller
// that already knows some items touch a concern leaves them out); a
// concern given none costs no search.
func Touching(ctx context.Context, ix *index.Index, profiles configs.Profiles, ids func(*configs.Profile, *configs.Concern) []string) (map[string]map[string][]string, error) {
	out := map[string]map[string][]string{}
	for _, p := range profiles {
		for i := range p.Concerns {
			these := ids(p, &p.Concerns[i])
			if len(these) == 0 {
				continue
			}
			ce := newConcernEval(p, &p.Concerns[i])
			req := ce.request(ix)
			req.IDs = these
			req.Limit = len(these)
			req.Highlight = false
			res, err := ix.Search(ctx, req)
			if err != nil {
				return nil, fmt.Errorf("match: %s/%s: %w", p.ID, ce.concern.ID, err)
			}
			for _, h := range res.Hits {
				if !ce.keep(&h) {
					continue
				}
				if out[h.ID] == nil {
					out[h.ID] = map[string][]string{}
				}
				if !slices.Contains(out[h.ID][p.ID], ce.concern.ID) {
					out[h.ID][p.ID] = append(out[h.ID][p.ID], ce.concern.ID)
				}
			}
		}
	}
	return out, nil
}
