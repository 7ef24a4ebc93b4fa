package watcher_test

import (
	"strings"
	"testing"

	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/source"
)

// TestParseID pins the item ID forms of the registered sources: what each
// accepts, and that anything unsafe in a file name, URL or terminal is
// refused with a message showing every form.
func TestParseID(t *testing.T) {
	for host, want := range map[string]string{
		"https://go-review.googlesource.com":  "go-review:crypto/815480",
		"https://go-review.googlesource.com/": "go-review:crypto/815480",
		"go-review.googlesource.com":          "go-review:crypto/815480",
		"http://review.example.org:8080/r":    "review:crypto/815480",
		"":                                    "go-review:crypto/815480",
		"http://127.0.0.1:8080":               "127.0.0.1:crypto/815480",
	} {
		if got := gerrit.ID(host, "crypto", 815480); got != want {
			t.Errorf("gerrit.ID(%q) = %q, want %q", host, got, want)
		}
	}
	tests := []struct {
		id   string
		want source.ParsedID
	}{
		{"golang/go#60105", source.ParsedID{Source: "github", Repo: "golang/go", Number: 60105}},
		{"go-review:crypto/815480", source.ParsedID{Source: "gerrit", Host: "go-review", Repo: "crypto", Number: 815480}},
		{"go-review:build/sub/1", source.ParsedID{Source: "gerrit", Host: "go-review", Repo: "build/sub", Number: 1}},
		{"GO-2024-2428", source.ParsedID{Source: "vulndb"}},
		{"127.0.0.1:go/5", source.ParsedID{Source: "gerrit", Host: "127.0.0.1", Repo: "go", Number: 5}},
		{"GHSA-8x4q-q2mm-7x3c", source.ParsedID{Source: "advisories"}},
	}
	for _, tt := range tests {
		got, err := watcher.Sources.ParseID(tt.id)
		if err != nil || got != tt.want {
			t.Errorf("ParseID(%q) = %+v, %v; want %+v", tt.id, got, err, tt.want)
		}
	}
	const forms = "want owner/repo#N (GitHub), host:project/N (Gerrit), GO-YYYY-NNNN (vulnerability) or GHSA-xxxx-xxxx-xxxx (advisory)"
	for _, bad := range []string{"", "60105", "golang#1", "golang/go#", "golang/go#x", "a/b/c#1", "go-review:crypto", ":go/1", "GO-24-1", "GO-2024-x", "go-review:go/-1",
		"evil/..#1", "../x#1", "./x#1", "a/b c#1", "a\\b/c#1", "a/b\x1b#1", "../../x", "go-review:../x/1", "go-review:go/../1", "..:go/1", "a/b:go/1",
		"GHSA-8x4q-q2mm", "GHSA-8X4Q-q2mm-7x3c", "ghsa-8x4q-q2mm-7x3c"} {
		if _, err := watcher.Sources.ParseID(bad); err == nil || !strings.HasSuffix(err.Error(), forms) {
			t.Errorf("ParseID(%q) = %v", bad, err)
		}
	}
}
