package gerrittest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/build/gerrit"

	"github.com/reciprocal-access/reciprocal/watcher/gerrit/gerrittest"
	"github.com/reciprocal-access/reciprocal/watcher/internal/fakehttp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fill puts n changes of project, change i updated i minutes after t0.
func fill(t *testing.T, s *gerrittest.Server, project string, first, n int) {
	t.Helper()
	for i := range n {
		raw := gerrittest.NewChange(gerrittest.ChangeSpec{
			Project: project,
			Number:  first + i,
			Subject: fmt.Sprintf("crypto/tls: change %d", first+i),
			Updated: t0.Add(time.Duration(i) * time.Minute),
			Files:   []string{"src/crypto/tls/conn.go"},
		})
		if err := s.Put(raw); err != nil {
			t.Fatal(err)
		}
	}
}

// The Go team's client pages through the fake with Start and sees
// _more_changes on the last change of every page but the last.
func TestXBuildClientPaging(t *testing.T) {
	s := gerrittest.NewServer()
	defer s.Close()
	fill(t, s, "go", 1000, 7)
	fill(t, s, "crypto", 5000, 3)
	c := gerrit.NewClient(s.URL(), gerrit.NoAuth)
	ctx := context.Background()

	var got []int
	for start := 0; ; {
		page, err := c.QueryChanges(ctx, "project:go", gerrit.QueryChangesOpt{N: 3, Start: start, Fields: []string{"CURRENT_REVISION", "MESSAGES"}})
		if err != nil {
			t.Fatal(err)
		}
		for i, ci := range page {
			got = append(got, ci.ChangeNumber)
			if ci.MoreChanges != (i == len(page)-1 && start+len(page) < 7) {
				t.Errorf("start %d: change %d: MoreChanges = %v", start, ci.ChangeNumber, ci.MoreChanges)
			}
			if ci.Project != "go" || ci.Updated.Time().IsZero() {
				t.Errorf("change %d: project %q, updated %v", ci.ChangeNumber, ci.Project, ci.Updated.Time())
			}
		}
		if len(page) == 0 || !page[len(page)-1].MoreChanges {
			break
		}
		start += len(page)
	}
	want := []int{1006, 1005, 1004, 1003, 1002, 1001, 1000} // newest updated first
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
	if n := s.Stats().Requests; n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
}

func TestQueryOperators(t *testing.T) {
	s := gerrittest.NewServer()
	defer s.Close()
	fill(t, s, "go", 1000, 10) // updated t0 … t0+9m
	if err := s.SetStatus("go", 1002, "MERGED", t0.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	c := gerrit.NewClient(s.URL(), gerrit.NoAuth)
	ctx := context.Background()
	for _, tc := range []struct {
		q    string
		want []int
	}{
		{`project:go after:"2026-03-01 12:07:00"`, []int{1002, 1009, 1008, 1007}},
		{`project:go after:"2026-03-01 12:07:00.000"`, []int{1002, 1009, 1008, 1007}},
		{`project:go after:"2026-03-01 12:07:00" before:"2026-03-01 12:08:00"`, []int{1008, 1007}},
		{`project:go since:'2026-03-01 12:08:30' until:"2026-03-01 12:09:00"`, []int{1009}},
		{`project:go status:merged`, []int{1002}},
		{`project:go after:"2026-03-01 13:07:00 +0100" status:open`, []int{1009, 1008, 1007}},
		{`project:crypto`, nil},
	} {
		page, err := c.QueryChanges(ctx, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		var got []int
		for _, ci := range page {
			got = append(got, ci.ChangeNumber)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.q, got, tc.want)
		}
	}
	for _, q := range []string{`project:go after:"yesterday"`, `owner:me`, `project:"go`} {
		_, err := c.QueryChanges(ctx, q)
		var he *gerrit.HTTPError
		if !errors.As(err, &he) || he.Res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: err = %v, want 400", q, err)
		}
	}
	_, err := c.QueryChanges(ctx, "project:go", gerrit.QueryChangesOpt{Fields: []string{"NO_SUCH_OPTION"}})
	if err == nil || !strings.Contains(err.Error(), "not a valid value") {
		t.Errorf("unknown option: err = %v", err)
	}
}

// The wire format: the guard line, the limit, _more_changes as the last
// member of the last change, the object otherwise byte for byte as put.
func TestWireFormat(t *testing.T) {
	s := gerrittest.NewServer()
	defer s.Close()
	s.SetLimit(2)
	fill(t, s, "go", 1, 3)
	res, err := http.Get(s.URL() + "/changes/?q=" + url.QueryEscape("project:go") + "&n=10")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.HasPrefix(string(body), ")]}'\n[") {
		t.Fatalf("body starts %q", body[:min(len(body), 20)])
	}
	c3, _ := s.Change("go", 3)
	c2, _ := s.Change("go", 2)
	want := ")]}'\n[" + string(c3) + "," + strings.TrimSuffix(string(c2), "}") + `,"_more_changes":true}` + "]\n"
	if string(body) != want {
		t.Errorf("body =\n%s\nwant\n%s", body, want)
	}
	if err := s.Put([]byte(`{"project":"go","_number":9,"updated":"2026-03-01 12:00:00.000000000","_more_changes":true}`)); err == nil {
		t.Error("Put accepted an object with _more_changes")
	}
}

func TestFaults(t *testing.T) {
	s := gerrittest.NewServer()
	defer s.Close()
	fill(t, s, "go", 1, 3)
	u := s.URL() + "/changes/?q=project:go"
	get := func() (*http.Response, []byte, error) {
		res, err := s.Client().Get(u)
		if err != nil {
			return nil, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res, b, err
	}

	s.FailNext(1, fakehttp.ServerError, 0)
	if res, _, err := get(); err != nil || res.StatusCode != 500 {
		t.Errorf("ServerError: %v, %v", res, err)
	}
	s.FailNext(1, fakehttp.TooManyRequests, 90*time.Second)
	if res, _, err := get(); err != nil || res.StatusCode != 429 || res.Header.Get("Retry-After") != "90" {
		t.Errorf("TooManyRequests: %v, %v", res, err)
	}
	s.FailNext(1, fakehttp.Unavailable, 5*time.Second)
	if res, _, err := get(); err != nil || res.StatusCode != 503 || res.Header.Get("Retry-After") != "5" {
		t.Errorf("Unavailable: %v, %v", res, err)
	}
	s.FailNext(1, fakehttp.Truncate, 0)
	if _, _, err := get(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Truncate: err = %v, want unexpected EOF", err)
	}
	s.FailNext(1, fakehttp.ConnReset, 0)
	if _, _, err := get(); err == nil {
		t.Error("ConnReset: no error")
	}
	if res, _, err := get(); err != nil || res.StatusCode != 200 {
		t.Errorf("after the faults: %v, %v", res, err)
	}
	st := s.Stats()
	if st.Faults != 5 || st.Requests < 6 {
		t.Errorf("stats = %+v", st)
	}
}

// Client reaches the fake under any host name, so that item IDs can carry
// a real-looking host label.
func TestClientRoutesAnyHost(t *testing.T) {
	s := gerrittest.NewServer()
	defer s.Close()
	fill(t, s, "go", 1, 1)
	c := gerrit.NewClient("http://go-review.test", gerrit.NoAuth)
	c.HTTPClient = s.Client()
	page, err := c.QueryChanges(context.Background(), "project:go")
	if err != nil || len(page) != 1 {
		t.Fatalf("QueryChanges = %d changes, %v", len(page), err)
	}
}

func TestEditHelpers(t *testing.T) {
	s := gerrittest.NewServer()
	defer s.Close()
	fill(t, s, "go", 1, 1)
	at := t0.Add(time.Hour)
	if err := s.AddMessage("go", 1, "Filippo Valsorda", "LGTM", at); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus("go", 1, "ABANDONED", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	c := gerrit.NewClient(s.URL(), gerrit.NoAuth)
	ci, err := c.QueryChanges(context.Background(), "project:go")
	if err != nil || len(ci) != 1 {
		t.Fatal(len(ci), err)
	}
	if ci[0].Status != gerrit.ChangeStatusAbandoned || !ci[0].Updated.Time().Equal(at.Add(time.Minute)) || len(ci[0].Messages) != 2 || ci[0].Messages[0].Message != "LGTM" {
		t.Errorf("after edits: status %s, updated %v, messages %+v", ci[0].Status, ci[0].Updated.Time(), ci[0].Messages)
	}
	if err := s.SetStatus("go", 1, "DRAFT", at); err == nil {
		t.Error("SetStatus accepted DRAFT")
	}
	if err := s.Edit("go", 2, func(map[string]any) {}); err == nil {
		t.Error("Edit of a missing change succeeded")
	}
}
