package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/report"
	"github.com/reciprocal-access/reciprocal/notify/sla"
)

func init() {
	commands = append(commands, (*app).slaCommand)
}

// slaPolicy returns the SLA policy of the configuration and profiles.
func (a *app) slaPolicy(profiles configs.Profiles) (*sla.Policy, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	return (&report.Env{Config: cfg, Profiles: profiles}).SLAPolicy(), nil
}

func (a *app) slaCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "sla",
		Short: "Record clients' requests under the vulnerability SLA, and answers",
		Long: `The vulnerability SLA: after a vulnerability in Go itself, in one of your own
projects or touching a client's concern is published, the client may ask for
help for a window ([sla] window, 24h by default), and each request is answered
within the response time ([sla] response, 6h by default). A profile may change
both, or say sla = false.

'sla ask' records a request and starts its clock; 'sla answer' stops it;
'sla list' shows them all. Open requests appear in the briefing and in
'reciprocal status', which exits 1 while one is overdue. A request outside the
window (or from a client without the SLA, or about a vulnerability that does
not qualify) is recorded too, marked as such, and starts no clock.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return usagef("sla: say ask, answer or list") },
	}
	c.AddCommand(a.slaAskCommand(), a.slaAnswerCommand(), a.slaListCommand())
	return c
}

// parseWhen reads a time given on the command line: RFC 3339, or
// "YYYY-MM-DD HH:MM" in the briefing's time zone.
func parseWhen(flag, s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("%s %q: want a time like 2026-11-24T09:10:00+01:00 or \"2026-11-24 09:10\" (in the briefing's time zone)", flag, s)
}

func (a *app) slaAskCommand() *cobra.Command {
	var at, note string
	c := &cobra.Command{
		Use:   "ask CLIENT VULN [--at TIME] [--note TEXT]",
		Short: "Record that a client asked for help about a vulnerability",
		Example: `  reciprocal sla ask acme GO-2026-4951 --note "Jane: are we affected?"
  reciprocal sla ask acme GO-2026-4951 --at "2026-11-24 09:10"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			d, profiles, t, err := a.begin(true)
			if err != nil {
				return err
			}
			defer d.Close()
			if at != "" {
				if t, err = parseWhen("--at", at, cfg.Location()); err != nil {
					return err
				}
			}
			rep, err := a.reports(d, false)
			if err != nil {
				return err
			}
			r, err := rep.AskSLA(args[0], args[1], t, note)
			switch {
			case errors.Is(err, report.ErrNoClient):
				return withHint(fmt.Errorf("sla ask: %w", err), "clients: "+strings.Join(profiles.IDs(), ", "))
			case errors.Is(err, report.ErrNotFound):
				return withHint(fmt.Errorf("sla ask: %w", err), "'reciprocal search --kind vuln' lists the vulnerabilities in the store; 'reciprocal sync' fetches new ones")
			case err != nil:
				return fmt.Errorf("sla ask: %w", err)
			}
			p := profiles.Client(r.Client)
			loc := cfg.Location()
			fmt.Fprintf(a.stdout, "%s  %s asked about %s at %s\n", r.ID, oneLine(p.Name), r.Vuln, r.Asked.In(loc).Format("Mon 2 Jan 15:04 MST"))
			if r.Covered() {
				fmt.Fprintf(a.stdout, "    answer by %s (%s response; the window closes %s)\n",
					r.Deadline.In(loc).Format("Mon 2 Jan 15:04 MST"), notify.FormatDuration(r.Deadline.Sub(r.Asked)), r.WindowCloses.In(loc).Format("Mon 2 Jan 15:04 MST"))
			} else {
				fmt.Fprintf(a.stdout, "    recorded outside the SLA: %s\n", r.Outside)
			}
			return nil
		},
	}
	c.Flags().StringVar(&at, "at", "", "when the request came in (default now)")
	c.Flags().StringVar(&note, "note", "", "what they asked")
	return c
}

func (a *app) slaAnswerCommand() *cobra.Command {
	var at, note string
	c := &cobra.Command{
		Use:     "answer REQ [--note TEXT]",
		Short:   "Record that a request was answered",
		Example: `  reciprocal sla answer r1 --note "not affected: one Config per listener"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if _, err := sla.ParseID(args[0]); err != nil {
				return &usageError{err}
			}
			t := a.now()
			if at != "" {
				if t, err = parseWhen("--at", at, cfg.Location()); err != nil {
					return err
				}
			}
			d, err := a.openData(true)
			if err != nil {
				return err
			}
			defer d.Close()
			r, err := sla.Answer(d.Store, args[0], t, note)
			if errors.Is(err, sla.ErrNoRequest) {
				return withHint(err, "'reciprocal sla list' shows the requests")
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s answered %s\n", r.ID, answerSummary(&r))
			return nil
		},
	}
	c.Flags().StringVar(&at, "at", "", "when it was answered (default now)")
	c.Flags().StringVar(&note, "note", "", "what you told them")
	return c
}

// answerSummary says how an answered request went: "in 1h 40m, within the
// 6h response".
func answerSummary(r *sla.Request) string {
	s := "in " + notify.FormatDuration(r.AnswerTime())
	switch {
	case !r.Covered():
		return s + " (outside the SLA)"
	case r.WithinResponse():
		return s + ", within the " + notify.FormatDuration(r.Deadline.Sub(r.Asked)) + " response"
	}
	return s + ", " + notify.FormatDuration(r.Answered.Sub(r.Deadline)) + " late"
}

func (a *app) slaListCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the SLA requests, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			t := a.now()
			d, err := a.openData(false)
			if err != nil {
				return err
			}
			defer d.Close()
			rs, err := sla.List(d.Store)
			if err != nil {
				return err
			}
			if asJSON {
				rows := []report.SLARow{}
				for _, r := range rs {
					row := report.SLARow{Request: r, State: report.SLAState(&r, t)}
					if r.IsOpen() && r.Covered() {
						row.LeftSeconds = int64(r.Left(t) / time.Second)
					}
					rows = append(rows, row)
				}
				return a.printJSON(rows)
			}
			if len(rs) == 0 {
				fmt.Fprintln(a.stdout, "no SLA requests recorded ('reciprocal sla ask CLIENT VULN' records one)")
				return nil
			}
			loc := cfg.Location()
			for _, r := range rs {
				fmt.Fprintf(a.stdout, "%-4s %-12s %-20s asked %s  %s\n", r.ID, r.Client, r.Vuln, r.Asked.In(loc).Format("Mon 2 Jan 15:04"), slaStatus(&r, t, loc))
				if r.Note != "" {
					fmt.Fprintf(a.stdout, "     asked:  %s\n", oneLine(r.Note))
				}
				if r.AnswerNote != "" {
					fmt.Fprintf(a.stdout, "     answer: %s\n", oneLine(r.AnswerNote))
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the requests as JSON")
	return c
}

// slaStatus says where a request stands at t, in a line.
func slaStatus(r *sla.Request, t time.Time, loc *time.Location) string {
	switch report.SLAState(r, t) {
	case "answered":
		return "answered " + answerSummary(r)
	case "outside":
		return "outside the SLA: " + r.Outside
	case "overdue":
		return fmt.Sprintf("OVERDUE by %s (answer was due %s)", notify.FormatDuration(r.Left(t)), r.Deadline.In(loc).Format("Mon 2 Jan 15:04 MST"))
	}
	return fmt.Sprintf("open, %s left (answer by %s)", notify.FormatDuration(r.Left(t)), r.Deadline.In(loc).Format("Mon 2 Jan 15:04 MST"))
}
