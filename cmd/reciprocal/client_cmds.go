package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/engagement"
	"github.com/reciprocal-access/reciprocal/notify/report"
	"github.com/reciprocal-access/reciprocal/notify/sla"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/match"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func init() {
	commands = append(commands, (*app).clientsCommand, (*app).clientCommand, (*app).checkConfigCommand)
}

// openDataIfAny opens the data directory for reading, or returns nil if
// nothing was synced or imported yet.
func (a *app) openDataIfAny() (*watcher.Data, error) {
	d, err := a.openData(false)
	if errors.Is(err, store.ErrNoStore) {
		return nil, nil
	}
	return d, err
}

func (a *app) clientsCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "clients",
		Short: "List clients with their tier, concerns and prompts",
		Long: `Clients lists the client profiles (one TOML file per client in the clients
directory of the configuration) with their tier, their concerns, and how many
of their prompts are open, snoozed, done and history.`,
		Example: "  reciprocal clients",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := a.reports(nil, false)
			if err != nil {
				return err
			}
			if rep.Data, err = a.openDataIfAny(); err != nil {
				return err
			}
			if rep.Data != nil {
				defer rep.Data.Close()
			}
			out, err := rep.Clients()
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(out)
			}
			if len(out) == 0 {
				cfg, _ := a.config()
				fmt.Fprintf(a.stdout, "no client profiles in %s\n", cfg.ClientsDir())
				return nil
			}
			sort.SliceStable(out, func(i, j int) bool { return configs.TierRank(out[i].Tier) > configs.TierRank(out[j].Tier) })
			for _, s := range out {
				fmt.Fprintf(a.stdout, "%-12s %-24s %-9s %s  %d open  %d snoozed  %d done  %d history\n",
					s.ID, oneLine(s.Name), s.Tier, plural(len(s.Concerns), "concern"), s.Prompts[queue.Open], s.Prompts[queue.Snoozed], s.Prompts[queue.Done], s.Prompts[queue.History])
				fmt.Fprintf(a.stdout, "%-12s %s\n", "", strings.Join(s.Concerns, ", "))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of clients")
	return c
}

func (a *app) clientCommand() *cobra.Command {
	var (
		asJSON, log bool
		limit       int
		since       string
	)
	c := &cobra.Command{
		Use:   "client ID [--log [--since DAY]] [--json]",
		Short: "Show a client: profile, consultations and history matches",
		Long: `Client shows a client's profile, every consultation you recorded (prompts
marked done, with their notes, and dismissed), newest first, and the history
matches: items matched when a concern was first evaluated that were older than
the look-back window.

--log prints the engagement record instead: every consultation (a prompt
marked done, with its note), SLA request and its answer time, alert, note and
digest sent, oldest first, and a summary line; --since limits it to events on
or after a day.`,
		Example: "  reciprocal client acme\n  reciprocal client acme --log --since 2026-10-01",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit <= 0 {
				return usagef("-n %d: want a positive number", limit)
			}
			rep, err := a.reports(nil, false)
			if err != nil {
				return err
			}
			if rep.Profiles.Client(args[0]) == nil {
				return unknownClient(args[0], rep.Profiles)
			}
			if log {
				return a.clientLog(rep.Profiles.Client(args[0]), rep.Profiles, since, asJSON)
			}
			if since != "" {
				return usagef("--since goes with --log")
			}
			if rep.Data, err = a.openDataIfAny(); err != nil {
				return err
			}
			if rep.Data != nil {
				defer rep.Data.Close()
			}
			h, err := rep.Client(args[0])
			if err != nil {
				return err
			}
			p, cons, history, withdrawn, counts := h.Profile, h.Consultations, h.History, h.Withdrawn, h.Counts
			if asJSON {
				type hist struct {
					Prompt  string         `json:"prompt"`
					Concern string         `json:"concern"`
					Item    queue.ItemInfo `json:"item"`
					Reasons queue.Reasons  `json:"reasons"`
				}
				type wd struct {
					Prompt  string         `json:"prompt"`
					Concern string         `json:"concern"`
					Item    queue.ItemInfo `json:"item"`
					Note    string         `json:"note"`
				}
				out := struct {
					*configs.Profile
					Consultations []report.Consultation `json:"consultations"`
					History       []hist                `json:"history"`
					Withdrawn     []wd                  `json:"withdrawn"`
				}{Profile: p, Consultations: cons, History: []hist{}, Withdrawn: []wd{}}
				for _, w := range withdrawn {
					out.Withdrawn = append(out.Withdrawn, wd{w.ID, w.Concern, w.Item, withdrawnNote(w)})
				}
				for _, h := range history {
					out.History = append(out.History, hist{h.ID, h.Concern, h.Item, h.Reasons})
				}
				return a.printJSON(out)
			}
			w := a.stdout
			loc := a.location()
			fmt.Fprintf(w, "%s  %s  (%s)\n", p.ID, oneLine(p.Name), p.Tier)
			if len(p.Contacts) > 0 {
				fmt.Fprintf(w, "contacts: %s\n", strings.Join(oneLines(p.Contacts), ", "))
			}
			if p.Notes != "" {
				fmt.Fprintf(w, "notes:    %s\n", oneLine(p.Notes))
			}
			fmt.Fprintf(w, "profile:  %s\n", p.Path)
			fmt.Fprintf(w, "SLA:      %s\n", slaTerms(rep.Config, p))
			fmt.Fprintf(w, "\nconcerns:\n")
			for _, c := range p.Concerns {
				via := ""
				if c.Via != "" {
					via = " (" + oneLine(c.Via) + ")"
				}
				fmt.Fprintf(w, "  %s  [%s]  told %s%s\n", c.ID, c.Priority, c.Told, via)
				fmt.Fprintf(w, "    %s\n", oneLine(c.Summary))
				fmt.Fprintf(w, "    %s\n", describeConcern(&c))
				n := counts[c.ID]
				line := fmt.Sprintf("    prompts: %d open, %d snoozed, %d done, %d dismissed, %d history",
					n[queue.Open], n[queue.Snoozed], n[queue.Done], n[queue.Dismissed], n[queue.History])
				for _, s := range []queue.State{queue.Withdrawn, queue.Merged} {
					if n[s] > 0 {
						line += fmt.Sprintf(", %d %s", n[s], s)
					}
				}
				fmt.Fprintln(w, line)
			}
			fmt.Fprintf(w, "\nconsultations (newest first):\n")
			if len(cons) == 0 {
				fmt.Fprintf(w, "  none yet\n")
			}
			for _, c := range cons {
				note := ""
				if c.Note != "" {
					note = ": " + oneLine(c.Note)
				}
				fmt.Fprintf(w, "  %s  %-9s %s  %s  %s%s\n", c.At.In(loc).Format("2006-01-02 15:04"), c.Action, c.Prompt, c.Concern, c.Item, note)
			}
			if len(withdrawn) > 0 {
				fmt.Fprintf(w, "\nwithdrawn (open, never acted on, and no longer matched after an edit of their concern):\n")
				for _, pr := range withdrawn {
					fmt.Fprintf(w, "  %s  %-24s %s  %s  (%s)\n", pr.ID, pr.Concern, pr.Item.ID, oneLine(pr.Item.Title), withdrawnNote(pr))
				}
			}
			fmt.Fprintf(w, "\nhistory matches (older than the look-back when first matched; newest first):\n")
			if len(history) == 0 {
				fmt.Fprintf(w, "  none\n")
			}
			for i, h := range history {
				if i == limit {
					fmt.Fprintf(w, "  (%d more; -n %d to see them)\n", len(history)-limit, len(history))
					break
				}
				printPromptLine(w, h, loc)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the client as JSON")
	c.Flags().BoolVar(&log, "log", false, "print the engagement record")
	c.Flags().StringVar(&since, "since", "", "with --log: only events on or after DAY (YYYY-MM-DD)")
	c.Flags().IntVarP(&limit, "limit", "n", 20, "how many history matches to list")
	return c
}

// slaTerms says what the vulnerability SLA promises client p, and where
// each term comes from (the profile, or the configuration's [sla] for its
// tier), so that a maintainer can check it against the contract.
func slaTerms(cfg *configs.Config, p *configs.Profile) string {
	t := (&sla.Policy{Config: cfg}).Terms(p)
	if !t.Covered {
		return "none (sla = false in the profile): their requests are recorded, outside the SLA"
	}
	from := func(profile bool, key string) string {
		if profile {
			return "profile"
		}
		return "[sla] " + key
	}
	tier := p.Tier
	if tier == "" {
		tier = "response"
	}
	return fmt.Sprintf("may ask for %s after each qualifying vulnerability is published (%s); each request answered within %s (%s)",
		hours(t.Window), from(p.SLA.Window > 0, "window"), hours(t.Response), from(p.SLA.Response > 0, tier))
}

// hours writes a duration of whole hours as a contract does ("24h", not
// "1d"), any other as notify.FormatDuration.
func hours(d time.Duration) string {
	if d > 0 && d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return notify.FormatDuration(d)
}

// describeConcern says what a concern matches.
func describeConcern(c *configs.Concern) string {
	var parts []string
	if len(c.Packages) > 0 {
		parts = append(parts, "packages "+strings.Join(c.Packages, ", "))
	}
	if c.Query != "" {
		parts = append(parts, fmt.Sprintf("query %q", c.Query))
	}
	if len(c.Kinds) > 0 {
		parts = append(parts, "kinds "+strings.Join(c.Kinds, ", "))
	}
	return strings.Join(parts, "; ")
}

func (a *app) checkConfigCommand() *cobra.Command {
	var top int
	c := &cobra.Command{
		Use:   "check-config",
		Short: "Validate the configuration and client profiles; preview what each concern matches",
		Long: `Check-config reads the configuration file and every client profile and lists
every problem (file:line: what is wrong), exiting with status 1 if there is
any. When they are valid, it shows for every concern how many indexed items it
matches now and the most relevant ones, so that you can tune a query before
trusting it, with the concern's prompts so far.`,
		Example: "  reciprocal check-config",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := a.stdout
			var problems []error
			path, explicit := a.configPath()
			cfg, err := configs.Load(path)
			switch {
			case err == nil:
				if err := cfg.CheckClients(); err != nil {
					problems = append(problems, err)
				} else {
					fmt.Fprintf(w, "config:   %s: ok\n", path)
				}
			case errors.Is(err, fs.ErrNotExist) && !explicit:
				cfg = configs.Default()
				cfg.Path = ""
				fmt.Fprintf(w, "config:   none at %s: using the defaults\n", path)
			case errors.Is(err, fs.ErrNotExist):
				problems = append(problems, fmt.Errorf("%s does not exist", path))
			default:
				problems = append(problems, flatten(err)...)
			}
			dir := clientsDirOf(cfg, path)
			profiles, err := configs.LoadProfiles(dir)
			if err != nil {
				problems = append(problems, flatten(err)...)
			}
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(a.stderr, p)
				}
				return withHint(fmt.Errorf("check-config: %s", plural(len(problems), "problem")), "fix them and run 'reciprocal check-config' again; until then 'reciprocal match' changes nothing")
			}
			a.cfg = cfg
			nConcerns := 0
			for _, p := range profiles {
				nConcerns += len(p.Concerns)
			}
			if len(profiles) == 0 {
				fmt.Fprintf(w, "clients:  no profiles in %s: write one TOML file per client there\n", dir)
				return nil
			}
			fmt.Fprintf(w, "clients:  %s: %s, %s: ok\n", dir, plural(len(profiles), "client"), plural(nConcerns, "concern"))
			d, err := a.openDataIfAny()
			if err != nil {
				return err
			}
			if d == nil {
				for _, p := range profiles {
					fmt.Fprintf(w, "\n%s  %s (%s)\n", p.ID, oneLine(p.Name), p.Tier)
					fmt.Fprintf(w, "  SLA: %s\n", slaTerms(cfg, p))
				}
				fmt.Fprintln(w, "\nno data yet: run 'reciprocal sync' or 'reciprocal import' to see what each concern matches")
				return nil
			}
			defer d.Close()
			total, err := d.Index.Count()
			if err != nil {
				return err
			}
			status, err := match.Status(d.Store, profiles)
			if err != nil {
				return err
			}
			var counts map[queue.ConcernKey]map[queue.State]int
			err = d.Store.View(func(tx *store.Tx) error {
				counts, err = queue.CountsByConcern(tx)
				return err
			})
			if err != nil {
				return err
			}
			edits, err := match.PreviewEdits(cmd.Context(), d, profiles, a.now())
			if err != nil {
				return err
			}
			learned, err := match.Learnings(d.Store)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "index:    %d items\n", total)
			for _, p := range profiles {
				fmt.Fprintf(w, "\n%s  %s (%s)\n", p.ID, oneLine(p.Name), p.Tier)
				fmt.Fprintf(w, "  SLA: %s\n", slaTerms(cfg, p))
				for i := range p.Concerns {
					c := &p.Concerns[i]
					res, err := match.Preview(cmd.Context(), d.Index, c, top)
					if err != nil {
						return fmt.Errorf("%s/%s: %w", p.ID, c.ID, err)
					}
					n := counts[queue.ConcernKey{Client: p.ID, Concern: c.ID}]
					fmt.Fprintf(w, "  %s [%s]: %d items match now; prompts: %d open, %d done, %d history\n",
						c.ID, c.Priority, res.Total, n[queue.Open]+n[queue.Snoozed], n[queue.Done], n[queue.History])
					fmt.Fprintf(w, "    %s\n", describeConcern(c))
					if s := status[match.ConcernID{Client: p.ID, Concern: c.ID}]; !s.Current {
						fmt.Fprintf(w, "    new or changed: the next 'reciprocal match' evaluates it over the whole index\n")
					}
					if e := edits[match.ConcernID{Client: p.ID, Concern: c.ID}]; e != nil {
						a.printEdit(e, top)
					}
					if l, ok := learned[match.ConcernID{Client: p.ID, Concern: c.ID}]; ok {
						printLearned(w, &l)
					}
					switch {
					case res.Total == 0:
						fmt.Fprintf(w, "    warning: matches nothing now; check the packages and the query\n")
					case total > 0 && res.Total*20 > total:
						fmt.Fprintf(w, "    warning: matches %d%% of the index; narrow the query (+required words) or add packages\n", res.Total*100/total)
					}
					for _, h := range res.Hits {
						fmt.Fprintf(w, "      %-26s %-8s %s  %s\n", h.ID, h.Kind, h.Updated.Format(time.DateOnly), oneLine(h.Title))
					}
				}
			}
			return nil
		},
	}
	c.Flags().IntVarP(&top, "top", "n", 5, "how many of each concern's matches to show")
	return c
}

// clientsDirOf returns the clients directory of a configuration, or, when
// the configuration could not be loaded, the one its file names (or the
// default beside it), so that profiles are checked too.
func clientsDirOf(cfg *configs.Config, path string) string {
	if cfg != nil {
		return cfg.ClientsDir()
	}
	var raw struct {
		Clients string `toml:"clients"`
	}
	data, _ := os.ReadFile(path)
	toml.Decode(string(data), &raw)
	c := &configs.Config{Path: path, Clients: raw.Clients}
	if c.Clients == "" {
		c.Clients = configs.DefaultClients
	}
	return filepath.Clean(c.ClientsDir())
}

// plural writes "1 concern", "2 concerns".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// printEdit says what the next match does about an edited concern.
func (a *app) printEdit(e *match.EditPreview, top int) {
	w := a.stdout
	fmt.Fprintf(w, "    edited: the next 'reciprocal match' adds %s (%s) and withdraws %s\n",
		plural(len(e.Adds), "item"), plural(e.NewTopics, "new prompt"), plural(len(e.Withdraws), "open prompt"))
	for i, h := range e.Adds {
		if i == top {
			fmt.Fprintf(w, "      + … %d more\n", len(e.Adds)-top)
			break
		}
		fmt.Fprintf(w, "      + %-26s %s\n", h.ID, oneLine(h.Title))
	}
	for i, p := range e.Withdraws {
		if i == top {
			fmt.Fprintf(w, "      - … %d more\n", len(e.Withdraws)-top)
			break
		}
		fmt.Fprintf(w, "      - %s  %-26s %s\n", p.ID, p.Item.ID, oneLine(p.Item.Title))
	}
}

// clientLog prints the engagement record of client p.
func (a *app) clientLog(p *configs.Profile, profiles configs.Profiles, since string, asJSON bool) error {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	loc := cfg.Location()
	from, err := parseDay(since, "--since")
	if err != nil {
		return err
	}
	if !from.IsZero() {
		from = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc)
	}
	d, err := a.openDataIfAny()
	if err != nil {
		return err
	}
	if d != nil {
		defer d.Close()
	}
	rep, err := a.reports(d, false)
	if err != nil {
		return err
	}
	rec, err := rep.Engagement(p.ID, from)
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(rec)
	}
	w := a.stdout
	head := oneLine(p.Name) + " (" + p.ID + "): engagement record"
	if rec.Since != "" {
		head += " since " + rec.Since
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w)
	for _, e := range rec.Events {
		line := fmt.Sprintf("%s  %-12s  ", e.At.In(loc).Format("2006-01-02 15:04"), e.Kind)
		switch e.Kind {
		case engagement.Consultation:
			line += oneLine(e.Ref) + " (" + oneLine(e.Concern) + "): " + oneLine(e.Title)
		case engagement.Request:
			line += e.Ref + " about " + oneLine(e.Title)
			if e.Outside != "" {
				line += ", outside the SLA: " + oneLine(e.Outside)
			}
		case engagement.Answer:
			line += e.Ref + " about " + oneLine(e.Title) + ", in " + notify.FormatDuration(time.Duration(e.AnswerSeconds)*time.Second)
			if e.Within != nil && !*e.Within {
				line += " (late)"
			}
		case engagement.Alert:
			line += oneLine(e.Ref)
		default:
			line += oneLine(e.Title)
		}
		fmt.Fprintln(w, line)
		if e.Note != "" {
			fmt.Fprintf(w, "%18s  %-12s  %s\n", "", "", "\""+oneLine(e.Note)+"\"")
		}
	}
	if len(rec.Events) == 0 {
		fmt.Fprintln(w, "nothing recorded yet")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, rec.Line)
	return nil
}

// printLearned says what a concern learned from the maintainer's judgements.
func printLearned(w io.Writer, l *match.Learned) {
	line := fmt.Sprintf("    learned: %d marked relevant, %d not relevant", l.Relevant, l.NotRelevant)
	if len(l.Holds) == 0 {
		fmt.Fprintln(w, line+"; holds nothing back yet")
		return
	}
	var hs []string
	for _, h := range l.Holds {
		hs = append(hs, fmt.Sprintf("%s (%d not relevant)", oneLine(h.Feature), h.NotRelevant))
	}
	fmt.Fprintf(w, "%s; holds back new matches like: %s\n", line, strings.Join(hs, ", "))
	fmt.Fprintln(w, "             (unless something more specific was marked relevant; reset with 'reciprocal queue forget CLIENT/CONCERN')")
}
