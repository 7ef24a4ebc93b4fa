package advisories

import (
	"net/url"
	"strings"

	"github.com/reciprocal-access/reciprocal/configs"
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

// section is the [[advisories]] section, which package watcher registers
// with package configs through the Descriptor.
var section = &configs.Section{
	Key: "advisories",
	New: func() any { return new([]Config) },
	Default: func(v any) {
		for i := range *v.(*[]Config) {
			c := &(*v.(*[]Config))[i]
			if c.APIURL == "" {
				c.APIURL = configs.DefaultGitHubAPI
			}
			if c.TokenEnv == "" {
				c.TokenEnv = configs.DefaultTokenEnv
			}
		}
	},
	Check: func(v any, bad func([]string, string, ...any)) {
		for _, c := range *v.(*[]Config) {
			owner, name, ok := strings.Cut(c.Repo, "/")
			if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
				bad([]string{"repo"}, "advisories repo %q: want owner/name, like example-labs/tlsproxy", c.Repo)
			}
			if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				bad([]string{"api_url"}, "advisories api_url %q: want an http or https URL", c.APIURL)
			}
		}
	},
}

// Configured returns the [[advisories]] entries of cfg.
func Configured(cfg *configs.Config) []Config {
	if v, _ := cfg.Section(section.Key).(*[]Config); v != nil {
		return *v
	}
	return nil
}

// Repos returns the repositories (owner/name) cfg watches for advisories:
// the maintainer's own projects.
func Repos(cfg *configs.Config) []string {
	var out []string
	for _, c := range Configured(cfg) {
		out = append(out, c.Repo)
	}
	return out
}
