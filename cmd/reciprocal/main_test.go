package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"reciprocal": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
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
			"fakegithub": cmdFakeGitHub,
			"expand":     cmdExpand,
		},
		RequireExplicitExec: true,
	})
}

// cmdFakeGitHub starts a fake GitHub API serving the issue and comment
// objects of the given JSON Lines files, and sets $GITHUB_URL to its base
// URL. "fakegithub -down" sets $GITHUB_URL to a server that is not there.
func cmdFakeGitHub(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! fakegithub")
	}
	if len(args) == 1 && args[0] == "-down" {
		srv := githubtest.NewServer()
		url := srv.URL()
		srv.Close()
		ts.Setenv("GITHUB_URL", url)
		return
	}
	srv := githubtest.NewServer()
	ts.Defer(srv.Close)
	for _, name := range args {
		f, err := os.Open(ts.MkAbs(name))
		ts.Check(err)
		_, err = srv.AddJSONL(f)
		f.Close()
		ts.Check(err)
	}
	ts.Setenv("GITHUB_URL", srv.URL())
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
