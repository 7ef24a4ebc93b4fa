package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/internal/fetch"

	gh "github.com/google/go-github/v60/github"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Tuning of the sync.
const (
	perPage = 100 // objects per page, GitHub's maximum

	// DefaultMaxWait is how long a sync waits for a rate limit when
	// source.Options.MaxWait is zero.
	DefaultMaxWait = source.DefaultMaxWait

	// maxRetries is how many times a request is retried after a server
	// error, a reset connection or a timeout.
	maxRetries = 4
	// maxLimitWaits is how many times one request waits for a rate limit
	// before the sync gives up.
	maxLimitWaits = 3
	// maxPasses bounds the passes over a listing in one sync; see
	// run.list.
	maxPasses = 5

	// resetSlack is added to the primary limit's reset time, for the
	// difference between GitHub's clock and ours.
	resetSlack = time.Second
	// secondaryDefault is the wait after a secondary limit without
	// Retry-After: GitHub asks for at least a minute.
	secondaryDefault = time.Minute
	// requestTimeout bounds one request, body included, unless the
	// WithHTTPClient client sets its own timeout.
	requestTimeout = 2 * time.Minute
)

// A Source syncs the issues, pull requests and issue comments of one GitHub
// repository into the store. It implements source.Source.
type Source struct {
	cfg     Config
	baseURL *url.URL
	base    *http.Client // without authentication
	sleep   func(context.Context, time.Duration) error

	tokenOnce sync.Once
	cred      *credential // set by WithToken or on the first Sync
}

// A credential is a token and where it came from. The Source holds it
// behind a pointer so that printing a Source (%v, %+v, %#v) shows an
// address, never the token.
type credential struct {
	token  string
	origin TokenOrigin
}

// An Option changes how a Source works.
type Option func(*Source)

// WithHTTPClient makes the Source send its requests through c (its
// transport, timeout and redirect policy). The token is added on top.
func WithHTTPClient(c *http.Client) Option {
	return func(s *Source) { s.base = c }
}

// WithToken sets the token instead of looking for one; "" means
// unauthenticated.
func WithToken(token string) Option {
	return func(s *Source) {
		s.cred = &credential{token: token, origin: TokenOrigin{Kind: TokenGiven}}
		if token == "" {
			s.cred.origin = TokenOrigin{Kind: NoToken}
		}
	}
}

// WithSleep replaces the function the Source waits with, between retries
// and for rate limits. It must return early with ctx's error when ctx is
// done. Tests use it to wait without waiting.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Source) { s.sleep = sleep }
}

// NewSource returns the Source of the repository cfg describes. Empty
// fields of cfg take GitHub's defaults (DefaultAPIURL). The token is looked
// for (see FindToken) on the first Sync.
func NewSource(cfg Config, opts ...Option) (*Source, error) {
	if err := configs.CheckRepo(cfg.Repo); err != nil {
		return nil, fmt.Errorf("github: repo %q: %v, like golang/go", cfg.Repo, err)
	}
	api := cfg.APIURL
	if api == "" {
		api = DefaultAPIURL
	}
	u, err := url.Parse(api)
	if err != nil || configs.CheckURL(api) != nil {
		return nil, fmt.Errorf("github: api_url %q: want an http or https URL", api)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	s := &Source{
		cfg:     cfg,
		baseURL: u,
		base:    http.DefaultClient,
		sleep:   fetch.SleepCtx,
	}
	for _, opt := range opts {
		opt(s)
	}
	return s, nil
}

// Name returns "github owner/name".
func (s *Source) Name() string { return "github " + s.cfg.Repo }

// TokenOrigin says where the Source's token comes from, looking for it if
// it has not yet.
func (s *Source) TokenOrigin(ctx context.Context) TokenOrigin {
	return s.credential(ctx).origin
}

// credential returns the token and its origin, looking for them once.
func (s *Source) credential(ctx context.Context) *credential {
	s.tokenOnce.Do(func() {
		if s.cred == nil {
			tok, origin := findToken(ctx, s.cfg)
			s.cred = &credential{token: tok, origin: origin}
		}
	})
	return s.cred
}

// Backfill returns how far back a first sync (one without a cursor)
// reaches, and what chose it: source.Options.Since (source.BackfillOption), else the
// configuration's since (source.BackfillConfig), else a year before now
// (source.BackfillDefault).
func (s *Source) Backfill(opts source.Options) (time.Time, string) {
	return source.Backfill(opts, s.cfg.Since)
}

// A Cursor is where a listing of the repository resumes: the updated_at of
// the newest object stored from it, and the ETag of the listing's first
// page since then when that page held the whole listing (so that a 304
// Not Modified means nothing changed).
type Cursor struct {
	Since time.Time `json:"since"`
	ETag  string    `json:"etag,omitempty"`
}

// CursorName returns the store key of a listing's cursor: "github:" +
// owner/name (lower case) + ":issues" or ":comments".
func CursorName(repo, listing string) string {
	return "github:" + strings.ToLower(repo) + ":" + listing
}

// Cursor returns the stored cursor of a listing (ListIssues or
// ListComments), and whether there is one: a first sync has none.
func (s *Source) Cursor(st *store.Store, listing string) (c Cursor, ok bool, err error) {
	ok, err = source.LoadCursor(st, CursorName(s.cfg.Repo, listing), &c)
	return c, ok, err
}

// The listings a Source reads, each with its own cursor.
const (
	ListIssues   = "issues"   // issues and pull requests
	ListComments = "comments" // issue and pull request comments
)

// A LimitError reports that a sync stopped at a rate limit that lifts
// later than source.Options.MaxWait allows. What was synced before it is
// saved; syncing again after RetryAfter continues from there.
type LimitError struct {
	Secondary  bool          // the secondary (abuse) limit, not the hourly one
	RetryAfter time.Time     // when the limit lifts
	Wait       time.Duration // how long the sync would have had to wait
	MaxWait    time.Duration
	Err        error // the API's answer
}

func (e *LimitError) Error() string {
	what := "API rate limit exhausted"
	if e.Secondary {
		what = "secondary rate limit hit"
	}
	return fmt.Sprintf("github: %s until %s (%s away, longer than the %s a sync waits); what was synced so far is saved: sync again after that time",
		what, e.RetryAfter.UTC().Format(time.RFC3339), e.Wait.Round(time.Second), e.MaxWait)
}

func (e *LimitError) Unwrap() error { return e.Err }

// A requestError is a request that failed for good. Its message names the
// URL (which never holds the token: that travels in a header).
type requestError struct {
	url string
	msg string
	err error
}

func (e *requestError) Error() string { return "github: GET " + e.url + ": " + e.msg }
func (e *requestError) Unwrap() error { return e.err }

// Sync brings the repository's changed issues, pull requests and comments
// into st. See the package documentation for how.
func (s *Source) Sync(ctx context.Context, st *store.Store, opts source.Options) (source.Stats, error) {
	opts, stats := source.Begin(s.Name(), opts)
	r := &run{s: s, st: st, opts: opts, start: opts.Now(), stats: stats, cred: s.credential(ctx)}
	r.newClient()
	var err error
	listings := []string{ListIssues, ListComments}
	for i, l := range listings {
		r.later = len(listings) - 1 - i
		if err = r.list(ctx, l); err != nil {
			break
		}
	}
	source.Finish(&r.stats, opts, r.start, err)
	return r.stats, err
}

// A run is one Sync.
type run struct {
	s     *Source
	st    *store.Store
	opts  source.Options
	start time.Time
	cred  *credential
	gh    *gh.Client
	stats source.Stats
	later int // listings after the current one, for Estimate
}

// newClient makes a go-github client for the run. It is made again after
// waiting for a rate limit: go-github remembers the limit and, reading the
// wall clock, refuses requests until it lifts, which would second-guess our
// own (injectable) clock.
func (r *run) newClient() {
	base := r.s.base
	transport := base.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	transport = countRequests{base: transport, n: &r.stats.Requests}
	hc := &http.Client{
		Transport:     newHostAuth(r.s.baseURL.Host, r.cred.token, transport),
		CheckRedirect: base.CheckRedirect,
		Jar:           base.Jar,
		Timeout:       base.Timeout,
	}
	if hc.Timeout == 0 {
		hc.Timeout = requestTimeout
	}
	c := gh.NewClient(hc)
	c.BaseURL = r.s.baseURL
	c.UserAgent = "reciprocal"
	r.gh = c
}

// countRequests counts the requests that reach the network.
type countRequests struct {
	base http.RoundTripper
	n    *int
}

func (t countRequests) RoundTrip(req *http.Request) (*http.Response, error) {
	*t.n++
	return t.base.RoundTrip(req)
}

// An entry is one object of a page, parsed.
type entry struct {
	key       int64 // issue number or comment ID: its identity in the listing
	itemID    string
	commentID int64 // 0 for issues
	updated   time.Time
}

// parse checks a raw object of the listing and says where it goes.
func parse(listing string, raw []byte) (entry, error) {
	if listing == ListIssues {
		is, err := ParseIssue(raw)
		if err != nil {
			return entry{}, err
		}
		repo, err := is.Repo()
		if err != nil {
			return entry{}, err
		}
		return entry{key: int64(is.Number), itemID: index.GitHubID(repo, is.Number), updated: is.UpdatedAt}, nil
	}
	c, err := ParseComment(raw)
	if err != nil {
		return entry{}, err
	}
	id, err := c.IssueRef()
	if err != nil {
		return entry{}, err
	}
	if c.UpdatedAt.IsZero() {
		return entry{}, fmt.Errorf("github: comment %d: no updated_at", c.ID)
	}
	return entry{key: c.ID, itemID: id, commentID: c.ID, updated: c.UpdatedAt}, nil
}

// list brings one listing up to date: passes over it until a pass finds
// nothing newer than where it started.
func (r *run) list(ctx context.Context, listing string) error {
	cur, ok, err := r.s.Cursor(r.st, listing)
	if err != nil {
		return err
	}
	if !ok {
		var from string
		cur.Since, from = r.s.Backfill(r.opts)
		slog.Info("github: first sync", "source", r.s.Name(), "listing", listing, "since", cur.Since, "from", from)
	}
	for pass := 1; ; pass++ {
		next, settled, err := r.pass(ctx, listing, cur)
		if err != nil || settled {
			return err
		}
		cur = next
		if pass == maxPasses {
			// The repository changes faster than we read it. The
			// cursor is safe; the next sync goes on from it.
			slog.Info("github: still changing, leaving the rest to the next sync", "source", r.s.Name(), "listing", listing, "since", cur.Since)
			return nil
		}
	}
}

// pass reads the listing of objects updated since start.Since, page by
// page, committing each page with the cursor that covers it. It returns
// the last cursor committed, and whether the pass is settled: it found
// nothing newer than start.Since, so another pass would read the same.
//
// GitHub pages by offset. An object updated while we page moves to the end
// of the listing, the objects after it move up one place, and the first
// object of the next page slides into the page already read. We see this
// as an object met twice in one pass with different updated_at; the
// cursor then stays at the first sighting's updated_at (every object that
// can have slid past is at least that new), and another pass reads on
// from there. Only a sync stopped between the slide and the second
// sighting misses the slid object, until it next changes.
func (r *run) pass(ctx context.Context, listing string, start Cursor) (Cursor, bool, error) {
	name := CursorName(r.s.cfg.Repo, listing)
	cur := start
	high := start.Since  // newest updated_at seen in this pass
	var rewind time.Time // where to resume after a slide, if any
	// seen holds the updated_at (Unix nanoseconds: half the bytes of a
	// time.Time) of every object met in this pass, to see slides: a
	// first sync of golang/go meets 800,000 comments in one pass.
	seen := make(map[int64]int64)
	for page := 1; page != 0; {
		if err := ctx.Err(); err != nil {
			return cur, false, err
		}
		etag := ""
		if page == 1 {
			etag = start.ETag
		}
		p, err := r.fetch(ctx, r.pageURL(listing, start.Since, page), etag)
		if err != nil {
			return cur, false, err
		}
		if p.notModified {
			r.progress()
			return start, true, nil
		}
		entries := make([]entry, len(p.raws))
		for i, raw := range p.raws {
			if entries[i], err = parse(listing, raw); err != nil {
				return cur, false, &requestError{url: p.url, msg: fmt.Sprintf("object %d of the page: %v", i+1, err), err: err}
			}
			e := entries[i]
			updated := e.updated.UnixNano()
			if was, ok := seen[e.key]; ok && was != updated {
				if prev := time.Unix(0, was).UTC(); rewind.IsZero() || prev.Before(rewind) {
					rewind = prev
				}
			}
			seen[e.key] = updated
			if e.updated.After(high) {
				high = e.updated
			}
		}
		next := Cursor{Since: high}
		if !rewind.IsZero() && rewind.Before(next.Since) {
			next.Since = rewind
		}
		if page == 1 && p.next == 0 && next.Since.Equal(start.Since) {
			// This page is the whole listing since next.Since:
			// its ETag will tell the next sync whether anything
			// changed.
			next.ETag = p.etag
		}
		if err := r.commit(listing, name, p.raws, entries, next); err != nil {
			return cur, false, err
		}
		cur = next
		r.stats.Pages++
		if p.last > 0 {
			// Pages left in this pass, one more pass from the new
			// cursor, one request at least for each later listing.
			r.stats.Estimate = r.stats.Requests + (p.last - page) + 1 + r.later
		}
		r.progress()
		slog.Debug("github: page", "source", r.s.Name(), "listing", listing, "page", page, "objects", len(entries), "since", cur.Since)
		page = p.next
	}
	return cur, cur.Since.Equal(start.Since) && rewind.IsZero(), nil
}

// commit stores a page of objects and the cursor that covers them in one
// transaction.
func (r *run) commit(listing, name string, raws []json.RawMessage, entries []entry, cur Cursor) error {
	cv, err := json.Marshal(cur)
	if err != nil {
		return err
	}
	var items, comments source.Counts
	err = r.st.Update(func(tx *store.Tx) error {
		for i, e := range entries {
			if listing == ListIssues {
				ch, err := tx.PutItem(e.itemID, Kind, raws[i])
				if err != nil {
					return err
				}
				items.Add(ch)
			} else {
				ch, err := tx.PutComment(e.itemID, e.commentID, raws[i])
				if err != nil {
					return err
				}
				comments.Add(ch)
			}
		}
		return tx.SetCursor(name, cv)
	})
	if err != nil {
		return fmt.Errorf("github: %s: %w", listing, err)
	}
	r.stats.AddItems(items)
	r.stats.Comments.Merge(comments)
	return nil
}

func (r *run) progress() {
	if r.opts.Progress != nil {
		r.opts.Progress(r.stats)
	}
}

// pageURL returns the API path and query of one page of a listing, sorted
// oldest change first.
func (r *run) pageURL(listing string, since time.Time, page int) string {
	q := url.Values{}
	owner, name, _ := strings.Cut(r.s.cfg.Repo, "/")
	path := "repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/issues"
	if listing == ListIssues {
		q.Set("state", "all")
	} else {
		path += "/comments"
	}
	q.Set("sort", "updated")
	q.Set("direction", "asc")
	q.Set("since", since.UTC().Format(time.RFC3339))
	q.Set("per_page", strconv.Itoa(perPage))
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	return path + "?" + q.Encode()
}

// errEmptyBody is a 200 answer without a body: GitHub sends [] for an empty
// listing.
var errEmptyBody = errors.New("empty body")

// A page is one answer of a listing.
type page struct {
	url         string            // absolute, for messages
	raws        []json.RawMessage // the objects, byte for byte as served
	etag        string
	next, last  int // from the Link header; 0 if none
	notModified bool
}

// fetch gets one page, waiting out rate limits (up to MaxWait) and retrying
// server errors, reset connections and timeouts with jittered exponential
// backoff.
//
// The body is decoded by go-github's Client.Do into []json.RawMessage: each
// element keeps the exact bytes GitHub sent, so the store holds the raw
// JSON as served (no re-marshalled structs), while go-github still builds
// the request, parses Link and the rate-limit headers, and turns error
// answers into typed errors. A capturing RoundTripper would do the same
// with a second copy of every body and more code.
func (r *run) fetch(ctx context.Context, path, etag string) (page, error) {
	var tries, waits int
	for {
		req, err := r.gh.NewRequest(http.MethodGet, path, nil)
		if err != nil {
			return page{}, fmt.Errorf("github: %w", err)
		}
		p := page{url: req.URL.String()}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		var raws []json.RawMessage
		resp, err := r.gh.Do(ctx, req, &raws)
		if resp != nil && resp.Response != nil && resp.Request != nil {
			// go-github's errors keep the response, and it the
			// request as sent, token and all: drop the token.
			resp.Request.Header.Del("Authorization")
		}
		if resp != nil && resp.Response != nil && resp.Header.Get("X-RateLimit-Limit") != "" {
			r.stats.RateRemaining = resp.Rate.Remaining
			r.stats.RateReset = resp.Rate.Reset.Time
		}
		if resp != nil && resp.StatusCode == http.StatusNotModified {
			r.stats.NotModified++
			p.notModified = true
			return p, nil
		}
		if err == nil && raws == nil {
			err = errEmptyBody
		}
		if err == nil {
			p.raws, p.etag, p.next, p.last = raws, resp.Header.Get("ETag"), resp.NextPage, resp.LastPage
			return p, nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return p, cerr
		}

		f := r.classify(resp, err)
		switch {
		case f.limit:
			if waits++; waits > maxLimitWaits {
				return p, &requestError{url: p.url, msg: fmt.Sprintf("still rate limited after waiting %d times", maxLimitWaits), err: err}
			}
			if err := r.waitLimit(ctx, f, err); err != nil {
				return p, err
			}
		case f.retry:
			if tries++; tries > maxRetries {
				return p, &requestError{url: p.url, msg: fmt.Sprintf("%s (gave up after %d attempts)", f.msg, tries), err: err}
			}
			d := fetch.Backoff(tries)
			// Logged, not warned about: see fetch.Getter.Get.
			slog.Info("github: request failed, retrying", "source", r.s.Name(), "url", p.url, "err", f.msg, "attempt", tries, "backoff", d)
			if err := r.s.sleep(ctx, d); err != nil {
				return p, err
			}
		default:
			return p, &requestError{url: p.url, msg: f.msg, err: err}
		}
	}
}

// A failure says what to do about a failed request.
type failure struct {
	msg string // what went wrong, without the URL

	retry bool // a transient fault: back off and retry

	limit     bool // a rate limit: wait until, then retry
	secondary bool
	until     time.Time
}

// classify sorts a failed request's error into rate limits, transient
// faults and the rest.
func (r *run) classify(resp *gh.Response, err error) failure {
	now := r.opts.Now()
	var rle *gh.RateLimitError
	var are *gh.AbuseRateLimitError
	var ere *gh.ErrorResponse
	switch {
	case errors.As(err, &rle):
		return failure{msg: "API rate limit exhausted", limit: true, until: rle.Rate.Reset.Time.Add(resetSlack)}
	case errors.As(err, &are):
		d := secondaryDefault
		if are.RetryAfter != nil && *are.RetryAfter > 0 {
			d = *are.RetryAfter
		}
		return failure{msg: "secondary rate limit", limit: true, secondary: true, until: now.Add(d)}
	case errors.As(err, &ere) && ere.Response != nil:
		code := ere.Response.StatusCode
		msg := strconv.Itoa(code) + " " + http.StatusText(code)
		if ere.Message != "" {
			msg += ": " + ere.Message
		}
		h := ere.Response.Header
		switch {
		case (code == http.StatusForbidden || code == http.StatusTooManyRequests) && h.Get("X-RateLimit-Remaining") == "0":
			// go-github types only 403s as *RateLimitError.
			reset, _ := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
			return failure{msg: msg, limit: true, until: time.Unix(reset, 0).Add(resetSlack)}
		case code == http.StatusForbidden && h.Get("Retry-After") != "", code == http.StatusTooManyRequests:
			d := secondaryDefault
			if secs, err := strconv.Atoi(h.Get("Retry-After")); err == nil && secs > 0 {
				d = time.Duration(secs) * time.Second
			}
			return failure{msg: msg, limit: true, secondary: true, until: now.Add(d)}
		case code >= 500:
			return failure{msg: msg, retry: true}
		case code == http.StatusUnauthorized:
			msg += fmt.Sprintf(" (the token from %s was refused)", r.cred.origin)
		case code == http.StatusNotFound && !r.cred.origin.Authenticated():
			msg += " (a private repository needs a token)"
		}
		return failure{msg: msg}
	case resp != nil && resp.Response != nil && resp.StatusCode == http.StatusOK:
		// The answer was 200 but its body was cut short or did not
		// decode: asking again, like after a reset connection, gets
		// the whole page. Nothing of it was stored.
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, errEmptyBody) {
			return failure{msg: "malformed or truncated response: " + err.Error(), retry: true}
		}
		return failure{msg: "reading the response: " + err.Error(), retry: true}
	}
	// No answer: the connection failed, was reset, or timed out.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return failure{msg: err.Error(), retry: true}
}

// waitLimit waits for a rate limit to lift if it lifts within MaxWait, and
// otherwise stops the sync with a *LimitError.
func (r *run) waitLimit(ctx context.Context, f failure, err error) error {
	wait := f.until.Sub(r.opts.Now())
	if wait < resetSlack {
		wait = resetSlack
	}
	if r.opts.MaxWait < 0 || wait > r.opts.MaxWait {
		r.stats.RetryAfter = f.until
		return &LimitError{Secondary: f.secondary, RetryAfter: f.until, Wait: wait, MaxWait: max(r.opts.MaxWait, 0), Err: err}
	}
	slog.Info("github: rate limited, waiting", "source", r.s.Name(), "limit", f.msg, "wait", wait.Round(time.Second))
	if err := r.s.sleep(ctx, wait); err != nil {
		return err
	}
	r.newClient()
	return nil
}

var _ source.Source = (*Source)(nil)

// HasCursor reports whether the repository has been synced before: a
// source without a cursor makes its first sync, reaching back as far as
// Backfill says.
func (s *Source) HasCursor(st *store.Store) (bool, error) {
	_, ok, err := s.Cursor(st, ListIssues)
	return ok, err
}
