// Package gerrittest is a fake Gerrit code review server for tests and
// demos: an httptest server that holds ChangeInfo objects as raw JSON and
// answers change queries in Gerrit's wire format.
//
// It implements the one endpoint reciprocal reads,
//
//	GET /changes/?q=QUERY&o=OPTION…&n=LIMIT&S=START   (also under /a/)
//
// with the query operators project:, after: (since:), before: (until:) and
// status: (open, closed, new, merged, abandoned), ANDed; values may be
// quoted with "…" or '…'. Times are "2006-01-02[ 15:04:05[.000]][ -0700]",
// UTC when no zone is given, and after: and before: are inclusive, as in
// Gerrit. Results come newest updated first (then highest number first),
// at most n (default and maximum: the server's limit, 500) from offset S;
// when more follow, the last object carries "_more_changes": true. Every
// body starts with Gerrit's )]}' guard line. Known o= options are accepted
// and ignored — the fake serves each object as it was put, whatever it
// holds — and unknown ones are refused with 400, as Gerrit does.
//
// Changes are put and replaced at runtime (Put, AddJSONL, Edit, SetStatus,
// AddMessage); Stats counts requests, and FailNext makes the next requests
// fail: 500, a reset connection, a body cut short, 429 or 503 with
// Retry-After.
package gerrittest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/internal/fakehttp"
)

// TimeLayout is the layout of Gerrit timestamps, which are UTC.
const TimeLayout = "2006-01-02 15:04:05.000000000"

// FormatTime formats t as Gerrit does.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// DefaultLimit is how many changes a query returns at most, unless the
// server is told otherwise with SetLimit.
const DefaultLimit = 500

// A Server is a running fake Gerrit.
type Server struct {
	*fakehttp.Server // URL, Close, faults and request counts

	mu      sync.Mutex
	changes map[key]*change
	sorted  []*change // newest updated first; nil after a change
	limit   int
}

type key struct {
	project string
	number  int
}

// A change is one ChangeInfo as served.
type change struct {
	key
	updated time.Time
	status  string
	raw     []byte
}

// NewServer starts a fake Gerrit with no changes. Close it when done.
func NewServer() *Server {
	s := &Server{changes: make(map[key]*change), limit: DefaultLimit}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /changes/", s.query)
	mux.HandleFunc("GET /a/changes/", s.query)
	s.Server = fakehttp.Start(mux)
	return s
}

// Client returns an HTTP client that reaches the server whatever host a
// URL names, so that a test can configure a Gerrit URL like
// http://go-review.test and get the item IDs the real host gives
// (go-review:…).
func (s *Server) Client() *http.Client { return fakehttp.RoutingClient(s.Addr()) }

// SetLimit sets the most changes one query returns (the default and
// maximum of n).
func (s *Server) SetLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = n
}

// Put adds a ChangeInfo object, or replaces the one with the same project
// and number. The object is served byte for byte as given (less
// surrounding white space).
func (s *Server) Put(raw []byte) error {
	c, err := parseChange(raw)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changes[c.key] = c
	s.sorted = nil
	return nil
}

// Len returns how many changes the server holds.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.changes)
}

// Change returns the raw JSON of a change, as served.
func (s *Server) Change(project string, number int) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.changes[key{project, number}]
	if !ok {
		return nil, false
	}
	return bytes.Clone(c.raw), true
}

// AddJSONL reads JSON Lines of ChangeInfo objects (plain or
// gzip-compressed) and puts each one. It returns how many lines it put; a
// line whose change is already held replaces it, so Len may grow by less.
func (s *Server) AddJSONL(r io.Reader) (int, error) {
	return fakehttp.AddJSONL(r, s.Put)
}

// Edit replaces a change by fn's edit of its decoded object (numbers kept
// as json.Number). The edited object is re-encoded compactly, with its
// members in sorted order.
func (s *Server) Edit(project string, number int, fn func(c map[string]any)) error {
	raw, ok := s.Change(project, number)
	if !ok {
		return fmt.Errorf("gerrittest: no change %s/%d", project, number)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("gerrittest: change %s/%d: %w", project, number, err)
	}
	fn(m)
	out, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.Put(out)
}

// SetStatus sets a change's status (NEW, MERGED or ABANDONED) at time at,
// which becomes its updated time (and submitted time, for MERGED), and
// adds the message Gerrit adds.
func (s *Server) SetStatus(project string, number int, status string, at time.Time) error {
	text := map[string]string{
		"MERGED":    "Change has been successfully merged",
		"ABANDONED": "Abandoned",
		"NEW":       "Restored",
	}[status]
	if text == "" {
		return fmt.Errorf("gerrittest: status %q: want NEW, MERGED or ABANDONED", status)
	}
	return s.Edit(project, number, func(c map[string]any) {
		c["status"] = status
		c["updated"] = FormatTime(at)
		if status == "MERGED" {
			c["submitted"] = FormatTime(at)
		}
		c["messages"] = append(messagesOf(c), message(c, "Gopher Robot", text, at))
	})
}

// AddMessage adds a review message by author to a change at time at, which
// becomes its updated time.
func (s *Server) AddMessage(project string, number int, author, text string, at time.Time) error {
	return s.Edit(project, number, func(c map[string]any) {
		c["updated"] = FormatTime(at)
		c["messages"] = append(messagesOf(c), message(c, author, text, at))
	})
}

func messagesOf(c map[string]any) []any {
	ms, _ := c["messages"].([]any)
	return ms
}

func message(c map[string]any, author, text string, at time.Time) map[string]any {
	return map[string]any{
		"id":               fmt.Sprintf("%x", at.UnixNano()),
		"author":           map[string]any{"name": author},
		"date":             FormatTime(at),
		"message":          text,
		"_revision_number": 1,
	}
}

// parseChange reads the members the fake needs from a ChangeInfo.
func parseChange(raw []byte) (*change, error) {
	raw = bytes.TrimSpace(raw)
	var v struct {
		Project     string          `json:"project"`
		Number      int             `json:"_number"`
		Updated     string          `json:"updated"`
		Status      string          `json:"status"`
		MoreChanges json.RawMessage `json:"_more_changes"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("gerrittest: change: %w", err)
	}
	if v.Project == "" || v.Number <= 0 {
		return nil, errors.New("gerrittest: change object needs project and _number")
	}
	if v.MoreChanges != nil {
		return nil, fmt.Errorf("gerrittest: change %s/%d carries _more_changes, which belongs to a listing, not a change", v.Project, v.Number)
	}
	updated, err := time.ParseInLocation(TimeLayout, v.Updated, time.UTC)
	if err != nil {
		return nil, fmt.Errorf("gerrittest: change %s/%d: updated %q: want %q", v.Project, v.Number, v.Updated, TimeLayout)
	}
	return &change{key: key{v.Project, v.Number}, updated: updated, status: v.Status, raw: raw}, nil
}

// order returns the changes newest updated first, then highest number
// first. The caller holds s.mu.
func (s *Server) order() []*change {
	if s.sorted != nil {
		return s.sorted
	}
	o := make([]*change, 0, len(s.changes))
	for _, c := range s.changes {
		o = append(o, c)
	}
	slices.SortFunc(o, func(a, b *change) int {
		if c := b.updated.Compare(a.updated); c != 0 {
			return c
		}
		if c := cmp.Compare(b.number, a.number); c != 0 {
			return c
		}
		return strings.Compare(a.project, b.project)
	})
	s.sorted = o
	return o
}

// options are the ListChangesOption names Gerrit accepts for o=.
var options = map[string]bool{
	"LABELS": true, "DETAILED_LABELS": true, "SUBMIT_REQUIREMENTS": true,
	"CURRENT_REVISION": true, "ALL_REVISIONS": true, "CURRENT_COMMIT": true,
	"ALL_COMMITS": true, "CURRENT_FILES": true, "ALL_FILES": true,
	"DETAILED_ACCOUNTS": true, "REVIEWER_UPDATES": true, "MESSAGES": true,
	"CURRENT_ACTIONS": true, "CHANGE_ACTIONS": true, "REVIEWED": true,
	"SKIP_DIFFSTAT": true, "SUBMITTABLE": true, "WEB_LINKS": true,
	"CHECK": true, "COMMIT_FOOTERS": true, "PUSH_CERTIFICATES": true,
	"TRACKING_IDS": true, "DOWNLOAD_COMMANDS": true, "STAR": true,
	"PARENTS": true,
}

// A filter is a parsed query: every set field must match.
type filter struct {
	projects []string
	after    time.Time
	before   time.Time
	statuses []string
}

func (f *filter) match(c *change) bool {
	if f.projects != nil && !slices.Contains(f.projects, c.project) {
		return false
	}
	if !f.after.IsZero() && c.updated.Before(f.after) {
		return false
	}
	if !f.before.IsZero() && c.updated.After(f.before) {
		return false
	}
	return f.statuses == nil || slices.Contains(f.statuses, c.status)
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	if p := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/a"), "/changes/"); p != "" {
		http.Error(w, "Not found", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	f, err := parseQuery(q.Get("q"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, o := range q["o"] {
		if !options[o] {
			http.Error(w, fmt.Sprintf("%q is not a valid value for \"-o\"", o), http.StatusBadRequest)
			return
		}
	}
	s.mu.Lock()
	limit := s.limit
	s.mu.Unlock()
	n := limit
	if v := q.Get("n"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			http.Error(w, fmt.Sprintf("%q is not a valid value for \"-n\"", v), http.StatusBadRequest)
			return
		}
		n = min(n, limit)
	}
	start := 0
	for _, name := range []string{"S", "start"} {
		if v := q.Get(name); v != "" {
			if start, err = strconv.Atoi(v); err != nil || start < 0 {
				http.Error(w, fmt.Sprintf("%q is not a valid value for \"-S\"", v), http.StatusBadRequest)
				return
			}
		}
	}

	s.mu.Lock()
	var page []*change
	more := false
	skipped := 0
	for _, c := range s.order() {
		if !f.match(c) {
			continue
		}
		if skipped < start {
			skipped++
			continue
		}
		if len(page) == n {
			more = true
			break
		}
		page = append(page, c)
	}
	s.mu.Unlock()

	var body bytes.Buffer
	body.WriteString(")]}'\n[")
	for i, c := range page {
		if i > 0 {
			body.WriteByte(',')
		}
		if more && i == len(page)-1 {
			body.Write(withMoreChanges(c.raw))
		} else {
			body.Write(c.raw)
		}
	}
	body.WriteString("]\n")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(body.Bytes())
}

// withMoreChanges returns obj with the member "_more_changes": true added
// last, right after the last member.
func withMoreChanges(obj []byte) []byte {
	end := bytes.LastIndexByte(obj, '}')
	i := end
	for i > 0 && isSpace(obj[i-1]) {
		i--
	}
	out := make([]byte, 0, len(obj)+24)
	out = append(out, obj[:i]...)
	if obj[i-1] != '{' {
		out = append(out, ',')
	}
	out = append(out, `"_more_changes":true`...)
	return append(out, obj[i:]...)
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// parseQuery parses the operators of a change query that the fake knows.
func parseQuery(q string) (*filter, error) {
	f := &filter{}
	terms, err := splitQuery(q)
	if err != nil {
		return nil, err
	}
	for _, t := range terms {
		op, val, ok := strings.Cut(t, ":")
		if !ok {
			return nil, fmt.Errorf("Unsupported query: %s", t)
		}
		switch op {
		case "project":
			f.projects = append(f.projects, val)
		case "after", "since":
			if f.after, err = parseQueryTime(val); err != nil {
				return nil, err
			}
		case "before", "until":
			if f.before, err = parseQueryTime(val); err != nil {
				return nil, err
			}
		case "status":
			switch strings.ToLower(val) {
			case "open", "pending", "new":
				f.statuses = append(f.statuses, "NEW")
			case "merged":
				f.statuses = append(f.statuses, "MERGED")
			case "abandoned":
				f.statuses = append(f.statuses, "ABANDONED")
			case "closed":
				f.statuses = append(f.statuses, "MERGED", "ABANDONED")
			default:
				return nil, fmt.Errorf("Unrecognized value: %s", val)
			}
		default:
			return nil, fmt.Errorf("Unsupported operator %s", op)
		}
	}
	return f, nil
}

// splitQuery splits a query into op:value terms at spaces outside quotes,
// removing the quotes.
func splitQuery(q string) ([]string, error) {
	var terms []string
	var cur strings.Builder
	quote := byte(0)
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '{':
			quote = '}'
		case c == ' ' || c == '+':
			if cur.Len() > 0 {
				terms = append(terms, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("line 1:%d mismatched input, unterminated quote", len(q))
	}
	if cur.Len() > 0 {
		terms = append(terms, cur.String())
	}
	return terms, nil
}

// queryTimeLayouts are the forms of TIME in after:, before: and their
// synonyms. Go's parser takes fractional seconds after the seconds field
// even when a layout does not show them.
var queryTimeLayouts = []string{
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

func parseQueryTime(v string) (time.Time, error) {
	for _, layout := range queryTimeLayouts {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("Unrecognized date value: %s", v)
}

// A ChangeSpec describes a change for NewChange.
type ChangeSpec struct {
	Project  string
	Branch   string // default master
	Number   int
	Subject  string
	Body     string // commit message after the subject line
	Status   string // default NEW
	Owner    string
	Created  time.Time // default Updated less a day
	Updated  time.Time
	Files    []string
	Messages []MessageSpec
}

// A MessageSpec is a review message of a ChangeSpec.
type MessageSpec struct {
	Author string
	Date   time.Time
	Text   string
}

// NewChange returns a ChangeInfo like the one Gerrit serves for a query
// with o=CURRENT_REVISION, CURRENT_COMMIT, CURRENT_FILES and MESSAGES,
// members in Gerrit's order.
func NewChange(spec ChangeSpec) []byte {
	if spec.Branch == "" {
		spec.Branch = "master"
	}
	if spec.Status == "" {
		spec.Status = "NEW"
	}
	if spec.Owner == "" {
		spec.Owner = "Gopher"
	}
	if spec.Created.IsZero() {
		spec.Created = spec.Updated.Add(-24 * time.Hour)
	}
	changeID := fmt.Sprintf("I%040x", uint64(spec.Number)*0x9e3779b97f4a7c15)
	rev := fmt.Sprintf("%040x", uint64(spec.Number)*0xbf58476d1ce4e5b9)
	type account struct {
		Name string `json:"name"`
	}
	type file struct {
		LinesInserted int `json:"lines_inserted,omitempty"`
	}
	type commit struct {
		Subject string `json:"subject"`
		Message string `json:"message"`
	}
	type revision struct {
		Kind    string          `json:"kind"`
		Number  int             `json:"_number"`
		Created string          `json:"created"`
		Ref     string          `json:"ref"`
		Commit  commit          `json:"commit"`
		Files   map[string]file `json:"files"`
	}
	type message struct {
		ID       string  `json:"id"`
		Author   account `json:"author"`
		Date     string  `json:"date"`
		Message  string  `json:"message"`
		Revision int     `json:"_revision_number"`
	}
	v := struct {
		ID              string              `json:"id"`
		Project         string              `json:"project"`
		Branch          string              `json:"branch"`
		Hashtags        []string            `json:"hashtags"`
		ChangeID        string              `json:"change_id"`
		Subject         string              `json:"subject"`
		Status          string              `json:"status"`
		Created         string              `json:"created"`
		Updated         string              `json:"updated"`
		Submitted       string              `json:"submitted,omitempty"`
		Insertions      int                 `json:"insertions"`
		Deletions       int                 `json:"deletions"`
		Number          int                 `json:"_number"`
		Owner           account             `json:"owner"`
		CurrentRevision string              `json:"current_revision"`
		Revisions       map[string]revision `json:"revisions"`
		Messages        []message           `json:"messages"`
	}{
		ID:              spec.Project + "~" + strconv.Itoa(spec.Number),
		Project:         spec.Project,
		Branch:          spec.Branch,
		Hashtags:        []string{},
		ChangeID:        changeID,
		Subject:         spec.Subject,
		Status:          spec.Status,
		Created:         FormatTime(spec.Created),
		Updated:         FormatTime(spec.Updated),
		Insertions:      10 * len(spec.Files),
		Number:          spec.Number,
		Owner:           account{spec.Owner},
		CurrentRevision: rev,
		Messages:        []message{},
	}
	if spec.Status == "MERGED" {
		v.Submitted = v.Updated
	}
	files := make(map[string]file)
	for _, f := range spec.Files {
		files[f] = file{LinesInserted: 10}
	}
	msg := spec.Subject + "\n"
	if spec.Body != "" {
		msg += "\n" + spec.Body + "\n"
	}
	msg += "\nChange-Id: " + changeID + "\n"
	v.Revisions = map[string]revision{rev: {
		Kind:    "REWORK",
		Number:  1,
		Created: v.Created,
		Ref:     fmt.Sprintf("refs/changes/%02d/%d/1", spec.Number%100, spec.Number),
		Commit:  commit{Subject: spec.Subject, Message: msg},
		Files:   files,
	}}
	for i, m := range spec.Messages {
		v.Messages = append(v.Messages, message{
			ID:       fmt.Sprintf("%x%04x", spec.Number, i),
			Author:   account{m.Author},
			Date:     FormatTime(m.Date),
			Message:  m.Text,
			Revision: 1,
		})
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
