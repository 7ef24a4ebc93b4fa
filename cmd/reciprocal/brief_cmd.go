package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	_ "time/tzdata" // briefing time zones work on systems without zoneinfo

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/report"
	"github.com/reciprocal-access/reciprocal/watcher"
)

func init() {
	commands = append(commands, (*app).briefCommand)
}

func (a *app) briefCommand() *cobra.Command {
	var (
		dryRun, ifDue bool
		out, resend   string
	)
	c := &cobra.Command{
		Use:   "brief [--dry-run] [--out FILE|-] [--resend DATE]",
		Short: "Compose and send today's briefing",
		Long: `Brief composes today's briefing (vulnerabilities on the clock, consult prompts
by client, proposals changing stage, sync health) and sends it to the [smtp]
recipients. The day is the day in [briefing] timezone.

A day's briefing is composed once and kept in the outbox until the server
accepts it: if sending fails for a reason that may pass (the server is down,
answers 4xx, TLS or authentication fails), the next run sends the same
message again, with the same Message-ID. A briefing the server refuses (5xx)
is marked failed. Either way it is not sent twice: --resend DATE sends a
stored briefing again, under a new Message-ID.

--dry-run prints the plain text part instead of sending; --out writes the
whole RFC 5322 message to FILE, or to standard output with --out -. Neither
touches the outbox. --if-due sends only once [briefing] at has passed, for
running brief often from cron.`,
		Example: `  reciprocal brief --dry-run
  reciprocal brief --out - | less
  reciprocal brief
  reciprocal brief --resend 2026-11-24`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var resendDay notify.Date
			if resend != "" {
				if dryRun || out != "" || ifDue {
					return usagef("--resend cannot be combined with --dry-run, --out or --if-due")
				}
				var err error
				if resendDay, err = notify.ParseDate(resend); err != nil {
					return usagef("--resend %q: want the day of a briefing, like 2026-11-24", resend)
				}
			}
			if ifDue && (dryRun || out != "") {
				return usagef("--if-due only applies when sending")
			}
			if out != "" && out != "-" {
				if err := a.checkOutput("--out", out); err != nil {
					return err
				}
			}
			cfg, err := a.config()
			if err != nil {
				return err
			}
			send := !dryRun && out == ""
			if send && cfg.SMTP == nil {
				path, _ := a.configPath()
				return withHint(errors.New("brief: no [smtp] section in the configuration, so there is nowhere to send the briefing"), smtpHint(path))
			}
			d, err := a.openData(send)
			if err != nil {
				return err
			}
			defer d.Close()

			t := a.now()
			if !send {
				day := notify.ScheduleOf(cfg).Today(t)
				rep, err := a.reports(d, false)
				if err != nil {
					return err
				}
				b, err := rep.Briefing(day)
				if err != nil {
					return err
				}
				m, err := notify.Compose(b, a.composeOptions(cfg))
				if errors.Is(err, notify.ErrNothingToSend) {
					fmt.Fprintf(a.stderr, "nothing to send for %s (skip_empty = true)\n", day)
					return nil
				}
				if err != nil {
					return fmt.Errorf("brief: %w", err)
				}
				switch out {
				case "-":
					_, err = a.stdout.Write(m.Raw)
					return err
				case "":
					fmt.Fprintf(a.stdout, "Subject: %s\n\n%s", m.Subject, m.Text)
					fmt.Fprintf(a.stderr, "dry run: not sent\n")
					return nil
				}
				err = a.writeOutput("--out", out, func(w io.Writer) error { _, err := w.Write(m.Raw); return err })
				if err != nil {
					return fmt.Errorf("brief: %w", err)
				}
				fmt.Fprintf(a.stderr, "wrote the briefing for %s to %s (%d bytes); not sent\n", day, out, len(m.Raw))
				return nil
			}

			if resend != "" {
				res, err := a.outbox(d).Resend(cmd.Context(), resendDay, a.sender(cfg))
				if errors.Is(err, notify.ErrNoBriefing) {
					return withHint(fmt.Errorf("brief: --resend %s: %w", resendDay, err), "the outbox keeps the briefings it composed; 'reciprocal brief' composes today's")
				}
				if err != nil {
					return sendFailure(cfg, resendDay, err)
				}
				fmt.Fprintf(a.stdout, "resent the briefing for %s: %s\n", resendDay, res.Entry.Describe(cfg.Location()))
				return nil
			}

			return a.deliver(cmd.Context(), d, t, ifDue)
		},
	}
	f := c.Flags()
	f.BoolVar(&dryRun, "dry-run", false, "print the briefing's text instead of sending it")
	f.StringVar(&out, "out", "", "write the RFC 5322 message to FILE (- for standard output) instead of sending it")
	f.StringVar(&resend, "resend", "", "send the stored briefing of DATE (YYYY-MM-DD) again")
	f.BoolVar(&ifDue, "if-due", false, "send only if today's briefing is due and not yet sent")
	return c
}

// deliver sends the briefing of the day of t, unless it was sent already;
// with ifDue, only once [briefing] at has passed. It says what happened.
func (a *app) deliver(ctx context.Context, d *watcher.Data, t time.Time, ifDue bool) error {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	sched := notify.ScheduleOf(cfg)
	day := sched.Today(t)
	loc := cfg.Location()
	ob := a.outbox(d)
	if ifDue {
		_, due, err := ob.Due(sched, t)
		if err != nil {
			return err
		}
		if !due {
			if e, ok, _ := ob.Entry(day); ok {
				fmt.Fprintf(a.stdout, "briefing for %s: %s\n", day, e.Describe(loc))
			} else {
				fmt.Fprintf(a.stdout, "briefing for %s: not due until %s\n", day, sched.DueAt(day).Format("Mon 2 Jan 15:04 MST"))
			}
			return nil
		}
	}
	opts := a.composeOptions(cfg)
	compose := func() (*notify.Message, error) {
		rep, err := a.reports(d, false)
		if err != nil {
			return nil, err
		}
		b, err := rep.Briefing(day)
		if err != nil {
			return nil, err
		}
		return notify.Compose(b, opts)
	}
	res, err := ob.Deliver(ctx, day, compose, a.sender(cfg))
	switch {
	case errors.Is(err, notify.ErrNothingToSend):
		fmt.Fprintf(a.stdout, "nothing to send for %s (skip_empty = true)\n", day)
		return nil
	case err != nil:
		return sendFailure(cfg, day, err)
	case !res.Attempted && res.Entry.State == notify.StateFailed:
		return withHint(fmt.Errorf("brief: the briefing for %s was %s", day, res.Entry.Describe(loc)),
			fmt.Sprintf("fix the cause, then send it again with 'reciprocal brief --resend %s'", day))
	case !res.Attempted:
		fmt.Fprintf(a.stdout, "the briefing for %s was already %s\n", day, res.Entry.Describe(loc))
		fmt.Fprintf(a.stdout, "'reciprocal brief --resend %s' sends it again\n", day)
		return nil
	}
	fmt.Fprintf(a.stdout, "sent the briefing for %s to %s: %s\n", day, strings.Join(res.Entry.To, ", "), res.Entry.Subject)
	return nil
}

// outbox returns the briefing outbox of d, on the commands' clock.
func (a *app) outbox(d *watcher.Data) *notify.Outbox {
	return (&report.Env{Data: d, Now: a.clock}).Outbox()
}

// composeOptions returns how briefings are composed.
func (a *app) composeOptions(cfg *configs.Config) notify.Options {
	opts := notify.OptionsFrom(cfg)
	opts.CloseCommand = "reciprocal queue done"
	return opts
}

// sender returns how briefings are sent: over SMTP.
func (a *app) sender(cfg *configs.Config) notify.Sender {
	return notify.NewSMTP(cfg.SMTP)
}

// sendFailure explains a failed delivery of the briefing of day.
func sendFailure(cfg *configs.Config, day notify.Date, err error) error {
	err = fmt.Errorf("brief: %w", err)
	var se *notify.SendError
	if !errors.As(err, &se) {
		return err
	}
	retry := "the briefing stays in the outbox; the next 'reciprocal brief' sends it, with the same Message-ID"
	switch {
	case se.Permanent:
		return withHint(err, fmt.Sprintf("the briefing for %s is marked failed; fix the cause, then 'reciprocal brief --resend %s'", day, day))
	case errors.Is(err, notify.ErrNoSTARTTLS):
		return withHint(err, "if the server takes implicit TLS, set tls = \"tls\" and port = 465 in [smtp]; "+retry)
	case se.Step == "password":
		return withHint(err, "set the SMTP password in $"+passwordEnv(cfg.SMTP)+", or set password_cmd in [smtp]; "+retry)
	case se.Step == "auth":
		return withHint(err, "check username and the password in [smtp]; "+retry)
	case se.Step == "tls":
		return withHint(err, "the server's certificate is not trusted for "+cfg.SMTP.Host+"; "+retry)
	}
	return withHint(err, retry)
}

func passwordEnv(s *configs.SMTP) string {
	if s.PasswordEnv != "" {
		return s.PasswordEnv
	}
	return notify.DefaultPasswordEnv
}

// smtpHint shows the [smtp] section to add to the configuration file at
// path.
func smtpHint(path string) string {
	return `add an [smtp] section to ` + path + `, like
  [smtp]
  host = "smtp.example.com"
  port = 587
  tls = "starttls"
  username = "me@example.com"
  password_env = "RECIPROCAL_SMTP_PASSWORD"
  from = "reciprocal <me@example.com>"
  to = ["me@example.com"]
or preview the briefing with 'reciprocal brief --dry-run'`
}
