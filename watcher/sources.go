package watcher

import (
	"github.com/reciprocal-access/reciprocal/watcher/advisories"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb"
)

// Sources lists every kind of source reciprocal knows, in the order they
// are synced. Adding a source is a package with a source.Descriptor and
// one line here.
var Sources = source.Registry{
	github.Descriptor,
	gerrit.Descriptor,
	vulndb.Descriptor,
	advisories.Descriptor,
}
