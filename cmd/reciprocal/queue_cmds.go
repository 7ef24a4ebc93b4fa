package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/notify/report"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func init() {
	commands = append(commands, (*app).queueCommand)
}

// stateNames are the values --state accepts.
var stateNames = []string{"open", "snoozed", "done", "dismissed", "history", "merged", "withdrawn", "held", "all"}

func (a *app) queueCommand() *cobra.Command {
	var (
		client, state string
		asJSON        bool
		byPrompt      bool
		held          bool
		limit         int
	)
	c := &cobra.Command{
		Use:   "queue [--client C] [--state S] [-n N]",
		Short: "List consult prompts: whom to ask, about what, and why",
		Long: `Queue lists the open consult prompts, most pressing first: platinum clients
before gold before silver, high-priority concerns first, then the newest
trigger. There is one prompt per client, concern and topic: an issue, its CLs,
backports, release-branch cherry-picks, the vulnerability entry or a proposal
and its design doc are one story. Each says whom to ask, about which topic
(every item of it that matched, newest first), what happened, what the client
told you and when, and why each item matched.

--json prints one object per matched item (its prompt's id, topic, lead and
members repeated on each), so that scripts counting items see all of them;
--json --by-prompt prints one object per prompt.

--held lists the matches held back because they resemble prompts you marked
not relevant ('queue dismiss --not-relevant'), each with its reason;
'reciprocal queue reopen ID' puts one in the queue, 'reciprocal queue forget
CLIENT/CONCERN' forgets what a concern learned.

Act on a prompt with 'reciprocal queue done|snooze|dismiss|reopen ID', or see
all of it with 'reciprocal queue show ID'.`,
		Example: `  reciprocal queue
  reciprocal queue --client acme --state all
  reciprocal queue --json
  reciprocal queue --held`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 {
				return usagef("-n %d: want 0 (all) or more", limit)
			}
			if held {
				if cmd.Flags().Changed("state") {
					return usagef("--held is --state held: give one of them")
				}
				state = "held"
			}
			f := queue.Filter{Client: client}
			switch state {
			case "all":
				f.States = queue.States
			case "open", "snoozed", "done", "dismissed", "history", "merged", "withdrawn", "held":
				f.States = []queue.State{queue.State(state)}
			default:
				return usagef("--state %q: want one of %s", state, strings.Join(stateNames, ", "))
			}
			profiles, err := a.profiles()
			if err != nil {
				return err
			}
			if client != "" && profiles.Client(client) == nil {
				return unknownClient(client, profiles)
			}
			now := a.now()
			d, err := a.openData(false)
			if err != nil {
				return err
			}
			defer d.Close()
			es, err := queue.List(d.Store, profiles, f, now)
			if err != nil {
				return err
			}
			if byPrompt && !asJSON {
				return usagef("--by-prompt goes with --json")
			}
			if asJSON {
				if byPrompt {
					if es == nil {
						es = []queue.Entry{}
					}
					return a.printJSON(es)
				}
				return a.printJSON(queue.Rows(es))
			}
			if len(es) == 0 {
				what := state + " prompts"
				if state == "all" {
					what = "prompts"
				}
				if client != "" {
					what += " for " + client
				}
				fmt.Fprintf(a.stdout, "no %s\n", what)
				return nil
			}
			shown := es
			if limit > 0 && len(es) > limit {
				shown = es[:limit]
			}
			for i, e := range shown {
				if i > 0 {
					fmt.Fprintln(a.stdout)
				}
				a.printEntry(&e, now, false)
			}
			if len(shown) < len(es) {
				fmt.Fprintf(a.stdout, "\n(%d of %d; -n 0 for all)\n", len(shown), len(es))
			}
			return nil
		},
	}
	c.Flags().IntVarP(&limit, "limit", "n", 0, "show only the N most pressing (0: all)")
	c.Flags().StringVar(&client, "client", "", "only this client's prompts")
	c.Flags().StringVar(&state, "state", "open", "prompts in this state: "+strings.Join(stateNames, ", "))
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON array, one object per matched item")
	c.Flags().BoolVar(&byPrompt, "by-prompt", false, "with --json: one object per prompt")
	c.Flags().BoolVar(&held, "held", false, "list the matches held back as probably not relevant")
	c.AddCommand(a.queueShowCommand(), a.queueDoneCommand(), a.queueSnoozeCommand(), a.queueDismissCommand(), a.queueReopenCommand(), a.queueForgetCommand())
	return c
}

func unknownClient(id string, profiles configs.Profiles) error {
	known := "there are no client profiles"
	if len(profiles) > 0 {
		known = "clients: " + strings.Join(profiles.IDs(), ", ")
	}
	return withHint(fmt.Errorf("no client %q", id), known)
}

// printEntry writes one prompt for a person: the queue's summary, or with
// full, every trigger and what was done with it.
func (a *app) printEntry(e *queue.Entry, now time.Time, full bool) {
	w := a.stdout
	loc := a.location()
	about := e.Item.ID
	if n := len(e.Members); n > 1 {
		about += fmt.Sprintf(" (topic of %d items)", n)
	}
	fmt.Fprintf(w, "%s  [%s/%s]  Ask %s about %s\n", e.ID, e.Client.Tier, e.Concern.Priority, oneLine(e.Client.Name), about)
	who := oneLine(e.Client.Name)
	if len(e.Client.Contacts) > 0 {
		who += ": " + strings.Join(oneLines(e.Client.Contacts), ", ")
	}
	fmt.Fprintf(w, "  who:      %s\n", who)
	fmt.Fprintf(w, "  item:     %s\n", oneLine(e.Item.Title))
	fmt.Fprintf(w, "            %s  (%s)\n", oneLine(e.Item.URL), itemState(&e.Item))
	if full {
		for _, t := range e.Triggers {
			fmt.Fprintf(w, "  trigger:  %s  %s\n", t.At.In(loc).Format("2006-01-02 15:04"), oneLine(t.Description))
		}
	} else {
		fmt.Fprintf(w, "  trigger:  %s  %s\n", e.Trigger.At.In(loc).Format("2006-01-02 15:04"), oneLine(e.Trigger.Description))
	}
	fmt.Fprintf(w, "  told:     %s\n", told(e))
	fmt.Fprintf(w, "  why:      %s\n", oneLine(report.Why(&e.Reasons)))
	if e.HeldReason != "" && e.State == queue.Held {
		fmt.Fprintf(w, "  held:     %s\n", oneLine(e.HeldReason))
	}
	if e.MergedInto != "" {
		fmt.Fprintf(w, "  merged:   its topic joined another: see %s\n", e.MergedInto)
	}
	if e.Reasons.Snippet != "" {
		s := e.Reasons.Snippet.Text()
		if isTerminal(w) {
			s = e.Reasons.Snippet.ANSI()
		}
		fmt.Fprintf(w, "            %s\n", s)
	}
	if len(e.Members) > 1 {
		for i := range e.Members {
			m := &e.Members[i]
			fmt.Fprintf(w, "  member:   %s  %s  (%s; %s)\n", m.Item.ID, oneLine(m.Item.Title), itemState(&m.Item), report.Why(&m.Reasons))
		}
	}
	// The window is the client's whatever the prompt's state: a prompt
	// held back as probably not relevant, or snoozed, still shows it.
	if !e.ClockStart.IsZero() && (e.State == queue.Open || e.State == queue.Held || e.State == queue.Snoozed) {
		if profiles, err := a.profiles(); err == nil && profiles.Client(e.Client.ID) != nil {
			pol, _ := a.slaPolicy(profiles)
			if terms := pol.Terms(profiles.Client(e.Client.ID)); terms.Covered {
				closes := e.ClockStart.Add(terms.Window)
				left := "closed"
				if closes.After(now) {
					left = humanDuration(closes.Sub(now)) + " left"
				}
				fmt.Fprintf(w, "  sla:      published %s; they may ask until %s (%s)\n",
					e.ClockStart.In(loc).Format("2006-01-02 15:04"), closes.In(loc).Format("2006-01-02 15:04"), left)
			}
		}
	}
	if e.State == queue.Snoozed {
		fmt.Fprintf(w, "  snoozed:  until %s\n", e.Until.In(loc).Format("2006-01-02 15:04"))
	}
	if full {
		fmt.Fprintf(w, "  state:    %s (created %s)\n", e.State, e.Created.In(loc).Format("2006-01-02 15:04"))
		for _, ev := range e.Log {
			line := ev.At.In(loc).Format("2006-01-02 15:04") + "  " + ev.Action
			if !ev.Until.IsZero() {
				line += " until " + ev.Until.In(loc).Format("2006-01-02")
			}
			if ev.Note != "" {
				line += ": " + oneLine(ev.Note)
			}
			fmt.Fprintf(w, "  log:      %s\n", line)
		}
	}
}

// location is the time zone to show times in.
func (a *app) location() *time.Location {
	if cfg, err := a.config(); err == nil {
		return cfg.Location()
	}
	return time.Local
}

func itemState(it *queue.ItemInfo) string {
	s := it.Kind + ", " + it.State
	if it.Stage != "" {
		s += ", " + it.Stage
	}
	return s
}

// told says what the client told you: "On 2023-05-10 they told you: '…' (kick-off call)".
func told(e *queue.Entry) string {
	s := fmt.Sprintf("On %s they told you: '%s'", e.Concern.Told, oneLine(e.Concern.Summary))
	if e.Concern.Via != "" {
		s += " (" + oneLine(e.Concern.Via) + ")"
	}
	return s
}

// promptArg checks a prompt ID argument: a malformed ID is an error (exit 1),
// like an unknown one.
func promptArg(s string) (string, error) {
	id, err := queue.ParseID(s)
	if err != nil {
		return "", withHint(err, "list prompt IDs with 'reciprocal queue --state all'")
	}
	return id, nil
}

// notFound adds a hint to a prompt that does not exist.
func notFound(err error) error {
	if errors.Is(err, queue.ErrNotFound) {
		return withHint(err, "list prompt IDs with 'reciprocal queue --state all'")
	}
	return err
}

func (a *app) queueShowCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "show ID",
		Short:   "Show a prompt with its whole history",
		Example: "  reciprocal queue show p-k3xq9za",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := promptArg(args[0])
			if err != nil {
				return err
			}
			d, profiles, now, err := a.begin(false)
			if err != nil {
				return err
			}
			defer d.Close()
			var p *queue.Prompt
			err = d.Store.View(func(tx *store.Tx) error {
				p, err = queue.Get(tx, id)
				return err
			})
			if err != nil {
				return notFound(err)
			}
			e, ok := queue.NewEntry(p, profiles, now)
			if !ok {
				return fmt.Errorf("%s: client %s or its concern %s is no longer in the profiles", p.ID, p.Client, p.Concern)
			}
			if asJSON {
				return a.printJSON(e)
			}
			a.printEntry(&e, now, true)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the prompt as JSON")
	return c
}

// updatePrompt applies fn to the prompt named by arg and says what happened.
func (a *app) updatePrompt(arg, verb string, fn func(p *queue.Prompt, now time.Time) error) error {
	id, err := promptArg(arg)
	if err != nil {
		return err
	}
	now := a.now()
	d, err := a.openData(true)
	if err != nil {
		return err
	}
	defer d.Close()
	p, err := queue.Update(d.Store, id, func(p *queue.Prompt) error { return fn(p, now) })
	if err != nil {
		return notFound(err)
	}
	fmt.Fprintf(a.stdout, "%s %s: %s / %s / %s\n", p.ID, verb, p.Client, p.Concern, p.Item.ID)
	return nil
}

func (a *app) queueDoneCommand() *cobra.Command {
	var note string
	c := &cobra.Command{
		Use:   "done ID [--note TEXT]",
		Short: "Record that you consulted the client",
		Long: `Done closes a prompt: you asked the client. The note records what they said;
it shows in 'reciprocal client ID'. A later milestone of the item (a stage
change, a merge) opens the prompt again.`,
		Example: `  reciprocal queue done p-k3xq9za --note "Jane: they rotate ticket keys hourly; API is fine"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.updatePrompt(args[0], "done", func(p *queue.Prompt, now time.Time) error { return p.MarkDone(now, note) })
		},
	}
	c.Flags().StringVar(&note, "note", "", "what the client said")
	return c
}

// maxSnooze is the longest a prompt can be snoozed.
const maxSnooze = 3650 * 24 * time.Hour

func (a *app) queueSnoozeCommand() *cobra.Command {
	var until, dur, note string
	c := &cobra.Command{
		Use:   "snooze ID (--until DAY | --for DURATION)",
		Short: "Take a prompt out of the queue until a day",
		Long: `Snooze takes an open prompt out of the queue until the start of a day (in the
briefing's time zone) or for a while; then it is open again.`,
		Example: `  reciprocal queue snooze p-k3xq9za --until 2026-12-01
  reciprocal queue snooze p-k3xq9za --for 7d`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (until == "") == (dur == "") {
				return usagef("give --until DAY or --for DURATION")
			}
			var at time.Time
			if until != "" {
				t, err := time.ParseInLocation(time.DateOnly, until, a.location())
				if err != nil {
					return usagef("--until %q: want a day like 2026-12-01", until)
				}
				at = t
				now := a.now()
				if at.Sub(now) > maxSnooze {
					return usagef("--until %s: at most %dd (ten years) from now; to stop a prompt for good, dismiss it", until, maxSnooze/(24*time.Hour))
				}
			}
			var d time.Duration
			if dur != "" {
				var err error
				if d, err = configs.ParseDuration(dur); err != nil {
					return usagef("--for: %v", err)
				}
				if d > maxSnooze {
					return usagef("--for %s: at most %dd (ten years); to stop a prompt for good, dismiss it", dur, maxSnooze/(24*time.Hour))
				}
			}
			return a.updatePrompt(args[0], "snoozed", func(p *queue.Prompt, now time.Time) error {
				if at.IsZero() {
					at = now.Add(d)
				}
				if err := p.Snooze(now, at, note); err != nil {
					return err
				}
				return nil
			})
		},
	}
	c.Flags().StringVar(&until, "until", "", "snooze until this day (YYYY-MM-DD)")
	c.Flags().StringVar(&dur, "for", "", "snooze for this long (7d, 2w, 36h)")
	c.Flags().StringVar(&note, "note", "", "why")
	return c
}

func (a *app) queueDismissCommand() *cobra.Command {
	var (
		note        string
		notRelevant bool
	)
	c := &cobra.Command{
		Use:   "dismiss ID [--note TEXT]",
		Short: "Never prompt again for this client, concern and item",
		Long: `Dismiss closes a prompt for good: milestones of the item do not bring it back
for this client and concern. 'reciprocal queue reopen ID' undoes it.

--not-relevant also records that the prompt was not relevant to the concern
(done records that it was): new matches that resemble what you marked not
relevant, and not what you marked relevant, are held back from then on.`,
		Example: `  reciprocal queue dismiss p-k3xq9za --note "they no longer use ticket keys"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if notRelevant {
				return a.updatePrompt(args[0], "dismissed as not relevant", func(p *queue.Prompt, now time.Time) error {
					return p.DismissNotRelevant(now, note)
				})
			}
			return a.updatePrompt(args[0], "dismissed", func(p *queue.Prompt, now time.Time) error { return p.Dismiss(now, note) })
		},
	}
	c.Flags().StringVar(&note, "note", "", "why")
	c.Flags().BoolVar(&notRelevant, "not-relevant", false, "record that it was not relevant: similar matches are held back")
	return c
}

func (a *app) queueForgetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "forget CLIENT/CONCERN",
		Short: "Forget what a concern learned from your judgements",
		Long: `Forget drops the judgements (done, dismiss --not-relevant) recorded so far for
one concern, so that nothing is held back on their account any more, and puts
the matches it held back in the queue.`,
		Example: "  reciprocal queue forget acme/tls-session-resumption",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, concern, ok := strings.Cut(args[0], "/")
			if !ok || client == "" || concern == "" {
				return usagef("%q: want CLIENT/CONCERN, like acme/tls-session-resumption", args[0])
			}
			profiles, err := a.profiles()
			if err != nil {
				return err
			}
			cl := profiles.Client(client)
			if cl == nil {
				return unknownClient(client, profiles)
			}
			if cl.Concern(concern) == nil {
				var ids []string
				for _, c := range cl.Concerns {
					ids = append(ids, c.ID)
				}
				return withHint(fmt.Errorf("client %s has no concern %q", client, concern), "concerns: "+strings.Join(ids, ", "))
			}
			d, err := a.openData(true)
			if err != nil {
				return err
			}
			defer d.Close()
			var released []*queue.Prompt
			err = d.Store.Update(func(tx *store.Tx) error {
				released, err = queue.Forget(tx, client, concern, a.now())
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s/%s: forgot its judgements; %s back in the queue\n", client, concern, plural(len(released), "held match"))
			for _, p := range released {
				fmt.Fprintf(a.stdout, "  %s  %s  %s\n", p.ID, p.Item.ID, oneLine(p.Item.Title))
			}
			return nil
		},
	}
}

func (a *app) queueReopenCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "reopen ID",
		Short:   "Put a done, snoozed, dismissed or history prompt back in the queue",
		Example: "  reciprocal queue reopen p-k3xq9za",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.updatePrompt(args[0], "reopened", func(p *queue.Prompt, now time.Time) error { return p.Reopen(now) })
		},
	}
}

// printPromptLine writes a prompt on one line, for lists of history.
func printPromptLine(w io.Writer, p *queue.Prompt, loc *time.Location) {
	fmt.Fprintf(w, "  %s  %s  %-9s %-24s %s  %s\n", p.Item.Updated.In(loc).Format(time.DateOnly), p.ID, p.State, p.Concern, p.Item.ID, oneLine(p.Item.Title))
}

// humanDuration writes a duration for people: "3d 4h", "5h 20m", "12m".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, mins := d/(24*time.Hour), d%(24*time.Hour)/time.Hour, d%time.Hour/time.Minute
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dm", mins)
}
