// Package gerrit reads Gerrit code review (Go's is go-review.googlesource.com):
// it turns ChangeInfo objects into items and syncs changes incrementally into
// the store.
//
// # Sync
//
// A [Source] covers the projects of one gerrit entry of the configuration
// (a Config). For each project it lists the changes updated since the
// project's cursor, newest updated first, 500 a page:
//
//	GET /changes/?q=project:P after:"2006-01-02 15:04:05"&o=CURRENT_REVISION&o=CURRENT_COMMIT&o=CURRENT_FILES&o=MESSAGES&n=500&S=OFFSET
//
// asking for compact JSON (Accept: application/json), stripping the )]}'
// guard line, and paging with S until a page's last change no longer
// carries "_more_changes": true. Each change is stored with
// store.Tx.PutItem under its item ID (go-review:crypto/815480), byte for
// byte as served with two exceptions: the "_more_changes" member, which
// Gerrit adds to the last change of a page and which belongs to the
// listing, not the change, is removed (so that a change stores the same
// bytes whichever page it came on, and an unchanged change stays
// unchanged); and an object served on several lines (pretty-printed, which
// old Gerrit versions do without the Accept header) is compacted, since
// the store's export is one object per line. Status (NEW, MERGED,
// ABANDONED) and the review messages are part of the stored object.
//
// # Cursors
//
// Each project has a cursor in the store's cursors bucket:
//
//	gerrit:{label}:{project}  → {"after":"2026-08-17T15:22:44.123Z"}
//	                          → {"after":"…","pending":{"target":"2026-08-19T20:26:05Z","offset":1500}}
//
// label is the first label of the host name (go-review). after is the
// newest updated time of the changes stored by the last complete listing:
// every change updated before it is stored. The next listing asks for
// after:"after less the overlap" (two minutes, whole seconds): Gerrit's
// query times have one-second resolution and after: is inclusive, and the
// overlap also covers a change whose index entry lands a little after its
// updated time. The changes of the overlap come again and are stored
// unchanged (PutItem compares the bytes), so nothing is missed or doubled.
//
// The listing runs newest first, so after may only move when the listing
// has been read down to the old after. Until then the cursor carries
// pending: target, the newest updated time seen by this listing, and
// offset, the S of the next page. Every page is committed in one
// transaction with the cursor that covers it; the last page's transaction
// sets after to target and drops pending. A sync that is cancelled or
// killed resumes the listing at offset (less a few changes, in case some
// left the listing meanwhile) with the same after; once that listing is
// done it reads the top of the listing again from the new after, since the
// changes updated meanwhile sort before the resumed offset. A change
// updated while a listing is read moves to its top, which pushes the
// changes below it down a place: a later page serves again a change
// already stored, which is harmless, and none is skipped. The moved change
// itself is newer than target, so the next sync reads it.
//
// A project without a cursor is read from source.Options.Since, else the
// configuration's since, else a year back.
//
// # Limits and faults
//
// Server errors, reset connections and timeouts are retried four times
// with jittered exponential backoff; 429 and 503 with Retry-After are
// waited out when that fits in source.Options.MaxWait (default 15 minutes),
// and otherwise the sync stops with a [*LimitError], its cursors saved and
// source.Stats.RetryAfter set. A page that is cut short or does not parse is
// an error naming the URL, and nothing of it is committed. A project that
// fails this way does not stop the others; a rate limit, a server that
// stays down, or cancellation does.
//
// # Why not golang.org/x/build/gerrit
//
// The Go team's client decodes query results into its ChangeInfo struct
// and keeps no bytes: the store must hold the JSON as served, and a struct
// re-encoded would drop every member the struct does not know. Its raw-body
// path is unexported. So the Source makes the same request the client
// makes (GET /changes/ with q, o, n and S) itself, and strips the guard
// line the same way. The client is used in gerrittest's tests, to check
// that the fake speaks the wire format the Go team's own code reads.
package gerrit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher/internal/fetch"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Tuning of the sync.
const (
	// DefaultPageSize is how many changes a page asks for: the most
	// Go's Gerrit serves to anonymous queries.
	DefaultPageSize = 500
	// DefaultOverlap is how far before its cursor a listing starts.
	DefaultOverlap = 2 * time.Minute
	// DefaultMaxWait is how long a sync waits for a rate limit when
	// source.Options.MaxWait is zero.
	DefaultMaxWait = fetch.DefaultMaxWait

	// resumeBack is how many changes before its saved offset a resumed
	// listing starts, in case changes left the listing (deleted, made
	// private) while it was interrupted, which moves the rest up.
	resumeBack = 10
	// queryTimeLayout is the form of the time in after:.
	queryTimeLayout = "2006-01-02 15:04:05"
)

// QueryOptions asks for the members of ChangeInfo that reciprocal reads.
var QueryOptions = []string{"CURRENT_REVISION", "CURRENT_COMMIT", "CURRENT_FILES", "MESSAGES"}

// A Source syncs the changes of some projects of one Gerrit server into
// the store. It implements source.Source.
type Source struct {
	cfg      Config
	base     string // URL without a trailing slash
	label    string // host label of item IDs
	client   *http.Client
	sleep    func(context.Context, time.Duration) error
	pageSize int
	overlap  time.Duration
}

// An Option changes how a Source works.
type Option func(*Source)

// WithHTTPClient makes the Source send its requests through c.
func WithHTTPClient(c *http.Client) Option { return func(s *Source) { s.client = c } }

// WithSleep replaces the function the Source waits with, between retries
// and for rate limits. It must return early with ctx's error when ctx is
// done. Tests use it to wait without waiting.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Source) { s.sleep = sleep }
}

// WithPageSize sets how many changes a page asks for (n); the server may
// serve fewer.
func WithPageSize(n int) Option { return func(s *Source) { s.pageSize = n } }

// WithOverlap sets how far before its cursor a listing starts (at least a
// second is always kept, for Gerrit's one-second query times).
func WithOverlap(d time.Duration) Option { return func(s *Source) { s.overlap = d } }

// NewSource returns the Source of the Gerrit server and projects cfg
// describes. An empty URL means Go's Gerrit.
func NewSource(cfg Config, opts ...Option) (*Source, error) {
	configs.SetDefault(&cfg.URL, DefaultURL)
	base, err := source.ServerURL(Kind, cfg.URL, DefaultURL)
	if err != nil {
		return nil, err
	}
	if len(cfg.Projects) == 0 {
		return nil, fmt.Errorf("gerrit %s: list at least one project, like projects = [\"go\"]", cfg.URL)
	}
	for i, p := range cfg.Projects {
		if p == "" || strings.ContainsAny(p, " \"'{}") {
			return nil, fmt.Errorf("gerrit %s: project %q: not a project name", cfg.URL, p)
		}
		if slices.Contains(cfg.Projects[:i], p) {
			return nil, fmt.Errorf("gerrit %s: project %q listed twice", cfg.URL, p)
		}
	}
	s := &Source{
		cfg:      cfg,
		base:     base,
		label:    HostLabel(cfg.URL),
		client:   http.DefaultClient,
		pageSize: DefaultPageSize,
		overlap:  DefaultOverlap,
	}
	for _, opt := range opts {
		opt(s)
	}
	if s.pageSize <= 0 {
		return nil, fmt.Errorf("gerrit: page size %d: must be positive", s.pageSize)
	}
	return s, nil
}

// Name returns "gerrit " and the host label: "gerrit go-review".
func (s *Source) Name() string { return "gerrit " + s.label }

// Label returns the host label of the Source's item IDs: "go-review".
func (s *Source) Label() string { return s.label }

// Backfill returns how far back a first sync of a project (one without a
// cursor) reaches, and what chose it: source.Options.Since (source.BackfillOption),
// else the configuration's since (source.BackfillConfig), else a year before now
// (source.BackfillDefault).
func (s *Source) Backfill(opts source.Options) (time.Time, string) {
	return source.Backfill(opts, s.cfg.Since)
}

// A Cursor is where the listing of one project stands; see the package
// documentation.
type Cursor struct {
	// After is the newest updated time of the changes stored by the
	// last complete listing.
	After time.Time `json:"after"`
	// Pending, if set, is a listing begun but not finished.
	Pending *Pending `json:"pending,omitempty"`
}

// Pending is a listing begun but not finished.
type Pending struct {
	Target time.Time `json:"target"` // the newest updated time it has seen
	Offset int       `json:"offset"` // the S of its next page
}

// CursorName returns the store key of a project's cursor:
// "gerrit:{label}:{project}".
func CursorName(label, project string) string {
	return "gerrit:" + label + ":" + project
}

// Cursor returns the stored cursor of a project, and whether there is one.
func (s *Source) Cursor(st *store.Store, project string) (c Cursor, ok bool, err error) {
	ok, err = source.LoadCursor(st, CursorName(s.label, project), &c)
	return c, ok, err
}

// HasCursor reports whether every project has been synced before (or is
// being synced): a project without a cursor makes its first sync,
// reaching back as far as Backfill says.
func (s *Source) HasCursor(st *store.Store) (bool, error) {
	for _, p := range s.cfg.Projects {
		_, ok, err := s.Cursor(st, p)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// A LimitError reports that the server asked the sync to come back later
// than source.Options.MaxWait allows. What was synced before it is saved.
type LimitError = fetch.LimitError

// Sync brings the changes of the Source's projects updated since their
// cursors into st. See the package documentation for how.
func (s *Source) Sync(ctx context.Context, st *store.Store, opts source.Options) (source.Stats, error) {
	opts, stats := source.Begin(s.Name(), opts)
	r := &run{s: s, st: st, opts: opts, start: opts.Now(), stats: stats,
		get: fetch.ForSync("gerrit", s.client, s.sleep, opts, fetch.ValidJSON(")]}'"))}
	var errs []error
	for i, p := range s.cfg.Projects {
		r.later = len(s.cfg.Projects) - 1 - i
		err := r.project(ctx, p)
		if err == nil {
			continue
		}
		errs = append(errs, err)
		var le *LimitError
		if errors.As(err, &le) {
			r.stats.RetryAfter = le.RetryAfter
		}
		if stopsAll(err) {
			break
		}
	}
	r.stats.Requests = r.get.Requests()
	err := errors.Join(errs...)
	source.Finish(&r.stats, opts, r.start, err)
	return r.stats, err
}

// stopsAll says whether an error of one project stops the whole sync:
// cancellation, a rate limit, or a server that does not answer properly
// (5xx or no answer, after retries). A refused query or a malformed page
// concerns one project.
func stopsAll(err error) bool {
	var le *LimitError
	var fe *fetch.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.As(err, &le):
		return true
	case errors.As(err, &fe):
		return fe.Status == 0 || fe.Status >= 500
	}
	return true // the store failed
}

// A run is one Sync.
type run struct {
	s     *Source
	st    *store.Store
	opts  source.Options
	start time.Time
	get   *fetch.Getter
	stats source.Stats
	later int // projects after the current one, for Estimate
}

// project brings one project's changes up to date.
func (r *run) project(ctx context.Context, project string) error {
	name := CursorName(r.s.label, project)
	cur, ok, err := r.s.Cursor(r.st, project)
	if err != nil {
		return err
	}
	if !ok {
		var from string
		cur.After, from = r.s.Backfill(r.opts)
		slog.Info("gerrit: first sync", "source", r.s.Name(), "project", project, "since", cur.After, "from", from)
	}
	resumed := cur.Pending != nil
	if resumed {
		slog.Info("gerrit: resuming an interrupted listing", "source", r.s.Name(), "project", project, "after", cur.After, "offset", cur.Pending.Offset)
	}
	if err := r.list(ctx, project, name, &cur, resumed); err != nil {
		return err
	}
	if resumed {
		// The resumed listing started below the changes updated
		// while it was interrupted: read the top again.
		return r.list(ctx, project, name, &cur, false)
	}
	return nil
}

// list reads one listing of a project, from cur.Pending's offset if set,
// committing each page with the cursor that covers it, and updates cur.
// another says whether another listing of the project follows it, for
// Estimate.
func (r *run) list(ctx context.Context, project, name string, cur *Cursor, another bool) error {
	from := cur.After.Add(-max(r.s.overlap, 0)).UTC().Truncate(time.Second)
	if !from.Before(cur.After) {
		from = from.Add(-time.Second)
	}
	query := "project:" + project + ` after:"` + from.Format(queryTimeLayout) + `"`
	target, offset := cur.After, 0
	if cur.Pending != nil {
		target = cur.Pending.Target
		offset = max(cur.Pending.Offset-resumeBack, 0)
	}
	oldest := target
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		u := r.s.pageURL(query, offset)
		resp, err := r.get.Get(ctx, u, http.Header{"Accept": {"application/json"}})
		r.stats.Requests = r.get.Requests()
		if err != nil {
			return err
		}
		p, err := r.s.parsePage(resp)
		if err != nil {
			return err
		}
		for _, c := range p.changes {
			if c.updated.After(target) {
				target = c.updated
			}
			if c.updated.Before(oldest) {
				oldest = c.updated
			}
		}
		next := Cursor{After: cur.After}
		if p.more {
			next.Pending = &Pending{Target: target, Offset: offset + len(p.changes)}
		} else {
			next.After = target
		}
		if err := r.commit(name, p.changes, next); err != nil {
			return err
		}
		*cur = next
		r.stats.Pages++
		r.estimate(p.more, another, from, target, oldest, offset+len(p.changes))
		r.progress()
		slog.Debug("gerrit: page", "source", r.s.Name(), "project", project, "offset", offset, "changes", len(p.changes), "more", p.more)
		if !p.more {
			return nil
		}
		if len(p.changes) == 0 {
			return &fetch.Error{Source: "gerrit", URL: u, Status: resp.Status, Msg: "malformed response: an empty page says more changes follow"}
		}
		offset += len(p.changes)
	}
}

// estimate guesses how many requests the whole sync needs. A listing's
// length is not known in advance, but it runs newest first down to a
// known time, so the part of that time span covered so far says how much
// of the listing has been read.
func (r *run) estimate(more, another bool, from, target, oldest time.Time, read int) {
	left := r.later
	if another {
		left++
	}
	if more {
		pages := 1
		span, covered := target.Sub(from), target.Sub(oldest)
		if span > 0 && covered > 0 && covered < span {
			done := float64(read) / float64(r.s.pageSize)
			total := done * float64(span) / float64(covered)
			pages = max(int(math.Ceil(total-done)), 1)
		}
		left += pages
	}
	r.stats.Estimate = r.stats.Requests + left
}

func (r *run) progress() {
	if r.opts.Progress != nil {
		r.opts.Progress(r.stats)
	}
}

// pageURL returns the URL of the listing page at offset.
func (s *Source) pageURL(query string, offset int) string {
	q := url.Values{"q": {query}, "o": QueryOptions, "n": {strconv.Itoa(s.pageSize)}}
	if offset > 0 {
		q.Set("S", strconv.Itoa(offset))
	}
	return s.base + "/changes/?" + q.Encode()
}

// A listedChange is a change of a page, ready to store.
type listedChange struct {
	id      string
	updated time.Time
	raw     []byte
}

// A page is one answer of a listing.
type page struct {
	changes []listedChange
	more    bool // the last change carried _more_changes
}

// parsePage checks and takes apart one answer of a listing.
func (s *Source) parsePage(resp *fetch.Response) (page, error) {
	bad := func(format string, args ...any) error {
		return &fetch.Error{Source: "gerrit", URL: resp.URL, Status: resp.Status, Msg: "malformed response: " + fmt.Sprintf(format, args...)}
	}
	if resp.Status != http.StatusOK {
		return page{}, bad("status %d", resp.Status)
	}
	body := resp.Body
	if bytes.HasPrefix(body, []byte(")]}'")) {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			return page{}, bad("nothing after the )]}' line")
		}
		body = body[i+1:]
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return page{}, bad("%v", err)
	}
	if raws == nil {
		return page{}, bad("not a list of changes")
	}
	var p page
	p.changes = make([]listedChange, len(raws))
	for i, raw := range raws {
		var v struct {
			Project     string `json:"project"`
			Number      int    `json:"_number"`
			Updated     Time   `json:"updated"`
			MoreChanges bool   `json:"_more_changes"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return page{}, bad("change %d of the page: %v", i+1, err)
		}
		if v.Project == "" || v.Number <= 0 || v.Updated.IsZero() {
			return page{}, bad("change %d of the page has no project, _number or updated", i+1)
		}
		if i == len(raws)-1 {
			p.more = v.MoreChanges
		}
		b := []byte(raw)
		if bytes.Contains(b, []byte(`"_more_changes"`)) {
			b = dropMember(b, "_more_changes")
		}
		if bytes.ContainsAny(b, "\r\n") {
			// Pretty-printed: JSON strings hold no raw line breaks,
			// so these are white space between tokens.
			var buf bytes.Buffer
			if err := json.Compact(&buf, b); err != nil {
				return page{}, bad("change %d of the page: %v", i+1, err)
			}
			b = buf.Bytes()
		}
		p.changes[i] = listedChange{
			id:      ID(s.base, v.Project, v.Number),
			updated: v.Updated.Time,
			raw:     b,
		}
	}
	return p, nil
}

// dropMember returns obj, a JSON object, without its top-level member
// name, leaving every other byte as it was. It returns obj itself if there
// is no such member.
func dropMember(obj []byte, name string) []byte {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return obj
	}
	prevEnd := int(dec.InputOffset()) // just after '{' or the previous value
	first := true
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return obj
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return obj
		}
		end := int(dec.InputOffset())
		if k, _ := t.(string); k == name {
			if first {
				// Drop the member and the comma after it.
				for end < len(obj) && isSpace(obj[end]) {
					end++
				}
				if end < len(obj) && obj[end] == ',' {
					end++
				}
				for end < len(obj) && isSpace(obj[end]) {
					end++
				}
			}
			// Otherwise drop the comma before it with it.
			out := make([]byte, 0, len(obj)-(end-prevEnd))
			out = append(out, obj[:prevEnd]...)
			return append(out, obj[end:]...)
		}
		prevEnd, first = end, false
	}
	return obj
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// commit stores a page of changes and the cursor that covers them in one
// transaction.
func (r *run) commit(name string, changes []listedChange, cur Cursor) error {
	cv, err := json.Marshal(cur)
	if err != nil {
		return err
	}
	var counts source.Counts
	if same, err := r.unchanged(name, changes, cv); err != nil {
		return fmt.Errorf("gerrit: %s: %w", name, err)
	} else if same {
		// Nothing to write: spare the store a commit.
		r.stats.Unchanged += len(changes)
		return nil
	}
	err = r.st.Update(func(tx *store.Tx) error {
		for _, c := range changes {
			ch, err := tx.PutItem(c.id, Kind, c.raw)
			if err != nil {
				return err
			}
			counts.Add(ch)
		}
		return tx.SetCursor(name, cv)
	})
	if err != nil {
		return fmt.Errorf("gerrit: %s: %w", name, err)
	}
	r.stats.AddItems(counts)
	return nil
}

// unchanged reports whether the store already holds every change of a page
// byte for byte, and the cursor value cv.
func (r *run) unchanged(name string, changes []listedChange, cv []byte) (bool, error) {
	same := true
	err := r.st.View(func(tx *store.Tx) error {
		if !bytes.Equal(tx.Cursor(name), cv) {
			same = false
			return nil
		}
		for _, c := range changes {
			rec, ok, err := tx.Item(c.id)
			if err != nil {
				return err
			}
			if !ok || rec.Source != Kind || !bytes.Equal(rec.Raw, c.raw) {
				same = false
				return nil
			}
		}
		return nil
	})
	return same, err
}

var _ source.Source = (*Source)(nil)
