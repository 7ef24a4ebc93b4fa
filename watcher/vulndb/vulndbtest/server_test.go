package vulndbtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/internal/fakehttp"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb/vulndbtest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func get(t *testing.T, s *vulndbtest.Server, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL()+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func TestServer(t *testing.T) {
	s := vulndbtest.NewServer()
	defer s.Close()
	e1 := vulndbtest.NewEntry(vulndbtest.EntrySpec{ID: "GO-2024-0002", Modified: t0, Summary: "two", Aliases: []string{"CVE-2024-2"}, Packages: []string{"crypto/tls"}})
	e2 := vulndbtest.NewEntry(vulndbtest.EntrySpec{ID: "GO-2024-0001", Modified: t0.Add(time.Hour), Summary: "one"})
	for _, e := range [][]byte{e1, e2} {
		if err := s.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	// The fake's entries are entries the normalizer reads.
	if it, err := vulndb.Normalize(e1); err != nil || it.Packages[0] != "crypto/tls" {
		t.Errorf("Normalize(NewEntry) = %+v, %v", it, err)
	}

	res, body := get(t, s, "/index/vulns.json")
	var idx []vulndb.IndexEntry
	if err := json.Unmarshal(body, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx) != 2 || idx[0].ID != "GO-2024-0001" || !idx[0].Modified.Equal(t0.Add(time.Hour)) || idx[1].Aliases[0] != "CVE-2024-2" {
		t.Errorf("index = %+v", idx)
	}
	etag, lastMod := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
	if etag == "" || lastMod != "Sun, 01 Mar 2026 13:00:00 GMT" {
		t.Errorf("ETag %q, Last-Modified %q", etag, lastMod)
	}
	if res, _ := get(t, s, "/index/vulns.json", "If-None-Match", etag); res.StatusCode != 304 {
		t.Errorf("If-None-Match: %s", res.Status)
	}
	if res, _ := get(t, s, "/index/vulns.json", "If-Modified-Since", lastMod); res.StatusCode != 304 {
		t.Errorf("If-Modified-Since: %s", res.Status)
	}
	// If-None-Match wins over If-Modified-Since.
	if res, _ := get(t, s, "/index/vulns.json", "If-None-Match", `"other"`, "If-Modified-Since", lastMod); res.StatusCode != 200 {
		t.Errorf("If-None-Match not matching, If-Modified-Since matching: %s", res.Status)
	}
	_, body = get(t, s, "/index/db.json")
	if string(body) != `{"modified":"2026-03-01T13:00:00Z"}` {
		t.Errorf("db.json = %s", body)
	}
	if res, body := get(t, s, "/ID/GO-2024-0002.json"); res.StatusCode != 200 || string(body) != string(e1) {
		t.Errorf("entry: %s %s", res.Status, body)
	}
	if res, _ := get(t, s, "/ID/GO-2024-9999.json"); res.StatusCode != 404 {
		t.Errorf("missing entry: %s", res.Status)
	}

	// A change changes the index and its ETag.
	if err := s.Amend("GO-2024-0002", t0.Add(2*time.Hour), "two, amended"); err != nil {
		t.Fatal(err)
	}
	if res, _ := get(t, s, "/index/vulns.json", "If-None-Match", etag); res.StatusCode != 200 || res.Header.Get("ETag") == etag {
		t.Errorf("after Amend: %s, ETag %s", res.Status, res.Header.Get("ETag"))
	}
	s.SetValidators(false)
	if res, _ := get(t, s, "/index/vulns.json", "If-None-Match", etag); res.StatusCode != 200 || res.Header.Get("ETag") != "" || res.Header.Get("Last-Modified") != "" {
		t.Errorf("without validators: %s %v", res.Status, res.Header)
	}
	s.PutRaw("GO-2024-0003", t0, []byte("{not json"))
	if _, body := get(t, s, "/ID/GO-2024-0003.json"); string(body) != "{not json" {
		t.Errorf("PutRaw entry = %s", body)
	}

	s.FailNext(1, fakehttp.TooManyRequests, time.Minute)
	if res, _ := get(t, s, "/index/db.json"); res.StatusCode != 429 || res.Header.Get("Retry-After") != "60" {
		t.Errorf("429: %s", res.Status)
	}
	if st := s.Stats(); st.Requests != 11 || st.NotModified != 2 || st.Faults != 1 {
		t.Errorf("stats = %+v", st)
	}
}
