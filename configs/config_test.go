package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFull(t *testing.T) {
	src := `data_dir = "~/rdata"
clients  = "profiles"

[smtp]
host = "smtp.example.com"
username = "me@example.com"
password_env = "RECIPROCAL_SMTP_PASSWORD"
from = "reciprocal <me@example.com>"
to = ["me@example.com"]

[briefing]
at = "07:30"
timezone = "Europe/Rome"

[sla]
platinum = "4h"

[matching]
lookback = "3w"
`
	c, err := Parse("/etc/reciprocal/reciprocal.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientsDir() != "/etc/reciprocal/profiles" {
		t.Errorf("ClientsDir = %q", c.ClientsDir())
	}
	if c.SMTP.Port != 587 || c.SMTP.TLS != "starttls" || time.Duration(c.SMTP.Timeout) != 30*time.Second {
		t.Errorf("smtp defaults: %+v", c.SMTP)
	}
	if h, m := c.BriefingAt(); h != 7 || m != 30 {
		t.Errorf("BriefingAt = %d:%d", h, m)
	}
	if c.Location().String() != "Europe/Rome" {
		t.Errorf("Location = %v", c.Location())
	}
	if c.SLAFor("platinum") != 4*time.Hour || c.SLAFor("gold") != 6*time.Hour || c.SLAFor("silver") != 6*time.Hour || time.Duration(c.SLA.Window) != 24*time.Hour {
		t.Errorf("SLA = %+v", c.SLA)
	}
	if time.Duration(c.Matching.Lookback) != 21*24*time.Hour {
		t.Errorf("lookback = %v", c.Matching.Lookback)
	}
}

func TestDefaults(t *testing.T) {
	c := Default()
	if c.SMTP != nil {
		t.Errorf("default smtp = %+v", c.SMTP)
	}
	if time.Duration(c.Matching.Lookback) != 14*24*time.Hour {
		t.Errorf("default lookback = %v", c.Matching.Lookback)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"syntax", "clients = \"a\"\n[[github]\nrepo = \"x\"\n", "reciprocal.toml:3:9: expected end of table array name delimiter"},
		{"unknown top-level key", "clients = \"c\"\ndata_dri = \"x\"\n", `reciprocal.toml:2: unknown key "data_dri" (did you mean "data_dir"?)`},
		{"unknown table", "[smpt]\nhost = \"x\"\n", `reciprocal.toml:1: unknown key "smpt"`},
		{"unknown key in a table", "[briefing]\nat = \"08:00\"\ntimzone = \"UTC\"\n", `reciprocal.toml:3: unknown key "briefing.timzone" (did you mean "timezone"?)`},
		{"wrong type", "[smtp]\nport = \"587\"\n", `reciprocal.toml:2: smtp.port: incompatible types: TOML value has type string; destination has type integer`},
		{"a source's section, unregistered", "[[github]]\nrepo = \"golang/go\"\n", `reciprocal.toml:1: unknown key "github"`},
		{"bad duration", "[sla]\ngold = \"a day\"\n", `bad duration "a day"`},
		{"bad clock", "[briefing]\nat = \"8am\"\n", `reciprocal.toml:2: briefing at "8am": want HH:MM`},
		{"bad zone", "[briefing]\ntimezone = \"Mars/Olympus\"\n", `briefing timezone "Mars/Olympus"`},
		{"plain smtp to a remote host", "[smtp]\nhost = \"smtp.example.com\"\ntls = \"none\"\nfrom = \"a@b\"\nto = [\"a@b\"]\n", `reciprocal.toml:3: smtp tls = "none" is only allowed to localhost`},
		{"smtp from not an address", "[smtp]\nhost = \"localhost\"\nfrom = \"me at example\"\nto = [\"a@b\"]\n", `reciprocal.toml:3: smtp from "me at example": not a mail address`},
		{"smtp to not an address", "[smtp]\nhost = \"localhost\"\nfrom = \"R <a@b>\"\nto = [\"a@b\", \"x@\"]\n", `reciprocal.toml:4: smtp to "x@": not a mail address`},
		{"smtp to with a line break", "[smtp]\nhost = \"localhost\"\nfrom = \"a@b\"\nto = [\"a@b\\r\\nBcc: c@d\"]\n", `has a line break`},
		{"smtp missing to", "[smtp]\nhost = \"localhost\"\nfrom = \"a@b\"\n", "smtp: to is required"},
		{"both password sources", "[smtp]\nhost = \"h\"\nfrom = \"a@b\"\nto = [\"a@b\"]\npassword_env = \"P\"\npassword_cmd = [\"pass\"]\n", "set password_env or password_cmd, not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("reciprocal.toml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCheckClients(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "reciprocal.toml")
	c, err := Parse(path, []byte("# profiles\nclients = \"nowhere\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := path + ":2: clients directory " + filepath.Join(dir, "nowhere") + " does not exist"
	if err := c.CheckClients(); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("CheckClients = %v, want %q…", err, want)
	}
	if err := os.Mkdir(filepath.Join(dir, "nowhere"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckClients(); err != nil {
		t.Errorf("CheckClients with the directory: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"6h": 6 * time.Hour, "14d": 14 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	// Durations too long for time.Duration are refused, never wrapped.
	for _, long := range []string{"99999999d", "999999999999w", "106752d", "106751d24h", "15251w", "15250w2d"} {
		if got, err := ParseDuration(long); err == nil || !strings.Contains(err.Error(), "too long") {
			t.Errorf("ParseDuration(%q) = %v, %v; want a too-long error", long, got, err)
		}
	}
	if _, err := ParseDuration("106751d"); err != nil {
		t.Errorf("106751 days fit in a time.Duration: %v", err)
	}
	for _, bad := range []string{"", "0h", "-1d", "d", "1y", "3d2w", "soon", "9999999999999h"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
}
