// Package advisoriestest is a fake GitHub API that serves repository
// security advisories the way GitHub does: GET
// /repos/OWNER/NAME/security-advisories with state, sort, direction and
// per_page; cursor pagination through Link rel="next" (after=); an ETag on
// every listing page and 304 Not Modified for a matching If-None-Match;
// the rate-limit headers. Advisories are the JSON objects GitHub serves,
// kept byte for byte; the repository comes from their html_url.
package advisoriestest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/advisories"
)

// A Server is a running fake.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	byRepo   map[string]map[string]entry // repo → GHSA ID → advisory
	requests int
	notMod   int
}

type entry struct {
	raw     json.RawMessage
	updated time.Time
	state   string
}

// NewServer starts a fake with no advisories.
func NewServer() *Server {
	s := &Server{byRepo: map[string]map[string]entry{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the API base URL, with a trailing slash, for api_url.
func (s *Server) URL() string { return s.srv.URL + "/" }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Requests returns how many requests were answered, and how many of them
// 304 Not Modified.
func (s *Server) Requests() (all, notModified int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.notMod
}

// Put adds or replaces an advisory, given as GitHub serves it.
func (s *Server) Put(raw []byte) error {
	a, err := advisories.Parse(raw)
	if err != nil {
		return err
	}
	repo := advisories.RepoOf(a)
	if repo == "" {
		return fmt.Errorf("advisoriestest: %s: html_url names no repository", a.GetGHSAID())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byRepo[repo] == nil {
		s.byRepo[repo] = map[string]entry{}
	}
	s.byRepo[repo][a.GetGHSAID()] = entry{raw: append(json.RawMessage(nil), raw...), updated: a.GetUpdatedAt().Time, state: a.GetState()}
	return nil
}

// AddJSONL adds the advisories of a JSON Lines file, one per line.
func (s *Server) AddJSONL(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := s.Put([]byte(line)); err != nil {
			return n, err
		}
		n++
	}
	return n, sc.Err()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(5000-s.requests))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodGet || len(parts) != 4 || parts[0] != "repos" || parts[3] != "security-advisories" {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}`)
		return
	}
	advs, ok := s.byRepo[parts[1]+"/"+parts[2]]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/security-advisories/repository-advisories#list-repository-security-advisories","status":"404"}`)
		return
	}
	q := r.URL.Query()
	var list []string
	for id, e := range advs {
		if st := q.Get("state"); st == "" || st == e.state {
			list = append(list, id)
		}
	}
	desc := q.Get("direction") != "asc"
	sort.Slice(list, func(i, j int) bool {
		a, b := advs[list[i]], advs[list[j]]
		if !a.updated.Equal(b.updated) {
			return a.updated.After(b.updated) == desc
		}
		return list[i] < list[j]
	})
	if after := q.Get("after"); after != "" {
		i := 0
		for i < len(list) && list[i] != after {
			i++
		}
		if i < len(list) {
			list = list[i+1:]
		} else {
			list = nil
		}
	}
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	if len(list) > per {
		next := *r.URL
		nq := next.Query()
		nq.Set("after", list[per-1])
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, s.srv.URL, next.RequestURI()))
		list = list[:per]
	}
	body := []byte("[")
	for i, id := range list {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, advs[id].raw...)
	}
	body = append(body, ']')
	sum := sha256.Sum256(body)
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		s.notMod++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(body)
}
