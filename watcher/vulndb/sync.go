// Package vulndb reads the Go vulnerability database (vuln.go.dev): it turns
// OSV entries into items and syncs new and modified entries into the store.
//
// # Sync
//
// The database serves an index of every entry and the entries themselves:
//
//	GET /index/db.json          {"modified": T}, T the newest entry's modified
//	GET /index/vulns.json       [{"id":"GO-2024-2428","modified":T,"aliases":[…]}, …]
//	GET /ID/GO-2024-2428.json   the OSV entry
//
// A [Source] asks for the index conditionally (If-None-Match with the ETag,
// If-Modified-Since with the Last-Modified of the last index it finished),
// so a sync that finds nothing new is one request answered 304 Not
// Modified. A server that sends neither validator is asked for db.json
// instead, and the index is fetched only when db.json's modified is newer
// than the last index's newest entry.
//
// A changed index is compared with the modified time recorded for each
// entry, and only entries that are new or whose modified moved are
// fetched: oldest modified first, a few at a time, and committed 100 to a
// transaction with their recorded modified times. Entries are stored with
// store.Tx.PutItem under their ID, byte for byte as served (less
// surrounding white space; an entry served on several lines is compacted,
// since the store's export is one object per line).
//
// The first sync fetches every entry in the index, whatever
// source.Options.Since says: the whole database is a few thousand small
// files, fetched once, and a local search should know old vulnerabilities
// too. What becomes a consult prompt is limited elsewhere (the matcher's
// look-back), not here.
//
// # Cursors
//
// The store's cursors bucket holds the validators of the last index whose
// entries were all stored:
//
//	vulndb  → {"etag":"\"5d1f…\"","last_modified":"Tue, 24 Nov 2026 08:00:00 GMT","db_modified":"2026-11-24T07:58:12Z","entries":2133}
//
// and the package's own bucket, vulndb, the modified time of each stored
// entry as the index listed it when the entry was fetched:
//
//	vulndb  GO-2024-2428 → 2024-01-10T18:22:41Z (RFC 3339)
//
// Recording the index's time rather than the entry's keeps an index that
// lags behind its entries from causing a fetch on every sync. Each entry's
// time is written in the transaction that stores the entry, so an
// interrupted sync loses nothing: the next one is answered 200 (the cursor
// was not moved) and fetches only what is still missing. An entry stored
// without a recorded time (imported from a file) is compared by the
// modified time in its stored JSON, once, and its time then recorded.
//
// # Limits and faults
//
// Server errors, reset connections and timeouts are retried four times
// with jittered exponential backoff; 429 and 503 with Retry-After are
// waited out when that fits in source.Options.MaxWait (default 15 minutes),
// and otherwise the sync stops with a [*LimitError], what it fetched
// saved and source.Stats.RetryAfter set. An index that is cut short or does
// not parse is an error naming its URL, and nothing changes. An entry that
// does not parse (or is missing) is an error naming its URL, but the
// entries after it are still fetched and stored; the cursor does not move,
// so the next sync tries that entry again.
package vulndb

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/internal/fetch"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Tuning of the sync.
const (
	// DefaultBatchSize is how many entries one transaction stores.
	DefaultBatchSize = 100
	// DefaultConcurrency is how many entries are fetched at once.
	DefaultConcurrency = 4
	// DefaultMaxWait is how long a sync waits for a rate limit when
	// source.Options.MaxWait is zero.
	DefaultMaxWait = fetch.DefaultMaxWait
)

// CursorName is the store key of the Source's cursor.
const CursorName = "vulndb"

// BucketModified is the store bucket of the entries' recorded modified
// times.
const BucketModified = "vulndb"

// A Source syncs the Go vulnerability database into the store. It
// implements source.Source.
type Source struct {
	base        string // URL without a trailing slash
	client      *http.Client
	sleep       func(context.Context, time.Duration) error
	batchSize   int
	concurrency int
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

// WithBatchSize sets how many entries one transaction stores.
func WithBatchSize(n int) Option { return func(s *Source) { s.batchSize = n } }

// WithConcurrency sets how many entries are fetched at once.
func WithConcurrency(n int) Option { return func(s *Source) { s.concurrency = n } }

// NewSource returns the Source of the database cfg describes. An empty URL
// means Go's.
func NewSource(cfg Config, opts ...Option) (*Source, error) {
	base, err := source.ServerURL(Kind, cfg.URL, DefaultURL)
	if err != nil {
		return nil, err
	}
	s := &Source{
		base:        base,
		client:      http.DefaultClient,
		batchSize:   DefaultBatchSize,
		concurrency: DefaultConcurrency,
	}
	for _, opt := range opts {
		opt(s)
	}
	if s.batchSize <= 0 || s.concurrency <= 0 {
		return nil, errors.New("vulndb: batch size and concurrency must be positive")
	}
	return s, nil
}

// Name returns "vulndb".
func (s *Source) Name() string { return "vulndb" }

// A Cursor holds the validators of the last index whose entries were all
// stored.
type Cursor struct {
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	DBModified   time.Time `json:"db_modified,omitzero"` // the index's newest modified
	Entries      int       `json:"entries"`              // how many entries it listed
}

// Cursor returns the stored cursor, and whether there is one.
func (s *Source) Cursor(st *store.Store) (c Cursor, ok bool, err error) {
	ok, err = source.LoadCursor(st, CursorName, &c)
	return c, ok, err
}

// HasCursor reports whether the database has been synced completely
// before.
func (s *Source) HasCursor(st *store.Store) (bool, error) {
	_, ok, err := s.Cursor(st)
	return ok, err
}

// A LimitError reports that the server asked the sync to come back later
// than source.Options.MaxWait allows. What was synced before it is saved.
type LimitError = fetch.LimitError

// An IndexEntry is one entry of /index/vulns.json.
type IndexEntry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

// Sync brings new and modified entries into st. See the package
// documentation for how.
func (s *Source) Sync(ctx context.Context, st *store.Store, opts source.Options) (source.Stats, error) {
	opts, stats := source.Begin(s.Name(), opts)
	r := &run{s: s, st: st, opts: opts, start: opts.Now(), stats: stats,
		get: fetch.ForSync("vulndb", s.client, s.sleep, opts, fetch.ValidJSON(""))}
	err := r.sync(ctx)
	var le *LimitError
	if errors.As(err, &le) {
		r.stats.RetryAfter = le.RetryAfter
	}
	r.stats.Requests = r.get.Requests()
	source.Finish(&r.stats, opts, r.start, err)
	return r.stats, err
}

// A run is one Sync.
type run struct {
	s     *Source
	st    *store.Store
	opts  source.Options
	start time.Time
	get   *fetch.Getter
	stats source.Stats
}

func (r *run) sync(ctx context.Context) error {
	cur, _, err := r.s.Cursor(r.st)
	if err != nil {
		return err
	}
	if cur.ETag == "" && cur.LastModified == "" && !cur.DBModified.IsZero() {
		// No validators to send: db.json says whether anything
		// changed.
		changed, err := r.dbChanged(ctx, cur.DBModified)
		if err != nil || !changed {
			return err
		}
	}

	indexURL := r.s.base + "/index/vulns.json"
	h := http.Header{"Accept": {"application/json"}}
	if cur.ETag != "" {
		h.Set("If-None-Match", cur.ETag)
	}
	if cur.LastModified != "" {
		h.Set("If-Modified-Since", cur.LastModified)
	}
	resp, err := r.get.Get(ctx, indexURL, h)
	r.stats.Requests = r.get.Requests()
	if err != nil {
		return err
	}
	if resp.Status == http.StatusNotModified {
		r.stats.NotModified++
		r.progress()
		return nil
	}
	entries, err := parseIndex(resp)
	if err != nil {
		return err
	}
	next := Cursor{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), Entries: len(entries)}
	for _, e := range entries {
		if e.Modified.After(next.DBModified) {
			next.DBModified = e.Modified
		}
	}
	todo, seen, err := r.plan(entries)
	if err != nil {
		return err
	}
	r.stats.Estimate = r.stats.Requests + len(todo)
	r.progress()

	var soft []error
	for i := 0; i == 0 || i < len(todo); i += r.s.batchSize {
		chunk := todo[i:min(i+r.s.batchSize, len(todo))]
		fetched, errs, hard := r.fetchAll(ctx, chunk)
		soft = append(soft, errs...)
		last := i+r.s.batchSize >= len(todo)
		var cv []byte
		if last && hard == nil && len(soft) == 0 {
			cv, _ = json.Marshal(next)
		}
		if i > 0 {
			seen = nil // recorded by the first transaction
		}
		if err := r.commit(fetched, seen, cv); err != nil {
			return err
		}
		if len(fetched) > 0 {
			r.stats.Pages++
		}
		r.stats.Requests = r.get.Requests()
		r.progress()
		if hard != nil {
			return errors.Join(hard, entriesError(soft))
		}
	}
	return entriesError(soft)
}

// maxListed is how many failed entries an *EntriesError names.
const maxListed = 3

// An EntriesError reports entries that could not be fetched or read. They
// do not stop the sync (the rest are stored, and the cursor stays so that
// the next sync asks for them again). Its message counts them and names
// the first few, so that a database with hundreds of broken entries gives
// one line, not hundreds.
type EntriesError struct {
	Errs []error
}

func (e *EntriesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vulndb: %d entries could not be fetched or read (the next sync asks for them again): ", len(e.Errs))
	for i, err := range e.Errs[:min(len(e.Errs), maxListed)] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	if n := len(e.Errs) - maxListed; n > 0 {
		fmt.Fprintf(&b, "; and %d more", n)
	}
	return b.String()
}

func (e *EntriesError) Unwrap() []error { return e.Errs }

// entriesError returns nil for no errors, the error itself for one, and an
// *EntriesError for more.
func entriesError(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return &EntriesError{Errs: errs}
}

// dbChanged asks db.json whether the database changed since the last index,
// whose newest entry was modified at last.
func (r *run) dbChanged(ctx context.Context, last time.Time) (bool, error) {
	resp, err := r.get.Get(ctx, r.s.base+"/index/db.json", http.Header{"Accept": {"application/json"}})
	r.stats.Requests = r.get.Requests()
	if err != nil {
		return false, err
	}
	var db struct {
		Modified time.Time `json:"modified"`
	}
	if err := json.Unmarshal(resp.Body, &db); err != nil || db.Modified.IsZero() {
		if err == nil {
			err = errors.New("no modified time")
		}
		return false, &fetch.Error{Source: "vulndb", URL: resp.URL, Status: resp.Status, Msg: "malformed response: " + err.Error()}
	}
	return db.Modified.After(last), nil
}

// parseIndex checks and decodes /index/vulns.json.
func parseIndex(resp *fetch.Response) ([]IndexEntry, error) {
	bad := func(format string, args ...any) error {
		return &fetch.Error{Source: "vulndb", URL: resp.URL, Status: resp.Status, Msg: "malformed response: " + fmt.Sprintf(format, args...)}
	}
	var entries []IndexEntry
	if err := json.Unmarshal(resp.Body, &entries); err != nil {
		return nil, bad("%v", err)
	}
	if entries == nil {
		return nil, bad("not a list of entries")
	}
	for i, e := range entries {
		if e.ID == "" || strings.ContainsAny(e.ID, "/\\?#") || e.Modified.IsZero() {
			return nil, bad("entry %d has no usable id or modified", i+1)
		}
	}
	return entries, nil
}

// A todo is an entry to fetch.
type todo struct {
	id       string
	modified time.Time // as the index lists it
}

// plan compares the index with the recorded modified times. It returns the
// entries to fetch, oldest modified first, and the entries already stored
// whose time was not recorded yet (imported from a file).
func (r *run) plan(entries []IndexEntry) ([]todo, map[string]time.Time, error) {
	var out []todo
	seen := make(map[string]time.Time)
	err := r.st.View(func(tx *store.Tx) error {
		b, err := tx.Bucket(BucketModified)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if b != nil {
				if v := b.Get([]byte(e.ID)); v != nil {
					if t, err := time.Parse(time.RFC3339Nano, string(v)); err == nil && t.Equal(e.Modified) {
						continue
					}
					out = append(out, todo{e.ID, e.Modified})
					continue
				}
			}
			rec, ok, err := tx.Item(e.ID)
			if err != nil {
				return err
			}
			if ok && rec.Source == Kind {
				var v struct {
					Modified time.Time `json:"modified"`
				}
				if json.Unmarshal(rec.Raw, &v) == nil && v.Modified.Equal(e.Modified) {
					seen[e.ID] = e.Modified
					continue
				}
			}
			out = append(out, todo{e.ID, e.Modified})
		}
		return nil
	})
	slices.SortFunc(out, func(a, b todo) int {
		if c := a.modified.Compare(b.modified); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out = slices.CompactFunc(out, func(a, b todo) bool { return a.id == b.id })
	return out, seen, err
}

// A fetched entry is ready to store.
type fetched struct {
	todo
	raw []byte
}

// fetchAll fetches a chunk of entries, a few at a time. It returns those it
// got, in chunk order; the errors of entries that were missing or did not
// parse, which do not stop the sync; and the first error that does
// (cancellation, a rate limit, a server that does not answer), if any.
func (r *run) fetchAll(ctx context.Context, chunk []todo) ([]fetched, []error, error) {
	type result struct {
		raw  []byte
		err  error
		hard bool
	}
	results := make([]result, len(chunk))
	// A hard error stops handing out work; the fetches under way finish,
	// and what they got is stored.
	stop := make(chan struct{})
	var once sync.Once
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(r.s.concurrency, len(chunk)) {
		wg.Go(func() {
			for i := range work {
				raw, err := r.fetchEntry(ctx, chunk[i].id)
				hard := err != nil && isHard(err)
				results[i] = result{raw, err, hard}
				if hard {
					once.Do(func() { close(stop) })
				}
			}
		})
	}
dispatch:
	for i := range chunk {
		select {
		case work <- i:
		case <-stop:
			break dispatch
		case <-ctx.Done():
			break dispatch
		}
	}
	close(work)
	wg.Wait()

	var got []fetched
	var soft []error
	var hard error
	for i, res := range results {
		switch {
		case res.raw != nil:
			got = append(got, fetched{chunk[i], res.raw})
		case res.hard:
			if hard == nil {
				hard = res.err
			}
		case res.err != nil:
			soft = append(soft, res.err)
		}
	}
	if err := ctx.Err(); err != nil {
		hard = err
	}
	return got, soft, hard
}

// isHard says whether an error fetching an entry stops the sync:
// cancellation, a rate limit, or a server that does not answer properly
// (5xx or no answer, after retries). A missing or malformed entry
// concerns that entry only.
func isHard(err error) bool {
	var fe *fetch.Error
	if errors.As(err, &fe) {
		return fe.Status == 0 || fe.Status >= 500
	}
	return true
}

// fetchEntry fetches and checks one entry.
func (r *run) fetchEntry(ctx context.Context, id string) ([]byte, error) {
	u := r.s.base + "/ID/" + url.PathEscape(id) + ".json"
	resp, err := r.get.Get(ctx, u, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, err
	}
	bad := func(err error) error {
		return &fetch.Error{Source: "vulndb", URL: u, Status: resp.Status, Msg: "malformed entry: " + err.Error(), Err: err}
	}
	raw := bytes.TrimSpace(resp.Body)
	if bytes.ContainsAny(raw, "\r\n") {
		// Served on several lines: JSON strings hold no raw line
		// breaks, so these are white space between tokens.
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, bad(err)
		}
		raw = buf.Bytes()
	}
	e, err := ParseEntry(raw)
	if err != nil {
		return nil, bad(err)
	}
	if e.ID != id {
		return nil, bad(fmt.Errorf("the entry is %s", e.ID))
	}
	return raw, nil
}

// commit stores fetched entries with their recorded modified times, records
// the times of entries seen already stored, and sets the cursor to cv if
// not nil, in one transaction.
func (r *run) commit(entries []fetched, seen map[string]time.Time, cv []byte) error {
	if len(entries) == 0 && len(seen) == 0 && cv == nil {
		return nil
	}
	var counts source.Counts
	err := r.st.Update(func(tx *store.Tx) error {
		b, err := tx.Bucket(BucketModified)
		if err != nil {
			return err
		}
		for _, e := range entries {
			ch, err := tx.PutItem(e.id, Kind, e.raw)
			if err != nil {
				return err
			}
			counts.Add(ch)
			if err := b.Put([]byte(e.id), []byte(e.modified.UTC().Format(time.RFC3339Nano))); err != nil {
				return err
			}
		}
		for id, t := range seen {
			if err := b.Put([]byte(id), []byte(t.UTC().Format(time.RFC3339Nano))); err != nil {
				return err
			}
		}
		if cv != nil {
			return tx.SetCursor(CursorName, cv)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	r.stats.AddItems(counts)
	return nil
}

func (r *run) progress() {
	if r.opts.Progress != nil {
		r.opts.Progress(r.stats)
	}
}

var _ source.Source = (*Source)(nil)
