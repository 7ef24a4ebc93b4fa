package index

import "testing"

func TestRoutine(t *testing.T) {
	tests := []struct {
		kind, title string
		files       []string
		want        string
	}{
		{KindChange, "all: upgrade go directive to at least 1.24.0 [generated]", []string{"go.mod", "a.go"}, "all: sweep (go directive, generated)"},
		{KindChange, "all: fix typos", []string{"ssh/a.go", "acme/b.go"}, "all: sweep (typos)"},
		{KindChange, "all: gofmt", nil, "all: sweep (gofmt)"},
		{KindChange, "all: fix vet warnings and some comments", nil, "all: sweep (vet, comments)"},
		{KindChange, "all: add FIPS 140-3 mode", nil, ""}, // an all: change that is no sweep
		{KindChange, "crypto/tls: add a test for resumption", []string{"src/crypto/tls/handshake_test.go", "src/crypto/tls/testdata/Client-TLSv13-Resume"}, "test-only change"},
		{KindChange, "go.mod: update golang.org/x dependencies", []string{"go.mod", "go.sum"}, "only module files"},
		{KindChange, "all: go get go@go1.23.2", []string{"go.mod", "go.work", "internal/tool/go.mod"}, "only module files"},
		{KindChange, "cmd/go: check go.work files in workspace mode", []string{"src/cmd/go/internal/modload/init.go", "go.work"}, ""}, // code too
		{KindChange, "_content/doc/modules: add reference to workspaces in the local development section", []string{"_content/doc/modules/managing-dependencies.md"}, "documentation link or wording fix"},
		{KindChange, "_content/doc/modules: add retract directive to go.mod reference", []string{"_content/doc/modules/gomod-ref.md"}, ""}, // the reference page, not a reference to it
		{KindChange, "_content: fix anchors in toolchain.md", []string{"_content/doc/toolchain.md"}, "documentation link or wording fix"},
		{KindChange, "_content: fix quoting in toolchain.md", []string{"_content/doc/toolchain.md"}, "documentation link or wording fix"},
		{KindChange, "ref/mod: fix markdown syntax inside embedded HTML", []string{"_content/ref/mod.md"}, "documentation link or wording fix"},
		{KindChange, "Revert \"_content/blog/workspaces: post\"", []string{"_content/blog/workspaces.md"}, "documentation revert"},
		{KindChange, "[release-branch.go1.22] Revert \"_content/ref/mod: document vendoring\"", []string{"_content/ref/mod.md"}, "documentation revert"},
		{KindChange, "Revert \"ssh: add support for banners\"", []string{"ssh/client.go", "ssh/client_test.go"}, ""}, // a revert of code changes behaviour
		{KindChange, "_content/ref: fix typo in go.work documentation", []string{"_content/ref/mod.md"}, "typo fix"},
		{KindChange, "design/45713-workspace: fix typo", nil, "typo fix"},
		{KindChange, "[release-branch.go1.22] all: fix misspellings", nil, "all: sweep (misspellings)"},
		{KindChange, "crypto/tls: reject empty certificates", []string{"src/crypto/tls/conn.go", "src/crypto/tls/conn_test.go"}, ""},
		{KindPull, "ssh: fix spelling of Marshal in comments", nil, "typo fix"},
		{KindChange, "design: update issue link for gopls-workspaces", []string{"design/37720-gopls-workspaces.md"}, "documentation link or wording fix"},
		{KindChange, "_content/ref: add missing `)` in \"go.work files\" documentation", []string{"_content/ref/mod.md"}, "documentation link or wording fix"},
		{KindChange, "net/http: fix handling of Link headers", []string{"src/net/http/header.go"}, ""}, // code, not docs
		{KindIssue, "all: fix typos", nil, ""}, // only changes are classified
		{KindVuln, "Typo squatting in example.com/x", nil, ""},
	}
	for _, tt := range tests {
		it := &Item{Kind: tt.kind, Title: tt.title, Files: tt.files}
		if got := Routine(it); got != tt.want {
			t.Errorf("Routine(%s %q %v) = %q, want %q", tt.kind, tt.title, tt.files, got, tt.want)
		}
	}
}
