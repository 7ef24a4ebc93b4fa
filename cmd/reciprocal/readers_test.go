package main

import (
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
)

// A gate holds a fake server's requests until released.
type gate struct {
	arrived chan struct{} // closed at the first request
	open    chan struct{} // closed by releaserequests
	once    sync.Once
}

var gates sync.Map // *testscript.TestScript → *gate

func gateOf(ts *testscript.TestScript) *gate {
	g, ok := gates.Load(ts)
	if !ok {
		ts.Fatalf("no heldgithub in this script")
	}
	return g.(*gate)
}

// cmdHeldGitHub starts a fake GitHub like fakegithub whose requests wait
// until releaserequests: a server that is slow for as long as the script
// needs, with a writer mid-sync meanwhile.
func cmdHeldGitHub(ts *testscript.TestScript, neg bool, args []string) {
	g := &gate{arrived: make(chan struct{}), open: make(chan struct{})}
	gates.Store(ts, g)
	srv := githubtest.NewServer()
	ts.Defer(func() {
		releaseGate(g)
		srv.Close()
		gates.Delete(ts)
	})
	loadJSONL(ts, args, srv.AddJSONL)
	srv.OnRequest(func(*http.Request) {
		g.once.Do(func() { close(g.arrived) })
		<-g.open
	})
	ts.Setenv("GITHUB_URL", srv.URL())
}

func releaseGate(g *gate) {
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// cmdAwaitRequest waits until the held fake GitHub has a request waiting:
// the writer that sent it is mid-sync.
func cmdAwaitRequest(ts *testscript.TestScript, neg bool, args []string) {
	select {
	case <-gateOf(ts).arrived:
	case <-time.After(time.Minute):
		ts.Fatalf("no request reached the held fake GitHub within a minute")
	}
}

// cmdReleaseRequests lets the held fake GitHub answer.
func cmdReleaseRequests(ts *testscript.TestScript, neg bool, args []string) {
	releaseGate(gateOf(ts))
}

// cmdReadOnly takes write permission away from everything under a
// directory and records what is there, for unchanged to compare. (Tests
// may run as root, whom permissions do not stop: unchanged is the check
// that counts.)
func cmdReadOnly(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: readonly DIR")
	}
	dir := ts.MkAbs(args[0])
	ts.Setenv("READONLY_SNAPSHOT", snapshot(ts, dir))
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		ts.Check(err)
		info, err := d.Info()
		ts.Check(err)
		ts.Check(os.Chmod(path, info.Mode().Perm()&^0o222))
		return nil
	})
	ts.Defer(func() {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil {
				if info, err := d.Info(); err == nil {
					os.Chmod(path, info.Mode().Perm()|0o200)
				}
			}
			return nil
		})
	})
}

// cmdUnchanged checks that nothing under the directory given to readonly
// was created, removed or modified since.
func cmdUnchanged(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: unchanged DIR")
	}
	before, now := ts.Getenv("READONLY_SNAPSHOT"), snapshot(ts, ts.MkAbs(args[0]))
	if before != now {
		ts.Fatalf("the directory changed:\nbefore:\n%s\nnow:\n%s", before, now)
	}
}

// snapshot lists every file and directory under dir with its size and
// modification time (write permission aside).
func snapshot(ts *testscript.TestScript, dir string) string {
	var lines []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		ts.Check(err)
		info, err := d.Info()
		ts.Check(err)
		rel, _ := filepath.Rel(dir, path)
		size := info.Size()
		if d.IsDir() {
			size = 0
		}
		lines = append(lines, fmt.Sprintf("%s %d %d", rel, size, info.ModTime().UnixNano()))
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
