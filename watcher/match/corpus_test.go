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

// corpusProfiles are realistic clients for the corpus, until the example
// profiles take their place.
const corpusProfiles = `
id   = "acme"
name = "Acme CDN"
tier = "gold"

[[concern]]
id       = "tls-session-resumption"
summary  = "Resume TLS sessions across the fleet with shared, rotated ticket keys"
told     = 2023-05-10
packages = ["crypto/tls"]
query    = "+session ticket resumption resume"
priority = "high"

[[concern]]
id       = "http2-server"
summary  = "HTTP/2 server robustness under abusive clients"
told     = 2023-06-01
packages = ["net/http", "x/net/http2"]
query    = 'http2 "http/2" hpack frames flood "rapid reset"'
---
id   = "globex"
name = "Globex"
tier = "platinum"

[[concern]]
id       = "rsa-performance"
summary  = "RSA decryption and signing speed on the payment path"
told     = 2024-02-03
packages = ["crypto/rsa", "crypto/tls"]
query    = "+rsa +/(perform.*|faster|slower|speed.*|cpu)/"

[[concern]]
id       = "ssh-bastion"
summary  = "x/crypto/ssh servers on the bastion hosts"
told     = 2024-02-03
packages = ["x/crypto/ssh"]
query    = "server auth authentication callback"
kinds    = ["change", "vuln", "issue", "proposal"]
---
id   = "initech"
name = "Initech"
tier = "silver"

[[concern]]
id       = "go-modules"
summary  = "Module downloads through our proxy and checksum database"
told     = 2024-03-04
packages = ["cmd/go"]
query    = "module proxy checksum sumdb GOPROXY GONOSUMDB"
`

func corpusConcerns(tb testing.TB) configs.Profiles {
	var ps configs.Profiles
	for i, src := range strings.Split(corpusProfiles, "---") {
		p, err := configs.ParseProfile(fmt.Sprintf("corpus%d.toml", i), []byte(src))
		if err != nil {
			tb.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

// TestCorpusRelevance checks concerns written for real clients against
// the real corpus: pairs that must match, pairs that must not, and a cap on
// how much of the corpus any concern matches.
func TestCorpusRelevance(t *testing.T) {
	if testing.Short() {
		t.Skip("imports the whole corpus")
	}
	d, total := corpusData(t, 1)
	profiles := corpusConcerns(t)
	res, err := Run(context.Background(), d, profiles, Options{Now: func() time.Time { return corpusNow }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, d: d, now: corpusNow, profiles: profiles}
	t.Logf("%d items; %d open prompts, %d history", total, len(res.New), res.History)

	for _, p := range profiles {
		for i := range p.Concerns {
			c := &p.Concerns[i]
			r, err := Preview(context.Background(), d.Index, c, 5)
			if err != nil {
				t.Fatal(err)
			}
			var top []string
			for _, h := range r.Hits {
				top = append(top, h.ID+" "+h.Title)
			}
			t.Logf("%s/%s: %d matches; top:\n\t%s", p.ID, c.ID, r.Total, strings.Join(top, "\n\t"))
			if r.Total == 0 {
				t.Errorf("%s/%s matches nothing", p.ID, c.ID)
			}
			if limit := uint64(total) / 20; r.Total > limit {
				t.Errorf("%s/%s matches %d items, more than 5%% of the corpus (%d)", p.ID, c.ID, r.Total, limit)
			}
		}
	}

	for _, tc := range []struct {
		client, concern, item string
		match                 bool
	}{
		// Must match: read in the corpus, these are what the client
		// would want to be asked about.
		{"acme", "tls-session-resumption", "golang/go#60105", true},     // applications can control the content of session tickets
		{"acme", "tls-session-resumption", "golang/go#52814", true},     // session tickets lack random ticket_age_add
		{"acme", "tls-session-resumption", "golang/go#77217", true},     // unexpected session resumption
		{"acme", "tls-session-resumption", "go-review:go/230679", true}, // ticket keys rotated every 24 hours
		{"acme", "http2-server", "golang/go#57855", true},               // DoS via crafted HTTP/2 stream (HPACK)
		{"acme", "http2-server", "golang/go#77652", true},               // x/net/http2: certain frames panic a server
		{"acme", "http2-server", "GO-2023-2102", true},                  // HTTP/2 rapid reset
		{"globex", "rsa-performance", "golang/go#61460", true},          // large RSA keys cause high CPU usage in crypto/tls
		{"globex", "rsa-performance", "go-review:go/626957", true},      // RSA operations up to two times faster on wasm
		{"globex", "ssh-bastion", "go-review:crypto/781903", true},      // ssh: cap total userauth attempts per server connection
		{"globex", "ssh-bastion", "go-review:crypto/35230", true},       // ssh: support MaxAuthTries on ServerConfig
		{"globex", "ssh-bastion", "golang/go#79570", true},              // VerifiedPublicKeyCallback permissions skip enforcement
		{"initech", "go-modules", "GO-2023-2042", true},                 // code execution via go.mod toolchain directive
		{"initech", "go-modules", "golang/go#44435", true},              // go mod download with go 1.17 modules
		// Must not match: same packages or words, another subject.
		{"acme", "tls-session-resumption", "golang/go#46308", false}, // crypto/tls: VersionName
		{"acme", "tls-session-resumption", "golang/go#32936", false}, // crypto/tls: ClientHelloInfo.Extensions
		{"acme", "tls-session-resumption", "golang/go#75652", false}, // crypto/tls: ALPN negotiation error
		{"acme", "http2-server", "golang/go#60374", false},           // net/http: Host header sanitization
		{"acme", "http2-server", "go-review:build/43618", false},     // maintnerd enables http2 (not net/http)
		{"globex", "rsa-performance", "golang/go#19974", false},      // crypto/rsa: OAEPOptions.MGFHash
		{"globex", "rsa-performance", "golang/go#47143", false},      // crypto/tls: panic on certain certificates
		{"globex", "rsa-performance", "golang/go#52182", false},      // crypto/elliptic is faster, not RSA
		{"globex", "ssh-bastion", "go-review:crypto/677576", false},  // acme, not ssh
		{"globex", "ssh-bastion", "go-review:crypto/169077", false},  // ssh/terminal cursor moves
		{"globex", "ssh-bastion", "go-review:crypto/696995", false},  // ssh: curve25519.X25519 in key exchange
		{"initech", "go-modules", "golang/go#42559", false},          // cmd/go: code execution with cgo
		{"initech", "go-modules", "golang/go#58508", false},          // cmd/go: go env output not sanitized
		{"initech", "go-modules", "golang/go#61460", false},          // crypto/tls
	} {
		p := f.prompt(tc.client, tc.concern, tc.item)
		if got := p != nil; got != tc.match {
			t.Errorf("%s/%s matches %s: %v, want %v", tc.client, tc.concern, tc.item, got, tc.match)
		}
	}
}
