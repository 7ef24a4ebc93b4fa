package match

import (
	"fmt"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
)

// snapshotOf returns what milestones of an item are detected on.
func snapshotOf(h *index.Hit) queue.Snapshot {
	s := queue.Snapshot{State: h.State, Stage: h.Stage}
	if h.Kind == index.KindVuln {
		s.Modified = h.Updated
	}
	return s
}

// A milestone is a change of an item that is worth consulting a client
// again about.
type milestone struct {
	kind, description string
}

// milestoneOf compares an item's snapshot at the prompt's last trigger with
// its snapshot now. Milestones are: a proposal changing stage; a CL or pull
// request merged; a CL abandoned or restored; an issue, proposal or pull
// request closed or reopened; a vulnerability amended (its modification
// time moved) or withdrawn. Anything else, such as a new comment, is not.
// Several changes at once make one milestone, of the kind of the first.
func milestoneOf(kind string, was, now queue.Snapshot) (milestone, bool) {
	var ms []milestone
	if now.Stage != was.Stage && now.Stage != "" {
		d := fmt.Sprintf("proposal moved from %s to %s", was.Stage, now.Stage)
		if was.Stage == "" {
			d = "proposal entered stage " + now.Stage
		}
		ms = append(ms, milestone{queue.TriggerStage, d})
	}
	if now.State != was.State {
		if m, ok := stateChange(kind, was.State, now.State); ok {
			ms = append(ms, m)
		}
	}
	if kind == index.KindVuln && now.Modified.After(was.Modified) && now.State == was.State {
		ms = append(ms, milestone{queue.TriggerAmended, "vulnerability amended (modified " + day(now.Modified) + ")"})
	}
	if len(ms) == 0 {
		return milestone{}, false
	}
	m := ms[0]
	for _, o := range ms[1:] {
		m.description += "; " + o.description
	}
	return m, true
}

func stateChange(kind, from, to string) (milestone, bool) {
	noun := nounOf(kind)
	switch to {
	case index.StateMerged:
		return milestone{queue.TriggerMerged, noun + " merged"}, true
	case index.StateAbandoned:
		return milestone{queue.TriggerAbandoned, noun + " abandoned"}, true
	case index.StateClosed:
		return milestone{queue.TriggerClosed, noun + " closed"}, true
	case index.StateWithdrawn:
		return milestone{queue.TriggerWithdrawn, noun + " withdrawn"}, true
	case index.StateOpen:
		return milestone{queue.TriggerReopened, noun + " reopened"}, true
	case index.StateNew:
		return milestone{queue.TriggerRestored, noun + " restored (under review again, was " + from + ")"}, true
	case index.StatePublished:
		return milestone{queue.TriggerAmended, noun + " published again (was " + from + ")"}, true
	}
	return milestone{}, false
}

func nounOf(kind string) string {
	switch kind {
	case index.KindChange:
		return "CL"
	case index.KindPull:
		return "pull request"
	case index.KindVuln:
		return "vulnerability"
	case index.KindProposal:
		return "proposal"
	}
	return "issue"
}

// firstDescription describes the first match of an item.
func firstDescription(it *queue.ItemInfo) string {
	switch it.Kind {
	case index.KindProposal:
		if it.Stage != "" {
			return "matched: proposal at stage " + it.Stage
		}
		return "matched: " + it.State + " proposal"
	case index.KindChange:
		switch it.State {
		case index.StateNew:
			return "matched: CL under review"
		default:
			return "matched: " + it.State + " CL"
		}
	case index.KindVuln:
		d := "matched: vulnerability published"
		if !it.Published.IsZero() {
			d += " " + day(it.Published)
		}
		if it.State == index.StateWithdrawn {
			d += ", withdrawn"
		}
		return d
	}
	return "matched: " + strings.TrimSpace(it.State+" "+nounOf(it.Kind))
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
