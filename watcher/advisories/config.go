package advisories

import (
	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher/github"
)

// Config is one [[advisories]] entry of reciprocal.toml: a repository of
// the maintainer's own, watched for its published security advisories.
//
//	[[advisories]]
//	repo      = "example-labs/tlsproxy"
//	api_url   = "https://api.github.com/"   # optional, as for [[github]]
//	token_env = "GITHUB_TOKEN"              # optional
type Config struct {
	Repo     string `toml:"repo"`      // owner/name
	APIURL   string `toml:"api_url"`   // default https://api.github.com/
	TokenEnv string `toml:"token_env"` // default GITHUB_TOKEN
}

// section is the [[advisories]] section, registered through the
// Descriptor.
var section = &configs.Entries[Config]{
	Key:     "advisories",
	Default: func(c *Config) { github.SetDefaults(&c.APIURL, &c.TokenEnv) },
	Check: func(c Config, bad configs.Bad) {
		if err := configs.CheckRepo(c.Repo); err != nil {
			bad([]string{"repo"}, "advisories repo %q: %v, like example-labs/tlsproxy", c.Repo, err)
		}
		if err := configs.CheckURL(c.APIURL); err != nil {
			bad([]string{"api_url"}, "advisories api_url %q: %v", c.APIURL, err)
		}
	},
}

// Configured returns the [[advisories]] entries of cfg.
func Configured(cfg *configs.Config) []Config { return section.Of(cfg) }

// Repos returns the repositories (owner/name) cfg watches for advisories:
// the maintainer's own projects.
func Repos(cfg *configs.Config) []string {
	var out []string
	for _, c := range Configured(cfg) {
		out = append(out, c.Repo)
	}
	return out
}
