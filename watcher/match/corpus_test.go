package match

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher"
)

// corpusDir is the shared corpus of real Go tracker data, beside the project.
var corpusDir = filepath.Join("..", "..", "..", "shared", "corpus")

var corpusNames = []string{"issues.jsonl.gz", "changes.jsonl.gz", "osv.jsonl.gz"}

// corpusLines returns the corpus files' lines, skipping the test if absent.
func corpusLines(tb testing.TB) [][]byte {
	tb.Helper()
	var lines [][]byte
	for _, name := range corpusNames {
		f, err := os.Open(filepath.Join(corpusDir, name))
		if err != nil {
			tb.Skipf("corpus not available: %v", err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
				lines = append(lines, append([]byte(nil), l...))
			}
		}
		if err := sc.Err(); err != nil {
			tb.Fatal(err)
		}
		f.Close()
	}
	return lines
}

// renumber returns a copy of a corpus line with a new identity, so that the
// corpus can be imported several times over: issue and change numbers are
// offset, vulnerability IDs get a suffix digit.
func renumber(tb testing.TB, line []byte, copy int) []byte {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		tb.Fatal(err)
	}
	switch {
	case m["_number"] != nil:
		m["_number"] = m["_number"].(float64) + float64(copy)*10_000_000
		m["change_id"] = fmt.Sprintf("%s%d", m["change_id"], copy)
		m["id"] = fmt.Sprintf("%s%d", m["id"], copy)
	case m["number"] != nil:
		n := m["number"].(float64) + float64(copy)*1_000_000
		m["number"] = n
		m["html_url"] = fmt.Sprintf("https://github.com/golang/go/issues/%d", int(n))
		m["url"] = fmt.Sprintf("https://api.github.com/repos/golang/go/issues/%d", int(n))
	default:
		m["id"] = fmt.Sprintf("%s%d", m["id"], copy)
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// corpusData imports the corpus (copies times, with new IDs for each extra
// copy) into a fresh data directory and indexes it.
func corpusData(tb testing.TB, copies int) (*watcher.Data, int) {
	tb.Helper()
	lines := corpusLines(tb)
	d, err := watcher.OpenData(tb.TempDir(), false, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	n := 0
	for c := range copies {
		var buf bytes.Buffer
		for _, l := range lines {
			if c > 0 {
				l = renumber(tb, l, c)
			}
			buf.Write(l)
			buf.WriteByte('\n')
		}
		res, err := d.Import(context.Background(), "corpus", &buf, watcher.ImportOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		n += res.Total()
	}
	if _, err := d.IndexPending(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return d, n
}

// corpusNow is the present for corpus tests: just after its newest items.
var corpusNow = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// exampleClients are the example client profiles: the ones 'reciprocal
// init' points at and the demo matches.
var exampleClients = filepath.Join("..", "..", "configs", "example", "clients")

// TestCorpusRelevance checks the example client profiles against the real
// corpus: every concern matches something and no more than 5% of it, and
// pairs chosen by reading the items must match or must not.
func TestCorpusRelevance(t *testing.T) {
	if testing.Short() {
		t.Skip("imports the whole corpus")
	}
	profiles, err := configs.LoadProfiles(exampleClients)
	if err != nil {
		t.Fatal(err)
	}
	if len(profiles) == 0 {
		t.Fatalf("no example profiles in %s", exampleClients)
	}
	d, _ := corpusData(t, 1)
	total, err := d.Index.Count()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := Run(ctx, d, profiles, Options{Now: func() time.Time { return corpusNow }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, d: d, now: corpusNow, profiles: profiles}
	t.Logf("%d items; %d open prompts, %d history", total, len(res.New), res.History)

	limit := total / 20
	concerns := map[string]bool{} // client/concern
	for _, p := range profiles {
		for i := range p.Concerns {
			c := &p.Concerns[i]
			concerns[p.ID+"/"+c.ID] = true
			r, err := Preview(ctx, d.Index, c, 5)
			if err != nil {
				t.Fatal(err)
			}
			var top []string
			for _, h := range r.Hits {
				top = append(top, h.ID+" "+h.Title)
			}
			t.Logf("%s/%s: %d matches (%.1f%%); top:\n\t%s", p.ID, c.ID, r.Total, 100*float64(r.Total)/float64(total), strings.Join(top, "\n\t"))
			if r.Total == 0 {
				t.Errorf("%s/%s matches nothing in the corpus", p.ID, c.ID)
			}
			if r.Total > limit {
				t.Errorf("%s/%s matches %d items, more than 5%% of the corpus (%d of %d)", p.ID, c.ID, r.Total, limit, total)
			}
		}
	}

	pairs := []struct {
		client, concern, item string
		match                 bool
	}{
		// acme/tls-session-resumption: crypto/tls and session tickets.
		{"acme", "tls-session-resumption", "golang/go#77217", true},     // vuln: a resumed handshake skips checks when the Config differs, e.g. via GetConfigForClient, which Acme uses
		{"acme", "tls-session-resumption", "go-review:go/230679", true}, // Go 1.15: auto-generated session ticket keys are rotated every 24 hours
		{"acme", "tls-session-resumption", "golang/go#60105", true},     // Go 1.21: applications can control the content of session tickets
		{"acme", "tls-session-resumption", "GO-2022-0531", true},        // vuln: session tickets lack a random ticket_age_add
		{"acme", "tls-session-resumption", "golang/go#46308", false},    // same package, other subject: the new VersionName function
		{"acme", "tls-session-resumption", "GO-2023-2375", false},       // same package, near word: RSA key exchange timing leaks "session key" bits; nothing about tickets
		{"acme", "tls-session-resumption", "GO-2026-4673", false},       // same words, other package: "TLS Session Resumption" bypass in a third-party Terraform provider
		// acme/x509-verify-performance: the cost of Certificate.Verify.
		{"acme", "x509-verify-performance", "go-review:go/389555", true},  // Go 1.19: the path builder of Certificate.Verify was overhauled, better chains and more efficient
		{"acme", "x509-verify-performance", "golang/go#78282", true},      // vuln: unbounded work during chain building with many VerifyOptions.Intermediates
		{"acme", "x509-verify-performance", "GO-2026-4866", false},        // same package, other subject: a name-constraint bypass whose text only says "VerifyOptions.Roots CertPool"
		{"acme", "x509-verify-performance", "go-review:go/230025", false}, // same package, "more efficient": memory of the system root pool, not verification cost
		// acme/tls-x509-vulns: every vulnerability in crypto/tls or crypto/x509.
		{"acme", "tls-x509-vulns", "GO-2026-4870", true},     // crypto/tls: TLS 1.3 KeyUpdate records can tie up connections
		{"acme", "tls-x509-vulns", "GO-2025-4175", true},     // crypto/x509: excluded DNS constraints not applied to wildcard SANs
		{"acme", "tls-x509-vulns", "GO-2022-0229", true},     // crypto/x509 (and x/crypto/cryptobyte): panic in certificate parsing
		{"acme", "tls-x509-vulns", "golang/go#78334", false}, // the GitHub issue of GO-2026-4870: same package and subject, but the concern is vulnerabilities only
		{"acme", "tls-x509-vulns", "GO-2026-5405", false},    // same words, other package: TLS certificate verification in Juju
		// globex/rsa-private-key-performance: RSA decryption and signing speed.
		{"globex", "rsa-private-key-performance", "go-review:go/626957", true}, // Go 1.24: RSA public and private key operations up to two times faster on wasm
		{"globex", "rsa-private-key-performance", "golang/go#56921", true},     // Go 1.21: CRTValues are no longer used during decryption (multi-prime keys get slower)
		{"globex", "rsa-private-key-performance", "golang/go#43923", false},    // same package, other subject: SignPKCS1v15 accepts more hashes
		{"globex", "rsa-private-key-performance", "GO-2023-1987", false},       // same words, other package: large RSA keys cost CPU in crypto/tls signature verification
		// globex/fips-140-module: the Go Cryptographic Module and its validation.
		{"globex", "fips-140-module", "go-review:website/745921", true}, // fips140 docs: status of module v1.0.0, add v1.26.0
		{"globex", "fips-140-module", "go-review:website/771341", true}, // fips140 docs: select the module with GOFIPS140, not GODEBUG
		{"globex", "fips-140-module", "GO-2024-2660", false},            // "fips" only in a third-party module path (golang-fips/openssl): a memory leak
		{"globex", "fips-140-module", "go-review:crypto/781661", false}, // x/crypto/ssh DSA parameters "as required by FIPS 186-2": another FIPS standard
		// globex/ssh-bastion: all of x/crypto/ssh.
		{"globex", "ssh-bastion", "GO-2026-5023", true},             // ssh: VerifiedPublicKeyCallback permissions not enforced on the server
		{"globex", "ssh-bastion", "go-review:crypto/781903", true},  // ssh: cap userauth attempts per server connection
		{"globex", "ssh-bastion", "GO-2026-5006", true},             // ssh/agent: destination constraints dropped when forwarding keys
		{"globex", "ssh-bastion", "golang/go#79568", true},          // ssh/knownhosts: @revoked CA keys not enforced
		{"globex", "ssh-bastion", "go-review:crypto/677576", false}, // same repository, other package: x/crypto/acme
		{"globex", "ssh-bastion", "go-review:build/543096", false},  // an SSH server, but in x/build's buildlet
		{"globex", "ssh-bastion", "GO-2026-5091", false},            // same words, other package: Gitea's default SSH settings
		// initech/http2-server: HTTP/2 serving in net/http and x/net/http2.
		{"initech", "http2-server", "GO-2023-2102", true},           // HTTP/2 rapid reset: stream resets against servers
		{"initech", "http2-server", "golang/go#33606", true},        // HTTP/2 reset flood against servers
		{"initech", "http2-server", "golang/go#77652", true},        // x/net/http2: certain frames make a server panic
		{"initech", "http2-server", "golang/go#60374", false},       // same package, other protocol: Host header checks in the HTTP/1 client
		{"initech", "http2-server", "GO-2022-0933", false},          // same words ("H2 GOAWAY"), other package: Pomerium
		{"initech", "http2-server", "go-review:build/43618", false}, // same word (http2), other package: maintnerd enables it for gRPC
		// initech/module-proxy-toolchain: cmd/go fetching modules and toolchains.
		{"initech", "module-proxy-toolchain", "GO-2023-2042", true},            // the go.mod toolchain directive runs code from modules fetched from the module proxy
		{"initech", "module-proxy-toolchain", "golang/go#63696", false},        // same package, other subject: go doc accepts package@version
		{"initech", "module-proxy-toolchain", "go-review:build/249577", false}, // same words ("module proxy"), other package: x/build's EC2 builders
		{"initech", "module-proxy-toolchain", "golang/go#71984", false},        // a proxy bypass, but net/http's HTTP proxy (NO_PROXY), not the module proxy
		// initech/http-vulns: vulnerabilities in the HTTP stack.
		{"initech", "http-vulns", "GO-2025-4012", true},     // net/http: unbounded cookie parsing exhausts memory
		{"initech", "http-vulns", "GO-2025-3503", true},     // x/net/http/httpproxy and net/http: proxy bypass with IPv6 zone IDs
		{"initech", "http-vulns", "GO-2022-1144", true},     // net/http and x/net/http2: excessive memory growth in HTTP/2 servers
		{"initech", "http-vulns", "GO-2026-4440", false},    // same module, other package: quadratic parsing in x/net/html, which they do not use
		{"initech", "http-vulns", "golang/go#57855", false}, // an HTTP/2 DoS, but the GitHub issue: the concern is vulnerabilities only
		{"initech", "http-vulns", "GO-2026-4686", false},    // same words (HTTP/2, h2c), other package: AdGuard Home
	}
	nmatch, nnot := 0, 0
	covered := map[string]bool{}
	for _, tc := range pairs {
		key := tc.client + "/" + tc.concern
		if !concerns[key] {
			t.Errorf("pair names %s, which the example profiles do not have", key)
			continue
		}
		// The item must be there: a must-not pair would pass on a typo.
		r, err := d.Index.Search(ctx, index.Request{IDs: []string{tc.item}, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if r.Total != 1 {
			t.Errorf("pair %s %s: no such item in the corpus", key, tc.item)
			continue
		}
		if tc.match {
			nmatch++
			covered[key] = true
		} else {
			nnot++
		}
		p := f.prompt(tc.client, tc.concern, tc.item)
		if got := p != nil; got != tc.match {
			t.Errorf("%s matches %s: %v, want %v", key, tc.item, got, tc.match)
		}
	}
	if nmatch < 10 || nnot < 10 {
		t.Errorf("%d must-match and %d must-not pairs; want at least 10 of each", nmatch, nnot)
	}
	for key := range concerns {
		if !covered[key] {
			t.Errorf("no must-match pair for %s", key)
		}
	}
}
