package watcher_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/advisories"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb"
)

// configured describes what a configuration makes of the registered
// sources: each section as decoded and defaulted, the sources built, and
// the Gerrit hosts by label.
func configured(c *configs.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "github %+v\n", github.Configured(c))
	fmt.Fprintf(&b, "gerrit %+v\n", gerrit.Configured(c))
	fmt.Fprintf(&b, "vulndb %+v\n", vulndb.Configured(c))
	fmt.Fprintf(&b, "advisories %+v\n", advisories.Configured(c))
	srcs, err := watcher.Sources.Build(c, "", source.BuildOptions{Anonymous: true})
	var names []string
	for _, s := range srcs {
		names = append(names, s.Name())
	}
	fmt.Fprintf(&b, "sources %s (%v)\nhosts %v\n", strings.Join(names, ", "), err, watcher.Sources.Hosts(c))
	return b.String()
}

const zero = "0001-01-01 00:00:00 +0000 UTC"

// goDefaults is what is watched when the configuration names no source.
var goDefaults = strings.ReplaceAll(`github [{Repo:golang/go APIURL:https://api.github.com/ TokenEnv:GITHUB_TOKEN Since:ZERO}]
gerrit [{URL:https://go-review.googlesource.com Projects:[go crypto net] Since:ZERO}]
vulndb &{URL:https://vuln.go.dev}
advisories []
sources github golang/go, gerrit go-review, vulndb (<nil>)
hosts map[go-review:https://go-review.googlesource.com]
`, "ZERO", zero)

// TestSourceSections pins how the sources' own sections of reciprocal.toml
// are read: the defaults when a section is absent, defaults within an
// entry, and every error naming file:line, in the order of the file.
func TestSourceSections(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"no file", "-", goDefaults},
		{"no source section", "clients = \"c\"\n", goDefaults},
		{"github only: gerrit and vulndb keep Go's", "[[github]]\nrepo = \"me/tool\"\n", strings.ReplaceAll(`github [{Repo:me/tool APIURL:https://api.github.com/ TokenEnv:GITHUB_TOKEN Since:ZERO}]
gerrit [{URL:https://go-review.googlesource.com Projects:[go crypto net] Since:ZERO}]
vulndb &{URL:https://vuln.go.dev}
advisories []
sources github me/tool, gerrit go-review, vulndb (<nil>)
hosts map[go-review:https://go-review.googlesource.com]
`, "ZERO", zero)},
		{"empty arrays watch nothing", "github = []\ngerrit = []\n", `github []
gerrit []
vulndb &{URL:https://vuln.go.dev}
advisories []
sources vulndb (<nil>)
hosts map[]
`},
		{"entries with defaults", "[[github]]\nrepo = \"golang/go\"\ntoken_env = \"GH\"\nsince = 2024-01-01\n[[github]]\nrepo = \"me/mytool\"\napi_url = \"https://github.example.com/api/v3/\"\n" +
			"[[gerrit]]\nurl = \"http://127.0.0.1:8080\"\nprojects = [\"a\"]\nsince = 2024-06-01\n[[gerrit]]\nprojects = [\"b\"]\n" +
			"[vulndb]\nurl = \"https://mirror.example.com/vuln\"\n[[advisories]]\nrepo = \"me/tool\"\n", strings.ReplaceAll(`github [{Repo:golang/go APIURL:https://api.github.com/ TokenEnv:GH Since:2024-01-01 00:00:00 +0000 UTC} {Repo:me/mytool APIURL:https://github.example.com/api/v3/ TokenEnv:GITHUB_TOKEN Since:ZERO}]
gerrit [{URL:http://127.0.0.1:8080 Projects:[a] Since:2024-06-01 00:00:00 +0000 UTC} {URL:https://go-review.googlesource.com Projects:[b] Since:ZERO}]
vulndb &{URL:https://mirror.example.com/vuln}
advisories [{Repo:me/tool APIURL:https://api.github.com/ TokenEnv:GITHUB_TOKEN}]
sources github golang/go, github me/mytool, gerrit 127.0.0.1, gerrit go-review, vulndb, advisories me/tool (<nil>)
hosts map[127.0.0.1:http://127.0.0.1:8080 go-review:https://go-review.googlesource.com]
`, "ZERO", zero)},
		{"bad values, sources first", "[[github]]\nrepo = \"golang\"\napi_url = \"ftp://x\"\n[[gerrit]]\nurl = \"x\"\n[vulndb]\nurl = \"vuln\"\n[smtp]\nhost = \"h\"\n[[advisories]]\nrepo = \"x\"\n", `error r.toml:2: github repo "golang": want owner/name, like golang/go
r.toml:3: github api_url "ftp://x": want an http or https URL
r.toml:5: gerrit url "x": want an http or https URL
r.toml: gerrit x: list at least one project, like projects = ["go"]
r.toml:7: vulndb url "vuln": want an http or https URL
r.toml:11: advisories repo "x": want owner/name, like example-labs/tlsproxy
r.toml: smtp: from is required, like from = "reciprocal <me@example.com>"
r.toml: smtp: to is required, like to = ["me@example.com"]
`},
		{"unknown keys, in file order", "data_dri = 1\n[[github]]\nrpo = \"a/b\"\n[[gerrit]]\nproject = [\"go\"]\n[vulndb]\nulr = \"x\"\n[[advisories]]\nrepp = \"a/b\"\n[smtp]\nhots = \"h\"\n", `error r.toml:1: unknown key "data_dri" (did you mean "data_dir"?)
r.toml:3: unknown key "github.rpo" (did you mean "repo"?)
r.toml:5: unknown key "gerrit.project" (did you mean "projects"?)
r.toml:7: unknown key "vulndb.ulr" (did you mean "url"?)
r.toml:9: unknown key "advisories.repp" (did you mean "repo"?)
r.toml:11: unknown key "smtp.hots" (did you mean "host"?)
`},
		{"wrong type", "[[github]]\nrepo = 5\n", "error r.toml:2: github.repo: incompatible types: TOML value has type int64; destination has type string\n"},
		{"wrong type stops decoding", "[[github]]\nrepo = 5\n[smtp]\nhots = 1\n", "error r.toml:2: github.repo: incompatible types: TOML value has type int64; destination has type string\n"},
		{"wrong type in a table", "[vulndb]\nurl = 5\n", "error r.toml:2: vulndb.url: incompatible types: TOML value has type int64; destination has type string\n"},
		{"a table for an array", "[github]\nrepo = \"a/b\"\n", "error r.toml:1: github: incompatible types: TOML value has type map[string]any; destination has type slice\n"},
		{"a string for an array", "github = \"golang/go\"\n", "error r.toml:1: github: incompatible types: TOML value has type string; destination has type slice\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if tt.src == "-" {
				got = configured(configs.Default())
			} else if c, err := configs.Parse("r.toml", []byte(tt.src)); err != nil {
				got = fmt.Sprintf("error %v\n", err)
			} else {
				got = configured(c)
			}
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestExampleConfig reads the file 'reciprocal init' writes: it is valid,
// and it shows the section of every registered source.
func TestExampleConfig(t *testing.T) {
	c, err := configs.Load("../configs/example/reciprocal.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP == nil || c.SMTP.Host != "smtp.example.com" || c.Briefing.Timezone != "Europe/Rome" {
		t.Errorf("example config read wrong: %+v", c)
	}
	if c.ClientsDir() != "../configs/example/clients" {
		t.Errorf("ClientsDir = %q", c.ClientsDir())
	}
	if got := github.Configured(c); len(got) != 1 || got[0].Since.Year() != 2025 {
		t.Errorf("github = %+v", got)
	}
	for _, d := range watcher.Sources {
		if !strings.Contains(string(configs.ExampleConfig), d.Section) {
			t.Errorf("the example configuration does not show %s", d.Section)
		}
	}
}
