package index

import (
	"strings"
	"testing"
)

func TestIDs(t *testing.T) {
	if id := GitHubID("golang/go", 60105); id != "golang/go#60105" {
		t.Errorf("GitHubID = %q", id)
	}
	for host, want := range map[string]string{
		"https://go-review.googlesource.com":  "go-review:crypto/815480",
		"https://go-review.googlesource.com/": "go-review:crypto/815480",
		"go-review.googlesource.com":          "go-review:crypto/815480",
		"http://review.example.org:8080/r":    "review:crypto/815480",
		"":                                    "go-review:crypto/815480",
		"http://127.0.0.1:8080":               "127.0.0.1:crypto/815480",
	} {
		if got := GerritID(host, "crypto", 815480); got != want {
			t.Errorf("GerritID(%q) = %q, want %q", host, got, want)
		}
	}
	tests := []struct {
		id   string
		want ParsedID
	}{
		{"golang/go#60105", ParsedID{Source: SourceGitHub, Repo: "golang/go", Number: 60105}},
		{"go-review:crypto/815480", ParsedID{Source: SourceGerrit, Host: "go-review", Repo: "crypto", Number: 815480}},
		{"go-review:build/sub/1", ParsedID{Source: SourceGerrit, Host: "go-review", Repo: "build/sub", Number: 1}},
		{"GO-2024-2428", ParsedID{Source: SourceVulnDB, VulnID: "GO-2024-2428"}},
		{"127.0.0.1:go/5", ParsedID{Source: SourceGerrit, Host: "127.0.0.1", Repo: "go", Number: 5}},
	}
	for _, tt := range tests {
		got, err := ParseID(tt.id)
		if err != nil || got != tt.want {
			t.Errorf("ParseID(%q) = %+v, %v; want %+v", tt.id, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "60105", "golang#1", "golang/go#", "golang/go#x", "a/b/c#1", "go-review:crypto", ":go/1", "GO-24-1", "GO-2024-x", "go-review:go/-1",
		"evil/..#1", "../x#1", "./x#1", "a/b c#1", "a\\b/c#1", "a/b\x1b#1", "../../x", "go-review:../x/1", "go-review:go/../1", "..:go/1", "a/b:go/1"} {
		if _, err := ParseID(bad); err == nil || !strings.Contains(err.Error(), "want owner/repo#N") {
			t.Errorf("ParseID(%q) = %v", bad, err)
		}
	}
}

func TestSnippetRendering(t *testing.T) {
	s := Snippet("a <b>\x01session\x02 & \x01ticket\x02\n\x1b[31mred")
	if got := s.Text(); got != "a <b>«session» & «ticket» [31mred" {
		t.Errorf("Text = %q", got)
	}
	if got := s.HTML(); got != "a &lt;b&gt;<mark>session</mark> &amp; <mark>ticket</mark> [31mred" {
		t.Errorf("HTML = %q", got)
	}
	if got := s.ANSI(); !strings.Contains(got, "\x1b[1msession\x1b[0m") || strings.Contains(got, "\x1b[31m") {
		t.Errorf("ANSI = %q: must bold the terms and drop the tracker's escape", got)
	}
}

func TestNewDocStripsMarkers(t *testing.T) {
	d := newDoc(&Item{Title: "forged \x01mark\x02", Packages: []string{"crypto/tls/internal/fips140", "crypto/tls"}})
	if d.Title != "forged mark" {
		t.Errorf("Title = %q", d.Title)
	}
	if strings.Join(d.PkgTree, ",") != "crypto,crypto/tls,crypto/tls/internal,crypto/tls/internal/fips140" {
		t.Errorf("PkgTree = %v", d.PkgTree)
	}
}
