package gerrit

import (
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
)

// Config is one [[gerrit]] entry of reciprocal.toml: a Gerrit server and
// some of its projects.
//
//	[[gerrit]]
//	url      = "https://go-review.googlesource.com"   # optional
//	projects = ["go", "crypto", "net"]
//	since    = 2024-06-01                              # optional
//
// Without any [[gerrit]] entry, Go's Gerrit is watched, projects go, crypto
// and net; gerrit = [] watches none.
type Config struct {
	URL      string    `toml:"url"` // default DefaultURL
	Projects []string  `toml:"projects"`
	Since    time.Time `toml:"since"` // how far back the first sync reaches
}

// DefaultURL is Go's Gerrit.
const DefaultURL = "https://go-review.googlesource.com"

// section is the [[gerrit]] section, registered through the Descriptor.
var section = &configs.Entries[Config]{
	Key: "gerrit",
	Absent: func() []Config {
		return []Config{{URL: DefaultURL, Projects: []string{"go", "crypto", "net"}}}
	},
	Default: func(c *Config) { configs.SetDefault(&c.URL, DefaultURL) },
	Check: func(c Config, bad configs.Bad) {
		if err := configs.CheckURL(c.URL); err != nil {
			bad([]string{"url"}, "gerrit url %q: %v", c.URL, err)
		}
		if len(c.Projects) == 0 {
			bad([]string{"projects"}, "gerrit %s: list at least one project, like projects = [\"go\"]", c.URL)
		}
	},
}

// Configured returns the [[gerrit]] entries of cfg, defaulted.
func Configured(cfg *configs.Config) []Config { return section.Of(cfg) }
