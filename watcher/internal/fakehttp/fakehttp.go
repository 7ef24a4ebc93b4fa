// Package fakehttp holds what the fake servers of the sources (githubtest,
// gerrittest, vulndbtest) share: the running server (Server, which a fake
// embeds), a queue of injected faults and the middleware that serves them
// (or Take, for a fake with a middleware of its own), request counters,
// and an HTTP client that reaches a fake under any host name.
package fakehttp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/reciprocal-access/reciprocal/internal/jsonl"
)

// A Fault is a way for a request to fail.
type Fault int

const (
	// ServerError answers 500 Internal Server Error.
	ServerError Fault = iota + 1
	// ConnReset closes the connection without an answer, with a TCP
	// reset. (net/http clients retry a GET once by themselves when this
	// happens on a reused connection, so the server may count two
	// requests where the client counts one.)
	ConnReset
	// Truncate answers 200 with the real headers, Content-Length
	// included, but sends only the first half of the body before closing
	// the connection.
	Truncate
	// Malformed answers 200 with only the first half of the body, under
	// a Content-Length that matches it: a well-formed HTTP answer whose
	// content is cut, as a proxy that lost the rest would send.
	Malformed
	// TooManyRequests answers 429 with a Retry-After.
	TooManyRequests
	// Unavailable answers 503 with a Retry-After.
	Unavailable
	// SecondaryLimit answers 403 with a Retry-After, as GitHub's
	// secondary rate limit does (githubtest answers it with GitHub's
	// body and headers).
	SecondaryLimit
)

func (f Fault) String() string {
	switch f {
	case ServerError:
		return "500"
	case ConnReset:
		return "connection reset"
	case Truncate:
		return "truncated body"
	case Malformed:
		return "malformed body"
	case TooManyRequests:
		return "429"
	case Unavailable:
		return "503"
	case SecondaryLimit:
		return "secondary rate limit"
	}
	return "fault " + strconv.Itoa(int(f))
}

type fault struct {
	kind       Fault
	retryAfter time.Duration
}

// Stats counts the requests a fake answered.
type Stats struct {
	Requests    int // all requests, faults included
	NotModified int // answered 304 Not Modified
	Faults      int // answered by an injected fault
}

// A Faults is a fake's queue of injected faults and its request counters.
// The zero value is ready to use.
type Faults struct {
	mu       sync.Mutex
	queue    []fault
	cutEvery int // every cutEvery'th request is answered Truncate
	cutCount int // requests since CutEvery
	stats    Stats
	hook     func(*http.Request)
	served   []string // request paths and queries, in order
}

// FailNext queues n faults of kind f, after those already queued. For
// TooManyRequests, Unavailable and SecondaryLimit the Retry-After is
// retryAfter.
func (q *Faults) FailNext(n int, f Fault, retryAfter time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for range n {
		q.queue = append(q.queue, fault{kind: f, retryAfter: retryAfter})
	}
}

// CutEvery cuts the body of every n'th request short (Truncate), counting
// from the next one, until CutEvery(0); queued faults come first.
func (q *Faults) CutEvery(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.cutEvery, q.cutCount = n, 0
}

// Pending returns how many queued faults have not been served yet.
func (q *Faults) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// Stats returns the counts since the start or the last ResetStats.
func (q *Faults) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.stats
}

// Served returns the path and query of every request since the start or
// the last ResetStats, in order.
func (q *Faults) Served() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.served...)
}

// ResetStats sets the counts to zero and forgets the requests served.
func (q *Faults) ResetStats() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stats = Stats{}
	q.served = nil
}

// OnRequest sets a function called at the start of every request, before
// any fault, for tests that change a fake's data while a client reads it.
func (q *Faults) OnRequest(fn func(*http.Request)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.hook = fn
}

// Take counts a request and returns the fault to answer it with, and its
// Retry-After: the next queued fault, or Truncate on every CutEvery'th
// request, or none (0). With skip it takes none, for a request the fake
// refuses before any fault (GitHub refuses bad credentials first). It
// first calls the OnRequest function. Wrap serves requests through it; a
// fake with a middleware of its own calls it.
func (q *Faults) Take(r *http.Request, skip bool) (Fault, time.Duration) {
	q.mu.Lock()
	hook := q.hook
	q.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stats.Requests++
	q.served = append(q.served, r.URL.RequestURI())
	var f fault
	switch {
	case skip:
	case len(q.queue) > 0:
		f, q.queue = q.queue[0], q.queue[1:]
		q.stats.Faults++
	case q.cutEvery > 0:
		if q.cutCount++; q.cutCount%q.cutEvery == 0 {
			f = fault{kind: Truncate}
			q.stats.Faults++
		}
	}
	return f.kind, f.retryAfter
}

// NotModified counts a request answered 304 Not Modified.
func (q *Faults) NotModified() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stats.NotModified++
}

// Wrap returns next behind the fault queue: each request takes the next
// queued fault, if any, and is counted.
func (q *Faults) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind, retryAfter := q.Take(r, false)
		switch kind {
		case ServerError:
			http.Error(w, "Internal server error", http.StatusInternalServerError)
			return
		case ConnReset:
			ResetConn(w)
			return
		case TooManyRequests, Unavailable, SecondaryLimit:
			code := http.StatusTooManyRequests
			switch kind {
			case Unavailable:
				code = http.StatusServiceUnavailable
			case SecondaryLimit:
				code = http.StatusForbidden
			}
			w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
			http.Error(w, http.StatusText(code), code)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rec.Result().StatusCode == http.StatusNotModified {
			q.NotModified()
		}
		WriteRecorded(w, rec, kind)
	})
}

// WriteRecorded sends the response rec recorded: its headers, status and
// body. With f Truncate it sends only the first half of the body under the
// whole body's Content-Length, so that the client sees a response cut
// short; with f Malformed the first half under a Content-Length that
// matches it. Any other f sends it whole.
func WriteRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder, f Fault) {
	res := rec.Result()
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	body := rec.Body.Bytes()
	switch f {
	case Truncate:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(res.StatusCode)
		w.Write(body[:len(body)/2])
		// The answer is shorter than its Content-Length, so net/http
		// closes the connection after the handler.
		return
	case Malformed:
		body = body[:len(body)/2]
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(res.StatusCode)
	w.Write(body)
}

// ResetConn closes the client's connection with a TCP reset.
func ResetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(fmt.Sprintf("fakehttp: cannot hijack connection: %v", err))
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}

// RoutingClient returns an HTTP client that sends every request, whatever
// its URL's host, to the server listening at addr (host:port), over plain
// HTTP. A test can then use a real-looking host name in URLs, one that
// item IDs are derived from, and still reach its fake.
func RoutingClient(addr string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
			MaxIdleConnsPerHost: 16,
		},
	}
}

// A Server is a running fake: an httptest server whose handler is wrapped
// with the Faults embedded in it (FailNext, CutEvery, Stats, Served,
// ResetStats, OnRequest). A fake tracker embeds it and adds its data.
type Server struct {
	Faults
	srv *httptest.Server
}

// Start starts a Server answering with h, behind its faults.
func Start(h http.Handler) *Server {
	s := &Server{}
	s.srv = httptest.NewServer(s.Faults.Wrap(h))
	return s
}

// URL returns the server's base URL, http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.srv.URL }

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.srv.Listener.Addr().String() }

// HTTPClient returns a client for the server's URL.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// AddJSONL reads JSON Lines (plain or gzip-compressed) and calls put with a
// copy of each line, for a fake's AddJSONL. It returns how many lines it
// put; an error names the line.
func AddJSONL(r io.Reader, put func(raw []byte) error) (int, error) {
	n := 0
	err := jsonl.Each(r, func(line int, raw []byte) error {
		if err := put(bytes.Clone(raw)); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		n++
		return nil
	})
	return n, err
}
