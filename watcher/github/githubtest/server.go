// Package githubtest is a fake GitHub REST API for tests and demos: an
// httptest server that serves issues and issue comments, held as raw JSON,
// in the wire format of api.github.com.
//
// It implements the two listings reciprocal reads,
//
//	GET /repos/{owner}/{name}/issues?state=&sort=&direction=&since=&per_page=&page=
//	GET /repos/{owner}/{name}/issues/comments?sort=&direction=&since=&per_page=&page=
//
// with GitHub's defaults, Link headers (next, last, first, prev), weak ETags
// answered 304 Not Modified on a matching If-None-Match, and the
// X-RateLimit-* headers of a configurable primary rate limit. Objects are
// served byte for byte as they were put. Fault hooks make the next requests
// fail the ways the real service does: 5xx, a reset connection, a body cut
// short, the secondary rate limit, an exhausted primary limit.
//
// The server's clock can be replaced, so that a test's fake sleeper can move
// time past a rate limit's reset without waiting.
package githubtest

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reciprocal-access/reciprocal/internal/jsonl"
	"github.com/reciprocal-access/reciprocal/watcher/internal/fakehttp"
)

// DefaultRateLimit is the primary rate limit of a new Server: an hour's
// budget of an authenticated user.
const DefaultRateLimit = 5000

// A Server is a running fake GitHub API. Its fault queue and counters are
// the embedded fakehttp.Faults (CutEvery, Stats, ResetStats, OnRequest).
type Server struct {
	fakehttp.Faults
	srv *httptest.Server

	mu       sync.Mutex
	issues   map[string]*object     // by "owner/name#number"
	comments map[int64]*object      // by comment ID
	sorted   map[orderKey][]*object // listings in ascending order, until a Put
	now      func() time.Time
	lastAuth string
	token    string // if set, the only credentials accepted

	// Primary rate limit: limit requests per window; remaining until reset.
	limit     int
	window    time.Duration
	remaining int
	reset     time.Time
}

// An object is one issue or comment as served.
type object struct {
	repo    string // owner/name, lower case
	number  int    // issue number (of the comment's issue, for comments)
	id      int64  // comment ID; 0 for issues
	state   string // issues only
	created time.Time
	updated time.Time
	raw     []byte
}

// An orderKey names one ascending order of a listing.
type orderKey struct {
	issues bool
	sort   string // "created" or "updated"
}

// Stats counts the requests a Server answered.
type Stats = fakehttp.Stats

// A Fault is a way for the next requests to fail.
type Fault = fakehttp.Fault

// The faults a Server injects.
const (
	ServerError = fakehttp.ServerError // 500 with GitHub's error body
	ConnReset   = fakehttp.ConnReset   // the connection closed with a TCP reset
	Truncate    = fakehttp.Truncate    // 200 with the real headers and half the body
	Malformed   = fakehttp.Malformed   // 200 with half the body under a matching Content-Length: cut JSON
	// SecondaryLimit answers 403 with Retry-After, as GitHub's secondary
	// rate limit does; see SecondaryLimitNext.
	SecondaryLimit = fakehttp.SecondaryLimit
)

// NewServer starts a fake GitHub API with no data. Close it when done.
func NewServer() *Server {
	s := &Server{
		issues:   make(map[string]*object),
		comments: make(map[int64]*object),
		sorted:   make(map[orderKey][]*object),
		now:      time.Now,
		limit:    DefaultRateLimit,
		window:   time.Hour,
	}
	s.remaining = s.limit
	s.reset = s.now().Add(s.window)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{name}/issues", s.listIssues)
	mux.HandleFunc("GET /repos/{owner}/{name}/issues/comments", s.listComments)
	s.srv = httptest.NewServer(s.middleware(mux))
	return s
}

// URL returns the base URL of the API, with a trailing slash: the api_url
// of a github.Config entry.
func (s *Server) URL() string { return s.srv.URL + "/" }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// SetClock replaces the clock the server uses for rate-limit windows.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
	s.reset = now().Add(s.window)
}

// PutIssue adds an issue or pull request object, or replaces the one with
// the same repository and number.
func (s *Server) PutIssue(raw []byte) error {
	obj, err := parseIssue(raw)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issues[obj.repo+"#"+strconv.Itoa(obj.number)] = obj
	clear(s.sorted)
	return nil
}

// PutComment adds an issue comment object, or replaces the one with the
// same ID.
func (s *Server) PutComment(raw []byte) error {
	obj, err := parseComment(raw)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.comments[obj.id] = obj
	clear(s.sorted)
	return nil
}

// AddJSONL reads JSON Lines of issue and comment objects (plain or
// gzip-compressed) and puts each one. A comment is an object with an
// issue_url and no number. It returns how many objects it put.
func (s *Server) AddJSONL(r io.Reader) (int, error) {
	n := 0
	err := jsonl.Each(r, func(line int, raw []byte) error {
		var probe struct {
			Number   *int    `json:"number"`
			IssueURL *string `json:"issue_url"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		raw = bytes.Clone(raw)
		var err error
		if probe.IssueURL != nil && probe.Number == nil {
			err = s.PutComment(raw)
		} else {
			err = s.PutIssue(raw)
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		n++
		return nil
	})
	return n, err
}

// SetRateLimit sets the primary rate limit to limit requests per hour and
// starts a fresh window with the whole budget.
func (s *Server) SetRateLimit(limit int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit, s.remaining = limit, limit
	s.reset = s.now().Add(s.window)
}

// ExhaustRateLimit spends the rest of the primary rate limit: requests are
// answered 403 with X-RateLimit-Remaining 0 until reset, when the budget
// refills.
func (s *Server) ExhaustRateLimit(reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remaining = 0
	s.reset = reset
}

// FailNext makes the next n requests fail with f (ServerError, ConnReset,
// Truncate or Malformed), after any faults already queued.
func (s *Server) FailNext(n int, f Fault) { s.Faults.FailNext(n, f, 0) }

// SecondaryLimitNext makes the next request (after any faults already
// queued) hit the secondary rate limit, answered 403 with the given
// Retry-After.
func (s *Server) SecondaryLimitNext(retryAfter time.Duration) {
	s.Faults.FailNext(1, SecondaryLimit, retryAfter)
}

// RequireToken makes the server answer 401 Bad credentials to requests
// that do not carry token (as "Bearer" or "token" Authorization); "" accepts
// every request again.
func (s *Server) RequireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// LastAuthorization returns the Authorization header of the last request.
func (s *Server) LastAuthorization() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastAuth
}

// middleware counts requests, injects faults and applies the primary rate
// limit before the listing handlers run.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		s.mu.Lock()
		s.lastAuth = auth
		badAuth := s.token != "" && auth != "Bearer "+s.token && auth != "token "+s.token
		s.mu.Unlock()
		kind, retryAfter := s.Take(r, badAuth)
		s.mu.Lock()
		if now := s.now(); !now.Before(s.reset) {
			s.remaining = s.limit
			s.reset = now.Add(s.window)
		}
		exhausted := s.remaining <= 0
		s.mu.Unlock()

		if badAuth {
			writeError(w, http.StatusUnauthorized, "Bad credentials", "")
			return
		}
		switch kind {
		case ServerError:
			writeError(w, http.StatusInternalServerError, "Server Error", "")
			return
		case ConnReset:
			fakehttp.ResetConn(w)
			return
		case SecondaryLimit:
			s.rateHeaders(w.Header())
			w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
			writeError(w, http.StatusForbidden,
				"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
				"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")
			return
		}

		if exhausted {
			s.rateHeaders(w.Header())
			writeError(w, http.StatusForbidden,
				"API rate limit exceeded for user ID 1.",
				"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits")
			return
		}

		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rec.Result().StatusCode == http.StatusNotModified {
			s.NotModified() // conditional hits do not count against the limit
		} else {
			s.mu.Lock()
			s.remaining--
			s.mu.Unlock()
		}
		s.rateHeaders(w.Header())
		fakehttp.WriteRecorded(w, rec, kind)
	})
}

// rateHeaders sets the X-RateLimit-* headers of the primary limit.
func (s *Server) rateHeaders(h http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(s.remaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.limit-max(s.remaining, 0)))
	h.Set("X-RateLimit-Resource", "core")
}

func writeError(w http.ResponseWriter, code int, msg, doc string) {
	if doc == "" {
		doc = "https://docs.github.com/rest"
	}
	body, _ := json.Marshal(map[string]string{"message": msg, "documentation_url": doc})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	w.Write(body)
}

// listQuery is the parsed query of a listing.
type listQuery struct {
	state   string
	sort    string
	asc     bool
	since   time.Time
	perPage int
	page    int
}

func parseListQuery(q url.Values, forIssues bool) (listQuery, error) {
	lq := listQuery{state: "open", sort: "created", perPage: 30, page: 1}
	if v := q.Get("state"); v != "" {
		if v != "open" && v != "closed" && v != "all" {
			return lq, fmt.Errorf("state %q", v)
		}
		lq.state = v
	}
	if v := q.Get("sort"); v != "" {
		if v != "created" && v != "updated" {
			return lq, fmt.Errorf("sort %q", v)
		}
		lq.sort = v
	}
	// Issues list newest first by default; comments oldest first.
	lq.asc = !forIssues
	switch q.Get("direction") {
	case "asc":
		lq.asc = true
	case "desc":
		lq.asc = false
	case "":
	default:
		return lq, fmt.Errorf("direction %q", q.Get("direction"))
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return lq, fmt.Errorf("since %q", v)
		}
		lq.since = t
	}
	var err error
	if v := q.Get("per_page"); v != "" {
		if lq.perPage, err = strconv.Atoi(v); err != nil || lq.perPage < 1 {
			return lq, fmt.Errorf("per_page %q", v)
		}
		lq.perPage = min(lq.perPage, 100)
	}
	if v := q.Get("page"); v != "" {
		if lq.page, err = strconv.Atoi(v); err != nil || lq.page < 1 {
			return lq, fmt.Errorf("page %q", v)
		}
	}
	return lq, nil
}

func (s *Server) listIssues(w http.ResponseWriter, r *http.Request) {
	s.list(w, r, true)
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	s.list(w, r, false)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, issues bool) {
	lq, err := parseListQuery(r.URL.Query(), issues)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed: "+err.Error(), "")
		return
	}
	repo := strings.ToLower(r.PathValue("owner") + "/" + r.PathValue("name"))
	s.mu.Lock()
	order := s.order(orderKey{issues, lq.sort})
	s.mu.Unlock()
	var all []*object
	for _, o := range order {
		if o.repo != repo || o.updated.Before(lq.since) || issues && lq.state != "all" && o.state != lq.state {
			continue
		}
		all = append(all, o)
	}
	if !lq.asc {
		slices.Reverse(all)
	}

	last := max(1, (len(all)+lq.perPage-1)/lq.perPage)
	lo := min((lq.page-1)*lq.perPage, len(all))
	hi := min(lo+lq.perPage, len(all))
	var body bytes.Buffer
	body.WriteByte('[')
	for i, o := range all[lo:hi] {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(o.raw)
	}
	body.WriteByte(']')

	sum := sha256.Sum256(body.Bytes())
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
	if link := linkHeader(r, lq.page, last); link != "" {
		h.Set("Link", link)
	}
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.Write(body.Bytes())
}

// order returns the objects of a listing in ascending order of k.sort,
// then of number and ID. It caches the order until the next Put; the
// caller holds s.mu.
func (s *Server) order(k orderKey) []*object {
	if o, ok := s.sorted[k]; ok {
		return o
	}
	var o []*object
	if k.issues {
		for _, is := range s.issues {
			o = append(o, is)
		}
	} else {
		for _, c := range s.comments {
			o = append(o, c)
		}
	}
	slices.SortFunc(o, func(a, b *object) int {
		ka, kb := a.created, b.created
		if k.sort == "updated" {
			ka, kb = a.updated, b.updated
		}
		if c := ka.Compare(kb); c != 0 {
			return c
		}
		if c := cmp.Compare(a.number, b.number); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	s.sorted[k] = o
	return o
}

// linkHeader returns the Link header of page out of last.
func linkHeader(r *http.Request, page, last int) string {
	pageURL := func(n int) string {
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		u.RawQuery = q.Encode()
		return u.String()
	}
	var links []string
	if page > 1 {
		links = append(links, fmt.Sprintf(`<%s>; rel="prev"`, pageURL(page-1)))
	}
	if page < last {
		links = append(links,
			fmt.Sprintf(`<%s>; rel="next"`, pageURL(page+1)),
			fmt.Sprintf(`<%s>; rel="last"`, pageURL(last)))
	}
	if page > 1 {
		links = append(links, fmt.Sprintf(`<%s>; rel="first"`, pageURL(1)))
	}
	return strings.Join(links, ", ")
}

// etagMatch reports whether an If-None-Match header names etag, comparing
// weakly as RFC 9110 asks for If-None-Match.
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	weak := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == "*" || weak(t) == weak(etag) {
			return true
		}
	}
	return false
}

// parseIssue reads the fields the fake needs from an issue object.
func parseIssue(raw []byte) (*object, error) {
	var v struct {
		Number        int       `json:"number"`
		State         string    `json:"state"`
		CreatedAt     time.Time `json:"created_at"`
		UpdatedAt     time.Time `json:"updated_at"`
		RepositoryURL string    `json:"repository_url"`
		URL           string    `json:"url"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("githubtest: issue: %w", err)
	}
	repo := repoOf(v.RepositoryURL)
	if repo == "" {
		repo = repoOf(v.URL)
	}
	if v.Number <= 0 || repo == "" || v.UpdatedAt.IsZero() {
		return nil, errors.New("githubtest: issue object needs number, updated_at and repository_url or url")
	}
	if v.State == "" {
		v.State = "open"
	}
	return &object{repo: strings.ToLower(repo), number: v.Number, state: v.State, created: v.CreatedAt, updated: v.UpdatedAt, raw: bytes.TrimSpace(raw)}, nil
}

// parseComment reads the fields the fake needs from a comment object.
func parseComment(raw []byte) (*object, error) {
	var v struct {
		ID        int64     `json:"id"`
		IssueURL  string    `json:"issue_url"`
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("githubtest: comment: %w", err)
	}
	repo := repoOf(v.IssueURL)
	i := strings.LastIndexByte(v.IssueURL, '/')
	n, err := strconv.Atoi(v.IssueURL[i+1:])
	if v.ID <= 0 || repo == "" || err != nil || v.UpdatedAt.IsZero() {
		return nil, errors.New("githubtest: comment object needs id, updated_at and an issue_url naming its issue")
	}
	return &object{repo: strings.ToLower(repo), number: n, id: v.ID, created: v.CreatedAt, updated: v.UpdatedAt, raw: bytes.TrimSpace(raw)}, nil
}

// repoOf returns owner/name from an API URL …/repos/OWNER/NAME[/…].
func repoOf(u string) string {
	_, rest, ok := strings.Cut(u, "/repos/")
	if !ok {
		return ""
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return ""
	}
	return parts[0] + "/" + parts[1]
}
