package alert

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/sla"
)

// Facts are what an alert or a note to a client says about a
// vulnerability, every field made safe (one line, or paragraphs for
// Details); HTML escaping is the templates' job.
type Facts struct {
	ID, Summary, URL, Href string
	Aliases                string
	Published              string
	Affected               []AffectedFacts
	// Upgrade says what to upgrade to: "Go 1.26.10 or 1.27.5".
	Upgrade string
	Details string
}

// AffectedFacts are one affected module.
type AffectedFacts struct {
	Module, Packages, Versions, Fixed string
}

// detailsLimit bounds the details quoted from the entry.
const detailsLimit = 1500

// layoutWhen is how reports write a moment: Tue 24 Nov 19:31 CET.
const layoutWhen = "Mon 2 Jan 15:04 MST"

// When formats t in loc as reports do.
func When(t time.Time, loc *time.Location) string { return t.In(loc).Format(layoutWhen) }

// FactsOf gathers the facts of vulnerability it, times in loc.
func FactsOf(it *index.Item, loc *time.Location) Facts {
	f := Facts{
		ID:        notify.OneLine(it.ID),
		Summary:   notify.OneLine(it.Title),
		URL:       notify.OneLine(it.URL),
		Href:      notify.Href(it.URL),
		Aliases:   notify.OneLine(strings.Join(it.Aliases, ", ")),
		Published: When(it.Created, loc),
	}
	var upgrades []string
	for _, a := range it.Affected {
		af := AffectedFacts{
			Module:   notify.OneLine(a.Module),
			Packages: notify.OneLine(strings.Join(a.Packages, ", ")),
			Versions: notify.OneLine(a.Versions),
			Fixed:    notify.OneLine(strings.Join(a.Fixed, ", ")),
		}
		f.Affected = append(f.Affected, af)
		if len(a.Fixed) == 0 {
			continue
		}
		switch a.Module {
		case "stdlib", "toolchain":
			upgrades = append(upgrades, "Go "+strings.Join(a.Fixed, " or "))
		default:
			var vs []string
			for _, v := range a.Fixed {
				vs = append(vs, a.Module+"@"+strings.TrimPrefix(v, "v"))
			}
			upgrades = append(upgrades, strings.Join(vs, " or "))
		}
	}
	f.Upgrade = notify.OneLine(strings.Join(dedupe(upgrades), "; "))
	d := notify.Paragraphs(detailsOf(it))
	if len(d) > detailsLimit {
		cut := detailsLimit
		for cut > 0 && !utf8.RuneStart(d[cut]) {
			cut--
		}
		d = d[:cut] + "…"
	}
	f.Details = d
	return f
}

// detailsOf is the prose of the entry: its body up to the symbol, alias
// and reference lines the normalizer appends.
func detailsOf(it *index.Item) string {
	body := it.Body
	for _, marker := range []string{"\n\nAliases: ", "\nFIX: ", "\nREPORT: ", "\nWEB: ", "\nADVISORY: "} {
		if i := strings.Index(body, marker); i >= 0 {
			body = body[:i]
		}
	}
	return strings.TrimSpace(body)
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// ClientFacts are one covered client, as an alert lists them.
type ClientFacts struct {
	ID, Name, Tier string
	Contacts       string
	Closes         string // when their window to ask closes
	Open           bool   // the window is open
	Response       string // "6h"
	Why            string
	Touches        []TouchFacts
}

// TouchFacts are one concern a vulnerability touches, with what the
// client told you.
type TouchFacts struct {
	Concern  string // ID
	Summary  string // what they told you
	Told     string // 2026-03-12
	Via      string
	Packages string
}

// ClientsOf gathers the clients of windows ws, times in loc.
func ClientsOf(ws []sla.Window, now time.Time, loc *time.Location) []ClientFacts {
	var out []ClientFacts
	for _, w := range ws {
		out = append(out, ClientFacts{
			ID:       notify.OneLine(w.ClientID),
			Name:     notify.OneLine(w.Client.Name),
			Tier:     notify.OneLine(w.Client.Tier),
			Contacts: notify.OneLine(strings.Join(w.Client.Contacts, ", ")),
			Closes:   When(w.Closes, loc),
			Open:     w.Open(now),
			Response: notify.FormatDuration(w.Terms.Response),
			Why:      w.Why,
			Touches:  TouchesOf(w.Touches),
		})
	}
	return out
}

// TouchesOf makes the touched concerns safe to show.
func TouchesOf(ts []sla.Touch) []TouchFacts {
	var out []TouchFacts
	for _, t := range ts {
		out = append(out, TouchFacts{
			Concern:  notify.OneLine(t.Concern.ID),
			Summary:  notify.OneLine(t.Concern.Summary),
			Told:     dateOf(t.Concern.Told),
			Via:      notify.OneLine(t.Concern.Via),
			Packages: notify.OneLine(strings.Join(t.Packages, ", ")),
		})
	}
	return out
}

func dateOf(d configs.Date) string { return d.String() }
