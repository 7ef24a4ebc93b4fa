package vulndb

import (
	"strings"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/source"
)

// Kind names the source: the Source of its stored records and items, the
// value of 'sync --source'.
const Kind = "vulndb"

// Descriptor describes the Go vulnerability database as a source: one
// Source for the [vulndb] section, OSV entries as items.
var Descriptor = &source.Descriptor{
	Kind:      Kind,
	Section:   "[vulndb]",
	Objects:   "OSV entry",
	Config:    section.Section(),
	Build:     build,
	Normalize: func(rec source.Record, _ source.Env) (index.Item, error) { return Normalize(rec.Raw) },
	IDForm:    "GO-YYYY-NNNN (vulnerability)",
	ParseID:   parseID,
	Links:     links,
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

// parseID checks an entry's item ID, its OSV ID: GO-YYYY-NNNN.
func parseID(id string) (source.ParsedID, bool) {
	parts := strings.Split(id, "-")
	ok := len(parts) == 3 && parts[0] == "GO" && len(parts[1]) == 4 && source.Digits(parts[1]) && source.Digits(parts[2])
	return source.ParsedID{}, ok
}

// ShapeOSV is the shape of an OSV entry in JSON Lines files.
const ShapeOSV = "vulndb"

func build(cfg *configs.Config, opts source.BuildOptions) ([]source.Source, error) {
	c := Configured(cfg)
	if c == nil {
		return nil, nil
	}
	s, err := NewSource(*c, source.OptionsFor(opts, Kind, WithHTTPClient)...)
	if err != nil {
		return nil, err
	}
	return []source.Source{s}, nil
}
