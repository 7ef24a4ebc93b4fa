package alert

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/notify/sla"
)

// benchFixture is 200 vulnerabilities published within the last day (Go's
// database publishes a few a week: this is a bad week many times over)
// and 40 clients with 5 concerns each.
func benchFixture(b *testing.B) *fixture {
	f := newFixture(b)
	var profiles configs.Profiles
	for c := 0; c < 40; c++ {
		p := &configs.Profile{ID: fmt.Sprintf("client%02d", c), Name: fmt.Sprintf("Client %d", c), Tier: "gold", Contacts: []string{"ops@example.com"}}
		for k := 0; k < 5; k++ {
			p.Concerns = append(p.Concerns, configs.Concern{ID: fmt.Sprintf("c%d", k), Summary: "concern", Packages: []string{fmt.Sprintf("example.com/m%d/p%d", c, k), "crypto/tls"}})
		}
		profiles = append(profiles, p)
	}
	f.al.Policy.Profiles = profiles
	var lines []string
	for i := 0; i < 200; i++ {
		pub := monday.Add(-time.Duration(i) * time.Minute).Format(time.RFC3339)
		lines = append(lines, osv(fmt.Sprintf("GO-2026-%04d", 5000+i), pub, pub, "stdlib", "crypto/tls", "1.26.10", "tls"))
	}
	f.load(lines...)
	return f
}

// BenchmarkAlertPassSteady is a pass of 'watch' once every alert is out:
// what each 15-minute interval costs.
func BenchmarkAlertPassSteady(b *testing.B) {
	f := benchFixture(b)
	s := &sender{}
	now := monday.Add(time.Hour)
	if _, err := f.al.Pass(context.Background(), now, s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := f.al.Pass(context.Background(), now, s)
		if err != nil || len(res.Composed) != 0 {
			b.Fatalf("%+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(200*b.N)/b.Elapsed().Seconds(), "vulns/s")
}

// BenchmarkAlertCompose composes the alert of one vulnerability naming
// 40 clients.
func BenchmarkAlertCompose(b *testing.B) {
	f := benchFixture(b)
	now := monday.Add(time.Hour)
	vs, err := recentForBench(f, now)
	if err != nil {
		b.Fatal(err)
	}
	ws := f.al.Policy.OpenAt(&vs[0], now)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.al.compose(&vs[0], ws, Record{}, false, now); err != nil {
			b.Fatal(err)
		}
	}
}

func recentForBench(f *fixture, now time.Time) ([]sla.Vuln, error) {
	return f.al.Policy.Recent(context.Background(), f.d, now.Add(-24*time.Hour))
}
