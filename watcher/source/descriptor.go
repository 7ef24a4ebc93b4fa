package source

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/store"
	"github.com/reciprocal-access/reciprocal/watcher/topic"
)

// A Descriptor is everything the rest of reciprocal knows about one kind of
// source. Each source package declares one (github.Descriptor,
// gerrit.Descriptor, vulndb.Descriptor) and watcher.Sources lists them:
// building the configured sources, normalizing stored records, detecting
// and checking the lines of imported files, exporting and 'sync --source'
// all loop over that list. Adding a source is a new package with its
// Descriptor and one line in that list.
type Descriptor struct {
	// Kind names the source: the Source of its stored records and items
	// (github.Kind), and the value of 'sync --source' and
	// 'export --source'.
	Kind string
	// Section is how the configuration file names the source's entries,
	// for messages: "[[github]]", "[vulndb]".
	Section string
	// Objects names the raw objects of the source in messages: "a GitHub
	// issue or comment", "Gerrit change".
	Objects string

	// Config, if set, is the source's own section of the configuration
	// file ([[github]]), which package watcher registers with package
	// configs: configs decodes, defaults and checks it, and Build and
	// Hosts find it decoded in cfg (usually through the section's
	// configs.Entries.Of or configs.Table.Of).
	Config *configs.Section

	// Build returns the sources cfg configures, in its order; none when
	// the configuration has no section for this kind.
	Build func(cfg *configs.Config, opts BuildOptions) ([]Source, error)
	// Hosts, if set, returns the base URLs of the servers cfg configures
	// by the host label their item IDs carry, for sources whose IDs name
	// their server (Gerrit's go-review:crypto/815480). The normalizer
	// passes them back in Env.Hosts.
	Hosts func(cfg *configs.Config) map[string]string

	// Normalize turns a stored record of this source, and the comments
	// stored beside it (oldest first; only for sources with Comments), into
	// an item.
	Normalize func(rec Record, env Env) (index.Item, error)
	// Comments says that the source stores comments beside its items
	// (store.Tx.PutComment): Normalize reads them, and an export writes
	// them after their item.
	Comments bool
	// Shapes are the kinds of raw object the source's lines in a JSON
	// Lines file can hold.
	Shapes []Shape

	// IDForm shows the form of the source's item IDs in messages:
	// "owner/repo#N (GitHub)".
	IDForm string
	// ParseID takes apart an item ID of the source's form; ok is false
	// when id is not one. An ID it accepts must be safe wherever IDs go
	// (file names, URLs, a terminal: see SafePath), since show, export and
	// the queue take IDs typed by users or read from imported files.
	ParseID func(id string) (p ParsedID, ok bool)

	// Links, if set, derives from a stored item's raw JSON the items
	// (and meeting points) it names, for package topic: "Fixes #N" in a
	// CL, a backport's parent, an OSV entry's references. It reads no
	// other item.
	Links func(rec Record) ([]topic.Link, error)
}

// A ParsedID is an item ID taken apart.
type ParsedID struct {
	Source string // the Kind of its source
	Host   string // the host label of the server, for IDs that name one (Gerrit)
	Repo   string // owner/name on GitHub, the project on Gerrit; empty for vulnerabilities
	Number int    // issue or change number; 0 for vulnerabilities
}

// A Record is what a normalizer reads of one stored item.
type Record struct {
	ID       string
	Raw      []byte
	Comments [][]byte // oldest first, for sources with Comments
}

// Env is what normalizing needs besides the raw JSON.
type Env struct {
	// Hosts maps the host label of item IDs ("go-review") to the base
	// URL of its server, as the configuration (and the Hosts of the
	// descriptors) say.
	Hosts map[string]string
	// Host is the server the objects of an imported file came from, as a
	// URL or host name, for sources whose objects do not name their server
	// (a Gerrit ChangeInfo does not). Empty means the source's default.
	Host string
}

// A Shape is one kind of raw object in a JSON Lines file: a GitHub issue, a
// GitHub issue comment, a Gerrit change, an OSV entry.
type Shape struct {
	// Name is what 'import --source' accepts and import results count
	// by: "github", "github-comment".
	Name string
	// Detect says whether a line whose top-level members are m is of
	// this shape. The shapes of all sources must exclude each other.
	Detect func(m Members) bool
	// Parse checks that raw is a good object of this shape (it
	// normalizes) and says where it is stored.
	Parse func(raw []byte, env Env) (Object, error)
}

// Object says where an imported line is stored: as the item ID, or, when
// Comment is set, as comment CommentID of item ID.
type Object struct {
	ID        string
	Comment   bool
	CommentID int64
}

// Members are the top-level members of a JSON object, undecoded.
type Members map[string]json.RawMessage

// ParseMembers decodes the top level of a JSON object.
func ParseMembers(raw []byte) (Members, error) {
	var m Members
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// Has reports whether every named member is present (null counts as absent).
func (m Members) Has(names ...string) bool {
	for _, n := range names {
		v, ok := m[n]
		if !ok || string(v) == "null" {
			return false
		}
	}
	return true
}

// IsString reports whether member name is a JSON string.
func (m Members) IsString(name string) bool {
	v := m[name]
	return len(v) > 0 && v[0] == '"'
}

// BuildOptions adjust how sources are built; the demo points them at its
// in-process stand-ins.
type BuildOptions struct {
	// Clients, by Kind, sends a kind's requests through the given client
	// instead of the default one.
	Clients map[string]*http.Client
	// Anonymous sources send no credentials and look for none: a stand-in
	// server must never see a real token.
	Anonymous bool
}

// Client returns the HTTP client the sources of kind use, or nil for their
// default.
func (o BuildOptions) Client(kind string) *http.Client { return o.Clients[kind] }

// OptionsFor returns the options of a kind's constructor that opts asks
// for: withClient(the kind's client) if one is set, and the anonymous
// options (the one that sends no token) if opts.Anonymous.
func OptionsFor[O any](opts BuildOptions, kind string, withClient func(*http.Client) O, anonymous ...O) []O {
	var out []O
	if c := opts.Client(kind); c != nil {
		out = append(out, withClient(c))
	}
	if opts.Anonymous {
		out = append(out, anonymous...)
	}
	return out
}

// ServerURL returns the base URL of a kind's server, without a trailing
// slash: raw, or def when raw is empty. It must be an http or https URL
// with a host and no query.
func ServerURL(kind, raw, def string) (string, error) {
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil || configs.CheckURL(raw) != nil || u.RawQuery != "" {
		return "", fmt.Errorf("%s: url %q: want an http or https URL, like %s", kind, raw, def)
	}
	return strings.TrimSuffix(raw, "/"), nil
}

// Registry is the list of the descriptors of every source reciprocal
// knows, in the order they are synced.
type Registry []*Descriptor

// Lookup returns the descriptor of kind, or nil.
func (r Registry) Lookup(kind string) *Descriptor {
	for _, d := range r {
		if d.Kind == kind {
			return d
		}
	}
	return nil
}

// Kinds returns the kinds of the registered sources, in order.
func (r Registry) Kinds() []string {
	var out []string
	for _, d := range r {
		out = append(out, d.Kind)
	}
	return out
}

// KindList writes the kinds for messages: "github, gerrit or vulndb".
func (r Registry) KindList() string { return orList(r.Kinds()) }

// SectionList writes the configuration sections of the kinds for
// messages: "[[github]], [[gerrit]] or [vulndb]".
func (r Registry) SectionList() string {
	var s []string
	for _, d := range r {
		s = append(s, d.Section)
	}
	return orList(s)
}

// Build returns the sources cfg configures, of every kind (kind "") or of
// one.
func (r Registry) Build(cfg *configs.Config, kind string, opts BuildOptions) ([]Source, error) {
	var out []Source
	for _, d := range r {
		if kind != "" && d.Kind != kind {
			continue
		}
		srcs, err := d.Build(cfg, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, srcs...)
	}
	return out, nil
}

// BuildEach returns the sources of a kind's configured entries, one each,
// made by build: the usual Descriptor.Build.
func BuildEach[C any, S Source](entries []C, build func(C) (S, error)) ([]Source, error) {
	var out []Source
	for _, e := range entries {
		s, err := build(e)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Hosts returns the base URLs of the servers cfg configures by host label,
// gathered from every descriptor's Hosts.
func (r Registry) Hosts(cfg *configs.Config) map[string]string {
	out := map[string]string{}
	for _, d := range r {
		if d.Hosts == nil {
			continue
		}
		for label, u := range d.Hosts(cfg) {
			out[label] = u
		}
	}
	return out
}

// Shape returns the shape named name and its source's descriptor.
func (r Registry) Shape(name string) (*Shape, *Descriptor) {
	for _, d := range r {
		for i := range d.Shapes {
			if d.Shapes[i].Name == name {
				return &d.Shapes[i], d
			}
		}
	}
	return nil, nil
}

// ShapeNames returns the names of every shape, in order.
func (r Registry) ShapeNames() []string {
	var out []string
	for _, d := range r {
		for _, s := range d.Shapes {
			out = append(out, s.Name)
		}
	}
	return out
}

// ParseID takes apart an item ID of any registered source, or reports an
// error that shows every accepted form.
func (r Registry) ParseID(id string) (ParsedID, error) {
	var forms []string
	for _, d := range r {
		if d.ParseID == nil {
			continue
		}
		if p, ok := d.ParseID(id); ok {
			p.Source = d.Kind
			return p, nil
		}
		forms = append(forms, d.IDForm)
	}
	return ParsedID{}, fmt.Errorf("bad item ID %q: want %s", id, orList(forms))
}

// Links returns the links of a stored item, by its source's Links; none
// for a source without them.
func (r Registry) Links(rec store.Record) ([]topic.Link, error) {
	d := r.Lookup(rec.Source)
	if d == nil || d.Links == nil {
		return nil, nil
	}
	return d.Links(Record{ID: rec.ID, Raw: rec.Raw})
}

// SafePath reports whether p is slash-separated names that are safe to use
// anywhere an item ID goes (file names, URLs, a terminal): no empty, "."
// or ".." element, no white space, control characters, backslashes or
// '#'.
func SafePath(p string) bool {
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." {
			return false
		}
	}
	return !strings.ContainsFunc(p, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '\\' || r == '#' || unicode.IsSpace(r) || unicode.IsControl(r)
	})
}

// Digits reports whether s is one or more ASCII digits.
func Digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// DetectShape says which shape a raw object is.
func (r Registry) DetectShape(raw []byte) (*Shape, *Descriptor, error) {
	m, err := ParseMembers(raw)
	if err != nil {
		return nil, nil, err
	}
	var what []string
	for _, d := range r {
		for i := range d.Shapes {
			if s := &d.Shapes[i]; s.Detect(m) {
				return s, d, nil
			}
		}
		what = append(what, d.Objects)
	}
	return nil, nil, fmt.Errorf("not %s", orList(what))
}

// orList writes "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
