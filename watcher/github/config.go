package github

import (
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
)

// Config is one [[github]] entry of reciprocal.toml: a watched repository.
//
//	[[github]]
//	repo      = "golang/go"
//	api_url   = "https://api.github.com/"   # optional; a GitHub Enterprise API
//	token_env = "GITHUB_TOKEN"              # optional
//	since     = 2024-01-01                  # optional: how far back the first sync reaches
//
// Without any [[github]] entry, golang/go is watched; github = [] watches
// none.
type Config struct {
	Repo     string    `toml:"repo"`      // owner/name
	APIURL   string    `toml:"api_url"`   // default DefaultAPIURL
	TokenEnv string    `toml:"token_env"` // default DefaultTokenEnv
	Since    time.Time `toml:"since"`     // how far back the first sync reaches
}

// Defaults of GitHub's API, also those of package advisories.
const (
	DefaultAPIURL   = "https://api.github.com/"
	DefaultTokenEnv = "GITHUB_TOKEN"
)

// section is the [[github]] section, registered through the Descriptor.
var section = &configs.Entries[Config]{
	Key:     "github",
	Absent:  func() []Config { return []Config{{Repo: "golang/go"}} },
	Default: func(c *Config) { SetDefaults(&c.APIURL, &c.TokenEnv) },
	Check: func(c Config, bad configs.Bad) {
		if err := configs.CheckRepo(c.Repo); err != nil {
			bad([]string{"repo"}, "github repo %q: %v, like golang/go", c.Repo, err)
		}
		if err := configs.CheckURL(c.APIURL); err != nil {
			bad([]string{"api_url"}, "github api_url %q: %v", c.APIURL, err)
		}
	},
}

// SetDefaults fills in an empty API URL and token variable with GitHub's.
func SetDefaults(apiURL, tokenEnv *string) {
	configs.SetDefault(apiURL, DefaultAPIURL)
	configs.SetDefault(tokenEnv, DefaultTokenEnv)
}

// Configured returns the [[github]] entries of cfg, defaulted.
func Configured(cfg *configs.Config) []Config { return section.Of(cfg) }
