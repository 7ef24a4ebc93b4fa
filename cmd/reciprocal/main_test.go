package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/reciprocal-access/reciprocal/notify/smtptest"
	"github.com/reciprocal-access/reciprocal/watcher/advisories/advisoriestest"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit/gerrittest"
	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb/vulndbtest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"reciprocal":  func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		scaleFakesCmd: scaleFakes,
	})
}

// TestScript runs the CLI scenarios in testdata/script: each reads like a
// terminal session (see the testscript package for the syntax).
func TestScript(t *testing.T) {
	corpus, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "corpus"))
	testdata, _ := filepath.Abs("testdata")
	repo, _ := filepath.Abs(filepath.Join("..", ".."))
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("XDG_DATA_HOME", filepath.Join(home, ".local", "share"))
			env.Setenv("CORPUS", corpus)
			env.Setenv("TESTDATA", testdata)
			env.Setenv("REPO", repo)
			env.Setenv("GITHUB_TOKEN", "")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "corpus" {
				_, err := os.Stat(filepath.Join(corpus, "issues.jsonl.gz"))
				return err == nil, nil
			}
			return false, nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"fakegithub":     cmdFakeGitHub,
			"expand":         cmdExpand,
			"fakesmtp":       cmdFakeSMTP,
			"fakegerrit":     cmdFakeGerrit,
			"fakevulndb":     cmdFakeVulnDB,
			"fakeadvisories": cmdFakeAdvisories,
			"received":       cmdReceived,
			"replace":        cmdReplace,
			"corrupt":        cmdCorrupt,
			"truncate":       cmdTruncate,
			"genissues":      cmdGenIssues,
			"storeput":       cmdStorePut,
			"holdlock":       cmdHoldLock,
			"unlock":         cmdUnlock,
			"oldindex":       cmdOldIndex,
			// readers.txtar, readonly.txtar
			"heldgithub":      cmdHeldGitHub,
			"awaitrequest":    cmdAwaitRequest,
			"releaserequests": cmdReleaseRequests,
			"readonly":        cmdReadOnly,
			"unchanged":       cmdUnchanged,
		},
		RequireExplicitExec: true,
	})
}

// cmdFakeGitHub starts a fake GitHub API serving the issue and comment
// objects of the given JSON Lines files, and sets $GITHUB_URL to its base
// URL. "fakegithub -revoked" starts one that answers every request 401 Bad
// credentials, as GitHub does for a revoked token.
func cmdFakeGitHub(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! fakegithub")
	}
	if len(args) == 1 && args[0] == "-revoked" {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)
		}))
		ts.Defer(srv.Close)
		ts.Setenv("GITHUB_URL", srv.URL+"/")
		return
	}
	srv := githubtest.NewServer()
	ts.Defer(srv.Close)
	loadJSONL(ts, args, srv.AddJSONL)
	ts.Setenv("GITHUB_URL", srv.URL())
}

// cmdFakeGerrit starts a fake Gerrit serving the ChangeInfo objects of the
// given JSON Lines files, and sets $GERRIT_URL.
func cmdFakeGerrit(ts *testscript.TestScript, neg bool, args []string) {
	srv := gerrittest.NewServer()
	ts.Defer(srv.Close)
	loadJSONL(ts, args, srv.AddJSONL)
	ts.Setenv("GERRIT_URL", srv.URL())
}

// cmdFakeVulnDB starts a fake vulnerability database serving the OSV
// entries of the given JSON Lines files, and sets $VULNDB_URL.
func cmdFakeVulnDB(ts *testscript.TestScript, neg bool, args []string) {
	srv := vulndbtest.NewServer()
	ts.Defer(srv.Close)
	loadJSONL(ts, args, srv.AddJSONL)
	ts.Setenv("VULNDB_URL", srv.URL())
}

// cmdFakeAdvisories starts a fake GitHub serving the repository security
// advisories of the given JSON Lines files, and sets $ADVISORIES_URL.
func cmdFakeAdvisories(ts *testscript.TestScript, neg bool, args []string) {
	srv := advisoriestest.NewServer()
	ts.Defer(srv.Close)
	loadJSONL(ts, args, srv.AddJSONL)
	ts.Setenv("ADVISORIES_URL", srv.URL())
}

// loadJSONL feeds the JSON Lines files named by args to a fake tracker.
func loadJSONL(ts *testscript.TestScript, args []string, add func(io.Reader) (int, error)) {
	for _, name := range args {
		f, err := os.Open(ts.MkAbs(name))
		ts.Check(err)
		_, err = add(f)
		f.Close()
		ts.Check(err)
	}
}

// cmdExpand replaces $VAR and ${VAR} in the named files with the script's
// environment, so that configuration files can name the fake servers.
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	for _, name := range args {
		path := ts.MkAbs(name)
		data, err := os.ReadFile(path)
		ts.Check(err)
		ts.Check(os.WriteFile(path, []byte(os.Expand(string(data), ts.Getenv)), 0o644))
	}
}

// smtpServers are the fake SMTP servers of the running scripts.
var smtpServers sync.Map // *testscript.TestScript → *smtptest.Server

// cmdFakeSMTP starts an SMTP server on loopback that keeps what it accepts,
// and sets $SMTP_PORT. "fakesmtp -reject 554" starts one that refuses
// every message with that code.
func cmdFakeSMTP(ts *testscript.TestScript, neg bool, args []string) {
	srv, err := smtptest.Start()
	ts.Check(err)
	ts.Defer(func() { srv.Close() })
	if len(args) == 2 && args[0] == "-reject" {
		code, err := strconv.Atoi(args[1])
		ts.Check(err)
		srv.Reject(code, "refused by the test")
	} else if len(args) != 0 {
		ts.Fatalf("usage: fakesmtp [-reject CODE]")
	}
	smtpServers.Store(ts, srv)
	ts.Setenv("SMTP_PORT", srv.Port())
}

// cmdReceived checks how many messages the script's fake SMTP server
// accepted, and writes the last one to received.eml.
func cmdReceived(ts *testscript.TestScript, neg bool, args []string) {
	v, ok := smtpServers.Load(ts)
	if !ok || len(args) != 1 {
		ts.Fatalf("usage: received N (after fakesmtp)")
	}
	msgs := v.(*smtptest.Server).Messages()
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	if len(msgs) != want {
		ts.Fatalf("the SMTP server accepted %d messages, want %d", len(msgs), want)
	}
	if len(msgs) > 0 {
		ts.Check(os.WriteFile(ts.MkAbs("received.eml"), msgs[len(msgs)-1].Data, 0o644))
	}
}

// cmdOldIndex makes the index in data directory DIR look like one built by
// the first release, which recorded no text analysis version: "oldindex DIR".
func cmdOldIndex(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: oldindex DIR")
	}
	b, err := bleve.Open(filepath.Join(ts.MkAbs(args[0]), "index"))
	ts.Check(err)
	ts.Check(b.DeleteInternal([]byte("reciprocal.analysis")))
	ts.Check(b.Close())
}

// cmdReplace replaces the text OLD with NEW in FILE ("replace FILE OLD
// NEW"), as a person editing a draft would; it fails if OLD is absent.
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	if !strings.Contains(string(data), args[1]) {
		ts.Fatalf("%s does not contain %q", args[0], args[1])
	}
	ts.Check(os.WriteFile(path, []byte(strings.Replace(string(data), args[1], args[2], 1)), 0o644))
}
