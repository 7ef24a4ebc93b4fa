package pkgpath_test

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reciprocal-access/reciprocal/index/pkgpath"
)

// corpusDir is the shared corpus of real Go tracker data, beside the
// repository. Tests run in the package directory.
var corpusDir = filepath.Join("..", "..", "..", "shared", "corpus")

// readCorpus decodes each line of the gzipped JSON Lines file name of the
// corpus into a new T. It skips the test if the file is absent.
func readCorpus[T any](tb testing.TB, name string) []T {
	tb.Helper()
	f, err := os.Open(filepath.Join(corpusDir, name))
	if os.IsNotExist(err) {
		tb.Skipf("corpus file %s not present", name)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var out []T
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return out
}

type issue struct {
	Title string `json:"title"`
}

type change struct {
	Project         string `json:"project"`
	Subject         string `json:"subject"`
	CurrentRevision string `json:"current_revision"`
	Revisions       map[string]struct {
		Files map[string]json.RawMessage `json:"files"`
	} `json:"revisions"`
}

// files returns the files of the change's current revision, sorted.
func (c *change) files() []string {
	var files []string
	for f := range c.Revisions[c.CurrentRevision].Files {
		files = append(files, f)
	}
	slices.Sort(files)
	return files
}

type vuln struct {
	ID       string `json:"id"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		EcosystemSpecific struct {
			Imports []struct {
				Path string `json:"path"`
			} `json:"imports"`
		} `json:"ecosystem_specific"`
	} `json:"affected"`
}

// TestCorpusSSHChanges checks that every x/crypto change touching files
// below ssh/ is attributed to golang.org/x/crypto/ssh or a package below it.
func TestCorpusSSHChanges(t *testing.T) {
	const ssh = "golang.org/x/crypto/ssh"
	n := 0
	for _, c := range readCorpus[change](t, "changes.jsonl.gz") {
		files := c.files()
		if c.Project != "crypto" || !slices.ContainsFunc(files, func(f string) bool { return strings.HasPrefix(f, "ssh/") }) {
			continue
		}
		n++
		pkgs := pkgpath.FromFiles(c.Project, files)
		if !slices.ContainsFunc(pkgs, func(p string) bool { return pkgpath.Within(p, ssh) }) {
			t.Errorf("%q: FromFiles(crypto, %q) = %q, want %s or below", c.Subject, files, pkgs, ssh)
		}
	}
	if n == 0 {
		t.Fatal("no x/crypto changes touching ssh/ in corpus")
	}
	t.Logf("%d x/crypto changes touch ssh/", n)
}

// TestCorpusTitles checks that most issue titles with a prefix name a
// package.
func TestCorpusTitles(t *testing.T) {
	var total, named int
	for _, is := range readCorpus[issue](t, "issues.jsonl.gz") {
		if !strings.Contains(is.Title[:min(40, len(is.Title))], ": ") {
			continue
		}
		total++
		if pkgs := pkgpath.FromTitle(is.Title); pkgs != nil {
			named++
		} else {
			t.Logf("no package: %q", is.Title)
		}
	}
	t.Logf("%d of %d titles with a prefix name a package", named, total)
	if total == 0 || named < total*8/10 {
		t.Errorf("%d of %d titles with a prefix name a package, want at least 80%%", named, total)
	}
}

// TestCorpusSubjects checks that in golang.org/x projects the packages
// named by a CL subject mostly agree with those of its files: some package
// of the subject contains a package of the files.
func TestCorpusSubjects(t *testing.T) {
	var total, agree int
	for _, c := range readCorpus[change](t, "changes.jsonl.gz") {
		if c.Project == "go" {
			continue
		}
		named := pkgpath.FromTitleInProject(c.Project, c.Subject)
		files := pkgpath.FromFiles(c.Project, c.files())
		if named == nil || files == nil {
			continue
		}
		total++
		if slices.ContainsFunc(files, func(f string) bool {
			return slices.ContainsFunc(named, func(n string) bool { return pkgpath.Within(f, n) })
		}) {
			agree++
		}
	}
	t.Logf("%d of %d x/ subjects agree with their files", agree, total)
	if total == 0 || agree < total*9/10 {
		t.Errorf("%d of %d x/ subjects agree with their files, want at least 90%%", agree, total)
	}
}

// TestCorpusVulnImports checks that the import paths of vulnerability
// reports are import paths by Normalize and lie within their module.
func TestCorpusVulnImports(t *testing.T) {
	for _, v := range readCorpus[vuln](t, "osv.jsonl.gz") {
		for _, a := range v.Affected {
			mod := a.Package.Name
			for _, imp := range a.EcosystemSpecific.Imports {
				if got := pkgpath.Normalize(imp.Path); got != imp.Path {
					t.Errorf("%s: Normalize(%q) = %q, want it unchanged", v.ID, imp.Path, got)
				}
				if mod != "stdlib" && mod != "toolchain" && !pkgpath.Within(imp.Path, mod) {
					t.Errorf("%s: Within(%q, %q) = false, want true", v.ID, imp.Path, mod)
				}
			}
		}
	}
}

func BenchmarkFromTitle(b *testing.B) {
	var titles []string
	for _, is := range readCorpus[issue](b, "issues.jsonl.gz") {
		titles = append(titles, is.Title)
	}
	for _, c := range readCorpus[change](b, "changes.jsonl.gz") {
		titles = append(titles, c.Subject)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		pkgpath.FromTitle(titles[i%len(titles)])
		i++
	}
}
