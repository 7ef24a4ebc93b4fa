package configs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/index/pkgpath"
)

// A Profile is one client: who they are, how much they pay for (their
// tier), whom to ask, and the concerns they told you about. Each profile is
// a TOML file in the clients directory (Config.ClientsDir):
//
//	id       = "acme"
//	name     = "Acme CDN"
//	tier     = "gold"                     # silver | gold | platinum
//	contacts = ["Jane Roe <jane@acme.example>"]
//	notes    = "Runs Go TLS termination on ~4k edge servers."
//	sla      = false                      # optional: no vulnerability SLA, or
//	                                      # [sla] window = "48h", response = "4h"
//
//	[[concern]]
//	id       = "tls-session-resumption"
//	summary  = "Resume TLS sessions across the fleet with shared, rotated ticket keys"
//	told     = 2023-05-10                 # when they told you
//	via      = "kick-off call"            # optional: where
//	packages = ["crypto/tls"]             # items touching these or sub-packages
//	query    = "session ticket resumption" # Bleve query over title, body, comments
//	kinds    = ["proposal", "change", "issue"]  # optional filter
//	priority = "high"                     # low | normal (default) | high
//	routine  = true                       # optional: routine changes prompt too
type Profile struct {
	// Path is the file the profile was read from.
	Path string `toml:"-" json:"-"`

	ID       string    `toml:"id" json:"id"`
	Name     string    `toml:"name" json:"name"`
	Tier     string    `toml:"tier" json:"tier"`
	Contacts []string  `toml:"contacts" json:"contacts,omitempty"`
	Notes    string    `toml:"notes" json:"notes,omitempty"`
	SLA      ClientSLA `toml:"sla" json:"sla,omitzero"`
	Concerns []Concern `toml:"concern" json:"concerns"`
}

// ClientSLA overrides the configuration's [sla] for one client: written
// as sla = false (the client has no vulnerability SLA) or as a table
// [sla] with window and response durations. Zero fields keep the
// configuration's values.
type ClientSLA struct {
	Off      bool     `json:"off,omitempty"`
	Window   Duration `json:"window,omitempty"`
	Response Duration `json:"response,omitempty"`
	bad      string   // what was wrong, reported by validation
}

// UnmarshalTOML accepts a boolean or a table with the keys window and
// response; anything else is kept for validation to report.
func (s *ClientSLA) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case bool:
		s.Off = !v
		return nil
	case map[string]any:
		for k, x := range v {
			var d *Duration
			switch k {
			case "window":
				d = &s.Window
			case "response":
				d = &s.Response
			default:
				s.bad = fmt.Sprintf("unknown key %q (want window or response)", "sla."+k)
				return nil
			}
			str, ok := x.(string)
			if !ok {
				s.bad = fmt.Sprintf("sla.%s: want a duration in quotes, like \"24h\"", k)
				return nil
			}
			if err := d.UnmarshalText([]byte(str)); err != nil {
				s.bad = fmt.Sprintf("sla.%s: %v", k, err)
				return nil
			}
		}
		return nil
	}
	s.bad = fmt.Sprintf("sla = %v: want false, or a table with window and response", v)
	return nil
}

// A Concern is something a client told you they need, and how to recognize
// tracker items that touch it. An item matches when it touches one of
// Packages (or a sub-package) if any are listed, AND Query matches its
// title, body or comments if a query is given, AND its kind is one of Kinds
// if any are listed. At least one of Packages and Query is required.
type Concern struct {
	ID       string   `toml:"id" json:"id"`
	Summary  string   `toml:"summary" json:"summary"`
	Told     Date     `toml:"told" json:"told"`
	Via      string   `toml:"via" json:"via,omitempty"`
	Packages []string `toml:"packages" json:"packages,omitempty"` // normalized import paths after loading
	Query    string   `toml:"query" json:"query,omitempty"`
	Kinds    []string `toml:"kinds" json:"kinds,omitempty"`
	Priority string   `toml:"priority" json:"priority"`
	// Routine asks for routine changes too (index.Routine: "all:"
	// sweeps, test-only and go.mod-only changes, typo fixes), which
	// otherwise open no prompt.
	Routine bool `toml:"routine" json:"routine,omitempty"`
}

// Tiers, lowest first.
const (
	TierSilver   = "silver"
	TierGold     = "gold"
	TierPlatinum = "platinum"
)

// Priorities of concerns, lowest first.
const (
	PriorityLow    = "low"
	PriorityNormal = "normal"
	PriorityHigh   = "high"
)

// Tiers and Priorities list the valid values, lowest first.
var (
	Tiers      = []string{TierSilver, TierGold, TierPlatinum}
	Priorities = []string{PriorityLow, PriorityNormal, PriorityHigh}
	// Kinds are the item kinds a concern may filter on.
	Kinds = []string{index.KindIssue, index.KindProposal, index.KindPull, index.KindChange, index.KindVuln}
)

// TierRank orders tiers: platinum 3, gold 2, silver 1, anything else 0.
func TierRank(tier string) int { return slices.Index(Tiers, tier) + 1 }

// PriorityRank orders priorities: high 3, normal 2, low 1, anything else 0.
func PriorityRank(p string) int { return slices.Index(Priorities, p) + 1 }

// A Date is a calendar day, written in TOML as a local date (2023-05-10)
// or a string ("2023-05-10"). It is held as midnight UTC.
type Date struct {
	time.Time
	bad string // what was written instead of a date, reported by validation
}

// UnmarshalTOML accepts a TOML date or date-time, or a "YYYY-MM-DD" string.
// Anything else is kept for ParseProfile to report with the other problems.
func (d *Date) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case time.Time:
		d.Time = time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC)
		return nil
	case string:
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			d.Time = t
			return nil
		}
	}
	d.bad = fmt.Sprint(v)
	return nil
}

// String formats the day as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

// MarshalText formats the day as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	if err := d.UnmarshalTOML(string(b)); err != nil || d.bad != "" {
		return fmt.Errorf("date %q: want YYYY-MM-DD, like 2023-05-10", b)
	}
	return nil
}

// MarshalJSON writes "YYYY-MM-DD" (not the time.Time it holds).
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		d.Time = time.Time{}
		return nil
	}
	return d.UnmarshalText([]byte(s))
}

// Concern returns the concern with the given ID, or nil.
func (p *Profile) Concern(id string) *Concern {
	for i := range p.Concerns {
		if p.Concerns[i].ID == id {
			return &p.Concerns[i]
		}
	}
	return nil
}

// Profiles are the loaded client profiles, sorted by client ID.
type Profiles []*Profile

// Client returns the profile with the given ID, or nil.
func (ps Profiles) Client(id string) *Profile {
	for _, p := range ps {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// IDs returns the client IDs.
func (ps Profiles) IDs() []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

// ProfileExt is the file name extension of client profiles.
const ProfileExt = ".toml"

// LoadProfiles reads and validates every *.toml file in dir. A directory that
// does not exist holds no profiles. If any profile is invalid, LoadProfiles
// returns every problem it found (as joined *FileError values) and no
// profiles: the matcher must not run on a half-read set of concerns.
func LoadProfiles(dir string) (Profiles, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("clients: %w", err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ProfileExt) && !strings.HasPrefix(e.Name(), ".") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	var (
		out  Profiles
		errs []error
		seen = map[string]string{} // client ID → file
	)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("clients: %w", err))
			continue
		}
		p, perrs := parseProfile(f, data)
		if p != nil && p.ID != "" {
			if other, dup := seen[p.ID]; dup {
				perrs = append(perrs, &FileError{File: f, Line: topKeyLine(data, "id"),
					Msg: fmt.Sprintf("duplicate client id %q: %s has it too; give each client its own id", p.ID, other)})
			} else {
				seen[p.ID] = f
			}
		}
		if len(perrs) > 0 {
			sortByLine(perrs)
			errs = append(errs, perrs...)
			continue
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// idPattern is what client and concern IDs look like: short, lowercase and
// typeable in a shell without quoting.
var idPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`) })

// ParseProfile decodes and validates one profile read from file. Errors are
// *FileError values (joined when there are several); each one names the
// client and the concern it concerns.
func ParseProfile(file string, data []byte) (*Profile, error) {
	p, errs := parseProfile(file, data)
	if len(errs) > 0 {
		sortByLine(errs)
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func sortByLine(errs []error) {
	line := func(err error) int {
		var fe *FileError
		if errors.As(err, &fe) {
			return fe.Line
		}
		return 0
	}
	sort.SliceStable(errs, func(i, j int) bool { return line(errs[i]) < line(errs[j]) })
}

// parseProfile decodes and checks a profile. It returns the profile as
// decoded (nil if it could not be) and every problem found.
func parseProfile(file string, data []byte) (*Profile, []error) {
	p := &Profile{}
	fatal, errs := decodeLenient(file, data, p)
	if fatal != nil {
		return nil, []error{fatal}
	}
	p.Path = file
	bad := func(line int, format string, args ...any) {
		errs = append(errs, &FileError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	top := func(key string) int { return topKeyLine(data, key) }
	who := "client"
	switch {
	case p.ID == "":
		bad(0, "id is required, like id = %q (a short lowercase name for the client)", suggestID(file))
	case !idPattern().MatchString(p.ID):
		bad(top("id"), "client id %q: use lowercase letters, digits, '.', '-' or '_' (at most 64), like %q", p.ID, suggestID(p.ID))
		who = fmt.Sprintf("client %q", p.ID)
	default:
		who = "client " + p.ID
	}
	if strings.TrimSpace(p.Name) == "" {
		bad(0, "%s: name is required, like name = \"Acme CDN\"", who)
	}
	if !slices.Contains(Tiers, p.Tier) {
		if p.Tier == "" {
			bad(0, "%s: tier is required: silver, gold or platinum", who)
		} else {
			bad(top("tier"), "%s: tier %q: want silver, gold or platinum", who, p.Tier)
		}
	}
	if p.SLA.bad != "" {
		bad(slaLine(data), "%s: %s", who, p.SLA.bad)
	}
	for _, c := range p.Contacts {
		if strings.TrimSpace(c) == "" {
			bad(top("contacts"), "%s: empty contact: write a name and address, like \"Jane Roe <jane@acme.example>\"", who)
		}
	}
	if len(p.Concerns) == 0 {
		bad(0, "%s: no [[concern]]: add at least one, with id, summary, told, and packages or query", who)
	}
	ids := map[string]int{}
	for i := range p.Concerns {
		c := &p.Concerns[i]
		line := func(key string) int { return concernKeyLine(data, i, key) }
		what := fmt.Sprintf("%s, concern #%d", who, i+1)
		switch {
		case c.ID == "":
			bad(concernKeyLine(data, i, ""), "%s: id is required, like id = \"tls-session-resumption\"", what)
		case !idPattern().MatchString(c.ID):
			bad(line("id"), "%s: concern id %q: use lowercase letters, digits, '.', '-' or '_' (at most 64), like %q", what, c.ID, suggestID(c.ID))
		default:
			what = fmt.Sprintf("%s, concern %s", who, c.ID)
			if first, dup := ids[c.ID]; dup {
				bad(line("id"), "%s: duplicate concern id (concern #%d has it too)", what, first+1)
			} else {
				ids[c.ID] = i
			}
		}
		if strings.TrimSpace(c.Summary) == "" {
			bad(concernKeyLine(data, i, ""), "%s: summary is required: what the client told you, in a sentence", what)
		}
		switch {
		case c.Told.bad != "":
			bad(line("told"), "%s: told %q: want a day like 2023-05-10", what, c.Told.bad)
		case c.Told.IsZero():
			bad(concernKeyLine(data, i, ""), "%s: told is required: the day the client told you, like told = 2023-05-10", what)
		}
		switch c.Priority {
		case "":
			c.Priority = PriorityNormal
		case PriorityLow, PriorityNormal, PriorityHigh:
		default:
			bad(line("priority"), "%s: priority %q: want low, normal or high", what, c.Priority)
		}
		for j, pk := range c.Packages {
			n := pkgpath.Normalize(pk)
			if n == "" {
				bad(line("packages"), "%s: package %q is not a Go import path (like crypto/tls or x/crypto/ssh)", what, pk)
				continue
			}
			c.Packages[j] = n
		}
		c.Packages = sortedSet(c.Packages)
		for _, k := range c.Kinds {
			if !slices.Contains(Kinds, k) {
				bad(line("kinds"), "%s: kind %q: want %s", what, k, strings.Join(Kinds, ", "))
			}
		}
		c.Kinds = sortedSet(c.Kinds)
		c.Query = strings.TrimSpace(c.Query)
		if c.Query != "" {
			if _, err := index.ParseQuery(c.Query); err != nil {
				var qe *index.QueryError
				if errors.As(err, &qe) {
					err = qe.Err
				}
				bad(line("query"), "%s: query %q: %v", what, c.Query, err)
			}
		}
		if len(c.Packages) == 0 && c.Query == "" {
			bad(concernKeyLine(data, i, ""), "%s: give packages, a query, or both: a concern without either would match everything", what)
		}
	}
	return p, errs
}

func sortedSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	sort.Strings(s)
	return slices.Compact(s)
}

// suggestID turns a file name or a bad ID into a valid-looking ID.
func suggestID(s string) string {
	s = strings.TrimSuffix(filepath.Base(s), ProfileExt)
	s = strings.ToLower(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '-'
	}, s)
	s = strings.Trim(s, "-._")
	if s == "" {
		return "acme"
	}
	return s
}

// topKeyLine finds the line of a top-level key (before the first table).
func topKeyLine(data []byte, key string) int {
	re := regexp.MustCompile(`^\s*"?` + regexp.QuoteMeta(key) + `"?\s*=`)
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "[") {
			break
		}
		if re.MatchString(l) {
			return i + 1
		}
	}
	return 0
}

var slaHeader = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*\[\s*"?sla"?\s*\]`) })

// slaLine finds the line of the sla key or of the [sla] table.
func slaLine(data []byte) int {
	if n := topKeyLine(data, "sla"); n > 0 {
		return n
	}
	for i, l := range strings.Split(string(data), "\n") {
		if slaHeader().MatchString(l) {
			return i + 1
		}
	}
	return 0
}

var concernHeader = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*\[\[\s*"?concern"?\s*\]\]`) })

// concernKeyLine finds the line of key in the i'th [[concern]] table, or the
// table's header line when key is "" or not set there.
func concernKeyLine(data []byte, i int, key string) int {
	lines := strings.Split(string(data), "\n")
	n, header := -1, 0
	var assign *regexp.Regexp
	if key != "" {
		assign = regexp.MustCompile(`^\s*"?` + regexp.QuoteMeta(key) + `"?\s*=`)
	}
	for j, l := range lines {
		if concernHeader().MatchString(l) {
			n++
			if n > i {
				break
			}
			header = j + 1
			continue
		}
		if n == i && strings.HasPrefix(strings.TrimSpace(l), "[") {
			break // another table
		}
		if n == i && assign != nil && assign.MatchString(l) {
			return j + 1
		}
	}
	return header
}
