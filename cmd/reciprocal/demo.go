package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher"
)

func init() {
	commands = append(commands, (*app).demoCommand)
}

func (a *app) demoCommand() *cobra.Command {
	var keep bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run reciprocal end to end on built-in sample data, offline",
		Long: `Demo shows what reciprocal does without network or setup. In a temporary
data directory it names, it loads a week of Go tracker activity (the project's
own sample data: GitHub issues and proposals, Gerrit changes, vulnerabilities)
and answers a few questions from the local index.

Nothing outside the temporary directory is read or written.`,
		Example: "  go run ./cmd/reciprocal demo\n  reciprocal demo --keep",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := os.MkdirTemp("", "reciprocal-demo-")
			if err != nil {
				return err
			}
			if !keep {
				defer os.RemoveAll(dir)
			}
			d := &demo{a: a, ctx: cmd.Context(), dir: dir}
			if err := d.run(); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			if keep {
				fmt.Fprintf(a.stdout, "\nThe data directory is kept. Explore it with:\n  reciprocal --data %s search 'http2 reset'\n", dir)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&keep, "keep", false, "keep the temporary data directory to explore afterwards")
	return c
}

// demo is one run of the demonstration.
type demo struct {
	a   *app
	ctx context.Context
	dir string
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.a.stdout, format+"\n", args...)
}

func (d *demo) step(title string) {
	d.say("\n== %s", title)
}

func (d *demo) run() error {
	d.say("reciprocal demo: a week of Go tracker activity, offline.")
	d.say("data directory: %s", d.dir)

	data, err := watcher.OpenData(d.dir, false, nil)
	if err != nil {
		return err
	}
	defer data.Close()

	d.step("Import the week's raw tracker JSON")
	if err := d.importRound(data, "round1"); err != nil {
		return err
	}

	d.step("Search the local index")
	for _, q := range []struct {
		what string
		req  index.Request
	}{
		{"What is going on about TLS session tickets in crypto/tls?",
			index.Request{Query: `"session ticket" "session tickets" resumption`, Packages: []string{"crypto/tls"}, Limit: 5, Highlight: true}},
		{"Which proposals are in review, newest first?",
			index.Request{Kinds: []string{index.KindProposal}, Stages: []string{index.StageActive, index.StageLikelyAccept, index.StageFinal}, Sort: index.SortUpdated, Limit: 5}},
		{"Which vulnerabilities touch golang.org/x/crypto or net/http?",
			index.Request{Kinds: []string{index.KindVuln}, Packages: []string{"golang.org/x/crypto", "net/http"}, Sort: index.SortUpdated, Limit: 5}},
	} {
		d.say("\n%s", q.what)
		res, err := data.Index.Search(d.ctx, q.req)
		if err != nil {
			return err
		}
		for _, h := range res.Hits {
			d.say("  %-24s %-8s %-14s %s", h.ID, h.Kind, stateOf(h), oneLine(h.Title))
			if h.Snippet != "" {
				d.say("      %s", h.Snippet.Text())
			}
		}
		d.say("  (%d matching, %s)", res.Total, res.Took.Round(10_000))
	}
	return nil
}

// importRound imports the embedded JSON Lines files of one round.
func (d *demo) importRound(data *watcher.Data, round string) error {
	dir := path.Join("testdata/demo", round)
	entries, err := fs.ReadDir(reciprocal.DemoData, dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".jsonl") {
			continue
		}
		f, err := reciprocal.DemoData.Open(path.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		res, err := data.Import(d.ctx, e.Name(), f, watcher.ImportOptions{})
		f.Close()
		if err != nil {
			return err
		}
		d.say("  %-22s %s", e.Name(), formatCounts(res))
	}
	n, err := data.IndexPending(d.ctx)
	if err != nil {
		return err
	}
	d.say("  indexed %d items", n)
	return nil
}
