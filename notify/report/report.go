// Package report builds what reciprocal tells the maintainer from the store,
// the prompt queue and the client profiles: the daily briefing's content,
// the health report of 'reciprocal status', and each client's history. It
// decides what goes in a report and why; it neither renders (package notify
// composes the briefing's e-mail, cmd/reciprocal prints the rest) nor
// delivers.
//
// Every report is a method of Env, which holds what all of them read: the
// open data directory, the configuration, the client profiles and the one
// clock. A new report (alerts, notes to clients, digests, the engagement
// record) is a new method beside these, reading the same Env.
package report

import (
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/sla"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/advisories"
)

// Env is what reports are built from.
type Env struct {
	// Data is the open data directory. Reports that make sense without
	// one (Clients, Client) accept nil: nothing synced or imported yet.
	Data *watcher.Data
	// Config is the loaded configuration.
	Config *configs.Config
	// Profiles are the client profiles.
	Profiles configs.Profiles
	// ProfilesErr, if set, is why the profiles could not be loaded.
	// Reports that go on without profiles (Status) say so; the others
	// need Profiles.
	ProfilesErr error
	// Now is the clock: every time a report reads or records comes from
	// it. Nil means time.Now; the command line sets it once (the real
	// time, or RECIPROCAL_NOW), and tests and the demo set their own.
	Now func() time.Time
}

// now returns the current time on the Env's clock.
func (e *Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// SLAPolicy returns the vulnerability SLA of the configuration and the
// profiles.
func (e *Env) SLAPolicy() *sla.Policy {
	return &sla.Policy{Config: e.Config, Profiles: e.Profiles, Own: advisories.Repos(e.Config)}
}

// Mailbox returns the outbox of messages other than the briefing (alerts,
// notes), on the Env's clock.
func (e *Env) Mailbox() *notify.Mailbox {
	mb := notify.NewMailbox(e.Data.Store)
	mb.Now = e.now
	return mb
}

// Outbox returns the briefing outbox of the data directory, on the Env's
// clock.
func (e *Env) Outbox() *notify.Outbox {
	ob := notify.NewOutbox(e.Data.Store)
	ob.Now = e.now
	return ob
}
