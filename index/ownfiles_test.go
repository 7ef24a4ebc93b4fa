package index

import (
	"slices"
	"testing"
)

func TestOwnFiles(t *testing.T) {
	tests := []struct {
		kind, title string
		files       []string
		want        []string
	}{
		{KindChange, "oscar: add worksync.sh to sync go.work and go.mod files", []string{"go.mod", "go.sum", "go.work", "internal/gaby/go.mod", "worksync.sh"}, []string{"go.mod", "go.work", "worksync.sh"}},
		{KindChange, "go.work.sum: update go.work.sum", []string{"go.work.sum"}, []string{"go.work.sum"}},
		{KindChange, "all: update go.work.sum", []string{"go.work", "go.work.sum"}, []string{"go.work.sum"}}, // go.work is only part of a name
		{KindChange, "tools: drop the go.work.", []string{"go.work"}, []string{"go.work"}},                   // a sentence's full stop
		{KindChange, "cmd/go: support go.work in vendor mode", []string{"src/cmd/go/internal/modload/init.go", "src/cmd/go/testdata/mod/go.work"}, nil},
		{KindChange, "design/draft-workspace.md: clarify", []string{"design/draft-workspace.md"}, []string{"draft-workspace.md"}},
		{KindChange, "cmd/go: check vendor/modules.txt", []string{"src/cmd/go/internal/modload/vendor.go"}, nil},
		{KindChange, "x/tools: update Makefile", []string{"Makefile"}, nil}, // no extension
		{KindIssue, "cmd/go: go.work ignored", nil, nil},
	}
	for _, tt := range tests {
		it := &Item{Kind: tt.kind, Title: tt.title, Files: tt.files}
		if got := OwnFiles(it); !slices.Equal(got, tt.want) {
			t.Errorf("OwnFiles(%q %v) = %q, want %q", tt.title, tt.files, got, tt.want)
		}
	}
}
