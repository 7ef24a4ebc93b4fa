package index

import (
	"strings"
	"testing"
)

func TestGitHubID(t *testing.T) {
	if id := GitHubID("golang/go", 60105); id != "golang/go#60105" {
		t.Errorf("GitHubID = %q", id)
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
