// Package vulndbtest is a fake Go vulnerability database for tests and
// demos: an httptest server that holds OSV entries as raw JSON and serves
// them as vuln.go.dev does:
//
//	GET /index/db.json          {"modified": T}, T the newest entry's modified
//	GET /index/vulns.json       [{"id","modified","aliases"}, …] by ID, built from the entries held
//	GET /ID/{id}.json           the entry, byte for byte as put
//
// Every answer has a strong ETag (a hash of its body) and the index files a
// Last-Modified (the newest entry's modified); a matching If-None-Match, or
// without one an If-Modified-Since not older than Last-Modified, is
// answered 304 Not Modified. SetValidators(false) drops both headers, for
// clients that must cope with a server that sends neither.
//
// Entries are put and replaced at runtime (Put, PutRaw, AddJSONL, Remove);
// Stats counts requests, Served lists them, and FailNext makes the next
// requests fail: 500, a reset connection, a body cut short, 429 or 503
// with Retry-After.
package vulndbtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/internal/fakehttp"
)

// A Server is a running fake vulnerability database.
type Server struct {
	*fakehttp.Server // URL, Close, faults and request counts

	mu         sync.Mutex
	entries    map[string]*entry
	index      []byte // /index/vulns.json; nil after a change
	validators bool
}

// An entry is one OSV entry as served.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
	raw      []byte
}

// NewServer starts a fake database with no entries. Close it when done.
func NewServer() *Server {
	s := &Server{entries: make(map[string]*entry), validators: true}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /index/db.json", s.dbJSON)
	mux.HandleFunc("GET /index/vulns.json", s.vulnsJSON)
	mux.HandleFunc("GET /ID/{file}", s.entryJSON)
	s.Server = fakehttp.Start(mux)
	return s
}

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.HTTPClient() }

// SetValidators turns ETag and Last-Modified (and so 304 answers) on or
// off.
func (s *Server) SetValidators(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.validators = on
}

// Put adds an OSV entry, or replaces the one with the same ID. It is
// served byte for byte as given (less surrounding white space) and listed
// in the index with its id, modified and aliases.
func (s *Server) Put(raw []byte) error {
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("vulndbtest: entry: %w", err)
	}
	if e.ID == "" || e.Modified.IsZero() {
		return errors.New("vulndbtest: entry needs id and modified")
	}
	e.raw = bytes.TrimSpace(raw)
	s.put(&e)
	return nil
}

// PutRaw lists an entry in the index with the given ID and modified time
// and serves raw for it, whatever raw is: for tests of malformed entries.
func (s *Server) PutRaw(id string, modified time.Time, raw []byte) {
	s.put(&entry{ID: id, Modified: modified.UTC(), raw: raw})
}

func (s *Server) put(e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[e.ID] = e
	s.index = nil
}

// Remove drops an entry from the server.
func (s *Server) Remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, id)
	s.index = nil
}

// Len returns how many entries the server holds.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Entry returns the raw JSON of an entry, as served.
func (s *Server) Entry(id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return nil, false
	}
	return bytes.Clone(e.raw), true
}

// AddJSONL reads JSON Lines of OSV entries (plain or gzip-compressed) and
// puts each one. It returns how many it put.
func (s *Server) AddJSONL(r io.Reader) (int, error) {
	return fakehttp.AddJSONL(r, s.Put)
}

// Amend sets an entry's modified time to t (and its summary, if summary is
// not empty), as an edit of the database does, re-encoding it compactly
// with members in sorted order.
func (s *Server) Amend(id string, t time.Time, summary string) error {
	raw, ok := s.Entry(id)
	if !ok {
		return fmt.Errorf("vulndbtest: no entry %s", id)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("vulndbtest: entry %s: %w", id, err)
	}
	m["modified"] = t.UTC().Format(time.RFC3339)
	if summary != "" {
		m["summary"] = summary
	}
	out, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.Put(out)
}

// build returns the index and the newest modified time. The caller holds
// s.mu.
func (s *Server) build() ([]byte, time.Time) {
	var newest time.Time
	for _, e := range s.entries {
		if e.Modified.After(newest) {
			newest = e.Modified
		}
	}
	if s.index == nil {
		list := make([]*entry, 0, len(s.entries))
		for _, e := range s.entries {
			list = append(list, e)
		}
		slices.SortFunc(list, func(a, b *entry) int { return strings.Compare(a.ID, b.ID) })
		b, err := json.Marshal(list)
		if err != nil {
			panic(err)
		}
		s.index = b
	}
	return s.index, newest
}

func (s *Server) dbJSON(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, newest := s.build()
	validators := s.validators
	s.mu.Unlock()
	body, _ := json.Marshal(struct {
		Modified time.Time `json:"modified"`
	}{newest.UTC()})
	serve(w, r, body, newest, validators)
}

func (s *Server) vulnsJSON(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, newest := s.build()
	validators := s.validators
	s.mu.Unlock()
	serve(w, r, body, newest, validators)
}

func (s *Server) entryJSON(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	e := s.entries[id]
	validators := s.validators
	s.mu.Unlock()
	if !ok || e == nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	serve(w, r, e.raw, time.Time{}, validators)
}

// serve answers with body, or 304 when the request's validators match.
func serve(w http.ResponseWriter, r *http.Request, body []byte, modified time.Time, validators bool) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	if validators {
		sum := sha256.Sum256(body)
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		h.Set("ETag", etag)
		if !modified.IsZero() {
			h.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
		}
		if notModified(r, etag, modified) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Write(body)
}

// notModified evaluates If-None-Match and, only without it,
// If-Modified-Since, as RFC 9110 orders them.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !modified.IsZero() {
		t, err := http.ParseTime(ims)
		return err == nil && !modified.Truncate(time.Second).After(t)
	}
	return false
}

// An EntrySpec describes an entry for NewEntry.
type EntrySpec struct {
	ID        string
	Modified  time.Time
	Published time.Time // default Modified
	Summary   string
	Details   string
	Aliases   []string
	Module    string   // default stdlib
	Packages  []string // import paths
}

// NewEntry returns an OSV entry like those of vuln.go.dev, members in its
// order.
func NewEntry(spec EntrySpec) []byte {
	if spec.Published.IsZero() {
		spec.Published = spec.Modified
	}
	if spec.Module == "" {
		spec.Module = "stdlib"
	}
	type imp struct {
		Path    string   `json:"path"`
		Symbols []string `json:"symbols,omitempty"`
	}
	type event struct {
		Introduced string `json:"introduced,omitempty"`
		Fixed      string `json:"fixed,omitempty"`
	}
	type rng struct {
		Type   string  `json:"type"`
		Events []event `json:"events"`
	}
	type affected struct {
		Package struct {
			Name      string `json:"name"`
			Ecosystem string `json:"ecosystem"`
		} `json:"package"`
		Ranges            []rng `json:"ranges"`
		EcosystemSpecific struct {
			Imports []imp `json:"imports"`
		} `json:"ecosystem_specific"`
	}
	var a affected
	a.Package.Name = spec.Module
	a.Package.Ecosystem = "Go"
	a.Ranges = []rng{{Type: "SEMVER", Events: []event{{Introduced: "0"}, {Fixed: "1.22.1"}}}}
	for _, p := range spec.Packages {
		a.EcosystemSpecific.Imports = append(a.EcosystemSpecific.Imports, imp{Path: p})
	}
	v := struct {
		SchemaVersion    string     `json:"schema_version"`
		ID               string     `json:"id"`
		Modified         string     `json:"modified"`
		Published        string     `json:"published"`
		Aliases          []string   `json:"aliases,omitempty"`
		Summary          string     `json:"summary"`
		Details          string     `json:"details"`
		Affected         []affected `json:"affected"`
		DatabaseSpecific struct {
			URL          string `json:"url"`
			ReviewStatus string `json:"review_status"`
		} `json:"database_specific"`
	}{
		SchemaVersion: "1.3.1",
		ID:            spec.ID,
		Modified:      spec.Modified.UTC().Format(time.RFC3339),
		Published:     spec.Published.UTC().Format(time.RFC3339),
		Aliases:       spec.Aliases,
		Summary:       spec.Summary,
		Details:       spec.Details,
		Affected:      []affected{a},
	}
	v.DatabaseSpecific.URL = "https://pkg.go.dev/vuln/" + spec.ID
	v.DatabaseSpecific.ReviewStatus = "REVIEWED"
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
