package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/match"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
)

func init() {
	commands = append(commands, (*app).matchCommand)
}

// profiles loads the client profiles from the configured clients directory.
// Invalid profiles are an error: nothing may be matched against a
// half-read set of concerns.
func (a *app) profiles() (configs.Profiles, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	ps, err := configs.LoadProfiles(cfg.ClientsDir())
	if err != nil {
		return nil, withHint(fmt.Errorf("client profiles:\n%w", err), "fix them (reciprocal check-config lists every problem); nothing was changed")
	}
	return ps, nil
}

// begin loads the client profiles, reads the clock and opens the data
// directory: how every command about prompts starts.
func (a *app) begin(write bool) (*watcher.Data, configs.Profiles, time.Time, error) {
	profiles, err := a.profiles()
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	now := a.now()
	d, err := a.openData(write)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	return d, profiles, now, nil
}

func (a *app) matchCommand() *cobra.Command {
	var asJSON, verbose bool
	c := &cobra.Command{
		Use:   "match",
		Short: "Match changed items against your clients' concerns now",
		Long: `Match brings the index up to date, evaluates every client concern against the
items changed since the last match, and queues consult prompts. A new or
edited concern (packages, query or kinds) is evaluated over the whole index
once; its matches on items not updated within the look-back window
([matching] lookback, default 14d) are recorded as history instead of being
queued. An existing prompt comes back only on a milestone: a proposal changing
stage, a CL merged or abandoned, an issue closed or reopened, a vulnerability
amended. 'reciprocal run' and 'reciprocal watch' match after syncing.`,
		Example: `  reciprocal match
  reciprocal match --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, profiles, now, err := a.begin(true)
			if err != nil {
				return err
			}
			defer d.Close()
			res, err := a.runMatch(cmd.Context(), d, profiles, now, verbose)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(res)
			}
			a.printMatch(res, profiles)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "log progress to standard error")
	return c
}

// runMatch runs the matcher at now, logging progress when verbose.
func (a *app) runMatch(ctx context.Context, d *watcher.Data, profiles configs.Profiles, now time.Time, verbose bool) (*match.Result, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	return match.Run(ctx, d, profiles, match.Options{
		Now:      func() time.Time { return now },
		Lookback: time.Duration(cfg.Matching.Lookback),
		Logger:   slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level})),
	})
}

// printMatch says what a match run did: each new and re-opened prompt,
// then the counts.
func (a *app) printMatch(res *match.Result, profiles configs.Profiles) {
	cfg, _ := a.config()
	if len(profiles) == 0 {
		fmt.Fprintf(a.stdout, "no client profiles in %s: nothing to match\n", cfg.ClientsDir())
		return
	}
	names := map[string]string{}
	for _, p := range profiles {
		names[p.ID] = p.Name
	}
	show := func(label string, p *queue.Prompt) {
		// The item of the trigger, which need not be the topic's lead.
		it := p.Item
		if m := p.Member(p.Trigger().Item); m != nil {
			it = m.Item
		}
		fmt.Fprintf(a.stdout, "%-9s %s  %s / %s  %s  %s\n", label, p.ID, oneLine(names[p.Client]), p.Concern, it.ID, oneLine(it.Title))
		fmt.Fprintf(a.stdout, "%-9s %s  %s\n", "", strings.Repeat(" ", len(p.ID)), oneLine(p.Trigger().Description))
	}
	for _, p := range res.New {
		show("new", p)
	}
	for _, p := range res.Reopened {
		show("reopened", p)
	}
	fresh := map[string]bool{}
	for _, p := range res.New {
		fresh[p.ID] = true
	}
	for _, j := range res.Joined {
		if !fresh[j.Prompt.ID] && (j.Prompt.State == queue.Open || j.Prompt.State == queue.Snoozed) {
			fmt.Fprintf(a.stdout, "%-9s %s  %s / %s  %s joins its topic\n", "joined", j.Prompt.ID, names[j.Prompt.Client], j.Prompt.Concern, j.Item)
		}
	}
	for _, p := range res.Merged {
		fmt.Fprintf(a.stdout, "%-9s %s  %s / %s  is part of %s now: their topics joined\n", "merged", p.ID, names[p.Client], p.Concern, p.MergedInto)
	}
	for _, p := range res.Held {
		fmt.Fprintf(a.stdout, "%-9s %s  %s / %s  %s  %s\n", "held", p.ID, oneLine(names[p.Client]), p.Concern, p.Item.ID, oneLine(p.Item.Title))
		fmt.Fprintf(a.stdout, "%-9s %s  %s\n", "", strings.Repeat(" ", len(p.ID)), oneLine(p.HeldReason))
	}
	for _, p := range res.Withdrawn {
		fmt.Fprintf(a.stdout, "%-9s %s  %s / %s  %s  %s\n", "withdrawn", p.ID, oneLine(names[p.Client]), p.Concern, p.Item.ID, oneLine(p.Item.Title))
		fmt.Fprintf(a.stdout, "%-9s %s  %s: it no longer matches\n", "", strings.Repeat(" ", len(p.ID)), withdrawnNote(p))
	}
	if res.Migrated > 0 {
		fmt.Fprintf(a.stdout, "rewrote %s for topics (one prompt per client, concern and topic)\n", plural(res.Migrated, "prompt"))
	}
	fmt.Fprintf(a.stdout, "%d new, %d re-opened; %d older matches recorded as history (look-back %s)\n",
		len(res.New), len(res.Reopened), res.History, formatDays(time.Duration(cfg.Matching.Lookback)))
	if len(res.Evaluated) > 0 {
		var ids []string
		for _, id := range res.Evaluated {
			ids = append(ids, id.String())
		}
		fmt.Fprintf(a.stdout, "evaluated over the whole index (new or changed): %s\n", strings.Join(ids, ", "))
	}
	if len(res.New)+len(res.Reopened) > 0 {
		fmt.Fprintln(a.stdout, "see them with: reciprocal queue")
	}
}

// formatDays writes a duration in days when it is whole days ("14d").
func formatDays(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// flatten returns the errors joined in err, one per problem.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	var fe *configs.FileError
	if errors.As(err, &fe) && fe != err {
		// A wrapped join, like "config: %w".
		if u := errors.Unwrap(err); u != nil {
			if inner := flatten(u); len(inner) > 1 {
				return inner
			}
		}
	}
	return []error{err}
}

// withdrawnNote says why a prompt was withdrawn: "concern edited on DATE".
func withdrawnNote(p *queue.Prompt) string {
	for i := len(p.Log) - 1; i >= 0; i-- {
		if p.Log[i].Action == queue.ActionWithdrawn {
			return oneLine(p.Log[i].Note)
		}
	}
	return "withdrawn"
}
