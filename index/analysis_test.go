package index

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index/pkgpath"
)

func TestTokenizer(t *testing.T) {
	tests := []struct {
		text string
		want string // term@position, as the tokenizer emits them
	}{
		{"crypto/tls: fix", "crypto@1 tls@2 cryptotls@1 fix@3"},
		{"HTTP/2 go.work ML-KEM", "HTTP@1 2@2 HTTP2@1 go@3 work@4 ML@5 KEM@6 MLKEM@5"},
		{"P-256 vs P256", "P@1 256@2 P256@1 vs@3 P256@4"},
		{"-mod=vendor golang.org/x/net/http2", "mod@1 vendor@2 golang@3 org@4 x@5 net@6 http2@7"}, // "=" and "." join nothing; 4 words are a path
		{"go15vendor", "go15vendor@1 go15@1 vendor@2"},
		{"GetClientCertificate x", "GetClientCertificate@1 Get@1 Client@2 Certificate@3 x@4"},
		{"HTTPServer", "HTTPServer@1 HTTP@1 Server@2"},
		{"ClientCAs RootCAs", "ClientCAs@1 Client@1 CAs@2 RootCAs@3 Root@3 CAs@4"},
		{"sessionTicketsDisabled", "sessionTicketsDisabled@1 session@1 Tickets@2 Disabled@3"},
		{"P256 Ed25519 sha256Hash", "P256@1 Ed25519@2 sha256Hash@3 sha256@3 Hash@4"},
		{"Let's don’t", "Let's@1 don’t@2"},
		{"TLS Session 'quoted'", "TLS@1 Session@2 quoted@3"},
	}
	for _, tt := range tests {
		var got []string
		for _, tok := range (goTokenizer{}).Tokenize([]byte(tt.text)) {
			if span := tt.text[tok.Start:tok.End]; string(tok.Term) != span && string(tok.Term) != strings.NewReplacer("-", "", ".", "", "/", "").Replace(span) {
				t.Errorf("%q: token %q has offsets %d:%d (%q)", tt.text, tok.Term, tok.Start, tok.End, tt.text[tok.Start:tok.End])
			}
			got = append(got, fmt.Sprintf("%s@%d", tok.Term, tok.Position))
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("Tokenize(%q):\n got %s\nwant %s", tt.text, g, tt.want)
		}
	}
}

func TestAnalyze(t *testing.T) {
	// The analyzer lower-cases, drops stop words and possessives, and stems.
	got := strings.Join(Analyze("The client's GetClientCertificate callbacks"), " ")
	if want := "client getclientcertif get client certif callback"; got != want {
		t.Errorf("Analyze = %q, want %q", got, want)
	}
}

// testIndex returns an index holding items with the given titles (and
// bodies after a "|", and comments after a second "|"), with IDs
// golang/go#1, #2, ...
func testIndex(t *testing.T, texts ...string) *Index {
	t.Helper()
	x, err := Open(filepath.Join(t.TempDir(), "index"), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	b := x.NewBatch()
	for i, text := range texts {
		title, body, _ := strings.Cut(text, "|")
		body, comments, _ := strings.Cut(body, "|")
		it := &Item{ID: GitHubID("golang/go", i+1), Source: "github", Repo: "golang/go", Number: i + 1,
			Kind: KindIssue, State: StateOpen, Title: title, Body: body, Comments: comments, Packages: pkgpath.FromTitle(title),
			Updated: time.Date(2024, 1, i+1, 0, 0, 0, 0, time.UTC)}
		if err := b.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(context.Background(), uint64(len(texts))); err != nil {
		t.Fatal(err)
	}
	return x
}

func numbers(t *testing.T, x *Index, req Request) []int {
	t.Helper()
	req.Limit = 100
	res, err := x.Search(context.Background(), req)
	if err != nil {
		t.Fatalf("Search(%+v): %v", req, err)
	}
	var got []int
	for _, h := range res.Hits {
		got = append(got, h.Number)
	}
	slices.Sort(got)
	return got
}

func TestGoAwareQueries(t *testing.T) {
	x := testIndex(t,
		"net/http: HTTP/2 server hangs",                                    // 1
		"net/http: http client sends 2 requests",                           // 2
		"cmd/go: go.work files ignore vendor|with -mod=vendor set",         // 3
		"cmd/go: tidy, work around a bug|run go mod vendor first",          // 4
		"crypto/mlkem: ML-KEM decapsulation",                               // 5
		"crypto/tls: add GetClientCertificate hook",                        // 6
		"crypto/tls: client certificate requested twice",                   // 7
		"crypto/tls: SessionTicketsDisabled ignored",                       // 8
		"x/crypto/ssh: agent forwarding|see golang.org/x/crypto/ssh/agent", // 9
		"crypto/x509: a b c parse error",                                   // 10
		"crypto/tls: mention getclientcertificate in docs",                 // 11
	)
	tests := []struct {
		query string
		want  []int
	}{
		{"HTTP/2", []int{1}},
		{"go.work", []int{3}},
		{"-mod=vendor", []int{3, 4}}, // the phrase "mod vendor"
		{"ML-KEM", []int{5}},
		{"x/crypto/ssh", []int{9}},
		{"crypto/tls", []int{6, 7, 8, 11}},
		{"GetClientCertificate", []int{6, 11}},
		{"client certificate", []int{2, 6, 7}}, // words: any of them
		{`"client certificate"`, []int{6, 7}},  // the identifier holds the phrase
		{`"session tickets"`, []int{8}},
		{"b", nil}, // a single letter matches nothing alone
		{"2", nil},
		{"b 2 hangs", []int{1}},
		{"HTTP/2 -hangs", nil},
		{"title:go.work", []int{3}},
	}
	for _, tt := range tests {
		if got := numbers(t, x, Request{Query: tt.query}); !slices.Equal(got, tt.want) {
			t.Errorf("search %q = %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestStaleAnalysis(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index")
	x, err := Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if x.Stale() || x.Analysis() != AnalysisVersion {
		t.Fatalf("new index: Analysis %d, Stale %v", x.Analysis(), x.Stale())
	}
	// An index of the first release records no version.
	b, err := x.acquire()
	if err != nil {
		t.Fatal(err)
	}
	bb := b.NewBatch()
	bb.DeleteInternal(analysisKey)
	if err := x.apply(b, bb); err != nil {
		t.Fatal(err)
	}
	x.release()
	for _, ro := range []bool{false, true} {
		x, err = Open(path, ro)
		if err != nil {
			t.Fatal(err)
		}
		if !x.Stale() || x.Analysis() != 1 {
			t.Errorf("old index (read-only %v): Analysis %d, Stale %v", ro, x.Analysis(), x.Stale())
		}
		x.Close()
	}
}

// analyzeText is tracker prose as the index meets it: English, Go
// identifiers, package paths, versions and a stack trace.
const analyzeText = `crypto/tls: Conn.Handshake hangs when the server sends a HelloRetryRequest

What version of Go are you using (go version)? go1.22.3 linux/amd64. We run
an HTTPServer behind a proxy and set GetClientCertificate on the tls.Config;
with SessionTicketsDisabled false the client resumes, but after the upgrade to
x/net/http2 v0.25.0 the handshake never completes. Let's see the goroutine:

goroutine 42 [IO wait]: crypto/tls.(*Conn).readRecordOrCCS(0xc000123456, 0x0)
	/usr/local/go/src/crypto/tls/conn.go:612 +0x1a5
net/http.(*persistConn).readLoop(0xc0001b2000) /usr/local/go/src/net/http/transport.go:2238

It doesn't happen with GODEBUG=tlsrsakex=1 or with ML-KEM disabled (P-256 only).`

func BenchmarkAnalyze(b *testing.B) {
	a := analyzer()
	text := []byte(analyzeText)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		a.Analyze(text)
	}
}
