package sla

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func profile(id, tier string, s configs.ClientSLA, concerns ...configs.Concern) *configs.Profile {
	return &configs.Profile{ID: id, Name: strings.ToUpper(id), Tier: tier, SLA: s, Concerns: concerns}
}

func concern(id string, kinds []string, pkgs ...string) configs.Concern {
	return configs.Concern{ID: id, Summary: "about " + id, Packages: pkgs, Kinds: kinds}
}

var published = time.Date(2026, 11, 23, 18, 31, 0, 0, time.UTC)

func vuln(id, module string, pkgs ...string) *index.Item {
	return &index.Item{ID: id, Kind: index.KindVuln, State: index.StatePublished, Repo: module, Packages: pkgs,
		Created: published, Affected: []index.Affected{{Module: module, Packages: pkgs}}}
}

func testPolicy() *Policy {
	cfg := configs.Default()
	cfg.SLA.Platinum = configs.Duration(4 * time.Hour)
	return &Policy{
		Config: cfg,
		Profiles: configs.Profiles{
			profile("acme", "gold", configs.ClientSLA{}, concern("tls", nil, "crypto/tls"), concern("x509", []string{"issue"}, "crypto/x509")),
			profile("globex", "platinum", configs.ClientSLA{Window: configs.Duration(48 * time.Hour)}, concern("yaml", nil, "github.com/example/yaml")),
			profile("initech", "silver", configs.ClientSLA{Off: true}, concern("http", nil, "net/http")),
		},
		Own: []string{"me/tool"},
	}
}

func TestTerms(t *testing.T) {
	pol := testPolicy()
	for _, tc := range []struct {
		client string
		want   Terms
	}{
		{"acme", Terms{Covered: true, Window: 24 * time.Hour, Response: 6 * time.Hour}},
		{"globex", Terms{Covered: true, Window: 48 * time.Hour, Response: 4 * time.Hour}},
		{"initech", Terms{Covered: false, Window: 24 * time.Hour, Response: 6 * time.Hour}},
	} {
		if got := pol.Terms(pol.Profiles.Client(tc.client)); got != tc.want {
			t.Errorf("%s: Terms = %+v, want %+v", tc.client, got, tc.want)
		}
	}
}

func TestQualifies(t *testing.T) {
	pol := testPolicy()
	for _, tc := range []struct {
		name string
		it   *index.Item
		want map[string]string // client → why
	}{
		{"stdlib", vuln("GO-1", "stdlib", "crypto/tls"), map[string]string{"acme": WhyGo, "globex": WhyGo}},
		{"toolchain", vuln("GO-2", "toolchain", "cmd/go"), map[string]string{"acme": WhyGo, "globex": WhyGo}},
		{"x module", vuln("GO-3", "golang.org/x/net", "golang.org/x/net/http2"), map[string]string{"acme": WhyGo, "globex": WhyGo}},
		{"own project", vuln("GHSA-abcd-efgh-ijkl", "me/tool"), map[string]string{"acme": WhyOwn, "globex": WhyOwn}},
		{"third party touching a concern", vuln("GO-4", "github.com/example/yaml", "github.com/example/yaml/v3"), map[string]string{"globex": WhyConcern}},
		{"third party touching nothing", vuln("GO-5", "github.com/other/thing", "github.com/other/thing"), map[string]string{}},
	} {
		got := map[string]string{}
		for _, w := range pol.Windows(tc.it, nil) {
			got[w.ClientID] = w.Why
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: windows %v, want %v", tc.name, got, tc.want)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: windows %v, want %v", tc.name, got, tc.want)
			}
		}
	}
	// The window closes after the client's window.
	ws := pol.Windows(vuln("GO-1", "stdlib", "crypto/tls"), nil)
	if !ws[0].Closes.Equal(published.Add(24*time.Hour)) || !ws[1].Closes.Equal(published.Add(48*time.Hour)) {
		t.Errorf("closes %v, %v", ws[0].Closes, ws[1].Closes)
	}
	// A withdrawn entry opens none.
	w := vuln("GO-1", "stdlib", "crypto/tls")
	w.State = index.StateWithdrawn
	if ws := pol.Windows(w, nil); len(ws) != 0 {
		t.Errorf("withdrawn: %d windows", len(ws))
	}
}

func TestTouches(t *testing.T) {
	p := testPolicy().Profiles.Client("acme")
	// crypto/tls/internal touches tls; the x509 concern leaves vulns out,
	// unless the matcher prompted for it (a query match).
	it := vuln("GO-1", "stdlib", "crypto/tls/internal/fips", "crypto/x509")
	ts := Touches(it, p, nil)
	if len(ts) != 1 || ts[0].Concern.ID != "tls" || ts[0].Packages[0] != "crypto/tls" {
		t.Errorf("Touches = %+v", ts)
	}
	ts = Touches(it, p, []string{"x509"})
	if len(ts) != 2 || ts[1].Concern.ID != "x509" || len(ts[1].Packages) != 0 {
		t.Errorf("Touches with a prompt = %+v", ts)
	}
	if ts := Touches(vuln("GO-2", "stdlib", "crypto/tlsx"), p, nil); len(ts) != 0 {
		t.Errorf("crypto/tlsx touches %+v", ts)
	}
}

func TestDecide(t *testing.T) {
	pol := testPolicy()
	go1 := vuln("GO-1", "stdlib", "crypto/tls")
	third := vuln("GO-5", "github.com/other/thing", "github.com/other/thing")
	for _, tc := range []struct {
		name, client string
		it           *index.Item
		asked        time.Time
		deadline     time.Time
		outside      string
	}{
		{"within", "acme", go1, published.Add(14 * time.Hour), published.Add(20 * time.Hour), ""},
		{"platinum response", "globex", go1, published.Add(30 * time.Hour), published.Add(34 * time.Hour), ""},
		{"after the window", "acme", go1, published.Add(24 * time.Hour), time.Time{}, "asked after the window closed on Tue 24 Nov 18:31 UTC"},
		{"before publication", "acme", go1, published.Add(-time.Minute), time.Time{}, "asked before GO-1 was published"},
		{"no SLA", "initech", go1, published.Add(time.Hour), time.Time{}, "no vulnerability SLA"},
		{"third party", "acme", third, published.Add(time.Hour), time.Time{}, "GO-5 does not qualify"},
	} {
		r := Request{Client: tc.client, Vuln: tc.it.ID, Asked: tc.asked}
		pol.Decide(&r, tc.it, pol.Profiles.Client(tc.client), nil)
		if !r.Deadline.Equal(tc.deadline) {
			t.Errorf("%s: deadline %v, want %v", tc.name, r.Deadline, tc.deadline)
		}
		if tc.outside == "" && r.Outside != "" || !strings.Contains(r.Outside, tc.outside) {
			t.Errorf("%s: outside %q, want %q", tc.name, r.Outside, tc.outside)
		}
	}
}

func TestRequests(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pol := testPolicy()
	go1 := vuln("GO-1", "stdlib", "crypto/tls")

	asked := published.Add(14 * time.Hour)
	r := Request{Client: "acme", Vuln: "GO-1", Asked: asked, Note: "are we affected?"}
	pol.Decide(&r, go1, pol.Profiles.Client("acme"), nil)
	r1, err := Add(st, r)
	if err != nil || r1.ID != "r1" {
		t.Fatalf("Add = %+v, %v", r1, err)
	}
	late := Request{Client: "acme", Vuln: "GO-1", Asked: published.Add(30 * time.Hour)}
	pol.Decide(&late, go1, pol.Profiles.Client("acme"), nil)
	r2, err := Add(st, late)
	if err != nil || r2.ID != "r2" {
		t.Fatalf("Add = %+v, %v", r2, err)
	}

	rs, err := List(st)
	if err != nil || len(rs) != 2 {
		t.Fatalf("List = %v, %v", rs, err)
	}
	open := OpenRequests(rs)
	if len(open) != 1 || open[0].ID != "r1" {
		t.Fatalf("OpenRequests = %+v", open)
	}
	if left := open[0].Left(asked.Add(4 * time.Hour)); left != 2*time.Hour {
		t.Errorf("Left = %v", left)
	}
	if open[0].Overdue(asked.Add(6*time.Hour)) || !open[0].Overdue(asked.Add(6*time.Hour+time.Second)) {
		t.Errorf("Overdue wrong around the deadline")
	}

	if _, err := Answer(st, "r1", asked.Add(-time.Minute), ""); err == nil {
		t.Errorf("an answer before the request was accepted")
	}
	a, err := Answer(st, "R1", asked.Add(100*time.Minute), "not affected: they use one Config")
	if err != nil {
		t.Fatal(err)
	}
	if a.AnswerTime() != 100*time.Minute || !a.WithinResponse() {
		t.Errorf("answered %+v", a)
	}
	if _, err := Answer(st, "r1", asked.Add(2*time.Hour), ""); err == nil || !strings.Contains(err.Error(), "already answered") {
		t.Errorf("second answer: %v", err)
	}
	if _, err := Answer(st, "r9", asked, ""); !errors.Is(err, ErrNoRequest) {
		t.Errorf("unknown request: %v", err)
	}
	if _, err := Answer(st, "x1", asked, ""); err == nil || !strings.Contains(err.Error(), "want r and a number") {
		t.Errorf("bad ID: %v", err)
	}
	rs, _ = List(st)
	if len(OpenRequests(rs)) != 0 {
		t.Errorf("still open after the answer: %+v", OpenRequests(rs))
	}
}
