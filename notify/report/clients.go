package report

import (
	"errors"
	"sort"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// A ClientSummary is a client with its concerns and how many of its
// prompts are in each state.
type ClientSummary struct {
	ID       string              `json:"id"`
	Name     string              `json:"name"`
	Tier     string              `json:"tier"`
	Concerns []string            `json:"concerns"`
	Prompts  map[queue.State]int `json:"prompts"`
}

// Clients summarizes every client of the profiles, in their order. Prompts
// of concerns no longer in a profile are not counted.
func (e *Env) Clients() ([]ClientSummary, error) {
	if e.ProfilesErr != nil {
		return nil, e.ProfilesErr
	}
	now := e.now()
	counts := map[string]map[queue.State]int{}
	if e.Data != nil {
		err := e.Data.Store.View(func(tx *store.Tx) error {
			for _, p := range e.Profiles {
				n := map[queue.State]int{}
				err := queue.ForClient(tx, p.ID, func(pr *queue.Prompt) error {
					if p.Concern(pr.Concern) != nil {
						n[pr.StateAt(now)]++
					}
					return nil
				})
				if err != nil {
					return err
				}
				counts[p.ID] = n
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := []ClientSummary{}
	for _, p := range e.Profiles {
		s := ClientSummary{ID: p.ID, Name: p.Name, Tier: p.Tier, Prompts: counts[p.ID]}
		if s.Prompts == nil {
			s.Prompts = map[queue.State]int{}
		}
		for _, c := range p.Concerns {
			s.Concerns = append(s.Concerns, c.ID)
		}
		out = append(out, s)
	}
	return out, nil
}

// A Consultation is something the maintainer did with a prompt: marked it
// done (consulted the client) or dismissed it.
type Consultation struct {
	At      time.Time `json:"at"`
	Action  string    `json:"action"`
	Note    string    `json:"note,omitempty"`
	Prompt  string    `json:"prompt"`
	Concern string    `json:"concern"`
	Item    string    `json:"item"`
	Title   string    `json:"title"`
}

// ClientHistory is a client's record: its profile, every consultation
// (newest first), the history matches (items matched when a concern was
// first evaluated that were older than the look-back; newest updated
// first) and its prompts' states by concern.
type ClientHistory struct {
	Profile       *configs.Profile
	Consultations []Consultation
	History       []*queue.Prompt
	// Withdrawn are the prompts withdrawn after an edit of their concern.
	Withdrawn []*queue.Prompt
	Counts    map[string]map[queue.State]int // by concern ID
}

// ErrUnknownClient reports a client ID no profile has.
var ErrUnknownClient = errors.New("no such client")

// Client returns the history of the client with the given ID, or
// ErrUnknownClient.
func (e *Env) Client(id string) (*ClientHistory, error) {
	if e.ProfilesErr != nil {
		return nil, e.ProfilesErr
	}
	p := e.Profiles.Client(id)
	if p == nil {
		return nil, ErrUnknownClient
	}
	now := e.now()
	h := &ClientHistory{Profile: p, Consultations: []Consultation{}, Counts: map[string]map[queue.State]int{}}
	if e.Data != nil {
		err := e.Data.Store.View(func(tx *store.Tx) error {
			return queue.ForClient(tx, p.ID, func(pr *queue.Prompt) error {
				if p.Concern(pr.Concern) == nil {
					return nil
				}
				if h.Counts[pr.Concern] == nil {
					h.Counts[pr.Concern] = map[queue.State]int{}
				}
				h.Counts[pr.Concern][pr.StateAt(now)]++
				for _, ev := range pr.Log {
					if ev.Action == queue.ActionDone || ev.Action == queue.ActionDismissed {
						h.Consultations = append(h.Consultations, Consultation{At: ev.At, Action: ev.Action, Note: ev.Note, Prompt: pr.ID,
							Concern: pr.Concern, Item: pr.Item.ID, Title: pr.Item.Title})
					}
				}
				if pr.State == queue.History {
					h.History = append(h.History, pr)
				}
				if pr.State == queue.Withdrawn {
					h.Withdrawn = append(h.Withdrawn, pr)
				}
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(h.Consultations, func(i, j int) bool { return h.Consultations[i].At.After(h.Consultations[j].At) })
	sort.SliceStable(h.History, func(i, j int) bool { return h.History[i].Item.Updated.After(h.History[j].Item.Updated) })
	return h, nil
}
