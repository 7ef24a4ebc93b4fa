package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/alert"
	"github.com/reciprocal-access/reciprocal/notify/report"
	"github.com/reciprocal-access/reciprocal/watcher"
)

// mailbox returns the mailbox of d (alerts, notes, digests), on the
// commands' clock.
func (a *app) mailbox(d *watcher.Data) *notify.Mailbox {
	return (&report.Env{Data: d, Now: a.clock}).Mailbox()
}

// sendAlerts is the alert step of a pass: with [smtp] set, it e-mails the
// maintainer about every newly published vulnerability whose SLA window
// is open, and retries the alerts still pending (notify/report's Alerts),
// saying what it did on w. Profiles that do not load stop it: nothing may
// be decided on a half-read set of clients.
func (a *app) sendAlerts(ctx context.Context, d *watcher.Data, w io.Writer) error {
	cfg, err := a.config()
	if err != nil || cfg.SMTP == nil {
		return err
	}
	rep, err := a.reports(d, false)
	if err != nil {
		return err
	}
	res, err := rep.Alerts(ctx, a.sender(cfg))
	for _, c := range res.Composed {
		what := "alert"
		if c.FollowUp {
			what = "follow-up (versions amended)"
		}
		who := "no client"
		if len(c.Clients) > 0 {
			who = strings.Join(c.Clients, ", ")
		}
		fmt.Fprintf(w, "alert: %s %s for %s\n", c.ID, what, who)
	}
	for _, e := range res.Delivered {
		fmt.Fprintf(w, "alert: %s %s\n", strings.TrimPrefix(e.Key, alert.KeyPrefix), e.Describe(cfg.Location()))
	}
	if err != nil {
		var se *notify.SendError
		if errors.As(err, &se) && !se.Permanent {
			return withHint(fmt.Errorf("alerts: %w", err), "the alerts stay in the mailbox; the next pass sends them, with the same Message-ID")
		}
		return fmt.Errorf("alerts: %w", err)
	}
	return nil
}
