// Package sla keeps the vulnerability SLA that the maintainer promises
// clients: "every time a new vulnerability comes out in Go or in one of my
// own projects, I'm available for the next 24 hours on a six-hour SLA".
//
// # The promise
//
// A vulnerability qualifies when it is in Go itself (the standard library,
// the toolchain, a golang.org/x module), in one of the maintainer's own
// projects (the repositories of [[advisories]]), or touches one of a
// client's concerns. Third-party module entries that touch no concern do
// not qualify.
//
// For each qualifying vulnerability a client covered by the SLA has a
// window, opening at its publication (default 24h, [sla] window), during
// which the client may ask for help; each request must be answered within
// the response time (default 6h, [sla] response or the tier's key). Go's
// own and the maintainer's vulnerabilities open a window for every covered
// client; a third-party one only for the clients whose concerns it
// touches. A profile may change both durations or say sla = false.
//
// Whether a vulnerability touches a concern is decided on the
// vulnerability itself (Policy.Matched): the concern's packages, or its
// query and packages by the matcher's rules (match.Touching), or a prompt
// the matcher opened about it. It never depends on whether the matcher
// has run (a plain sync alerts before any match) nor on learning: a match
// held back as probably not relevant still touches the concern, and the
// window it opens is kept. The SLA is a promise to the client, not a
// guess about relevance.
//
// A request is recorded whatever its circumstances: one made after the
// window closed, by a client without the SLA, or about a vulnerability
// that does not qualify for them is kept, marked with the reason
// (Request.Outside), and starts no clock.
//
// # Key schema
//
// Requests live in one bucket of the store:
//
//	sla  "req/" + number (8 bytes, big-endian) → Request (JSON)
//
// Numbers come from the bucket's sequence, so request IDs (r1, r2, …) are
// short, typeable and never reused.
package sla

import (
	"slices"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
)

// Terms are what one client is promised.
type Terms struct {
	Covered  bool          `json:"covered"`
	Window   time.Duration `json:"window"`   // after publication, for asking
	Response time.Duration `json:"response"` // for each request
}

// A Policy holds what decides the SLA: the configuration, the client
// profiles and the maintainer's own projects.
type Policy struct {
	Config   *configs.Config
	Profiles configs.Profiles
	// Own are the maintainer's own repositories (owner/name): their
	// advisories qualify like Go's.
	Own []string
}

// Terms returns the SLA terms of client p: the configuration's [sla] for
// its tier, with the profile's overrides.
func (pol *Policy) Terms(p *configs.Profile) Terms {
	t := Terms{Covered: !p.SLA.Off, Window: configs.DefaultSLAWindow, Response: configs.DefaultSLAResponse}
	if c := pol.Config; c != nil {
		t.Window = time.Duration(c.SLA.Window)
		t.Response = c.SLAFor(p.Tier)
	}
	if p.SLA.Window > 0 {
		t.Window = time.Duration(p.SLA.Window)
	}
	if p.SLA.Response > 0 {
		t.Response = time.Duration(p.SLA.Response)
	}
	return t
}

// GoItself reports whether vulnerability it is in Go itself: it affects
// the standard library, the toolchain or a golang.org/x module.
func GoItself(it *index.Item) bool {
	if it.Kind != index.KindVuln {
		return false
	}
	isGo := func(m string) bool {
		return m == "stdlib" || m == "toolchain" || m == "golang.org/x" || strings.HasPrefix(m, "golang.org/x/")
	}
	for _, a := range it.Affected {
		if isGo(a.Module) {
			return true
		}
	}
	if isGo(it.Repo) {
		return true
	}
	for _, p := range it.Packages {
		first, _, _ := strings.Cut(p, "/")
		if !strings.Contains(first, ".") || strings.HasPrefix(p, "golang.org/x/") {
			return true
		}
	}
	return false
}

// OwnProject reports whether vulnerability it is in one of the maintainer's own
// projects.
func (pol *Policy) OwnProject(it *index.Item) bool {
	if it.Kind != index.KindVuln {
		return false
	}
	if slices.Contains(pol.Own, it.Repo) {
		return true
	}
	for _, a := range it.Affected {
		if slices.Contains(pol.Own, a.Module) {
			return true
		}
	}
	return false
}

// A Touch is a concern of a client that a vulnerability touches.
type Touch struct {
	Concern configs.Concern `json:"concern"`
	// Packages are the concern's packages the vulnerability touches; empty
	// when only the matcher's rules reach it (its query, a mention, a
	// package that implements the concern's).
	Packages []string `json:"packages,omitempty"`
}

// Touches returns the concerns of p that vulnerability it touches: those
// whose packages (or sub-packages) it affects, unless the concern's kinds
// leave out vulnerabilities, and those matched names (the concern IDs
// that Policy.Matched gives for the client: by its query as the matcher
// reads it, or by a prompt about the item).
func Touches(it *index.Item, p *configs.Profile, matched []string) []Touch {
	var out []Touch
	for _, c := range p.Concerns {
		pkgs := touchedPackages(it, &c)
		if len(pkgs) > 0 || slices.Contains(matched, c.ID) {
			out = append(out, Touch{Concern: c, Packages: pkgs})
		}
	}
	return out
}

// touchedPackages returns the packages of concern c that vulnerability it
// affects (or a sub-package of), none if c's kinds leave vulnerabilities
// out.
func touchedPackages(it *index.Item, c *configs.Concern) []string {
	if len(c.Kinds) > 0 && !slices.Contains(c.Kinds, index.KindVuln) {
		return nil
	}
	var pkgs []string
	for _, cp := range c.Packages {
		for _, ip := range it.Packages {
			if ip == cp || strings.HasPrefix(ip, cp+"/") {
				pkgs = append(pkgs, cp)
				break
			}
		}
	}
	return pkgs
}

// Why a vulnerability qualifies.
const (
	WhyGo      = "Go itself"
	WhyOwn     = "your own project"
	WhyConcern = "touches their concerns"
)

// A Window is one client's window for one vulnerability.
type Window struct {
	Client    *configs.Profile `json:"-"`
	ClientID  string           `json:"client"`
	Terms     Terms            `json:"terms"`
	Why       string           `json:"why"` // WhyGo, WhyOwn or WhyConcern
	Touches   []Touch          `json:"touches,omitempty"`
	Published time.Time        `json:"published"`
	Closes    time.Time        `json:"closes"`
}

// Open reports whether the window is open at t.
func (w Window) Open(t time.Time) bool { return !t.Before(w.Published) && t.Before(w.Closes) }

// Windows returns, for vulnerability it, a window for every client the
// SLA covers it for, in profile order. matched gives the concern IDs of a
// client's prompts about it (nil if none). A withdrawn vulnerability opens
// no window.
func (pol *Policy) Windows(it *index.Item, matched func(client string) []string) []Window {
	if it.Kind != index.KindVuln || it.State == index.StateWithdrawn {
		return nil
	}
	why := ""
	switch {
	case GoItself(it):
		why = WhyGo
	case pol.OwnProject(it):
		why = WhyOwn
	}
	var out []Window
	for _, p := range pol.Profiles {
		var m []string
		if matched != nil {
			m = matched(p.ID)
		}
		w := pol.window(it, p, why, m)
		if w.Terms.Covered && w.Why != "" {
			out = append(out, w)
		}
	}
	return out
}

// window returns client p's window for it, with Why empty when the
// vulnerability does not qualify for them.
func (pol *Policy) window(it *index.Item, p *configs.Profile, why string, matched []string) Window {
	w := Window{Client: p, ClientID: p.ID, Terms: pol.Terms(p), Why: why, Published: it.Created}
	w.Touches = Touches(it, p, matched)
	if w.Why == "" && len(w.Touches) > 0 {
		w.Why = WhyConcern
	}
	w.Closes = w.Published.Add(w.Terms.Window)
	return w
}
