package watcher

import (
	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher/advisories"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb"
)

// Sources lists every kind of source reciprocal knows, in the order they
// are synced. Adding a source is a package with a source.Descriptor and
// one line here: the configuration (its Config section), sync, the
// normalizer, item IDs (show, import), topics, import and export then
// know it.
var Sources = source.Registry{
	github.Descriptor,
	gerrit.Descriptor,
	vulndb.Descriptor,
	advisories.Descriptor,
}

func init() {
	for _, d := range Sources {
		RegisterConfig(d)
	}
}

// RegisterConfig makes the configuration file read d's own section, if it
// has one. It is done for every descriptor of Sources; a test that builds
// its own registry calls it for its own descriptors.
func RegisterConfig(d *source.Descriptor) {
	if d.Config != nil {
		configs.RegisterSection(*d.Config)
	}
}
