package advisories

import (
	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/source"
)

// Kind names the source: the Source of its stored records and items, the
// value of 'sync --source'.
const Kind = "advisories"

// Descriptor is the advisories source as the rest of reciprocal sees it.
var Descriptor = &source.Descriptor{
	Kind:      Kind,
	Section:   "[[advisories]]",
	Objects:   "GitHub security advisory",
	Config:    section.Section(),
	Build:     build,
	Normalize: func(rec source.Record, _ source.Env) (index.Item, error) { return Normalize(rec.Raw) },
	IDForm:    "GHSA-xxxx-xxxx-xxxx (advisory)",
	ParseID: func(id string) (source.ParsedID, bool) {
		return source.ParsedID{}, ValidID(id)
	},
	Shapes: []source.Shape{{
		Name:   ShapeAdvisory,
		Detect: func(m source.Members) bool { return m.IsString("ghsa_id") && m.Has("html_url") },
		Parse: func(raw []byte, _ source.Env) (source.Object, error) {
			it, err := Normalize(raw)
			return source.Object{ID: it.ID}, err
		},
	}},
}

// ShapeAdvisory is the shape of a repository security advisory in JSON
// Lines files.
const ShapeAdvisory = "advisories"

func build(cfg *configs.Config, opts source.BuildOptions) ([]source.Source, error) {
	o := source.OptionsFor(opts, Kind, WithHTTPClient, WithToken(""))
	return source.BuildEach(Configured(cfg), func(c Config) (*Source, error) { return NewSource(c, o...) })
}
