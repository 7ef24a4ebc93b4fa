// Package configs loads and validates reciprocal's configuration file,
// reciprocal.toml, and the client profiles it points to. The example/
// directory beside this package holds files a user can copy.
//
// The sections that configure sources ([[github]], [[gerrit]], [vulndb],
// [[advisories]]) are not fields of Config: each source package declares
// its own (see Section) and package watcher registers them, so that adding
// a source edits nothing here. Config holds what is reciprocal's own: the
// data and clients directories, mail, the briefing, the SLA, matching and
// digests.
package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is reciprocal.toml.
type Config struct {
	// Path is the file the configuration was read from; empty for the
	// built-in defaults.
	Path string `toml:"-"`

	DataDir string `toml:"data_dir"` // optional; flags and environment override it
	Clients string `toml:"clients"`  // directory of client profiles, relative to this file

	SMTP     *SMTP    `toml:"smtp"`
	Briefing Briefing `toml:"briefing"`
	SLA      SLA      `toml:"sla"`
	Matching Matching `toml:"matching"`
	Digest   Digest   `toml:"digest"`

	clientsLine int // the line setting clients, 0 if it is not set

	sections map[string]any // the registered sections in the file, by key
}

// SMTP is how the briefing is delivered.
type SMTP struct {
	Host        string   `toml:"host"`
	Port        int      `toml:"port"`
	TLS         string   `toml:"tls"` // starttls (default), tls, none
	Username    string   `toml:"username"`
	PasswordEnv string   `toml:"password_env"`
	PasswordCmd []string `toml:"password_cmd"`
	From        string   `toml:"from"`
	To          []string `toml:"to"`
	Timeout     Duration `toml:"timeout"` // per step; default 30s
}

// Briefing is when and how the daily briefing is composed.
type Briefing struct {
	At        string `toml:"at"`       // "08:00" local time in Timezone
	Timezone  string `toml:"timezone"` // IANA name; default the system's
	SkipEmpty bool   `toml:"skip_empty"`
}

// SLA is the vulnerability SLA promised to clients: after a qualifying
// vulnerability is published, a client may ask for Window, and each
// request is answered within the response time of the client's tier
// (Response unless the tier's own key is set). A profile may override
// both, or turn the SLA off (Profile.SLA).
type SLA struct {
	Window   Duration `toml:"window"`   // default 24h
	Response Duration `toml:"response"` // default 6h
	Platinum Duration `toml:"platinum"` // response time of the tier; default Response
	Gold     Duration `toml:"gold"`
	Silver   Duration `toml:"silver"`
}

// Digest schedules the periodic digests to clients.
type Digest struct {
	// Every is "quarter" or "month": the briefing says when a client's
	// digest for the last period is due. Empty: digests are not scheduled
	// ('reciprocal digest' still writes them, by quarter).
	Every string `toml:"every"`
}

// Matching tunes the matcher.
type Matching struct {
	// Lookback limits the prompts a concern evaluated for the first time
	// creates to items updated within it; older matches are history.
	Lookback Duration `toml:"lookback"`
}

// Defaults.
const (
	DefaultClients = "clients"
	DefaultAt      = "08:00"

	DefaultSLAWindow   = 24 * time.Hour // how long after publication a client may ask
	DefaultSLAResponse = 6 * time.Hour  // how long the answer to each request may take
)

// Default returns the configuration used when there is no file: every
// registered section has its Absent value (Go's issue tracker, Go's Gerrit,
// projects go, crypto and net, and the Go vulnerability database).
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	c.defaultSections()
	return c
}

func (c *Config) applyDefaults() {
	if c.Clients == "" {
		c.Clients = DefaultClients
	}
	if c.SMTP != nil {
		if c.SMTP.TLS == "" {
			c.SMTP.TLS = "starttls"
		}
		if c.SMTP.Port == 0 {
			switch c.SMTP.TLS {
			case "tls":
				c.SMTP.Port = 465
			case "none":
				c.SMTP.Port = 25
			default:
				c.SMTP.Port = 587
			}
		}
		if c.SMTP.Timeout == 0 {
			c.SMTP.Timeout = Duration(30 * time.Second)
		}
	}
	if c.Briefing.At == "" {
		c.Briefing.At = DefaultAt
	}
	if c.SLA.Window == 0 {
		c.SLA.Window = Duration(DefaultSLAWindow)
	}
	if c.SLA.Response == 0 {
		c.SLA.Response = Duration(DefaultSLAResponse)
	}
	for _, d := range []*Duration{&c.SLA.Platinum, &c.SLA.Gold, &c.SLA.Silver} {
		if *d == 0 {
			*d = c.SLA.Response
		}
	}
	if c.Matching.Lookback == 0 {
		c.Matching.Lookback = Duration(14 * 24 * time.Hour)
	}
}

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse decodes and validates configuration data read from path.
func Parse(path string, data []byte) (*Config, error) {
	c := &Config{}
	md, err := decodeMeta(path, data, c)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(c.decodeSections(path, data, md)...); err != nil {
		return nil, err
	}
	c.Path = path
	c.applyDefaults()
	c.defaultSections()
	if err := c.validate(data); err != nil {
		return nil, err
	}
	return c, nil
}

// ClientsDir returns the directory of client profiles, resolved against the
// configuration file's directory.
func (c *Config) ClientsDir() string {
	dir := ExpandHome(c.Clients)
	if filepath.IsAbs(dir) || c.Path == "" {
		return dir
	}
	return filepath.Join(filepath.Dir(c.Path), dir)
}

// Location returns the briefing's time zone.
func (c *Config) Location() *time.Location {
	if c.Briefing.Timezone == "" {
		return time.Local
	}
	loc, err := time.LoadLocation(c.Briefing.Timezone)
	if err != nil {
		return time.Local // validate has rejected bad names
	}
	return loc
}

// BriefingAt returns the hour and minute of the daily briefing.
func (c *Config) BriefingAt() (hour, minute int) {
	h, m, _ := parseClock(c.Briefing.At)
	return h, m
}

// SLAFor returns the response time owed to each request of a client of
// tier (before any override in the client's profile).
func (c *Config) SLAFor(tier string) time.Duration {
	switch tier {
	case "platinum":
		return time.Duration(c.SLA.Platinum)
	case "gold":
		return time.Duration(c.SLA.Gold)
	}
	return time.Duration(c.SLA.Silver)
}

func parseClock(s string) (int, int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) != 2 {
		return 0, 0, fmt.Errorf("want HH:MM on a 24-hour clock, like 08:00")
	}
	return hh, mm, nil
}

func (c *Config) validate(data []byte) error {
	var errs []error
	lines := indexLines(data)
	bad := func(key []string, format string, args ...any) {
		errs = append(errs, &FileError{File: c.Path, Line: lines.keyLine(key), Msg: fmt.Sprintf(format, args...)})
	}
	// The sources' sections first, in the order they are synced.
	c.checkSections(bad)
	if s := c.SMTP; s != nil {
		switch s.TLS {
		case "starttls", "tls":
		case "none":
			if !isLocalhost(s.Host) {
				bad([]string{"smtp", "tls"}, "smtp tls = \"none\" is only allowed to localhost, not %q: use starttls or tls", s.Host)
			}
		default:
			bad([]string{"smtp", "tls"}, "smtp tls %q: want starttls, tls or none", s.TLS)
		}
		if s.Host == "" {
			bad([]string{"smtp", "host"}, "smtp: host is required")
		}
		if s.Port <= 0 || s.Port > 65535 {
			bad([]string{"smtp", "port"}, "smtp port %d: want 1-65535", s.Port)
		}
		if s.From == "" {
			bad([]string{"smtp", "from"}, "smtp: from is required, like from = \"reciprocal <me@example.com>\"")
		} else if err := checkAddress(s.From); err != nil {
			bad([]string{"smtp", "from"}, "smtp from %q: %v, like from = \"reciprocal <me@example.com>\"", s.From, err)
		}
		if len(s.To) == 0 {
			bad([]string{"smtp", "to"}, "smtp: to is required, like to = [\"me@example.com\"]")
		}
		for _, to := range s.To {
			if err := checkAddress(to); err != nil {
				bad([]string{"smtp", "to"}, "smtp to %q: %v, like to = [\"me@example.com\"]", to, err)
			}
		}
		if s.PasswordEnv != "" && len(s.PasswordCmd) > 0 {
			bad([]string{"smtp", "password_cmd"}, "smtp: set password_env or password_cmd, not both")
		}
	}
	c.clientsLine = lines.keyLine([]string{"clients"})
	switch c.Digest.Every {
	case "", "quarter", "month":
	default:
		bad([]string{"digest", "every"}, "digest every %q: want \"quarter\" or \"month\"", c.Digest.Every)
	}
	if _, _, err := parseClock(c.Briefing.At); err != nil {
		bad([]string{"briefing", "at"}, "briefing at %q: %v", c.Briefing.At, err)
	}
	if c.Briefing.Timezone != "" {
		if _, err := time.LoadLocation(c.Briefing.Timezone); err != nil {
			bad([]string{"briefing", "timezone"}, "briefing timezone %q: not an IANA time zone name like Europe/Rome", c.Briefing.Timezone)
		}
	}
	return errors.Join(errs...)
}

// checkAddress checks one mail address, with or without a display name.
// Line breaks are refused: the address goes into a mail header.
func checkAddress(s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return errors.New("not a mail address (it has a line break)")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return errors.New("not a mail address")
	}
	if _, domain, _ := strings.Cut(a.Address, "@"); domain == "" || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return errors.New("not a mail address")
	}
	return nil
}

// CheckClients reports a clients directory that does not exist or is not a
// directory, naming the line that sets it. Commands read a missing
// directory as no profiles (a fresh setup has none); check-config asks.
func (c *Config) CheckClients() error {
	dir := c.ClientsDir()
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &FileError{File: c.Path, Line: c.clientsLine, Msg: fmt.Sprintf("clients directory %s does not exist: create it, or set clients to the directory of your client profiles", dir)}
	case err != nil:
		return &FileError{File: c.Path, Line: c.clientsLine, Msg: fmt.Sprintf("clients directory: %v", err)}
	case !info.IsDir():
		return &FileError{File: c.Path, Line: c.clientsLine, Msg: fmt.Sprintf("clients %s is not a directory", dir)}
	}
	return nil
}

// CheckURL checks a server's URL in the configuration: http or https,
// with a host.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return errors.New("want an http or https URL")
	}
	return nil
}

// CheckRepo checks a GitHub repository's name: owner/name.
func CheckRepo(s string) error {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return errors.New("want owner/name")
	}
	return nil
}

func isLocalhost(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

// ExpandHome replaces a leading ~/ with the user's home directory.
func ExpandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// A Duration is a time.Duration written as in Go ("90m", "6h") or in days
// and weeks ("14d", "2w").
type Duration time.Duration

// UnmarshalText parses a duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText formats a duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// maxDuration is the longest time.Duration.
const maxDuration = time.Duration(1<<63 - 1)

// ParseDuration parses "90m", "6h", "14d", "2w" or "1d12h". It refuses a
// duration too long for time.Duration rather than let it wrap around.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	var total time.Duration
	for _, unit := range []struct {
		suffix string
		d      time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}} {
		if i := strings.Index(s, unit.suffix); i > 0 {
			n, err := strconv.Atoi(s[:i])
			if err != nil || n < 0 {
				return 0, fmt.Errorf("bad duration %q: want a number followed by w, d, h, m or s, like 14d or 6h", orig)
			}
			if n > int(maxDuration/unit.d) || time.Duration(n)*unit.d > maxDuration-total {
				return 0, fmt.Errorf("bad duration %q: too long (at most about 292 years)", orig)
			}
			total += time.Duration(n) * unit.d
			s = s[i+1:]
		}
	}
	if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("bad duration %q: want a number followed by w, d, h, m or s, like 14d or 6h", orig)
		}
		if d > maxDuration-total {
			return 0, fmt.Errorf("bad duration %q: too long (at most about 292 years)", orig)
		}
		total += d
	}
	if total <= 0 {
		return 0, fmt.Errorf("bad duration %q: must be positive", orig)
	}
	return total, nil
}
