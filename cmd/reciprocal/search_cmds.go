package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/index/pkgpath"
	"github.com/reciprocal-access/reciprocal/notify/report"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func init() {
	commands = append(commands, (*app).searchCommand, (*app).showCommand)
}

func (a *app) searchCommand() *cobra.Command {
	var (
		req          index.Request
		since, until string
		asJSON       bool
	)
	c := &cobra.Command{
		Use:         "search [QUERY]",
		Annotations: map[string]string{annotQuick: "true"},
		Short:       "Search the local index",
		Long: `Search answers "what is going on about X" from the local index. QUERY uses
Bleve's query-string syntax over titles, bodies and comments: words (any may
match; more matches rank higher), "a phrase", +required, -excluded, and
field:value for title:, body: or comments:. Filters narrow the results
exactly. Without QUERY, the filters alone select, newest first.`,
		Example: `  reciprocal search 'session ticket' --package crypto/tls
  reciprocal search '+rsa decrypt' --kind proposal --state open
  reciprocal search --stage likely-accept --since 2024-01-01 --sort updated
  reciprocal search 'ssh agent' --json -n 5`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				req.Query = args[0]
			}
			var err error
			if req.Since, err = parseDay(since, "--since"); err != nil {
				return err
			}
			if req.Until, err = parseDay(until, "--until"); err != nil {
				return err
			}
			if !req.Until.IsZero() {
				req.Until = req.Until.Add(24*time.Hour - time.Nanosecond) // through the end of that day
			}
			if req.Sort != index.SortRelevance && req.Sort != index.SortUpdated {
				return usagef("--sort %q: want relevance or updated", req.Sort)
			}
			if req.Limit <= 0 {
				return usagef("-n %d: want a positive number", req.Limit)
			}
			for _, f := range []struct {
				flag          string
				values, valid []string
			}{{"--kind", req.Kinds, index.Kinds}, {"--state", req.States, index.States}, {"--stage", req.Stages, index.Stages}} {
				if err := oneOf(f.flag, f.values, f.valid); err != nil {
					return err
				}
			}
			for i, p := range req.Packages {
				if req.Packages[i] = pkgpath.Normalize(p); req.Packages[i] == "" {
					return usagef("--package %q: not a Go import path", p)
				}
			}
			if _, err := index.ParseQuery(req.Query); err != nil {
				return &usageError{err}
			}
			d, err := a.openData(false)
			if err != nil {
				return err
			}
			defer d.Close()
			req.Highlight = true
			res, err := d.Index.Search(cmd.Context(), req)
			if err != nil {
				var qe *index.QueryError
				if errors.As(err, &qe) {
					return &usageError{err}
				}
				return err
			}
			if asJSON {
				return a.printJSON(res.Hits)
			}
			if len(res.Hits) == 0 {
				fmt.Fprintln(a.stdout, "no items match")
				return nil
			}
			tty := isTerminal(a.stdout)
			for _, h := range res.Hits {
				fmt.Fprintf(a.stdout, "%-26s %-8s %-14s %s  %s\n", h.ID, h.Kind, stateOf(h), h.Updated.Format("2006-01-02"), oneLine(h.Title))
				if h.Snippet != "" {
					s := h.Snippet.Text()
					if tty {
						s = h.Snippet.ANSI()
					}
					fmt.Fprintf(a.stdout, "    %s\n", s)
				}
			}
			if uint64(len(res.Hits)) < res.Total {
				fmt.Fprintf(a.stdout, "(%d of %d; -n for more)\n", len(res.Hits), res.Total)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringSliceVar(&req.Kinds, "kind", nil, "only these kinds: "+strings.Join(index.Kinds, ", "))
	f.StringSliceVar(&req.States, "state", nil, "only these states: "+strings.Join(index.States, ", "))
	f.StringSliceVar(&req.Stages, "stage", nil, "only proposals at these stages: "+strings.Join(index.Stages, ", "))
	f.StringSliceVar(&req.Packages, "package", nil, "only items touching these Go packages or their sub-packages (crypto/tls, x/crypto/ssh)")
	f.StringArrayVar(&req.Labels, "label", nil, "only items with this label (repeat for several, all required)")
	f.StringSliceVar(&req.Repos, "repo", nil, "only these repositories or Gerrit projects (golang/go, crypto)")
	f.StringVar(&since, "since", "", "only items updated on or after this day (YYYY-MM-DD)")
	f.StringVar(&until, "until", "", "only items updated on or before this day (YYYY-MM-DD)")
	f.IntVarP(&req.Limit, "limit", "n", 20, "how many results")
	f.StringVar(&req.Sort, "sort", index.SortRelevance, "order: relevance or updated")
	f.BoolVar(&asJSON, "json", false, "print a JSON array of results")
	return c
}

// oneOf checks that every value given to flag is a valid one, so that a
// typo is a usage error rather than a filter that silently matches nothing.
func oneOf(flag string, values, valid []string) error {
	for _, v := range values {
		if !slices.Contains(valid, v) {
			return usagef("%s %q: want one of %s", flag, v, strings.Join(valid, ", "))
		}
	}
	return nil
}

func stateOf(h index.Hit) string {
	if h.Stage != "" && h.Kind == index.KindProposal {
		return h.Stage
	}
	return h.State
}

func parseDay(s, flag string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, usagef("%s %q: want a day like 2024-01-31", flag, s)
	}
	return t, nil
}

func (a *app) showCommand() *cobra.Command {
	var raw, asJSON bool
	c := &cobra.Command{
		Use:         "show ID",
		Annotations: map[string]string{annotQuick: "true"},
		Short:       "Show one item",
		Long: `Show prints one item: golang/go#60105 (GitHub), go-review:crypto/815480
(Gerrit) or GO-2024-2428 (vulnerability), with the items related to it: its
topic, as 'reciprocal match' last linked it (the issues a CL fixes, backports,
cherry-picks, the vulnerability entry). --raw prints the JSON as stored.`,
		Example: `  reciprocal show golang/go#60105
  reciprocal show --raw GO-2024-2428`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := watcher.Sources.ParseID(args[0]); err != nil {
				return &usageError{err}
			}
			d, err := a.openData(false)
			if err != nil {
				return err
			}
			defer d.Close()
			it, rawJSON, err := d.Item(args[0])
			if errors.Is(err, watcher.ErrNotFound) {
				return withHint(err, "search for it: reciprocal search 'words from its title'")
			}
			var ne *watcher.NormalizeError
			if errors.As(err, &ne) && raw {
				err = nil // the stored JSON is what was asked for
			} else if errors.As(err, &ne) {
				return withHint(fmt.Errorf("show: %w", err), "the stored record cannot be normalized: indexing quarantines it ('reciprocal status' lists the quarantine); 'reciprocal show --raw "+args[0]+"' prints its stored JSON")
			}
			if err != nil {
				return err
			}
			switch {
			case raw:
				a.stdout.Write(rawJSON)
				fmt.Fprintln(a.stdout)
			case asJSON:
				return a.printJSON(it)
			default:
				printItem(a, &it)
				tid, rel, err := d.Related(it.ID)
				if err != nil {
					return err
				}
				if len(rel) > 0 {
					fmt.Fprintf(a.stdout, "related:  %d items of topic %s\n", len(rel), tid)
					for _, r := range rel {
						line := r.ID
						if r.Stored {
							line += "  " + oneLine(r.Title) + "  (" + r.Kind + ", " + r.State + ")"
						} else {
							line += "  (not synced)"
						}
						if r.Via != "" {
							line += "  [" + r.Via + "]"
						}
						fmt.Fprintf(a.stdout, "          %s\n", line)
					}
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&raw, "raw", false, "print the stored JSON as the tracker served it")
	c.Flags().BoolVar(&asJSON, "json", false, "print the normalized item as JSON")
	return c
}

func printItem(a *app, it *index.Item) {
	w := a.stdout
	fmt.Fprintf(w, "%s  %s\n", it.ID, oneLine(it.Title))
	fmt.Fprintf(w, "%s %s, %s", it.Source, it.Kind, it.State)
	if it.Stage != "" {
		fmt.Fprintf(w, ", stage %s", it.Stage)
	}
	fmt.Fprintf(w, "\n%s\n", it.URL)
	if it.Author != "" {
		fmt.Fprintf(w, "author:   %s\n", oneLine(it.Author))
	}
	fmt.Fprintf(w, "created:  %s\nupdated:  %s\n", it.Created.Format(time.RFC3339), it.Updated.Format(time.RFC3339))
	if !it.Closed.IsZero() {
		fmt.Fprintf(w, "closed:   %s\n", it.Closed.Format(time.RFC3339))
	}
	if len(it.Packages) > 0 {
		fmt.Fprintf(w, "packages: %s\n", strings.Join(it.Packages, ", "))
	}
	if len(it.Labels) > 0 {
		fmt.Fprintf(w, "labels:   %s\n", oneLine(strings.Join(it.Labels, ", ")))
	}
	if len(it.Aliases) > 0 {
		fmt.Fprintf(w, "aliases:  %s\n", strings.Join(it.Aliases, ", "))
	}
	if len(it.Files) > 0 {
		fmt.Fprintf(w, "files:    %s\n", strings.Join(it.Files, ", "))
	}
	if it.Routine != "" {
		fmt.Fprintf(w, "routine:  %s\n", it.Routine)
	}
	for _, s := range it.Stages {
		fmt.Fprintf(w, "stage:    %s  %s (%s)\n", s.At.Format("2006-01-02"), s.Stage, s.Via)
	}
	fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(printable(it.Body)))
	if it.Comments != "" {
		fmt.Fprintf(w, "\n--- comments ---\n%s\n", strings.TrimSpace(printable(it.Comments)))
	}
}

// warnIndexLag tells a reader of the index (who cannot catch it up) that
// the index does not reflect the whole store, and by how much.
func (a *app) warnIndexLag(d *watcher.Data) {
	n, err := d.IndexLag()
	if err != nil {
		fmt.Fprintf(a.stderr, "reciprocal: %v\n", err)
	} else if n > 0 {
		if pid, writing := store.Writer(d.Dir); writing {
			if pid == 0 {
				pid = -1
			}
			fmt.Fprintf(a.stderr, "reciprocal: the index is %d items behind the store%s\n", n, writerNote(pid))
			return
		}
		fmt.Fprintf(a.stderr, "reciprocal: %s\n", report.IndexLagMessage(n))
	}
}
