// Package advisories watches the maintainer's own GitHub repositories for
// published repository security advisories: a vulnerability in one of
// "my personal projects" qualifies for the clients' SLA like one in Go.
//
// # Protocol
//
// For each [[advisories]] repository:
//
//	GET {api_url}repos/OWNER/NAME/security-advisories?state=published&sort=updated&direction=desc&per_page=100
//
// (go-github's SecurityAdvisories.ListRepositorySecurityAdvisories; the
// body is kept as served, one JSON object per advisory). The first page is
// asked for with If-None-Match and the ETag of the last sync's first page:
// a 304 means nothing changed, one request that GitHub does not count
// against the rate limit. Otherwise pages follow Link rel="next" (GitHub
// pages this listing with cursors) until an advisory updated no later
// than the cursor: everything older is already stored. A repository has
// few advisories, so a sync commits them and the cursor in one
// transaction.
//
// Advisories are stored under their GHSA ID, source "advisories", and
// normalized as vulnerability items (Normalize): the Go modules they name
// are the item's packages, so concerns on those modules match them, and
// their vulnerable ranges and patched versions are the item's Affected.
//
// # Key schema
//
//	cursors  "advisories:" + OWNER/NAME → Cursor (JSON)
//
// The token comes from the variable token_env names (GITHUB_TOKEN by
// default) and is sent only to the configured API host: a next-page link to
// another host is refused.
package advisories

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/internal/fetch"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// A Source is the advisories of one repository.
type Source struct {
	cfg   Config
	base  *url.URL
	token string
	get   *fetch.Getter
}

// An Option adjusts a Source.
type Option func(*Source)

// WithHTTPClient sends the requests through c.
func WithHTTPClient(c *http.Client) Option { return func(s *Source) { s.get.Client = c } }

// WithToken sets the token instead of reading the configured variable;
// "" sends none.
func WithToken(tok string) Option { return func(s *Source) { s.token = tok } }

// WithSleep replaces the waits between retries (tests).
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Source) { s.get.Sleep = sleep }
}

// NewSource returns the source of cfg's repository.
func NewSource(cfg Config, opts ...Option) (*Source, error) {
	api := cfg.APIURL
	if api == "" {
		api = github.DefaultAPIURL
	}
	if !strings.HasSuffix(api, "/") {
		api += "/"
	}
	base, err := url.Parse(api)
	if err != nil {
		return nil, fmt.Errorf("advisories: api_url %q: %w", cfg.APIURL, err)
	}
	s := &Source{cfg: cfg, base: base, get: &fetch.Getter{Source: "advisories " + cfg.Repo, Valid: fetch.ValidJSON("")}}
	if env := cfg.TokenEnv; env != "" {
		s.token = os.Getenv(env)
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Name identifies the source: "advisories owner/name".
func (s *Source) Name() string { return "advisories " + s.cfg.Repo }

// A Cursor is how far a repository's advisories are synced.
type Cursor struct {
	// Updated is the newest updated_at stored.
	Updated time.Time `json:"updated"`
	// ETag is the ETag of the last sync's first page.
	ETag string `json:"etag,omitempty"`
}

// CursorName is the name of the cursor of repo.
func CursorName(repo string) string { return "advisories:" + repo }

// Sync stores the advisories published or updated since the last sync.
func (s *Source) Sync(ctx context.Context, st *store.Store, opts source.Options) (source.Stats, error) {
	opts, stats := source.Begin(s.Name(), opts)
	start := opts.Now()
	s.get.Now, s.get.MaxWait = opts.Now, opts.MaxWait
	before := s.get.Requests()
	err := s.sync(ctx, st, &stats)
	stats.Requests = s.get.Requests() - before
	source.Finish(&stats, opts, start, err)
	return stats, err
}

func (s *Source) sync(ctx context.Context, st *store.Store, stats *source.Stats) error {
	var cur Cursor
	if _, err := source.LoadCursor(st, CursorName(s.cfg.Repo), &cur); err != nil {
		return err
	}

	type adv struct {
		id      string
		updated time.Time
		raw     []byte
	}
	var got []adv
	next := s.base.JoinPath("repos", s.cfg.Repo, "security-advisories")
	q := next.Query()
	q.Set("state", "published")
	q.Set("sort", "updated")
	q.Set("direction", "desc")
	q.Set("per_page", "100")
	next.RawQuery = q.Encode()
	u := next.String()
	newCur := cur
	first := true
pages:
	for u != "" {
		h := s.header()
		if first && cur.ETag != "" {
			h.Set("If-None-Match", cur.ETag)
		}
		resp, err := s.get.Get(ctx, u, h)
		if err != nil {
			return s.explain(err)
		}
		s.rate(stats, resp.Header)
		if resp.Status == http.StatusNotModified {
			stats.NotModified++
			return nil
		}
		stats.Pages++
		if first {
			newCur.ETag = resp.Header.Get("ETag")
			first = false
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(resp.Body, &raws); err != nil {
			return fmt.Errorf("advisories: GET %s: want a JSON array of advisories: %w", u, err)
		}
		for _, raw := range raws {
			a, err := Parse(raw)
			if err != nil {
				return fmt.Errorf("advisories: GET %s: %w", u, err)
			}
			t := a.GetUpdatedAt().Time
			if !cur.Updated.IsZero() && !t.After(cur.Updated) {
				break pages // sorted newest first: the rest is stored
			}
			got = append(got, adv{a.GetGHSAID(), t, raw})
			if t.After(newCur.Updated) {
				newCur.Updated = t
			}
		}
		if u, err = s.nextPage(resp.Header.Get("Link")); err != nil {
			return err
		}
	}

	var c source.Counts
	err := st.Update(func(tx *store.Tx) error {
		c = source.Counts{}
		// Oldest first, so that the store's modification order follows
		// the advisories' own.
		for i := len(got) - 1; i >= 0; i-- {
			ch, err := tx.PutItem(got[i].id, Kind, got[i].raw)
			if err != nil {
				return err
			}
			c.Add(ch)
		}
		v, err := json.Marshal(newCur)
		if err != nil {
			return err
		}
		return tx.SetCursor(CursorName(s.cfg.Repo), v)
	})
	if err != nil {
		return fmt.Errorf("advisories: %s: %w", s.cfg.Repo, err)
	}
	stats.New, stats.Updated, stats.Unchanged = c.New, c.Updated, c.Unchanged
	return nil
}

func (s *Source) header() http.Header {
	h := http.Header{}
	h.Set("Accept", "application/vnd.github+json")
	h.Set("X-GitHub-Api-Version", "2022-11-28")
	if s.token != "" {
		h.Set("Authorization", "Bearer "+s.token)
	}
	return h
}

// rate records GitHub's rate-limit headers.
func (s *Source) rate(stats *source.Stats, h http.Header) {
	if n, err := strconv.Atoi(h.Get("X-RateLimit-Remaining")); err == nil {
		stats.RateRemaining = n
	}
	if n, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		stats.RateReset = time.Unix(n, 0).UTC()
	}
}

var nextLink = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<([^>]+)>;\s*rel="next"`) })

// nextPage returns the next page's URL from a Link header, or "". A link to
// another host than the API's is refused: the token goes nowhere else.
func (s *Source) nextPage(link string) (string, error) {
	m := nextLink().FindStringSubmatch(link)
	if m == nil {
		return "", nil
	}
	u, err := url.Parse(m[1])
	if err != nil {
		return "", fmt.Errorf("advisories: %s: bad next-page link %q: %w", s.cfg.Repo, m[1], err)
	}
	if u.Scheme != s.base.Scheme || u.Host != s.base.Host {
		return "", fmt.Errorf("advisories: %s: the next-page link %q leaves %s; refusing to send the token there", s.cfg.Repo, m[1], s.base.Host)
	}
	return u.String(), nil
}

// explain adds what to do to a failed request.
func (s *Source) explain(err error) error {
	var fe *fetch.Error
	if errors.As(err, &fe) {
		switch fe.Status {
		case http.StatusNotFound:
			return fmt.Errorf("%w (is %s a repository you can read? security advisories need a token with access to it)", err, s.cfg.Repo)
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w (check the token in $%s)", err, s.cfg.TokenEnv)
		}
	}
	return err
}
