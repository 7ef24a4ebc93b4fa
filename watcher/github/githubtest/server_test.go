package githubtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
)

func issue(n int, state, created, updated string) string {
	return fmt.Sprintf(`{"url":"https://api.github.com/repos/golang/go/issues/%d","repository_url":"https://api.github.com/repos/golang/go","number":%d,"state":%q,"created_at":%q,"updated_at":%q}`,
		n, n, state, created, updated)
}

func get(t *testing.T, srv *githubtest.Server, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func numbers(t *testing.T, body string) []int {
	t.Helper()
	var objs []struct {
		Number int   `json:"number"`
		ID     int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &objs); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var ns []int
	for _, o := range objs {
		ns = append(ns, o.Number+int(o.ID))
	}
	return ns
}

// linkPages sums up a Link header as "rel=page ..." in rel order.
func linkPages(link string) string {
	var out []string
	for _, l := range strings.Split(link, ",") {
		u, rel, ok := strings.Cut(strings.TrimSpace(l), ">; rel=")
		if !ok {
			return "bad link " + l
		}
		pu, err := url.Parse(strings.TrimPrefix(u, "<"))
		if err != nil {
			return err.Error()
		}
		out = append(out, strings.Trim(rel, `"`)+"="+pu.Query().Get("page"))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestListings(t *testing.T) {
	srv := githubtest.NewServer()
	defer srv.Close()
	raw := []string{
		issue(1, "open", "2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z"),
		issue(2, "closed", "2024-01-02T00:00:00Z", "2024-02-01T00:00:00Z"),
		issue(3, "open", "2024-01-03T00:00:00Z", "2024-01-03T00:00:00Z"),
	}
	for _, r := range raw {
		if err := srv.PutIssue([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	srv.PutComment([]byte(`{"id":7,"issue_url":"https://api.github.com/repos/golang/go/issues/1","created_at":"2024-02-01T00:00:00Z","updated_at":"2024-02-01T00:00:00Z"}`))
	srv.PutComment([]byte(`{"id":8,"issue_url":"https://api.github.com/repos/golang/go/issues/3","created_at":"2024-03-01T00:00:00Z","updated_at":"2024-03-01T00:00:00Z"}`))

	// GitHub's defaults: open issues, newest created first.
	if _, body := get(t, srv, "repos/golang/go/issues"); fmt.Sprint(numbers(t, body)) != "[3 1]" {
		t.Errorf("default listing: %s, want issues 3, 1", body)
	}
	// Objects are served byte for byte.
	_, body := get(t, srv, "repos/golang/go/issues?state=all&sort=updated&direction=asc")
	if want := "[" + raw[2] + "," + raw[1] + "," + raw[0] + "]"; body != want {
		t.Errorf("listing by update:\n%s\nwant\n%s", body, want)
	}
	if _, body := get(t, srv, "repos/Golang/Go/issues?state=all&sort=updated&direction=asc&since=2024-02-01T00:00:00Z"); fmt.Sprint(numbers(t, body)) != "[2 1]" {
		t.Errorf("since (inclusive), any case of repository: %s, want issues 2, 1", body)
	}
	if _, body := get(t, srv, "repos/golang/go/issues/comments?since=2024-02-15T00:00:00Z"); fmt.Sprint(numbers(t, body)) != "[8]" {
		t.Errorf("comments since: %s, want comment 8", body)
	}

	// Pages and Link.
	resp, body := get(t, srv, "repos/golang/go/issues?state=all&per_page=1&page=2")
	if got, want := linkPages(resp.Header.Get("Link")), "first=1 last=3 next=3 prev=1"; got != want {
		t.Errorf("Link %q: pages %s, want %s", resp.Header.Get("Link"), got, want)
	}
	if fmt.Sprint(numbers(t, body)) != "[2]" {
		t.Errorf("page 2 of 1: %s, want issue 2", body)
	}
	if resp, _ := get(t, srv, "repos/golang/go/issues?state=all&per_page=1&page=3"); strings.Contains(resp.Header.Get("Link"), `rel="next"`) {
		t.Errorf("last page has a next link: %s", resp.Header.Get("Link"))
	}

	// ETags, 304 and the rate limit, which 304s do not spend.
	srv.ResetStats()
	resp, _ = get(t, srv, "repos/golang/go/issues?state=all")
	etag, remaining := resp.Header.Get("ETag"), resp.Header.Get("X-RateLimit-Remaining")
	resp, body = get(t, srv, "repos/golang/go/issues?state=all", "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || body != "" || resp.Header.Get("X-RateLimit-Remaining") != remaining {
		t.Errorf("conditional request: %s, %q, remaining %s; want 304, no body, remaining still %s", resp.Status, body, resp.Header.Get("X-RateLimit-Remaining"), remaining)
	}
	if s := srv.Stats(); s.Requests != 2 || s.NotModified != 1 {
		t.Errorf("stats %+v, want 2 requests, 1 not modified", s)
	}
	srv.PutIssue([]byte(issue(3, "closed", "2024-01-03T00:00:00Z", "2024-04-01T00:00:00Z")))
	if resp, _ := get(t, srv, "repos/golang/go/issues?state=all", "If-None-Match", etag); resp.StatusCode != http.StatusOK {
		t.Errorf("conditional request after a change: %s, want 200", resp.Status)
	}

	if resp, _ := get(t, srv, "repos/golang/go/pulls"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown endpoint: %s, want 404", resp.Status)
	}
}

func TestFaults(t *testing.T) {
	srv := githubtest.NewServer()
	defer srv.Close()
	srv.PutIssue([]byte(issue(1, "open", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z")))
	srv.FailNext(1, githubtest.ServerError)
	srv.SecondaryLimitNext(90e9)
	if resp, _ := get(t, srv, "repos/golang/go/issues"); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("ServerError: %s", resp.Status)
	}
	if resp, _ := get(t, srv, "repos/golang/go/issues"); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Retry-After") != "90" {
		t.Errorf("SecondaryLimit: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	srv.FailNext(1, githubtest.ConnReset)
	// A fresh connection: on a reused one, net/http would retry the GET.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if _, err := fresh.Get(srv.URL() + "repos/golang/go/issues"); err == nil {
		t.Error("ConnReset: request succeeded")
	}
	srv.FailNext(1, githubtest.Truncate)
	if resp, err := srv.Client().Get(srv.URL() + "repos/golang/go/issues"); err != nil {
		t.Error(err)
	} else if _, err := io.ReadAll(resp.Body); err != io.ErrUnexpectedEOF {
		t.Errorf("Truncate: reading the body: %v, want unexpected EOF", err)
	}
	srv.SetRateLimit(1)
	get(t, srv, "repos/golang/go/issues")
	if resp, _ := get(t, srv, "repos/golang/go/issues"); resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("spent budget: %s, remaining %q; want 403, 0", resp.Status, resp.Header.Get("X-RateLimit-Remaining"))
	}
	if s := srv.Stats(); s.Faults != 4 {
		t.Errorf("%d faults counted, want 4", s.Faults)
	}
}
