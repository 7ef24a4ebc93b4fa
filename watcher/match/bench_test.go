package match

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// concernPool are realistic concerns over the corpus.
var concernPool = []struct{ packages, query, kinds string }{
	{"crypto/tls", `+session ticket resumption resume`, ""},
	{"crypto/rsa,crypto/tls", `+rsa +/(perform.*|faster|slower|speed.*|cpu)/`, ""},
	{"x/crypto/ssh", `server auth authentication callback`, "change,vuln,issue,proposal"},
	{"net/http,x/net/http2", `http2 "http/2" hpack frames flood "rapid reset"`, ""},
	{"cmd/go", `module proxy checksum sumdb goproxy gonosumdb`, ""},
	{"crypto/x509", `certificate verification chain constraints`, ""},
	{"x/crypto/ssh/agent", ``, ""},
	{"", `+fips`, ""},
	{"net/http/httputil", `reverse proxy`, ""},
	{"runtime", `garbage collector pacer memory limit`, "proposal,issue"},
	{"encoding/json", ``, ""},
	{"", `+quic`, ""},
	{"crypto/ecdsa,crypto/elliptic", ``, ""},
	{"html/template", `escaping javascript css`, ""},
	{"archive/zip,archive/tar", ``, "vuln,issue"},
	{"", `"denial of service" +http`, "vuln"},
	{"net/url", `parsing ipv6 host`, ""},
	{"x/net/http2", ``, ""},
	{"crypto", `mlkem "post-quantum" kyber hybrid`, ""},
	{"", `+acme autocert`, ""},
	{"testing", `benchmark loop`, ""},
	{"cmd/go", `+toolchain`, ""},
	{"os", `+windows`, ""},
	{"", `+telemetry`, "change"},
	{"x/build", `+dashboard builder`, "change"},
}

// benchProfiles returns clients × perClient concerns drawn from the pool;
// suffix makes the concern IDs new (for whole evaluations).
func benchProfiles(tb testing.TB, clients, perClient int, suffix string) configs.Profiles {
	tb.Helper()
	var ps configs.Profiles
	k := 0
	for i := range clients {
		var b strings.Builder
		fmt.Fprintf(&b, "id = \"client%02d\"\nname = \"Client %d\"\ntier = %q\n", i, i, configs.Tiers[i%3])
		for j := range perClient {
			c := concernPool[k%len(concernPool)]
			parts := []string{c.packages, c.query, c.kinds}
			k++
			fmt.Fprintf(&b, "\n[[concern]]\nid = \"c%d%s\"\nsummary = \"concern %d\"\ntold = 2024-01-02\npriority = %q\n", j, suffix, j, configs.Priorities[j%3])
			if parts[0] != "" {
				fmt.Fprintf(&b, "packages = [\"%s\"]\n", strings.Join(strings.Split(parts[0], ","), `", "`))
			}
			if parts[1] != "" {
				fmt.Fprintf(&b, "query = '%s'\n", parts[1])
			}
			if parts[2] != "" {
				fmt.Fprintf(&b, "kinds = [\"%s\"]\n", strings.Join(strings.Split(parts[2], ","), `", "`))
			}
		}
		p, err := configs.ParseProfile(fmt.Sprintf("client%02d.toml", i), []byte(b.String()))
		if err != nil {
			tb.Fatalf("%v\n%s", err, b.String())
		}
		ps = append(ps, p)
	}
	return ps
}

func benchOptions(now time.Time) Options {
	return Options{Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
}

// BenchmarkMatchChanged is one match pass over 500 changed items with 200
// known concerns (40 clients × 5): 200 index queries, each restricted to
// the batch.
func BenchmarkMatchChanged(b *testing.B) {
	d, n := corpusData(b, 1)
	profiles := benchProfiles(b, 40, 5, "")
	ctx := context.Background()
	if _, err := Run(ctx, d, profiles, benchOptions(corpusNow)); err != nil { // all concerns known
		b.Fatal(err)
	}
	ids := sampleIDs(b, d, 500, n)
	b.ReportAllocs()
	var res *Result
	for b.Loop() {
		b.StopTimer()
		touch(b, d, ids)
		if _, err := d.IndexPending(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var err error
		if res, err = Run(ctx, d, profiles, benchOptions(corpusNow)); err != nil {
			b.Fatal(err)
		}
		if res.Changed != len(ids) || len(res.Evaluated) != 0 {
			b.Fatalf("pass evaluated %d changed items and %d whole concerns", res.Changed, len(res.Evaluated))
		}
	}
	b.ReportMetric(float64(len(ids)*b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkMatchWhole evaluates 200 new concerns over the corpus imported
// twice (more than 14,000 items).
func BenchmarkMatchWhole(b *testing.B) {
	d, n := corpusData(b, 2)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	var res *Result
	for b.Loop() {
		b.StopTimer()
		i++
		profiles := benchProfiles(b, 40, 5, fmt.Sprintf("-%d", i))
		b.StartTimer()
		var err error
		if res, err = Run(ctx, d, profiles, benchOptions(corpusNow)); err != nil {
			b.Fatal(err)
		}
		if len(res.Evaluated) != 200 {
			b.Fatalf("evaluated %d concerns", len(res.Evaluated))
		}
	}
	b.ReportMetric(float64(n), "items")
	b.ReportMetric(float64(len(res.New)+res.History), "matches")
}

// sampleIDs returns n item IDs spread over the store.
func sampleIDs(tb testing.TB, d *watcher.Data, n, total int) []string {
	var ids []string
	step := max(total/n, 1)
	i := 0
	err := d.Store.View(func(tx *store.Tx) error {
		return tx.Since(0, func(rec store.Record) error {
			if i%step == 0 && len(ids) < n {
				ids = append(ids, rec.ID)
			}
			i++
			return nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

func touch(tb testing.TB, d *watcher.Data, ids []string) {
	err := d.Store.Update(func(tx *store.Tx) error {
		for _, id := range ids {
			if err := tx.Touch(id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}
