package vulndb

import (
	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/source"
)

// Descriptor describes the Go vulnerability database as a source: one
// Source for the [vulndb] section, OSV entries as items.
var Descriptor = &source.Descriptor{
	Kind:      index.SourceVulnDB,
	Section:   "[vulndb]",
	Objects:   "OSV entry",
	Config:    section.Section(),
	Build:     build,
	Normalize: func(rec source.Record, _ source.Env) (index.Item, error) { return Normalize(rec.Raw) },
	Shapes: []source.Shape{{
		Name: ShapeOSV,
		Detect: func(m source.Members) bool {
			return m.IsString("id") && (m.Has("schema_version") || m.Has("modified") || m.Has("affected"))
		},
		Parse: func(raw []byte, _ source.Env) (source.Object, error) {
			it, err := Normalize(raw)
			return source.Object{ID: it.ID}, err
		},
	}},
}

// ShapeOSV is the shape of an OSV entry in JSON Lines files.
const ShapeOSV = "vulndb"

func build(cfg *configs.Config, opts source.BuildOptions) ([]source.Source, error) {
	c := Configured(cfg)
	if c == nil {
		return nil, nil
	}
	s, err := NewSource(*c, source.OptionsFor(opts, index.SourceVulnDB, WithHTTPClient)...)
	if err != nil {
		return nil, err
	}
	return []source.Source{s}, nil
}
