package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/watcher/source"
)

func init() {
	commands = append(commands, (*app).runCommand, (*app).watchCommand)
}

func (a *app) runCommand() *cobra.Command {
	var noBrief bool
	c := &cobra.Command{
		Use:   "run",
		Short: "One pass for cron: sync, index, match, and send the briefing if due",
		Long: `Run does one pass of reciprocal's job: sync every source, index what changed,
match it against the client profiles, e-mail an alert about each newly
published vulnerability whose SLA window is open (once per vulnerability),
and send today's briefing once [briefing] at has passed and it has not been
sent yet. A failing source is
reported and the rest of the pass goes on; the exit status is then 1.

Run it from cron every 15 minutes or so (configs/example/crontab), or let
'reciprocal watch' do the same in one long-running process.`,
		Example: "  reciprocal run\n  */15 * * * * reciprocal run >> ~/.local/state/reciprocal.log 2>&1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.pass(cmd.Context(), !noBrief)
		},
	}
	c.Flags().BoolVar(&noBrief, "no-brief", false, "sync and match only; do not send the briefing")
	return c
}

// pass is one run: sync, match, and the briefing if due. Every step runs
// even if an earlier one failed (matching what was synced is still worth
// it); the errors are joined.
func (a *app) pass(ctx context.Context, brief bool) error {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	t := a.now()
	d, err := a.openData(true)
	if err != nil {
		return err
	}
	defer d.Close()

	var errs []error
	results, err := a.syncSources(ctx, d, "", source.Options{Now: a.now})
	for _, r := range results {
		fmt.Fprintln(a.stdout, summarize(r))
	}
	if err := syncFailure(results, err); err != nil {
		errs = append(errs, err)
	}
	if ctx.Err() != nil {
		return errors.Join(errs...)
	}
	// Invalid profiles stop matching (and so the briefing), not syncing.
	profiles, err := a.profiles()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	res, err := a.runMatch(ctx, d, profiles, t, false)
	if err != nil {
		errs = append(errs, err)
	} else {
		a.printMatch(res, profiles)
	}
	if ctx.Err() == nil {
		if err := a.sendAlerts(ctx, d, a.stdout); err != nil {
			errs = append(errs, err)
		}
	}
	if brief && ctx.Err() == nil {
		if cfg.SMTP == nil {
			fmt.Fprintln(a.stdout, "briefing: not sent, there is no [smtp] in the configuration ('reciprocal brief --dry-run' shows it)")
		} else if err := a.deliver(ctx, d, t, true); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (a *app) watchCommand() *cobra.Command {
	var every time.Duration
	c := &cobra.Command{
		Use:   "watch [--every 15m]",
		Short: "Run the pass every interval, and the briefing at its time (a daemon)",
		Long: `Watch is reciprocal as a daemon: the same pass as 'reciprocal run' every
interval, and one more at [briefing] at so that the briefing goes out on
time. Between passes it holds no lock, so 'reciprocal search' and the other
commands work while it runs. A failing source is logged and tried again at the
next pass. SIGINT or SIGTERM lets the current step finish its transaction and
exits 0. It logs with slog, one structured line per event, to standard error
(configs/example/reciprocal.service runs it under systemd).`,
		Example: "  reciprocal watch\n  reciprocal watch --every 5m",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if every < time.Minute {
				return usagef("--every %s: want at least 1m", every)
			}
			return a.watch(cmd.Context(), every)
		},
	}
	c.Flags().DurationVar(&every, "every", 15*time.Minute, "time between passes")
	return c
}

// watch runs passes until ctx is cancelled.
func (a *app) watch(ctx context.Context, every time.Duration) error {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	if os.Getenv("RECIPROCAL_LOG") == "" {
		// A daemon logs what it does, terminal or not.
		slog.SetDefault(slog.New(slog.NewTextHandler(a.stderr, nil)))
	}
	log := slog.Default()
	sched := notify.ScheduleOf(cfg)
	log.Info("watching", "every", every, "briefing_at", cfg.Briefing.At, "timezone", cfg.Location().String())
	for {
		start := time.Now()
		if err := a.pass(ctx, true); err != nil {
			if ctx.Err() != nil {
				break
			}
			log.Error("pass failed; trying again at the next pass", "err", err)
		} else {
			log.Info("pass done", "took", time.Since(start).Round(time.Millisecond))
		}
		t := a.now()
		wait := every
		if untilBrief := sched.Next(t).Sub(t); untilBrief > 0 && untilBrief < wait {
			wait = untilBrief + time.Second
		}
		log.Info("next pass", "in", wait.Round(time.Second))
		select {
		case <-ctx.Done():
		case <-time.After(wait):
			continue
		}
		break
	}
	log.Info("stopped by signal; state is saved")
	return nil
}
