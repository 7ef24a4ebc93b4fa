package index

import "testing"

func TestTermsOutsideNames(t *testing.T) {
	tests := []struct {
		text    string
		term    string
		outside bool
	}{
		{"cmd/updatestd: skip repos without internal-branch.go1.n-vendor branch", "vendor", false},
		{"cmd/updatestd: skip repos without internal-branch.go1.n-vendor branch", "branch", true},
		{"dashboard: add linux-amd64-longtest builder", "longtest", false},
		{"design: add 25719-go15vendor.md", "vendor", true}, // a file, named after its subject
		{"design/25719-go15vendor: add canonical URL", "vendor", true},
		{"cmd/go: -mod=vendor ignores go.work", "vendor", true},
		{"cmd/go: go.work files", "work", true},
		{"cmd/go: vendor-specific build tags", "vendor", true}, // no digit: words
		{"crypto/mlkem: add ML-KEM-768", "kem", false},
		{`Revert "gopls/v0.15.0-pre.1: release"`, "pre", true},
	}
	for _, tt := range tests {
		if got := TermsOutsideNames(tt.text)[tt.term]; got != tt.outside {
			t.Errorf("TermsOutsideNames(%q)[%q] = %v, want %v", tt.text, tt.term, got, tt.outside)
		}
	}
}
