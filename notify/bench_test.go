package notify

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
)

// bigBriefing is a heavy day: n prompts over a dozen clients, with
// vulnerabilities, stage changes and sources to report as well.
func bigBriefing(tb testing.TB, n int) *Briefing {
	rome := mustLoad(tb, "Europe/Rome")
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, rome)
	tiers := []string{"platinum", "gold", "silver"}
	b := &Briefing{Now: now}
	const clients = 12
	for c := range clients {
		b.Clients = append(b.Clients, ClientPrompts{
			Client:   fmt.Sprintf("Client %02d", c),
			Tier:     tiers[c%3],
			Contacts: []string{fmt.Sprintf("cto@client%02d.example", c), fmt.Sprintf("sre@client%02d.example", c)},
		})
	}
	for i := range n {
		c := &b.Clients[i%clients]
		c.Prompts = append(c.Prompts, Prompt{
			ID:       fmt.Sprintf("p-%d", i),
			ItemID:   fmt.Sprintf("golang/go#%d", 60000+i),
			Title:    fmt.Sprintf("proposal: crypto/tls: control the content of session tickets, variant %d", i),
			URL:      fmt.Sprintf("https://github.com/golang/go/issues/%d", 60000+i),
			Kind:     "proposal",
			State:    "open",
			Stage:    "likely-accept",
			Priority: Priority(i%3 - 1),
			Queued:   now.Add(-time.Duration(i) * time.Minute),
			Trigger:  "moved to likely-accept",
			Concern:  "session resumption across a fleet of servers",
			Told:     "We resume TLS sessions across restarts with shared ticket keys; a change to the ticket format would force a coordinated rollout across three regions.",
			ToldOn:   now.AddDate(0, -6, 0),
			ToldVia:  "call",
			Packages: []string{"crypto/tls"},
			Terms:    []string{"session", "ticket"},
			Snippet:  index.Snippet("servers that share \x01session\x02 \x01ticket\x02 keys must agree on the format <b>before</b> rotating"),
		})
	}
	for i := range 5 {
		v := VulnAlert{
			ID: fmt.Sprintf("GO-2026-%04d", 4000+i), Aliases: []string{fmt.Sprintf("CVE-2026-%05d", 10000+i)},
			Summary: "Excessive memory use when parsing crafted certificates in crypto/x509", URL: fmt.Sprintf("https://pkg.go.dev/vuln/GO-2026-%04d", 4000+i),
			Packages: []string{"crypto/x509"}, Published: now.Add(-time.Duration(i) * time.Hour),
		}
		for c := range 4 {
			v.Clients = append(v.Clients, VulnClient{Client: b.Clients[c].Client, Tier: b.Clients[c].Tier, Concern: "certificate parsing"})
		}
		b.Vulns = append(b.Vulns, v)
	}
	for i := range 10 {
		b.StageChanges = append(b.StageChanges, StageChange{
			ItemID: fmt.Sprintf("golang/go#%d", 61000+i), Title: "proposal: crypto/rsa: add DecryptPKCS1v15SessionKey options",
			URL: fmt.Sprintf("https://github.com/golang/go/issues/%d", 61000+i), From: "active", To: "likely-accept",
			At: now.Add(-time.Duration(i) * time.Hour), Clients: []string{"Client 00", "Client 03"}, Packages: []string{"crypto/rsa"},
		})
	}
	for _, s := range []string{"github golang/go", "gerrit go-review", "vulndb"} {
		b.Health = append(b.Health, SourceHealth{Source: s, LastSuccess: now.Add(-5 * time.Minute)})
	}
	return b
}

func BenchmarkCompose200(b *testing.B) {
	br := bigBriefing(b, 200)
	opts := testOptions(br.Now.Location())
	m, err := Compose(br, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(m.Raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compose(br, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(200*b.N)/b.Elapsed().Seconds(), "prompts/s")
}

// TestBigBriefing checks that a heavy day composes into a sound message.
func TestBigBriefing(t *testing.T) {
	br := bigBriefing(t, 200)
	m, err := Compose(br, testOptions(br.Now.Location()))
	if err != nil {
		t.Fatal(err)
	}
	pm := parseMessage(t, m.Raw)
	if got := strings.Count(pm.Text, "close:     reciprocal close p-"); got != 200 {
		t.Errorf("text has %d prompts, want 200", got)
	}
	if !strings.HasPrefix(m.Subject, "reciprocal: 200 consult prompts, 5 vulnerabilities in their SLA window, 10 stage changes — ") {
		t.Errorf("subject = %q", m.Subject)
	}
	// Platinum clients (00, 03, 06, 09) come first.
	inOrder(t, "text", pm.Text, "Client 00 (platinum)", "Client 03 (platinum)", "Client 06 (platinum)", "Client 09 (platinum)", "Client 01 (gold)", "Client 02 (silver)")
	t.Logf("200 prompts: %d bytes (text %d, html %d)", len(m.Raw), len(pm.Text), len(pm.HTML))
}
