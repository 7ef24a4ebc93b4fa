// Package pkgpath derives Go import paths from the places where the Go
// project names them: the prefix of issue titles and CL subjects, and the
// file paths of a CL.
//
// By convention, a title starts with the affected packages, separated by
// commas and followed by a colon and a summary:
//
//	crypto/tls: reject empty certificates
//	net/http, net/http/httptest: ...
//	crypto/{tls,x509}: ...
//	proposal: x/net/http2: ...
//
// In the main repository, packages of golang.org/x modules are written
// "x/repo/pkg"; in a golang.org/x repository itself they are usually written
// relative to the module ("ssh/agent"). All results are full import paths,
// such as "golang.org/x/crypto/ssh/agent", so that they can be compared
// with each other and with the import paths of vulnerability reports.
//
// The functions use heuristics and never consult a module cache or the
// network. Membership of the standard library comes from an embedded list
// of its packages, std.txt.
package pkgpath

import (
	_ "embed"
	"path"
	"slices"
	"strings"
	"sync"
)

// stdList lists the packages of the standard library, one a line, without
// the vendored ones. Regenerate it with "go generate" when a Go release adds
// packages; only single-element package names and top-level directories
// depend on it, so a stale list costs little.
//
//go:generate sh -c "go list std | grep -v ^vendor/ > std.txt"
//go:embed std.txt
var stdList string

// std returns the set of standard library packages and the set of their
// top-level directories, plus "cmd" for the commands.
var std = sync.OnceValues(func() (pkgs, tops map[string]bool) {
	pkgs = make(map[string]bool)
	tops = map[string]bool{"cmd": true}
	for line := range strings.Lines(stdList) {
		p := strings.TrimSpace(line)
		if p == "" {
			continue
		}
		pkgs[p] = true
		top, _, _ := strings.Cut(p, "/")
		tops[top] = true
	}
	return pkgs, tops
})

// notPackage lists title prefixes that golang.org/x repositories use for
// changes that concern no package. In the main repository the standard
// library list already excludes them.
var notPackage = map[string]bool{
	"all":    true,
	"api":    true,
	"design": true,
	"doc":    true,
	"docs":   true,
	"misc":   true,
	"test":   true,
	"tests":  true,
}

// FromTitle returns the Go import paths named by the prefix of an issue
// title or CL subject in the main Go repository, sorted and without
// duplicates, or nil when the prefix names no package.
//
// Leading bracketed tags ("[dev.boringcrypto] ", "[release-branch.go1.22] "),
// Gerrit's revert quoting (`Revert "...`, `Revert^2 "...`) and a "proposal:"
// marker are skipped. The rest must start with a comma-separated list of
// paths and a colon, which ends the title or is followed by a space;
// "{a,b}" within a path expands to both. A path is accepted if it is
//
//   - a standard library package ("errors", "runtime"), or "go" for cmd/go,
//     as the release notes write it;
//   - a path of two or more lowercase elements below a top-level directory
//     of the standard library or "cmd" ("internal/poll", "cmd/go");
//   - "x/repo/..." or "golang.org/x/repo/...", which is golang.org/x/repo/...;
//   - another path whose first element is a domain name ("github.com/a/b").
//
// If any path of the list is not accepted, the prefix is taken to be prose
// and the result is nil: "all:", "doc:", "spec:", "go1.22:", "fix:" or
// "Proposal: Something Big" name no package.
func FromTitle(title string) []string {
	return fromTitle("", "", title)
}

// FromTitleInProject is like FromTitle for a CL subject in the Gerrit
// project with the given name. In project "go" (or "") it is FromTitle.
// Any other project is taken to be the golang.org/x repository of that name,
// and paths that are neither "x/...", "golang.org/x/..." nor domain paths
// are relative to its module. In project "crypto":
//
//   - "ssh/agent: ..." is golang.org/x/crypto/ssh/agent;
//   - "crypto: ..." names the module root, golang.org/x/crypto, and
//     "crypto/ssh: ..." is golang.org/x/crypto/ssh, as people write it;
//   - "x/crypto/ssh: ..." and "golang.org/x/crypto/ssh: ..." are
//     golang.org/x/crypto/ssh, like anywhere else;
//   - "all:", "doc:", "go.mod:", "README:" and "go1.22:" name no package:
//     relative paths must be lowercase, contain no dots, start with a letter
//     and not start with a word such as "all", "doc" or "design".
func FromTitleInProject(project, title string) []string {
	if project == "" || project == "go" {
		return FromTitle(title)
	}
	return fromTitle(project, "golang.org/x/"+project, title)
}

// fromTitle implements FromTitle and FromTitleInProject. An empty module
// means the main repository.
func fromTitle(project, module, title string) []string {
	list, ok := titlePrefix(title)
	if !ok {
		return nil
	}
	var paths []string
	for list != "" {
		var elem string
		elem, list = cutList(list)
		elem = strings.TrimSpace(elem)
		n := len(paths)
		if paths, ok = expand(paths, elem); !ok {
			return nil
		}
		for i := n; i < len(paths); i++ {
			if paths[i] = resolve(project, module, paths[i]); paths[i] == "" {
				return nil
			}
		}
	}
	return sortUniq(paths)
}

// titlePrefix returns the text before the first colon of title, after
// skipping branch tags, revert quoting and "proposal:". It reports false if
// the colon is missing or is not followed by a space, as in URLs.
func titlePrefix(title string) (string, bool) {
	s := strings.TrimSpace(title)
	for {
		if strings.HasPrefix(s, "[") {
			_, rest, ok := strings.Cut(s, "]")
			if !ok {
				return "", false
			}
			s = strings.TrimLeft(rest, " ")
		} else if rest, ok := cutRevert(s); ok {
			s = rest
		} else if len(s) >= len("proposal:") && strings.EqualFold(s[:len("proposal:")], "proposal:") {
			s = strings.TrimLeft(s[len("proposal:"):], " ")
		} else {
			break
		}
	}
	i := strings.IndexByte(s, ':')
	if i <= 0 || i+1 < len(s) && s[i+1] != ' ' {
		return "", false
	}
	return s[:i], true
}

// cutRevert removes the quoting Gerrit adds to the subject of a revert:
// `Revert "subject"` and, for a revert of a revert, `Revert^2 "subject"`.
func cutRevert(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, "Revert")
	if !ok {
		return "", false
	}
	if r, ok := strings.CutPrefix(rest, "^"); ok {
		rest = strings.TrimLeft(r, "0123456789")
	}
	return strings.CutPrefix(rest, ` "`)
}

// cutList cuts list at its first comma outside braces.
func cutList(list string) (elem, rest string) {
	depth := 0
	for i := 0; i < len(list); i++ {
		switch list[i] {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				return list[:i], list[i+1:]
			}
		}
	}
	return list, ""
}

// expand appends the brace expansion of elem to dst: "crypto/{tls,x509}"
// expands to "crypto/tls" and "crypto/x509". It reports false for
// unbalanced or nested braces.
func expand(dst []string, elem string) ([]string, bool) {
	i := strings.IndexByte(elem, '{')
	if i < 0 {
		return append(dst, elem), strings.IndexByte(elem, '}') < 0
	}
	j := strings.IndexByte(elem[i:], '}')
	if j < 0 {
		return dst, false
	}
	head, alts, tail := elem[:i], elem[i+1:i+j], elem[i+j+1:]
	if strings.IndexByte(alts, '{') >= 0 {
		return dst, false
	}
	for alt := range strings.SplitSeq(alts, ",") {
		var ok bool
		if dst, ok = expand(dst, head+strings.TrimSpace(alt)+tail); !ok {
			return dst, false
		}
	}
	return dst, true
}

// resolve returns the import path that p names in a title of the given
// project and module (both empty for the main repository), or "" if p is
// not a package path.
func resolve(project, module, p string) string {
	if rest, ok := strings.CutPrefix(p, "x/"); ok {
		p = "golang.org/x/" + rest
	}
	first, rest, multi := strings.Cut(p, "/")
	switch {
	case first == "golang.org" && strings.HasPrefix(rest, "x/"):
		if !elemsOK(rest[len("x/"):], false) {
			return ""
		}
		return p
	case strings.Contains(first, "."):
		if !multi || !hostOK(first) || !elemsOK(rest, true) {
			return ""
		}
		return p
	case module == "":
		pkgs, tops := std()
		if !multi {
			if p == "go" {
				return "cmd/go" // the release notes' name for the go command
			}
			if pkgs[p] {
				return p
			}
			return ""
		}
		if !tops[first] || !elemsOK(rest, false) {
			return ""
		}
		return p
	case first == project:
		if !multi {
			return module
		}
		if !elemsOK(rest, false) {
			return ""
		}
		return module + "/" + rest
	default:
		if !elemsOK(p, false) || !isLower(first[0]) || notPackage[first] || isGoVersion(first) {
			return ""
		}
		return module + "/" + p
	}
}

// elemsOK reports whether every slash-separated element of p is non-empty,
// starts with a lowercase letter or digit and contains only lowercase
// letters, digits, '_' and '-'. If loose is set, as for paths below a
// domain name, elements may also contain upper-case letters and dots.
func elemsOK(p string, loose bool) bool {
	for elem := range strings.SplitSeq(p, "/") {
		if elem == "" || !(isLower(elem[0]) || isDigit(elem[0]) || loose && isUpper(elem[0])) {
			return false
		}
		for i := 0; i < len(elem); i++ {
			c := elem[i]
			if !(isLower(c) || isDigit(c) || c == '_' || c == '-' || loose && (isUpper(c) || c == '.')) {
				return false
			}
		}
	}
	return true
}

// hostOK reports whether s looks like a domain name: lowercase labels
// separated by dots, ending in an alphabetic top-level domain, as in
// "github.com" but not "go1.22" or "release-branch.go1.21".
func hostOK(s string) bool {
	tld := s[strings.LastIndexByte(s, '.')+1:]
	if len(tld) < 2 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if !isLower(tld[i]) {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(isLower(c) || isDigit(c) || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// isGoVersion reports whether s is a Go version such as "go1.22".
func isGoVersion(s string) bool {
	return len(s) > 2 && s[:2] == "go" && isDigit(s[2])
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// sortUniq sorts paths and removes duplicates, returning nil if none remain.
func sortUniq(paths []string) []string {
	if len(paths) == 0 {
		return nil
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// FromFile returns the import path of the package that the file at the
// given path of a CL in the given Gerrit project belongs to, or "" if it
// belongs to none. In project "go" the packages are those below "src/"; in
// any other project p they are those of module golang.org/x/p. The rules:
//
//   - Gerrit's magic files ("/COMMIT_MSG"), files outside "src/" in project
//     "go" (doc/, api/, test/, misc/) and files below a "vendor" directory
//     belong to no package.
//   - A .go file belongs to its directory, except that the go command
//     ignores directories named "testdata" or starting with "_" or ".", so
//     a file in one of these belongs to the directory above it:
//     "ssh/testdata/keys.go" is in golang.org/x/crypto/ssh.
//   - Any other file belongs to the longest leading part of its directory
//     whose elements all look like package directories: a lowercase letter,
//     then lowercase letters, digits, '_' and '-'. So
//     "src/crypto/tls/testdata/x.pem" is in crypto/tls,
//     "src/runtime/asm_amd64.s" in runtime, "ssh/README.md" of project
//     crypto in golang.org/x/crypto/ssh and "design/44167/plot.png" of
//     project proposal in golang.org/x/proposal/design. Such a directory
//     need not hold a package, but a package that contains it also
//     contains the file, which is what Within tells.
//   - A path ending in "/" names a directory, which is treated like the
//     directory of a .go file.
//   - At the root of the repository only .go files make a package (the
//     module root); go.mod, README.md and the like belong to none, as do
//     all files directly in "src/" in project "go".
func FromFile(project, file string) string {
	module := "golang.org/x/" + project
	rest := file
	if project == "go" {
		var ok bool
		if rest, ok = strings.CutPrefix(file, "src/"); !ok {
			return ""
		}
		module = ""
	}
	if strings.HasPrefix(rest, "/") {
		return ""
	}
	dir, name := path.Split(rest)
	dir = strings.TrimSuffix(dir, "/")
	isGo := name == "" || strings.HasSuffix(name, ".go")

	// Find the end of the directory's package part.
	end, plausible := 0, true
	for i := 0; i < len(dir); {
		j := strings.IndexByte(dir[i:], '/')
		if j < 0 {
			j = len(dir) - i
		}
		elem := dir[i : i+j]
		if elem == "" || elem == "vendor" {
			return ""
		}
		if elem == "testdata" || elem[0] == '_' || elem[0] == '.' {
			break
		}
		if !isGo && (!plausible || !isPackageDir(elem)) {
			plausible = false
		} else {
			end = i + j
		}
		i += j + 1
	}
	dir = dir[:end]
	switch {
	case dir != "" && module == "":
		return dir
	case dir != "":
		return module + "/" + dir
	case module != "" && isGo && name != "" && rest == name:
		return module
	}
	return ""
}

// isPackageDir reports whether s looks like the name of a package
// directory: a lowercase letter followed by lowercase letters, digits,
// underscores and hyphens.
func isPackageDir(s string) bool {
	if !isLower(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(isLower(c) || isDigit(c) || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// FromFiles returns the packages that the files of a CL in the given
// project belong to, as FromFile reports them, sorted and without
// duplicates, or nil if there are none.
func FromFiles(project string, files []string) []string {
	var paths []string
	for _, f := range files {
		if p := FromFile(project, f); p != "" {
			paths = append(paths, p)
		}
	}
	return sortUniq(paths)
}

// Ancestors returns the import path p preceded by its ancestors, element by
// element, starting at the module root: "crypto/tls/internal" gives
// "crypto", "crypto/tls" and "crypto/tls/internal". The module root is
// guessed from the path alone: a standard library path has a one-element
// root; "golang.org/x/repo/..." and paths at the code hosts github.com,
// gitlab.com and bitbucket.org have a three-element root
// ("github.com/owner/repo"); other domain paths, such as "gopkg.in/yaml.v3"
// or "google.golang.org/grpc/codes", have a two-element root. A path no
// longer than its root gives just itself; an empty path gives nil.
func Ancestors(p string) []string {
	if p == "" {
		return nil
	}
	root := 1
	if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
		switch {
		case strings.HasPrefix(p, "golang.org/x/"),
			first == "github.com", first == "gitlab.com", first == "bitbucket.org":
			root = 3
		default:
			root = 2
		}
	}
	var paths []string
	n := 1 // number of elements in p[:i]
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		if n >= root {
			paths = append(paths, p[:i])
		}
		n++
	}
	return append(paths, p)
}

// Within reports whether the import path p is pkg or a package below it:
// "crypto/tls/internal" is within "crypto/tls", "crypto/tlsx" is not.
func Within(p, pkg string) bool {
	rest, ok := strings.CutPrefix(p, pkg)
	return ok && pkg != "" && (rest == "" || rest[0] == '/')
}

// Normalize turns the way a person writes a package into its import path:
// it trims spaces and trailing slashes and expands "x/repo/..." to
// "golang.org/x/repo/...". It returns "" if s cannot be an import path: if
// it is empty or has an empty element, or if it contains spaces, a URL
// scheme or any character the go command does not allow in import paths.
func Normalize(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	if rest, ok := strings.CutPrefix(s, "x/"); ok {
		s = "golang.org/x/" + rest
	}
	if s == "" {
		return ""
	}
	for elem := range strings.SplitSeq(s, "/") {
		if elem == "" || elem[0] == '.' || elem[len(elem)-1] == '.' || strings.Contains(elem, "..") {
			return ""
		}
		for i := 0; i < len(elem); i++ {
			c := elem[i]
			if !(isLower(c) || isUpper(c) || isDigit(c) || strings.IndexByte("-._~+", c) >= 0) {
				return ""
			}
		}
	}
	return s
}

// maxMentions caps how many package paths InText returns.
const maxMentions = 64

// InText returns the Go import paths that prose mentions, sorted and
// without duplicates: words such as "crypto/tls", "x/crypto/ssh",
// "golang.org/x/net/http2", "cmd/go" or "pkg.go.dev/net/http/httputil".
// Only paths that cannot be ordinary prose are taken: standard library
// packages of two or more elements, "cmd/..." commands and golang.org/x
// paths. A one-element package ("errors", "time") is an English word as
// often as a package and is never taken; neither are file paths
// ("src/crypto/tls/conn.go") or URLs of other sites.
func InText(text string) []string {
	pkgs, _ := std()
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		if strings.IndexByte(w, '/') < 0 {
			continue
		}
		w = strings.Trim(w, "./-_")
		// "net/http.Server.MaxHeaderValueCount": a selector after the path.
		if i := strings.LastIndexByte(w, '/'); i >= 0 {
			if j := strings.IndexByte(w[i:], '.'); j >= 0 && i+j+1 < len(w) && isUpper(w[i+j+1]) {
				w = w[:i+j]
			}
		}
		for _, host := range []string{"pkg.go.dev/", "godoc.org/"} {
			if i := strings.Index(w, host); i >= 0 {
				w = w[i+len(host):]
			}
		}
		var p string
		switch {
		case strings.HasPrefix(w, "x/"), strings.HasPrefix(w, "golang.org/x/"):
			p = Normalize(w)
			rest := strings.TrimPrefix(p, "golang.org/x/")
			if repo, _, _ := strings.Cut(rest, "/"); len(repo) < 2 || strings.Contains(rest, ".") {
				p = ""
			}
		case strings.HasPrefix(w, "cmd/"):
			if isCommand(w) {
				p = w
			}
		case pkgs[w] && strings.IndexByte(w, '/') > 0:
			p = w
		}
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
		if len(out) == maxMentions {
			break
		}
	}
	slices.Sort(out)
	return out
}

// isCommand reports whether p looks like a command of the Go distribution:
// "cmd/" and lowercase elements without dots.
func isCommand(p string) bool {
	rest := strings.TrimPrefix(p, "cmd/")
	if rest == "" {
		return false
	}
	for elem := range strings.SplitSeq(rest, "/") {
		if elem == "" || !isLower(elem[0]) {
			return false
		}
		for i := 0; i < len(elem); i++ {
			if !isLower(elem[i]) && !isDigit(elem[i]) {
				return false
			}
		}
	}
	return true
}

// TestSupport reports whether p is, by the Go convention, a package that
// supports tests of another: named "test" (golang.org/x/crypto/ssh/test), or
// the name of a package it is under or of a standard library package
// followed by "test" (net/http/httptest, testing/iotest, testing/fstest,
// log/slog/slogtest, golang.org/x/net/nettest). Programs do not import
// them; their tests do.
func TestSupport(p string) bool {
	dir, last := path.Split(p)
	if dir == "" {
		return false
	}
	if last == "test" {
		return true
	}
	name, ok := strings.CutSuffix(last, "test")
	if !ok || name == "" {
		return false
	}
	for _, a := range strings.Split(strings.TrimSuffix(dir, "/"), "/") {
		if a == name {
			return true
		}
	}
	pkgs, _ := std()
	for s := range pkgs {
		if path.Base(s) == name {
			return true
		}
	}
	return false
}
