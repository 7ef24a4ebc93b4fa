package vulndb

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/index/pkgpath"
)

// An Entry is the part of an OSV entry that reciprocal reads.
type Entry struct {
	ID        string     `json:"id"`
	Modified  time.Time  `json:"modified"`
	Published time.Time  `json:"published"`
	Withdrawn *time.Time `json:"withdrawn"`
	Aliases   []string   `json:"aliases"`
	Summary   string     `json:"summary"`
	Details   string     `json:"details"`
	Affected  []struct {
		Package struct {
			Name      string `json:"name"`
			Ecosystem string `json:"ecosystem"`
		} `json:"package"`
		Ranges []struct {
			Type   string `json:"type"`
			Events []struct {
				Introduced string `json:"introduced"`
				Fixed      string `json:"fixed"`
			} `json:"events"`
		} `json:"ranges"`
		EcosystemSpecific struct {
			Imports []struct {
				Path    string   `json:"path"`
				Symbols []string `json:"symbols"`
			} `json:"imports"`
		} `json:"ecosystem_specific"`
	} `json:"affected"`
	References []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"references"`
	DatabaseSpecific struct {
		URL string `json:"url"`
	} `json:"database_specific"`
}

// ParseEntry decodes an OSV entry and checks the fields reciprocal depends on.
func ParseEntry(raw []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("vulndb: entry: %w", err)
	}
	if e.ID == "" {
		return nil, fmt.Errorf("vulndb: entry has no id")
	}
	if e.Modified.IsZero() {
		return nil, fmt.Errorf("vulndb: %s: no modified time", e.ID)
	}
	return &e, nil
}

// Normalize turns a raw OSV entry into an item.
func Normalize(raw []byte) (index.Item, error) {
	e, err := ParseEntry(raw)
	if err != nil {
		return index.Item{}, err
	}
	it := index.Item{
		ID:      e.ID,
		Source:  Kind,
		Kind:    index.KindVuln,
		Title:   e.Summary,
		State:   index.StatePublished,
		Created: e.Published,
		Updated: e.Modified,
		URL:     e.DatabaseSpecific.URL,
		Aliases: e.Aliases,
	}
	if it.URL == "" {
		it.URL = "https://pkg.go.dev/vuln/" + e.ID
	}
	if it.Created.IsZero() {
		it.Created = e.Modified
	}
	if e.Withdrawn != nil {
		it.State = index.StateWithdrawn
		it.Closed = *e.Withdrawn
	}
	if it.Title == "" {
		it.Title, _, _ = strings.Cut(e.Details, "\n")
	}
	var body strings.Builder
	body.WriteString(e.Details)
	var pkgs, modules []string
	for _, a := range e.Affected {
		modules = append(modules, a.Package.Name)
		imports := a.EcosystemSpecific.Imports
		aff := index.Affected{Module: a.Package.Name}
		var spans []string
		for _, r := range a.Ranges {
			if r.Type != "SEMVER" {
				continue
			}
			from := ""
			for _, ev := range r.Events {
				switch {
				case ev.Introduced != "":
					from = ev.Introduced
				case ev.Fixed != "":
					spans = append(spans, span(from, "before "+ev.Fixed))
					aff.Fixed = append(aff.Fixed, ev.Fixed)
					from = ""
				}
			}
			if from != "" {
				spans = append(spans, span(from, "with no fix yet"))
			}
		}
		aff.Versions = strings.Join(spans, "; ")
		if aff.Versions == "" {
			aff.Versions = "all versions"
		}
		for _, imp := range imports {
			aff.Packages = append(aff.Packages, imp.Path)
		}
		it.Affected = append(it.Affected, aff)
		for _, imp := range imports {
			pkgs = append(pkgs, imp.Path)
			if len(imp.Symbols) > 0 {
				fmt.Fprintf(&body, "\n\n%s: %s", imp.Path, strings.Join(imp.Symbols, ", "))
			}
		}
		if len(imports) == 0 && a.Package.Name != "" && a.Package.Name != "stdlib" && a.Package.Name != "toolchain" {
			pkgs = append(pkgs, a.Package.Name)
		}
	}
	if len(e.Aliases) > 0 {
		body.WriteString("\n\nAliases: " + strings.Join(e.Aliases, ", "))
	}
	for _, r := range e.References {
		body.WriteString("\n" + r.Type + ": " + r.URL)
	}
	it.Body = body.String()
	it.Packages = sortedSet(pkgs)
	if ms := sortedSet(modules); len(ms) > 0 {
		it.Repo = ms[0]
	}
	return it, nil
}

// span describes one affected range of versions: "before 1.26.9",
// "from 1.27.0-0 before 1.27.4".
func span(from, end string) string {
	if from == "" || from == "0" {
		if end == "with no fix yet" {
			return "all versions, with no fix yet"
		}
		return end
	}
	return "from " + from + " " + end
}

func sortedSet(s []string) []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		if v = pkgpath.Normalize(v); v != "" {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
