package advisories

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/index/pkgpath"
)

// Parse decodes a repository security advisory as GitHub serves it and
// checks the fields reciprocal depends on.
func Parse(raw []byte) (*gh.SecurityAdvisory, error) {
	var a gh.SecurityAdvisory
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("advisories: advisory: %w", err)
	}
	if a.GetGHSAID() == "" {
		return nil, errors.New("advisories: advisory has no ghsa_id")
	}
	if !ValidID(a.GetGHSAID()) {
		return nil, fmt.Errorf("advisories: bad item ID %q: want GHSA-xxxx-xxxx-xxxx", a.GetGHSAID())
	}
	if a.UpdatedAt == nil {
		return nil, fmt.Errorf("advisories: %s: no updated_at", a.GetGHSAID())
	}
	return &a, nil
}

// ValidID reports whether id is a GHSA ID, GHSA-xxxx-xxxx-xxxx in lower
// case letters and digits: the item ID of an advisory.
func ValidID(id string) bool {
	parts := strings.Split(id, "-")
	if len(parts) != 4 || parts[0] != "GHSA" {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) != 4 || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return false
		}
	}
	return true
}

// RepoOf returns the repository (owner/name) an advisory belongs to, from
// its html_url (https://github.com/OWNER/NAME/security/advisories/GHSA-…),
// or "" if it does not say.
func RepoOf(a *gh.SecurityAdvisory) string {
	u, err := url.Parse(a.GetHTMLURL())
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) >= 4 && parts[2] == "security" && parts[3] == "advisories" {
		return parts[0] + "/" + parts[1]
	}
	return ""
}

// Normalize turns a raw repository security advisory into a vulnerability
// item: ID its GHSA ID, Repo its repository, Packages the Go modules it
// names, Affected their vulnerable ranges and patched versions.
func Normalize(raw []byte) (index.Item, error) {
	a, err := Parse(raw)
	if err != nil {
		return index.Item{}, err
	}
	it := index.Item{
		ID:      a.GetGHSAID(),
		Source:  Kind,
		Kind:    index.KindVuln,
		Repo:    RepoOf(a),
		Title:   a.GetSummary(),
		State:   index.StatePublished,
		Updated: a.GetUpdatedAt().Time,
		URL:     a.GetHTMLURL(),
	}
	if a.PublishedAt != nil {
		it.Created = a.GetPublishedAt().Time
	} else {
		it.Created = it.Updated
	}
	if a.WithdrawnAt != nil {
		it.State = index.StateWithdrawn
		it.Closed = a.GetWithdrawnAt().Time
	}
	if cve := a.GetCVEID(); cve != "" {
		it.Aliases = append(it.Aliases, cve)
	}
	for _, id := range a.Identifiers {
		if v := id.GetValue(); v != "" && v != it.ID && !slices.Contains(it.Aliases, v) {
			it.Aliases = append(it.Aliases, v)
		}
	}
	var body strings.Builder
	body.WriteString(a.GetDescription())
	var pkgs []string
	for _, v := range a.Vulnerabilities {
		name := v.GetPackage().GetName()
		if name == "" {
			name = it.Repo
		}
		aff := index.Affected{Module: name, Versions: strings.TrimSpace(v.GetVulnerableVersionRange())}
		if aff.Versions == "" {
			aff.Versions = "all versions"
		}
		for _, p := range strings.Split(v.GetPatchedVersions(), ",") {
			if p = strings.TrimSpace(p); p != "" {
				aff.Fixed = append(aff.Fixed, p)
			}
		}
		if len(aff.Fixed) == 0 && v.FirstPatchedVersion != nil && v.FirstPatchedVersion.GetIdentifier() != "" {
			aff.Fixed = []string{v.FirstPatchedVersion.GetIdentifier()}
		}
		if strings.EqualFold(v.GetPackage().GetEcosystem(), "go") {
			if p := pkgpath.Normalize(name); p != "" {
				pkgs = append(pkgs, p)
				aff.Packages = []string{p}
			}
		}
		if len(v.VulnerableFunctions) > 0 {
			fmt.Fprintf(&body, "\n\n%s: %s", name, strings.Join(v.VulnerableFunctions, ", "))
		}
		it.Affected = append(it.Affected, aff)
	}
	if len(it.Aliases) > 0 {
		body.WriteString("\n\nAliases: " + strings.Join(it.Aliases, ", "))
	}
	for _, r := range a.References {
		body.WriteString("\nWEB: " + r.GetURL())
	}
	it.Body = body.String()
	sort.Strings(pkgs)
	it.Packages = slices.Compact(pkgs)
	return it, nil
}
