package sla

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Bucket is the store bucket of SLA requests; see the package
// documentation.
const Bucket = "sla"

const reqPrefix = "req/"

// A Request is a client asking for help about a vulnerability.
type Request struct {
	ID     string    `json:"id"` // r1, r2, …
	Client string    `json:"client"`
	Vuln   string    `json:"vuln"`
	Asked  time.Time `json:"asked"`
	Note   string    `json:"note,omitempty"`
	// Deadline is when the answer is owed: Asked plus the client's
	// response time. Zero when the request is outside the SLA.
	Deadline time.Time `json:"deadline,omitzero"`
	// Outside says why the request is outside the SLA ("asked after the
	// window closed on …"); empty when it is covered.
	Outside string `json:"outside,omitempty"`
	// WindowCloses is when the client's window for the vulnerability
	// closes (zero when it has none).
	WindowCloses time.Time `json:"window_closes,omitzero"`
	Answered     time.Time `json:"answered,omitzero"`
	AnswerNote   string    `json:"answer_note,omitempty"`
}

// Covered reports whether the request is within the SLA.
func (r *Request) Covered() bool { return r.Outside == "" }

// IsOpen reports whether the request waits for an answer.
func (r *Request) IsOpen() bool { return r.Answered.IsZero() }

// Left returns how long is left to answer at t; negative when overdue.
// It is zero for a request outside the SLA.
func (r *Request) Left(t time.Time) time.Duration {
	if r.Deadline.IsZero() {
		return 0
	}
	return r.Deadline.Sub(t)
}

// Overdue reports whether a covered request is still unanswered after
// its deadline at t.
func (r *Request) Overdue(t time.Time) bool {
	return r.IsOpen() && !r.Deadline.IsZero() && t.After(r.Deadline)
}

// AnswerTime is how long the answer took; zero while open.
func (r *Request) AnswerTime() time.Duration {
	if r.Answered.IsZero() {
		return 0
	}
	return r.Answered.Sub(r.Asked)
}

// WithinResponse reports whether an answered request was answered by its
// deadline.
func (r *Request) WithinResponse() bool {
	return !r.Answered.IsZero() && (r.Deadline.IsZero() || !r.Answered.After(r.Deadline))
}

// ErrNoRequest reports a request ID the store does not hold.
var ErrNoRequest = errors.New("no such request")

func reqKey(n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(reqPrefix), n)
}

// ParseID checks a request ID typed by a user: r and a number.
func ParseID(s string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "r"), 10, 64)
	if err != nil || !strings.HasPrefix(strings.ToLower(s), "r") || n == 0 {
		return 0, fmt.Errorf("bad request ID %q: want r and a number, like r3 ('reciprocal sla list' shows them)", s)
	}
	return n, nil
}

// Decide fills in whether a request by client p about vulnerability it,
// asked at r.Asked, is within the SLA: the deadline, or why it is
// outside. matched are the concern IDs of p's prompts about it.
func (pol *Policy) Decide(r *Request, it *index.Item, p *configs.Profile, matched []string) {
	why := ""
	switch {
	case GoItself(it):
		why = WhyGo
	case pol.OwnProject(it):
		why = WhyOwn
	}
	w := pol.window(it, p, why, matched)
	loc := time.UTC
	if pol.Config != nil {
		loc = pol.Config.Location()
	}
	switch {
	case !w.Terms.Covered:
		r.Outside = "the client has no vulnerability SLA (sla = false in the profile)"
	case it.Kind != index.KindVuln:
		r.Outside = it.ID + " is not a vulnerability"
	case w.Why == "":
		r.Outside = it.ID + " does not qualify: a third-party module touching none of their concerns"
	case r.Asked.Before(w.Published):
		r.Outside = "asked before " + it.ID + " was published"
		r.WindowCloses = w.Closes
	case !r.Asked.Before(w.Closes):
		r.Outside = "asked after the window closed on " + w.Closes.In(loc).Format("Mon 2 Jan 15:04 MST")
		r.WindowCloses = w.Closes
	default:
		r.WindowCloses = w.Closes
		r.Deadline = r.Asked.Add(w.Terms.Response)
	}
}

// Add records a new request and returns it with its ID.
func Add(st *store.Store, r Request) (Request, error) {
	err := st.Update(func(tx *store.Tx) error {
		b, err := tx.Bucket(Bucket)
		if err != nil {
			return err
		}
		n, err := b.NextSequence()
		if err != nil {
			return err
		}
		r.ID = "r" + strconv.FormatUint(n, 10)
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return b.Put(reqKey(n), v)
	})
	if err != nil {
		return Request{}, fmt.Errorf("sla: record the request: %w", err)
	}
	return r, nil
}

// Answer records the answer to request id at t. Answering twice is an
// error that says when it was answered.
func Answer(st *store.Store, id string, t time.Time, note string) (Request, error) {
	n, err := ParseID(id)
	if err != nil {
		return Request{}, err
	}
	var r Request
	err = st.Update(func(tx *store.Tx) error {
		b, err := tx.Bucket(Bucket)
		if err != nil {
			return err
		}
		v := b.Get(reqKey(n))
		if v == nil {
			return fmt.Errorf("sla: %s: %w", id, ErrNoRequest)
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("sla: %s: %w", id, err)
		}
		if !r.Answered.IsZero() {
			return fmt.Errorf("sla: %s was already answered on %s", r.ID, r.Answered.Format(time.RFC3339))
		}
		if t.Before(r.Asked) {
			return fmt.Errorf("sla: %s: the answer (%s) cannot come before the request (%s)", r.ID, t.Format(time.RFC3339), r.Asked.Format(time.RFC3339))
		}
		r.Answered = t
		r.AnswerNote = note
		v, err = json.Marshal(r)
		if err != nil {
			return err
		}
		return b.Put(reqKey(n), v)
	})
	return r, err
}

// List returns every request, oldest first.
func List(st *store.Store) ([]Request, error) {
	var out []Request
	err := st.View(func(tx *store.Tx) error {
		var err error
		out, err = ListTx(tx)
		return err
	})
	return out, err
}

// ListTx is List in a transaction.
func ListTx(tx *store.Tx) ([]Request, error) {
	b, err := tx.Bucket(Bucket)
	if err != nil || b == nil {
		return nil, err
	}
	var out []Request
	c := b.Cursor()
	prefix := []byte(reqPrefix)
	for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), reqPrefix); k, v = c.Next() {
		var r Request
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, fmt.Errorf("sla: request %x: %w", k[len(prefix):], err)
		}
		out = append(out, r)
	}
	return out, nil
}

// OpenRequests returns the unanswered requests within the SLA, the
// earliest deadline first.
func OpenRequests(rs []Request) []Request {
	var out []Request
	for _, r := range rs {
		if r.IsOpen() && r.Covered() {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Deadline.Before(out[j].Deadline) })
	return out
}

// Matched returns, for each client, the concerns the matcher prompted for
// about item id (in any state, as the lead item of its topic or a member):
// how a query-only concern reaches a vulnerability.
func Matched(tx *store.Tx, id string) (map[string][]string, error) {
	all, err := MatchedAll(tx, []string{id})
	return all[id], err
}

// MatchedAll is Matched for several items, in one pass over the prompts:
// item ID → client → concern IDs (an item no prompt names is absent).
func MatchedAll(tx *store.Tx, ids []string) (map[string]map[string][]string, error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	out := map[string]map[string][]string{}
	add := func(id string, p *queue.Prompt) {
		if !want[id] {
			return
		}
		if out[id] == nil {
			out[id] = map[string][]string{}
		}
		if !slices.Contains(out[id][p.Client], p.Concern) {
			out[id][p.Client] = append(out[id][p.Client], p.Concern)
		}
	}
	err := queue.Scan(tx, nil, func(p *queue.Prompt) error {
		add(p.Item.ID, p)
		for _, m := range p.Members {
			if m.Item.ID != p.Item.ID {
				add(m.Item.ID, p)
			}
		}
		return nil
	})
	return out, err
}
