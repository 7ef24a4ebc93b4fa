package gerrit

import (
	"net"
	"strconv"
	"strings"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/source"
)

// Kind names the source: the Source of its stored records and items, the
// value of 'sync --source'.
const Kind = "gerrit"

// Descriptor describes Gerrit servers as a source: one Source per
// [[gerrit]] entry, changes as items. Item IDs carry the host label of
// their server (go-review:crypto/815480), and a ChangeInfo does not name
// its server: links are made from the configured URL of the label, else
// from https://LABEL.googlesource.com, where Go's hosts are.
var Descriptor = &source.Descriptor{
	Kind:    Kind,
	Section: "[[gerrit]]",
	Objects: "Gerrit change",
	Config:  section.Section(),
	Build:   build,
	Hosts: func(cfg *configs.Config) map[string]string {
		m := map[string]string{}
		for _, g := range Configured(cfg) {
			m[HostLabel(g.URL)] = g.URL
		}
		return m
	},
	Normalize: func(rec source.Record, env source.Env) (index.Item, error) {
		// The host label comes from the key the change was stored under,
		// not from the configuration of the day: a change synced from a
		// server at 127.0.0.1 keeps its ID when no configuration names it.
		label, _, _ := strings.Cut(rec.ID, ":")
		it, err := Normalize(BaseURL(env, label), rec.Raw)
		if err == nil {
			it.ID = label + ":" + it.Repo + "/" + strconv.Itoa(it.Number)
		}
		return it, err
	},
	IDForm:  "host:project/N (Gerrit)",
	ParseID: parseID,
	Links:   links,
	Shapes: []source.Shape{{
		Name:   ShapeChange,
		Detect: func(m source.Members) bool { return m.Has("_number", "change_id") },
		Parse: func(raw []byte, env source.Env) (source.Object, error) {
			host := env.Host
			if host == "" {
				host = DefaultHostLabel
			}
			it, err := Normalize(BaseURL(env, HostLabel(host)), raw)
			return source.Object{ID: it.ID}, err
		},
	}},
}

// ShapeChange is the shape of a Gerrit ChangeInfo in JSON Lines files.
const ShapeChange = "gerrit"

// BaseURL returns the base URL of the Gerrit server with the host label
// label: the one env names, else Go's naming on googlesource.com.
func BaseURL(env source.Env, label string) string {
	if u, ok := env.Hosts[label]; ok {
		return u
	}
	if net.ParseIP(label) != nil {
		return "https://" + label // a server of its own; its port is not known
	}
	return "https://" + label + ".googlesource.com"
}

func build(cfg *configs.Config, opts source.BuildOptions) ([]source.Source, error) {
	o := source.OptionsFor(opts, Kind, WithHTTPClient)
	return source.BuildEach(Configured(cfg), func(c Config) (*Source, error) { return NewSource(c, o...) })
}
