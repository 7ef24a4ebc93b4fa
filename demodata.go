// Package reciprocal holds the project's sample data, embedded so that
// 'reciprocal demo' runs anywhere without network or setup. The program is
// in cmd/reciprocal; the packages are watcher, index, notify and configs.
package reciprocal

import "embed"

// DemoData is testdata/demo: a week of Go tracker activity in the trackers'
// native JSON (round1) and the next day's changes (round2). See its README.
//
//go:embed testdata/demo
var DemoData embed.FS

// ExampleClients is configs/example/clients: the three example client
// profiles the demo consults.
//
//go:embed configs/example/clients/*.toml
var ExampleClients embed.FS
