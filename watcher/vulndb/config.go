package vulndb

import "github.com/reciprocal-access/reciprocal/configs"

// Config is the [vulndb] section of reciprocal.toml: the vulnerability
// database, Go's unless url names a mirror.
//
//	[vulndb]
//	url = "https://vuln.go.dev"   # optional
//
// The database is watched whether or not the file has the section.
type Config struct {
	URL string `toml:"url"` // default DefaultURL
}

// DefaultURL is the Go vulnerability database.
const DefaultURL = "https://vuln.go.dev"

// section is the [vulndb] section, registered through the Descriptor.
var section = &configs.Table[Config]{
	Key:     "vulndb",
	Absent:  func() Config { return Config{} },
	Default: func(c *Config) { configs.SetDefault(&c.URL, DefaultURL) },
	Check: func(c Config, bad configs.Bad) {
		if err := configs.CheckURL(c.URL); err != nil {
			bad([]string{"url"}, "vulndb url %q: %v", c.URL, err)
		}
	},
}

// Configured returns the [vulndb] section of cfg, defaulted; nil if there
// is none.
func Configured(cfg *configs.Config) *Config { return section.Of(cfg) }
