package pkgpath_test

import (
	"slices"
	"testing"

	"github.com/reciprocal-access/reciprocal/index/pkgpath"
)

func TestFromTitle(t *testing.T) {
	for _, tt := range []struct {
		project, title string
		want           []string
	}{
		// The main repository.
		{"go", "crypto/tls: reject empty certificates", []string{"crypto/tls"}},
		{"go", "cmd/go: Remote command execution via \"go get\" in cmd/go", []string{"cmd/go"}},
		{"go", "runtime/pprof: add goroutine labels", []string{"runtime/pprof"}},
		{"go", "runtime: DLL injection on Windows in runtime and syscall", []string{"runtime"}},
		{"go", "errors: The new Join function returns an error wrapping a list of errors.", []string{"errors"}},
		{"go", "os: Root escape via symlink plus trailing slash in os", []string{"os"}},
		{"go", "time: The new Time.Compare method compares two times.", []string{"time"}},
		{"go", "math: add FMA", []string{"math"}},
		{"go", "internal/poll: avoid race in FD.Close", []string{"internal/poll"}},
		{"go", "cmd/compile/internal/ssa: fix rewrite rule", []string{"cmd/compile/internal/ssa"}},
		{"go", "cmd/go/internal/modfetch: Incorrect access control in the go command", []string{"cmd/go/internal/modfetch"}},
		{"go", "net/http, net/http/httptest: add Server.Test", []string{"net/http", "net/http/httptest"}},
		{"go", "crypto/{tls,x509}: drop SHA-1", []string{"crypto/tls", "crypto/x509"}},
		{"go", "os,syscall: use pidfd", []string{"os", "syscall"}},
		{"go", "cmd/compile,runtime: new calling convention", []string{"cmd/compile", "runtime"}},
		{"go", "runtime, cmd/compile, runtime: dedup", []string{"cmd/compile", "runtime"}},
		{"go", "crypto/tls: crypto/tls/internal/fips: move code", []string{"crypto/tls"}},
		{"go", "proposal: crypto/rsa: add Validate", []string{"crypto/rsa"}},
		{"go", "proposal: testing: programmatic sub-test and sub-benchmark support", []string{"testing"}},
		{"go", "Proposal: net/http: add a Server.Protocols field", []string{"net/http"}},
		{"go", "proposal: x/net/http2: add Framer.WriteRawPriority", []string{"golang.org/x/net/http2"}},
		{"go", "x/crypto/ssh: support rsa-sha2-512", []string{"golang.org/x/crypto/ssh"}},
		{"go", "x/build/cmd/gopherbot: close stale issues", []string{"golang.org/x/build/cmd/gopherbot"}},
		{"go", "x/tools/gopls: crash in hover", []string{"golang.org/x/tools/gopls"}},
		{"go", "golang.org/x/net/html: Infinite loop due to improper handling", []string{"golang.org/x/net/html"}},
		{"go", "github.com/gin-gonic/gin: Arbitrary log line injection", []string{"github.com/gin-gonic/gin"}},
		{"go", "cmd/go, x/tools/gopls: agree on GOFLAGS", []string{"cmd/go", "golang.org/x/tools/gopls"}},
		{"go", "[dev.boringcrypto] crypto/tls: use BoringSSL", []string{"crypto/tls"}},
		{"go", "[release-branch.go1.22] cmd/go: fix vet", []string{"cmd/go"}},
		{"go", `Revert "crypto/tls: enable ML-KEM by default"`, []string{"crypto/tls"}},
		{"go", `Revert^2 "net/http: drop HTTP/1.0 support"`, []string{"net/http"}},
		{"go", `[release-branch.go1.21] Revert "os: use pidfd"`, []string{"os"}},
		{"go", "go: The `go` command now embeds version control information in binaries", []string{"cmd/go"}},
		{"go", "encoding/json: The new omitzero option", []string{"encoding/json"}},
		{"go", "net/http:", []string{"net/http"}},
		{"go", "all: fix typos", nil},
		{"go", "doc: update go1.22 release notes", nil},
		{"go", "spec: clarify shifts", nil},
		{"go", "go1.22: release notes", nil},
		{"go", "release-branch.go1.21: merge", nil},
		{"go", "[release-branch.go1.21] all: merge master", nil},
		{"go", "Fix the thing: urgently", nil},
		{"go", "Proposal: Something Big", nil},
		{"go", "proposal: A minimal release process for Go repositories", nil},
		{"go", "proposal: Go 2: error handling", nil},
		{"go", "proposal: spec: generic methods", nil},
		{"go", "proposal: `-json` flag in `go test`", nil},
		{"go", "https://go.dev/issue/12345 is broken", nil},
		{"go", "fix: something", nil},
		{"go", "tests: add more", nil},
		{"go", "build: update", nil},
		{"go", "misc/wasm: update wasm_exec.js", nil},
		{"go", "test/fixedbugs: add issue test", nil},
		{"go", "api: promote next to go1.22", nil},
		{"go", "website: update", nil},
		{"go", "README: typo", nil},
		{"go", "net/http, fix: mixed list", nil},
		{"go", "crypto/{tls,x509: broken braces", nil},
		{"go", "net/http.Client: Do ignores Timeout", nil},
		{"go", "go.dev: new page", nil},
		{"go", "no colon here", nil},
		{"go", "", nil},

		// A golang.org/x repository.
		{"crypto", "ssh/agent: fix key parsing", []string{"golang.org/x/crypto/ssh/agent"}},
		{"crypto", "acme/autocert: renew earlier", []string{"golang.org/x/crypto/acme/autocert"}},
		{"crypto", "acme: add crypto.SignMessage test coverage", []string{"golang.org/x/crypto/acme"}},
		{"crypto", "crypto: name the module", []string{"golang.org/x/crypto"}},
		{"crypto", "crypto/ssh: fix test", []string{"golang.org/x/crypto/ssh"}},
		{"crypto", "x/crypto/ssh: support ed25519", []string{"golang.org/x/crypto/ssh"}},
		{"crypto", "golang.org/x/crypto/ssh: support ed25519", []string{"golang.org/x/crypto/ssh"}},
		{"crypto", "internal/chacha20: drop purego", []string{"golang.org/x/crypto/internal/chacha20"}},
		{"crypto", `Revert "chacha20: use AVX2"`, []string{"golang.org/x/crypto/chacha20"}},
		{"crypto", "ssh, ssh/agent: add SSH_AGENT_CONSTRAIN_EXTENSION", []string{"golang.org/x/crypto/ssh", "golang.org/x/crypto/ssh/agent"}},
		{"crypto", "all: fix typos", nil},
		{"crypto", "go.mod: update golang.org/x dependencies", nil},
		{"crypto", "README: add link", nil},
		{"crypto", "go1.22: drop support", nil},
		{"build", "cmd/relui,internal/relui: add schedule", []string{"golang.org/x/build/cmd/relui", "golang.org/x/build/internal/relui"}},
		{"build", "dashboard: add linux-arm64 builder", []string{"golang.org/x/build/dashboard"}},
		{"build", "doc: update", nil},
		{"oscar", "internal/{gaby,github}: sync more", []string{"golang.org/x/oscar/internal/gaby", "golang.org/x/oscar/internal/github"}},
		{"website", "_content/doc: fix link", nil},
		{"website", "go.dev/_content: fix link", nil},
		{"proposal", "design/draft-workspace.md: update", nil},
		{"proposal", "design/43651-type-parameters: fix typo", nil},
		{"proposal", "12416: typo", nil},
		{"", "crypto/tls: fix", []string{"crypto/tls"}},
	} {
		got := pkgpath.FromTitleInProject(tt.project, tt.title)
		if !slices.Equal(got, tt.want) {
			t.Errorf("FromTitleInProject(%q, %q) = %q, want %q", tt.project, tt.title, got, tt.want)
		}
		if tt.project == "go" {
			if got := pkgpath.FromTitle(tt.title); !slices.Equal(got, tt.want) {
				t.Errorf("FromTitle(%q) = %q, want %q", tt.title, got, tt.want)
			}
		}
	}
}

func TestFromFile(t *testing.T) {
	for _, tt := range []struct {
		project, file, want string
	}{
		{"go", "src/crypto/tls/conn.go", "crypto/tls"},
		{"go", "src/cmd/go/internal/load/pkg.go", "cmd/go/internal/load"},
		{"go", "src/crypto/tls/testdata/x.pem", "crypto/tls"},
		{"go", "src/cmd/go/testdata/script/mod_get.txt", "cmd/go"},
		{"go", "src/runtime/asm_amd64.s", "runtime"},
		{"go", "src/internal/poll/fd.go", "internal/poll"},
		{"go", "src/compress/flate/", "compress/flate"},
		{"go", "doc/go1.22.html", ""},
		{"go", "api/next/1234.txt", ""},
		{"go", "test/fixedbugs/issue1.go", ""},
		{"go", "misc/wasm/wasm_exec.js", ""},
		{"go", "/COMMIT_MSG", ""},
		{"go", "src/make.bash", ""},
		{"go", "src/go.mod", ""},
		{"go", "src/vendor/golang.org/x/net/http2/hpack/hpack.go", ""},
		{"go", "src/cmd/vendor/golang.org/x/tools/go/analysis/analysis.go", ""},
		{"crypto", "ssh/agent/client.go", "golang.org/x/crypto/ssh/agent"},
		{"crypto", "ssh/testdata/keys.go", "golang.org/x/crypto/ssh"},
		{"crypto", "ssh/README.md", "golang.org/x/crypto/ssh"},
		{"crypto", "chacha20/chacha_arm64.s", "golang.org/x/crypto/chacha20"},
		{"crypto", "x.go", "golang.org/x/crypto"},
		{"crypto", "go.mod", ""},
		{"crypto", "README.md", ""},
		{"crypto", "/COMMIT_MSG", ""},
		{"crypto", "testdata/x.go", ""},
		{"build", "cmd/coordinator/internal/legacydash/ui.go", "golang.org/x/build/cmd/coordinator/internal/legacydash"},
		{"build", "env/linux-x86-sid/Dockerfile", "golang.org/x/build/env/linux-x86-sid"},
		{"go", "src/crypto/internal/entropy/v1.0.0/entropy.go", "crypto/internal/entropy/v1.0.0"},
		{"go", "src/crypto/internal/entropy/v1.0.0/README", "crypto/internal/entropy"},
		{"website", "_content/doc/Go1.22/x.md", ""},
		{"website", "blog/content/Survey/x.png", "golang.org/x/website/blog/content"},
		{"build", "internal/task/testdata/release.txt", "golang.org/x/build/internal/task"},
		{"website", "_content/doc/go1.22.md", ""},
		{"website", "go.dev/_content/blog/x.md", ""},
		{"website", "cmd/golangorg/testdata/web.txt", "golang.org/x/website/cmd/golangorg"},
		{"proposal", "design/44167/pacer-plots/plot.png", "golang.org/x/proposal/design"},
		{"proposal", "design/12345-foo.md", "golang.org/x/proposal/design"},
	} {
		if got := pkgpath.FromFile(tt.project, tt.file); got != tt.want {
			t.Errorf("FromFile(%q, %q) = %q, want %q", tt.project, tt.file, got, tt.want)
		}
	}
}

func TestFromFiles(t *testing.T) {
	files := []string{"/COMMIT_MSG", "ssh/agent/client.go", "ssh/agent/server.go", "ssh/keys.go", "go.mod"}
	want := []string{"golang.org/x/crypto/ssh", "golang.org/x/crypto/ssh/agent"}
	if got := pkgpath.FromFiles("crypto", files); !slices.Equal(got, want) {
		t.Errorf("FromFiles(crypto, %q) = %q, want %q", files, got, want)
	}
	if got := pkgpath.FromFiles("crypto", []string{"go.mod", "go.sum"}); got != nil {
		t.Errorf("FromFiles(crypto, go.mod, go.sum) = %q, want nil", got)
	}
}

func TestAncestors(t *testing.T) {
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"crypto/tls/internal/fips", []string{"crypto", "crypto/tls", "crypto/tls/internal", "crypto/tls/internal/fips"}},
		{"runtime", []string{"runtime"}},
		{"golang.org/x/crypto/ssh/agent", []string{"golang.org/x/crypto", "golang.org/x/crypto/ssh", "golang.org/x/crypto/ssh/agent"}},
		{"golang.org/x/crypto", []string{"golang.org/x/crypto"}},
		{"github.com/gin-gonic/gin/render", []string{"github.com/gin-gonic/gin", "github.com/gin-gonic/gin/render"}},
		{"gopkg.in/yaml.v3", []string{"gopkg.in/yaml.v3"}},
		{"google.golang.org/grpc/codes", []string{"google.golang.org/grpc", "google.golang.org/grpc/codes"}},
		{"", nil},
	} {
		if got := pkgpath.Ancestors(tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("Ancestors(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestWithin(t *testing.T) {
	for _, tt := range []struct {
		path, pkg string
		want      bool
	}{
		{"crypto/tls", "crypto/tls", true},
		{"crypto/tls/internal", "crypto/tls", true},
		{"crypto/tls/internal/fips", "crypto", true},
		{"crypto/tlsx", "crypto/tls", false},
		{"crypto", "crypto/tls", false},
		{"golang.org/x/crypto/ssh/agent", "golang.org/x/crypto", true},
		{"golang.org/x/cryptography", "golang.org/x/crypto", false},
		{"crypto/tls", "", false},
	} {
		if got := pkgpath.Within(tt.path, tt.pkg); got != tt.want {
			t.Errorf("Within(%q, %q) = %v, want %v", tt.path, tt.pkg, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{
		{"x/crypto/ssh", "golang.org/x/crypto/ssh"},
		{"  crypto/tls/ ", "crypto/tls"},
		{"golang.org/x/net/http2", "golang.org/x/net/http2"},
		{"github.com/BurntSushi/toml", "github.com/BurntSushi/toml"},
		{"gopkg.in/yaml.v3", "gopkg.in/yaml.v3"},
		{"runtime", "runtime"},
		{"", ""},
		{"   ", ""},
		{"crypto tls", ""},
		{"https://go.dev/x", ""},
		{"crypto//tls", ""},
		{"/crypto/tls", ""},
		{"../crypto", ""},
		{"net/http@v1", ""},
	} {
		if got := pkgpath.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInText(t *testing.T) {
	text := `Since crypto/tls and x/crypto/ssh changed (see https://pkg.go.dev/net/http/httputil),
errors and time are words; src/crypto/tls/conn.go is a file, golang.org/x/net/http2. is a module
path, cmd/go too, x/y is a ratio and crypto/tls again; github.com/a/b is elsewhere.
See net/http/httptest.NewServer.`
	got := pkgpath.InText(text)
	want := []string{"cmd/go", "crypto/tls", "golang.org/x/crypto/ssh", "golang.org/x/net/http2", "net/http/httptest", "net/http/httputil"}
	if !slices.Equal(got, want) {
		t.Errorf("InText:\n got %q\nwant %q", got, want)
	}
}

func TestTestSupport(t *testing.T) {
	for p, want := range map[string]bool{
		"net/http/httptest":            true,
		"testing/iotest":               true,
		"testing/fstest":               true,
		"log/slog/slogtest":            true,
		"crypto/internal/cryptotest":   true,
		"golang.org/x/net/nettest":     true,
		"golang.org/x/crypto/ssh/test": true,
		"net/http":                     false,
		"testing":                      false,
		"test":                         false,
		"github.com/google/go-attestation/attest": false, // "at" names no package
		"golang.org/x/build/cmd/gomote":           false,
	} {
		if got := pkgpath.TestSupport(p); got != want {
			t.Errorf("TestSupport(%q) = %v, want %v", p, got, want)
		}
	}
}
