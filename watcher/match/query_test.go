package match

import (
	"slices"
	"testing"

	"github.com/reciprocal-access/reciprocal/configs"
)

func TestConcernQuery(t *testing.T) {
	share := func(term string) (float64, error) {
		if term == "smuggl" {
			return 0.001, nil // rare
		}
		return 0.02, nil
	}
	tests := []struct {
		c    configs.Concern
		want string
	}{
		{ // paired plain words only as their phrase; specific words as written
			configs.Concern{Packages: []string{"crypto/tls"}, Query: "client certificate mTLS ClientAuth",
				Summary: "Their servers require client certificates; ClientAuth modes matter."},
			`mTLS ClientAuth "client certificate"`,
		},
		{ // a rare word anywhere, a common one in the title
			configs.Concern{Packages: []string{"net/http"}, Query: "smuggling header Transfer-Encoding",
				Summary: "request smuggling, header parsing"},
			`Transfer-Encoding smuggling title:header`,
		},
		{ // without packages, everything in the title
			configs.Concern{Query: `vendor go.work -mod=vendor "module proxy" +workspace -gopls`,
				Summary: "go.work and workspace vendoring"},
			`title:go.work title:\-mod=vendor title:"module proxy" +title:workspace -gopls title:vendor`,
		},
		{configs.Concern{Packages: []string{"crypto/rsa"}}, ""},
	}
	for _, tt := range tests {
		if got := concernQuery(&tt.c, share); got != tt.want {
			t.Errorf("concernQuery(%q, %q):\n got %s\nwant %s", tt.c.Query, tt.c.Summary, got, tt.want)
		}
	}
}

func TestNear(t *testing.T) {
	c := &configs.Concern{
		Packages: []string{"crypto/ecdsa", "crypto/ed25519", "golang.org/x/crypto/ssh"},
		Summary:  "They sign with ECDSA P-256 and Ed25519; API changes of crypto/ecdsa and ClientAuth matter.",
	}
	q, pkgs := near(c)
	if want := "title:ECDSA title:P-256 title:Ed25519 title:ClientAuth"; q != want {
		t.Errorf("near query = %q, want %q", q, want)
	}
	if want := []string{"crypto/internal"}; !slices.Equal(pkgs, want) {
		t.Errorf("near packages = %q, want %q", pkgs, want)
	}
	if q, pkgs := near(&configs.Concern{Packages: []string{"crypto/ecdsa"}, Summary: "signing speed"}); q != "" || pkgs != nil {
		t.Errorf("a summary without technical terms: %q %q", q, pkgs)
	}
}
