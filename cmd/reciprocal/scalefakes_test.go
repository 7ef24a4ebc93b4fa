package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/reciprocal-access/reciprocal/watcher/gerrit/gerrittest"
	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb/vulndbtest"
)

// scaleFakesCmd is the name under which the test binary serves a scale
// corpus from the three fake trackers (see scaleFakes).
const scaleFakesCmd = "reciprocal-scale-fakes"

// scaleFakes is the test binary's command "reciprocal-scale-fakes FILE":
// it serves the scale corpus in FILE (scalecorpus's JSON Lines, gzipped)
// from the fake GitHub, Gerrit and vulnerability database, writes to
// standard output the source sections of a configuration that syncs from
// them, and serves until its standard input closes. BenchmarkScale runs it
// as a process of its own, so that the fakes, which hold every object in
// memory, do not count in the peak RSS of the sync it measures.
func scaleFakes() {
	if err := serveScaleFakes(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", scaleFakesCmd, err)
		os.Exit(1)
	}
}

func serveScaleFakes(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: " + scaleFakesCmd + " FILE")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	gh, gr, vd := githubtest.NewServer(), gerrittest.NewServer(), vulndbtest.NewServer()
	defer func() { gh.Close(); gr.Close(); vd.Close() }()
	// The sync measured is reciprocal's work, not an hour's rate limit:
	// at one million objects it makes about 7,800 GitHub requests, and
	// would stop at the 5,000th (DefaultRateLimit) with the rest unread.
	gh.SetRateLimit(math.MaxInt32)
	var projects []string
	r := bufio.NewReaderSize(zr, 1<<20)
	for line := 1; ; line++ {
		raw, err := r.ReadBytes('\n')
		if len(raw) > 0 {
			// The shapes scalecorpus writes: GitHub issues (number) and
			// comments (issue_url), Gerrit changes (_number, project),
			// OSV entries (the rest).
			var probe struct {
				Number   *int    `json:"number"`
				IssueURL *string `json:"issue_url"`
				Change   *int    `json:"_number"`
				Project  string  `json:"project"`
			}
			if err := json.Unmarshal(raw, &probe); err != nil {
				return fmt.Errorf("%s:%d: %w", args[0], line, err)
			}
			var perr error
			switch {
			case probe.Change != nil:
				if !slices.Contains(projects, probe.Project) {
					projects = append(projects, probe.Project)
				}
				perr = gr.Put(raw)
			case probe.Number != nil:
				perr = gh.PutIssue(raw)
			case probe.IssueURL != nil:
				perr = gh.PutComment(raw)
			default:
				perr = vd.Put(raw)
			}
			if perr != nil {
				return fmt.Errorf("%s:%d: %w", args[0], line, perr)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
	}
	slices.Sort(projects)
	pj, _ := json.Marshal(projects)
	fmt.Printf("[[github]]\nrepo = \"golang/go\"\napi_url = %q\nsince = 2000-01-01\n\n"+
		"[[gerrit]]\nurl = %q\nprojects = %s\nsince = 2000-01-01\n\n"+
		"[vulndb]\nurl = %q\n", gh.URL(), gr.URL(), pj, vd.URL())
	os.Stdout.Close() // the configuration is complete
	io.Copy(io.Discard, os.Stdin)
	return nil
}
