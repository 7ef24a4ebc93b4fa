package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
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
		RequireExplicitExec: true,
	})
}
