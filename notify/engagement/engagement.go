// Package engagement builds a client's engagement record: every time the
// maintainer consulted them, every request under the vulnerability SLA
// and how fast it was answered, the alerts that named them, and the notes
// and digests sent to them, in date order, with a summary line ("12
// consultations, 4 vulnerabilities answered in a median 1h 40m, all
// within 6h; 2 digests sent").
//
// It reads only what other packages keep in the store: the prompt queue's
// logs (a prompt marked done is a consultation, its note the outcome), the
// SLA requests, the alert records and the mailbox.
package engagement

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/alert"
	"github.com/reciprocal-access/reciprocal/notify/sla"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Kinds of events.
const (
	Consultation = "consultation" // a prompt marked done, with its note
	Request      = "request"      // the client asked under the SLA
	Answer       = "answer"       // the request was answered
	Alert        = "alert"        // an alert named the client
	Note         = "note"         // a note was sent to the client
	Digest       = "digest"       // a digest was sent to the client
)

// An Event is one entry of the record.
type Event struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	Ref   string    `json:"ref"`             // item ID, request ID or mailbox key
	Title string    `json:"title,omitempty"` // the item's title, a message's subject
	Note  string    `json:"note,omitempty"`  // the outcome, what they asked, what you answered
	// Concern is the concern a consultation was about.
	Concern string `json:"concern,omitempty"`
	// AnswerSeconds and Within describe an answer: how long it took, and
	// whether it met the deadline.
	AnswerSeconds int64 `json:"answer_seconds,omitempty"`
	Within        *bool `json:"within,omitempty"`
	// Outside says why a request was outside the SLA.
	Outside string `json:"outside,omitempty"`
}

// A Summary counts the record.
type Summary struct {
	Consultations int `json:"consultations"`
	Requests      int `json:"requests"`
	// VulnsAnswered counts the vulnerabilities with at least one answered
	// request within the SLA; the answer times are of those requests.
	VulnsAnswered int           `json:"vulnerabilities_answered"`
	MedianAnswer  time.Duration `json:"median_answer_ns"`
	Late          int           `json:"late"` // answered after the deadline
	Response      time.Duration `json:"response_ns"`
	Open          int           `json:"open"` // requests not answered yet
	Alerts        int           `json:"alerts"`
	Notes         int           `json:"notes"`
	Digests       int           `json:"digests"`
}

// String writes the summary line.
func (s Summary) String() string {
	var parts []string
	parts = append(parts, plural(s.Consultations, "consultation", "consultations"))
	if s.VulnsAnswered > 0 {
		v := plural(s.VulnsAnswered, "vulnerability", "vulnerabilities") + " answered in a median " + notify.FormatDuration(s.MedianAnswer)
		if s.Late == 0 {
			v += ", all within " + notify.FormatDuration(s.Response)
		} else {
			v += ", " + strconv.Itoa(s.Late) + " after the " + notify.FormatDuration(s.Response) + " response"
		}
		parts = append(parts, v)
	} else if s.Requests == 0 {
		parts = append(parts, "no SLA requests")
	}
	if s.Open > 0 {
		parts = append(parts, plural(s.Open, "request open", "requests open"))
	}
	tail := []string{plural(s.Digests, "digest", "digests") + " sent"}
	if s.Notes > 0 {
		tail = append([]string{plural(s.Notes, "note", "notes") + " sent"}, tail...)
	}
	if s.Alerts > 0 {
		tail = append([]string{plural(s.Alerts, "alert", "alerts")}, tail...)
	}
	return strings.Join(parts, ", ") + "; " + strings.Join(tail, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// A Record is one client's engagement record.
type Record struct {
	Client  string  `json:"client"`
	Name    string  `json:"name"`
	Since   string  `json:"since,omitempty"`
	Events  []Event `json:"events"`
	Summary Summary `json:"summary"`
	// Line is the summary as a sentence.
	Line string `json:"summary_line"`
}

// Build reads the engagement record of client p from the store: the
// events at or after since (zero: all), oldest first. pol gives the
// client's response time.
func Build(st *store.Store, pol *sla.Policy, p *configs.Profile, since time.Time) (*Record, error) {
	r := &Record{Client: p.ID, Name: p.Name, Events: []Event{}}
	if !since.IsZero() {
		r.Since = since.Format(time.DateOnly)
	}
	r.Summary.Response = pol.Terms(p).Response
	keep := func(t time.Time) bool { return since.IsZero() || !t.Before(since) }
	var answers []time.Duration
	answered := map[string]bool{}
	err := st.View(func(tx *store.Tx) error {
		err := queue.ForClient(tx, p.ID, func(pr *queue.Prompt) error {
			for _, ev := range pr.Log {
				if ev.Action != queue.ActionDone || !keep(ev.At) {
					continue
				}
				r.Events = append(r.Events, Event{At: ev.At, Kind: Consultation, Ref: pr.Item.ID, Title: pr.Item.Title, Note: ev.Note, Concern: pr.Concern})
				r.Summary.Consultations++
			}
			return nil
		})
		if err != nil {
			return err
		}
		reqs, err := sla.ListTx(tx)
		if err != nil {
			return err
		}
		for _, q := range reqs {
			if q.Client != p.ID {
				continue
			}
			if keep(q.Asked) {
				r.Events = append(r.Events, Event{At: q.Asked, Kind: Request, Ref: q.ID, Title: q.Vuln, Note: q.Note, Outside: q.Outside})
				r.Summary.Requests++
				if q.IsOpen() && q.Covered() {
					r.Summary.Open++
				}
			}
			if !q.IsOpen() && keep(q.Answered) {
				within := q.WithinResponse()
				r.Events = append(r.Events, Event{At: q.Answered, Kind: Answer, Ref: q.ID, Title: q.Vuln, Note: q.AnswerNote,
					AnswerSeconds: int64(q.AnswerTime() / time.Second), Within: &within, Outside: q.Outside})
				if q.Covered() {
					answers = append(answers, q.AnswerTime())
					answered[q.Vuln] = true
					if !within {
						r.Summary.Late++
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("engagement: %s: %w", p.ID, err)
	}
	recs, err := alert.Records(st)
	if err != nil {
		return nil, err
	}
	for _, a := range recs {
		if slices.Contains(a.Clients, p.ID) && keep(a.Alerted) {
			r.Events = append(r.Events, Event{At: a.Alerted, Kind: Alert, Ref: a.ID})
			r.Summary.Alerts++
		}
	}
	mail, err := notify.NewMailbox(st).Entries("")
	if err != nil {
		return nil, err
	}
	for _, e := range mail {
		kind := mailKind(e.Key, p.ID)
		if kind == "" || e.State != notify.StateSent || !keep(e.Sent) {
			continue
		}
		r.Events = append(r.Events, Event{At: e.Sent, Kind: kind, Ref: e.Key, Title: e.Subject})
		if kind == Note {
			r.Summary.Notes++
		} else {
			r.Summary.Digests++
		}
	}
	sort.SliceStable(r.Events, func(i, j int) bool { return r.Events[i].At.Before(r.Events[j].At) })
	r.Summary.VulnsAnswered = len(answered)
	r.Summary.MedianAnswer = median(answers)
	r.Line = r.Summary.String()
	return r, nil
}

// mailKind says whether a mailbox key is a note or digest to client.
func mailKind(key, client string) string {
	parts := strings.Split(key, "/")
	switch {
	case len(parts) == 3 && parts[0] == "note" && parts[2] == client:
		return Note
	case len(parts) == 3 && parts[0] == "digest" && parts[1] == client:
		return Digest
	}
	return ""
}

// median returns the median of ds (the mean of the middle two for an even
// count); zero for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
