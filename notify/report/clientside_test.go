package report_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/digest"
	"github.com/reciprocal-access/reciprocal/notify/report"
)

// The client side over the watcher fixtures: GO-2024-2601 (crypto/tls)
// was published on 5 March 2024 at 20:00 UTC; the morning after, its SLA
// window is open.
func TestClientSide(t *testing.T) {
	now := time.Date(2024, 3, 6, 8, 0, 0, 0, time.UTC)
	e := newEnvAt(t, now, now)

	r, err := e.AskSLA("acme", "GO-2024-2601", now, "are we affected?")
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "r1" || !r.Covered() || !r.Deadline.Equal(now.Add(6*time.Hour)) || !r.WindowCloses.Equal(time.Date(2024, 3, 6, 20, 0, 0, 0, time.UTC)) {
		t.Errorf("AskSLA = %+v", r)
	}
	if _, err := e.AskSLA("nobody", "GO-2024-2601", now, ""); !errors.Is(err, report.ErrNoClient) {
		t.Errorf("unknown client: %v", err)
	}
	if _, err := e.AskSLA("acme", "GO-2099-0001", now, ""); !errors.Is(err, report.ErrNotFound) {
		t.Errorf("unknown vulnerability: %v", err)
	}

	b, err := e.Briefing(notify.DateOf(now))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Requests) != 1 || b.Requests[0].Client != "Acme CDN" || !b.Requests[0].Deadline.Equal(r.Deadline) {
		t.Errorf("briefing requests %+v", b.Requests)
	}
	var clients []string
	for _, v := range b.Vulns {
		if v.ID == "GO-2024-2601" {
			for _, c := range v.Clients {
				clients = append(clients, c.Client)
			}
		}
	}
	if strings.Join(clients, ",") != "Acme CDN,Globex Payments" {
		t.Errorf("window open for %v", clients)
	}

	drafts, err := e.VulnNotes("GO-2024-2601", "")
	if err != nil || len(drafts) != 2 {
		t.Fatalf("VulnNotes = %d drafts, %v", len(drafts), err)
	}
	if d := drafts[0]; d.Client != "acme" || d.Key != "note/GO-2024-2601/acme" || !strings.Contains(strings.Join(strings.Fields(d.Body), " "), `you told me: "Resume TLS sessions across the fleet"`) {
		t.Errorf("acme's note %+v", d)
	}
	if !strings.Contains(drafts[1].Body, "Not anything you told me about") {
		t.Errorf("globex's note:\n%s", drafts[1].Body)
	}
	if _, err := e.VulnNotes("golang/go#70001", ""); err == nil || !strings.Contains(err.Error(), "not a vulnerability") {
		t.Errorf("a note about an issue: %v", err)
	}

	rec, err := e.Engagement("acme", time.Time{})
	if err != nil || rec.Summary.Requests != 1 || rec.Summary.Open != 1 {
		t.Fatalf("Engagement = %+v, %v", rec, err)
	}

	q1, _ := digest.ParsePeriod("2024-Q1", time.UTC)
	dg, err := e.Digest(context.Background(), "acme", q1, "notes")
	if err != nil {
		t.Fatal(err)
	}
	// Both of the quarter's Go vulnerabilities were under the SLA; Acme
	// asked about one.
	if len(dg.Vulns) != 2 || dg.Vulns[1].ID != "GO-2024-2601" || len(dg.Vulns[1].Requests) != 1 || len(dg.Vulns[0].Requests) != 0 || !dg.ToDate {
		t.Errorf("digest vulns %+v", dg.Vulns)
	}
	if len(dg.Releases) != 1 || dg.Releases[0].Version != "1.22.1" || strings.Join(dg.Releases[0].Fixes, ",") != "GO-2024-2601" {
		t.Errorf("digest releases %+v", dg.Releases)
	}
	q3, _ := digest.ParsePeriod("2024-Q3", time.UTC)
	if _, err := e.Digest(context.Background(), "acme", q3, ""); err == nil {
		t.Errorf("a digest of a period not started yet was written")
	}
}
