// Package fetch makes the GET requests of the sources that speak plain
// HTTP (Gerrit, the vulnerability database) and decides what a failure
// means: retry it, wait for a rate limit, or stop.
//
//   - 5xx answers (and 408), reset connections and timeouts are retried
//     a bounded number of times with jittered exponential backoff.
//   - 429 Too Many Requests, and 503 Service Unavailable with a
//     Retry-After, are waited out when the wait fits in MaxWait; otherwise
//     Get returns a *LimitError saying when to try again.
//   - A body cut short (fewer bytes than its Content-Length, or a chunked
//     body that ends early), and a 200 body that Valid refuses (a proxy
//     that cut it without saying so), are retried the same way: asking
//     again gets the whole answer. After the retries it is an error naming
//     the URL, and the caller commits nothing from it.
//   - Other statuses are errors naming the URL.
//
// Get returns 200 and 304 answers with their whole body read.
package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/source"
)

// Defaults of a Getter.
const (
	// DefaultMaxWait is how long a Getter waits for a rate limit when
	// MaxWait is zero.
	DefaultMaxWait = 15 * time.Minute
	// DefaultRetries is how many times a failed request is retried.
	DefaultRetries = 4
	// DefaultTimeout bounds one request, body included, when the HTTP
	// client sets no timeout of its own.
	DefaultTimeout = 2 * time.Minute

	// backoffBase is the first retry's backoff; each retry doubles it.
	backoffBase = time.Second
	// limitDefault is the wait after a 429 without Retry-After.
	limitDefault = time.Minute
	// maxLimitWaits is how many times one request waits for a rate
	// limit before Get gives up.
	maxLimitWaits = 3
	// maxBody bounds a body read into memory.
	maxBody = 1 << 30
)

// A Getter makes GET requests with retries. Its zero fields take defaults;
// it is safe for concurrent use.
type Getter struct {
	// Source names the caller in errors and logs: "gerrit", "vulndb".
	Source string
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
	// Sleep waits between attempts; nil means a timer. It must return
	// early with ctx's error when ctx is done.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock Retry-After dates are compared with; nil means
	// time.Now.
	Now func() time.Time
	// MaxWait is the longest wait for a rate limit: zero means
	// DefaultMaxWait, negative means never wait.
	MaxWait time.Duration
	// Retries is how many times a transient failure is retried; zero
	// means DefaultRetries, negative means none.
	Retries int
	// Valid, if set, checks the body of a 200 answer, for example that
	// it is well-formed JSON. A body it refuses is retried like one cut
	// short.
	Valid func(body []byte) error

	requests atomic.Int64
	client   atomic.Pointer[http.Client]
}

// Requests returns how many requests reached the network, retries
// included.
func (g *Getter) Requests() int { return int(g.requests.Load()) }

// A Response is a 200 or 304 answer.
type Response struct {
	URL    string
	Status int
	Header http.Header
	Body   []byte
}

// An Error is a request that failed for good. Its message names the source
// and the URL.
type Error struct {
	Source string
	URL    string
	Status int // the HTTP status, 0 if there was no answer
	Msg    string
	Err    error
}

func (e *Error) Error() string { return e.Source + ": GET " + e.URL + ": " + e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// ErrTruncated reports a body cut short.
var ErrTruncated = errors.New("response body cut short")

// ErrMalformed reports a 200 body that the Getter's Valid refused.
var ErrMalformed = errors.New("malformed response")

// ValidJSON is a Valid function: the body must be one well-formed JSON
// value, after prefix if it starts with it (Gerrit's ")]}'" guard line).
func ValidJSON(prefix string) func([]byte) error {
	return func(body []byte) error {
		b := bytes.TrimSpace(body)
		if prefix != "" {
			b = bytes.TrimPrefix(b, []byte(prefix))
		}
		if !json.Valid(b) {
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				return err
			}
			return errors.New("not valid JSON")
		}
		return nil
	}
}

// A LimitError reports that a server asked us to come back later than
// MaxWait allows. What was synced before it is saved; syncing again after
// RetryAfter continues from there.
type LimitError struct {
	Source     string
	URL        string
	Status     int           // 429 or 503
	RetryAfter time.Time     // when the server wants to be asked again
	Wait       time.Duration // how long that is from when it answered
	MaxWait    time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: GET %s: %d %s: asked to retry at %s (%s away, longer than the %s a sync waits); what was synced so far is saved: sync again after that time",
		e.Source, e.URL, e.Status, http.StatusText(e.Status), e.RetryAfter.UTC().Format(time.RFC3339), e.Wait.Round(time.Second), e.MaxWait)
}

// countRequests counts the requests that reach the transport.
type countRequests struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (t countRequests) RoundTrip(req *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.base.RoundTrip(req)
}

// httpClient returns the client requests go through: the configured one,
// counting requests, with a timeout.
func (g *Getter) httpClient() *http.Client {
	if c := g.client.Load(); c != nil {
		return c
	}
	base := g.Client
	if base == nil {
		base = http.DefaultClient
	}
	transport := base.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	c := &http.Client{
		Transport:     countRequests{base: transport, n: &g.requests},
		CheckRedirect: base.CheckRedirect,
		Jar:           base.Jar,
		Timeout:       base.Timeout,
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	g.client.CompareAndSwap(nil, c)
	return g.client.Load()
}

func (g *Getter) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Getter) sleep(ctx context.Context, d time.Duration) error {
	if g.Sleep != nil {
		return g.Sleep(ctx, d)
	}
	return SleepCtx(ctx, d)
}

func (g *Getter) maxWait() time.Duration {
	if g.MaxWait == 0 {
		return DefaultMaxWait
	}
	return g.MaxWait
}

func (g *Getter) retries() int {
	switch {
	case g.Retries == 0:
		return DefaultRetries
	case g.Retries < 0:
		return 0
	}
	return g.Retries
}

// Get fetches u with the given request headers, retrying and waiting as
// the package documentation says. It returns 200 and 304 answers; every
// other outcome is an error: *Error, *LimitError, or ctx's error.
func (g *Getter) Get(ctx context.Context, u string, header http.Header) (*Response, error) {
	var tries, waits int
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		resp, f := g.try(ctx, u, header)
		if f == nil {
			return resp, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch {
		case f.limit:
			wait := f.until.Sub(g.now())
			if wait < 0 {
				wait = 0
			}
			maxWait := g.maxWait()
			if maxWait < 0 || wait > maxWait {
				return nil, &LimitError{Source: g.Source, URL: u, Status: f.status, RetryAfter: f.until, Wait: wait, MaxWait: max(maxWait, 0)}
			}
			if waits++; waits > maxLimitWaits {
				return nil, &Error{Source: g.Source, URL: u, Status: f.status, Msg: fmt.Sprintf("%s (still limited after waiting %d times)", f.msg, maxLimitWaits), Err: f.err}
			}
			slog.Info(g.Source+": asked to wait", "url", u, "status", f.status, "wait", wait.Round(time.Second))
			if err := g.sleep(ctx, wait); err != nil {
				return nil, err
			}
		case f.retry:
			if tries++; tries > g.retries() {
				return nil, &Error{Source: g.Source, URL: u, Status: f.status, Msg: fmt.Sprintf("%s (gave up after %d attempts)", f.msg, tries), Err: f.err}
			}
			d := Backoff(tries)
			// A retry is routine on a flaky link (a proxy that cuts every
			// fifth response makes hundreds in a long sync): it is logged
			// for cron's and systemd's logs, not warned about on a
			// terminal. Giving up is the error the source reports.
			slog.Info(g.Source+": request failed, retrying", "url", u, "err", f.msg, "attempt", tries, "backoff", d)
			if err := g.sleep(ctx, d); err != nil {
				return nil, err
			}
		default:
			return nil, &Error{Source: g.Source, URL: u, Status: f.status, Msg: f.msg, Err: f.err}
		}
	}
}

// A failure says what went wrong with one attempt and what to do about it.
type failure struct {
	status int
	msg    string
	err    error
	retry  bool      // transient: back off and retry
	limit  bool      // rate limited: wait until, then retry
	until  time.Time // for limit
}

// try makes one attempt.
func (g *Getter) try(ctx context.Context, u string, header http.Header) (*Response, *failure) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &failure{msg: err.Error(), err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := g.httpClient().Do(req)
	if err != nil {
		// No answer: the connection failed, was reset, or timed out.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, &failure{msg: err.Error(), err: err, retry: true}
	}
	defer res.Body.Close()
	switch code := res.StatusCode; {
	case code == http.StatusOK || code == http.StatusNotModified:
		body, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, &failure{status: code, msg: fmt.Sprintf("%v after %d bytes", ErrTruncated, len(body)), err: ErrTruncated, retry: true}
			}
			var nerr net.Error
			if errors.As(err, &nerr) && nerr.Timeout() {
				return nil, &failure{status: code, msg: "reading the response: " + err.Error(), err: err, retry: true}
			}
			return nil, &failure{status: code, msg: "reading the response: " + err.Error(), err: err}
		}
		if len(body) > maxBody {
			return nil, &failure{status: code, msg: fmt.Sprintf("response larger than %d MiB", maxBody>>20)}
		}
		if code == http.StatusOK && g.Valid != nil {
			if err := g.Valid(body); err != nil {
				return nil, &failure{status: code, msg: fmt.Sprintf("malformed response (%d bytes): %v", len(body), err), err: fmt.Errorf("%w: %w", ErrMalformed, err), retry: true}
			}
		}
		return &Response{URL: u, Status: code, Header: res.Header, Body: body}, nil
	case code == http.StatusTooManyRequests,
		code == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "":
		d, ok := RetryAfter(res.Header.Get("Retry-After"), g.now())
		if !ok {
			d = limitDefault
		}
		io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
		return nil, &failure{status: code, msg: statusMsg(res), limit: true, until: g.now().Add(d)}
	case code >= 500 || code == http.StatusRequestTimeout:
		return nil, &failure{status: code, msg: statusMsg(res), retry: true}
	default:
		return nil, &failure{status: code, msg: statusMsg(res)}
	}
}

// statusMsg describes an error answer: its status and the start of its
// body, which is where Gerrit says what was wrong with a query.
func statusMsg(res *http.Response) string {
	msg := res.Status
	b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if s := strings.Join(strings.Fields(string(b)), " "); s != "" && !strings.HasPrefix(s, "<") {
		msg += ": " + s
	}
	return msg
}

// RetryAfter parses a Retry-After header, delay-seconds or an HTTP date,
// into how long to wait from now.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// Backoff returns the wait before retry n (1, 2, ...): a second doubled
// n-1 times, less a random part of up to half, so that clients that failed
// together do not retry together.
func Backoff(n int) time.Duration {
	d := backoffBase << (n - 1)
	return d/2 + rand.N(d/2+1)
}

// SleepCtx waits for d or until ctx is done.
func SleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ForSync returns the Getter of one sync of the source kind: its requests
// go through client, its waits through sleep, on the sync's clock and
// within its MaxWait; valid checks each body.
func ForSync(kind string, client *http.Client, sleep func(context.Context, time.Duration) error, opts source.Options, valid func([]byte) error) *Getter {
	return &Getter{Source: kind, Client: client, Sleep: sleep, Now: opts.Now, MaxWait: opts.MaxWait, Valid: valid}
}
