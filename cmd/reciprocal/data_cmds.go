package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func init() {
	commands = append(commands, (*app).importCommand, (*app).exportCommand, (*app).reindexCommand)
}

func (a *app) importCommand() *cobra.Command {
	var opts watcher.ImportOptions
	c := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import JSON Lines of raw GitHub, Gerrit or OSV objects",
		Long: `Import reads JSON Lines files (plain or .gz) of raw API objects: GitHub issue,
pull request and issue comment objects, Gerrit ChangeInfo objects and OSV
entries, detecting each line's shape (--source forces one). A file with a bad
line imports nothing, unless --skip-bad is given. The index is updated after.`,
		Example: `  reciprocal import issues.jsonl.gz changes.jsonl osv.jsonl.gz
  reciprocal import --source gerrit --gerrit-host go-review.googlesource.com changes.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Shape != "" && !slices.Contains(watcher.Shapes, opts.Shape) {
				return usagef("--source %q: want one of %s", opts.Shape, strings.Join(watcher.Shapes, ", "))
			}
			d, err := a.openData(true)
			if err != nil {
				return err
			}
			defer d.Close()
			var failed []string
			for _, name := range args {
				res, err := importFile(cmd, d, name, opts)
				if err != nil {
					fmt.Fprintf(a.stderr, "reciprocal: import %v\n", err)
					failed = append(failed, name)
					continue
				}
				fmt.Fprintf(a.stdout, "%s: %s\n", name, formatCounts(res))
				for _, bad := range res.Bad {
					fmt.Fprintf(a.stdout, "  skipped %v\n", bad)
				}
			}
			n, err := d.IndexPending(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "indexed %d items\n", n)
			if len(failed) > 0 {
				return withHint(fmt.Errorf("import: %d of %d files not imported: %s", len(failed), len(args), strings.Join(failed, ", ")),
					"fix the lines named above, or pass --skip-bad to import the good lines")
			}
			return nil
		},
	}
	c.Flags().StringVar(&opts.Shape, "source", "", "read every line as this shape: "+strings.Join(watcher.Shapes, ", "))
	c.Flags().BoolVar(&opts.SkipBad, "skip-bad", false, "import the good lines of a file with bad ones, listing the bad ones")
	c.Flags().StringVar(&opts.GerritHost, "gerrit-host", "", "Gerrit host of imported changes (default go-review.googlesource.com)")
	return c
}

func importFile(cmd *cobra.Command, d *watcher.Data, name string, opts watcher.ImportOptions) (*watcher.ImportResult, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return d.Import(cmd.Context(), name, f, opts)
}

// formatCounts says what an import did, per shape: "github 3 new, 1 updated, 0 unchanged; ...".
func formatCounts(res *watcher.ImportResult) string {
	if len(res.Counts) == 0 {
		return "nothing to import"
	}
	shapes := make([]string, 0, len(res.Counts))
	for s := range res.Counts {
		shapes = append(shapes, s)
	}
	sort.Strings(shapes)
	var parts []string
	for _, s := range shapes {
		c := res.Counts[s]
		parts = append(parts, fmt.Sprintf("%s %d new, %d updated, %d unchanged", s, c.New, c.Updated, c.Unchanged))
	}
	return strings.Join(parts, "; ")
}

func (a *app) exportCommand() *cobra.Command {
	var source, out string
	c := &cobra.Command{
		Use:   "export [--source S] [-o FILE]",
		Short: "Write the stored raw JSON as JSON Lines",
		Long: `Export writes every stored object as the tracker served it, one per line, in
the order they were stored. Importing the output into an empty data directory
reproduces the store.`,
		Example: `  reciprocal export > backup.jsonl
  reciprocal export --source vulndb -o vulns.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if source != "" && watcher.Sources.Lookup(source) == nil {
				return usagef("--source %q: want %s", source, watcher.Sources.KindList())
			}
			toFile := out != "" && out != "-"
			if toFile {
				if err := a.checkOutput("-o", out); err != nil {
					return err
				}
			}
			d, err := a.openStore(false) // export needs no index
			if err != nil {
				return err
			}
			defer d.Close()
			if !toFile {
				_, err := d.Export(cmd.Context(), a.stdout, source)
				if errors.Is(err, store.ErrDamaged) {
					return withHint(err, "run 'reciprocal export -o FILE': on a damaged store it writes every object that can still be read")
				}
				return err
			}
			var n int
			err = a.writeOutput("-o", out, func(w io.Writer) error {
				n, err = d.Export(cmd.Context(), w, source)
				return err
			})
			if errors.Is(err, store.ErrDamaged) {
				// Nothing was written in place: salvage into a new file.
				var lost bool
				serr := a.writeOutput("-o", out, func(w io.Writer) (err error) {
					n, lost, err = d.Salvage(w)
					return err
				})
				if serr != nil {
					return fmt.Errorf("%w; salvaging what is readable failed too: %v", err, serr)
				}
				what := "every object"
				if lost {
					what = "the objects that could still be read"
				}
				return withHint(fmt.Errorf("%w; wrote %s (%d) to %s", err, what, n, out),
					fmt.Sprintf("start a new data directory from it: reciprocal --data NEWDIR import --skip-bad %s; the next sync fetches again what was lost", out))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "wrote %d objects to %s\n", n, out)
			return nil
		},
	}
	c.Flags().StringVar(&source, "source", "", "only this source: "+watcher.Sources.KindList())
	c.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of standard output")
	return c
}

func (a *app) reindexCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the search index from the store",
		Long: `Reindex throws the Bleve index away and rebuilds it from the raw JSON in the
store. Run it after upgrading reciprocal, or if the index is damaged: it
never opens the old index, and builds the new one beside it, so an
interrupted reindex leaves the old index as it was. Commands that write
(sync, match, run) rebuild an index built with an older text analysis
themselves.`,
		Example: "  reciprocal reindex",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := a.openStore(true)
			if err != nil {
				return err
			}
			defer d.Close()
			n, err := d.Reindex(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "reindexed %d items\n", n)
			if q, err := d.Quarantine(); err != nil {
				return err
			} else if len(q) > 0 {
				fmt.Fprintf(a.stdout, "%s: see reciprocal status\n", quarantineCount(len(q), "are quarantined", "is quarantined"))
			}
			return nil
		},
	}
}

// printJSON writes v as indented JSON.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
