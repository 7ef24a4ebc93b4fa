package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/alert"
	"github.com/reciprocal-access/reciprocal/notify/digest"
	"github.com/reciprocal-access/reciprocal/notify/engagement"
	"github.com/reciprocal-access/reciprocal/notify/note"
	"github.com/reciprocal-access/reciprocal/notify/sla"
	"github.com/reciprocal-access/reciprocal/watcher"
)

// The reports of the client side of the offer: the SLA requests, the
// alerts, notes and digests to clients, and the engagement record. Each
// reads the Env's data, configuration, profiles and clock.

// ErrNoClient reports a client ID that no profile has.
var ErrNoClient = errors.New("no such client")

// client returns the profile of id.
func (e *Env) client(id string) (*configs.Profile, error) {
	if e.ProfilesErr != nil {
		return nil, e.ProfilesErr
	}
	if p := e.Profiles.Client(id); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("no client %q: %w", id, ErrNoClient)
}

// vuln reads item id and the concerns it touches, by client
// (sla.Policy.Matched).
func (e *Env) vuln(id string) (*index.Item, map[string][]string, error) {
	it, _, err := e.Data.Item(id)
	if err != nil {
		return nil, nil, err
	}
	matched, err := e.SLAPolicy().Matched(context.Background(), e.Data, []*index.Item{&it})
	if err != nil {
		return nil, nil, err
	}
	return &it, matched[it.ID], nil
}

// AskSLA records that client asked about vulnerability vuln at t, and
// decides whether the request is within their SLA.
func (e *Env) AskSLA(client, vuln string, t time.Time, text string) (sla.Request, error) {
	p, err := e.client(client)
	if err != nil {
		return sla.Request{}, err
	}
	it, matched, err := e.vuln(vuln)
	if err != nil {
		return sla.Request{}, err
	}
	r := sla.Request{Client: p.ID, Vuln: it.ID, Asked: t, Note: text}
	e.SLAPolicy().Decide(&r, it, p, matched[p.ID])
	return sla.Add(e.Data.Store, r)
}

// Alerts is the alert step of a pass: it composes the alerts due now and
// sends every pending one through s, from and to the [smtp] addresses.
func (e *Env) Alerts(ctx context.Context, s notify.Sender) (alert.Result, error) {
	if e.ProfilesErr != nil {
		return alert.Result{}, e.ProfilesErr
	}
	if e.Config.SMTP == nil {
		return alert.Result{}, errors.New("alerts: no [smtp] in the configuration")
	}
	al := &alert.Alerter{Data: e.Data, Policy: e.SLAPolicy(), Mailbox: e.Mailbox(),
		From: e.Config.SMTP.From, To: e.Config.SMTP.To, Location: e.Config.Location()}
	return al.Pass(ctx, e.now(), s)
}

// VulnNotes drafts the notes about vulnerability id to each client it
// touches or whose SLA covers it (only client, if set).
func (e *Env) VulnNotes(id, client string) ([]note.Draft, error) {
	if e.ProfilesErr != nil {
		return nil, e.ProfilesErr
	}
	if client != "" {
		if _, err := e.client(client); err != nil {
			return nil, err
		}
	}
	it, matched, err := e.vuln(id)
	if err != nil {
		return nil, err
	}
	if it.Kind != index.KindVuln {
		return nil, fmt.Errorf("%s is not a vulnerability (it is a %s)", it.ID, it.Kind)
	}
	return note.VulnDrafts(note.VulnRequest{Item: it, Policy: e.SLAPolicy(), Matched: matched, Client: client, Now: e.now(), Location: e.Config.Location()})
}

// DigestPeriod returns the period a digest covers by default: the last
// complete period of [digest] every (a quarter if unset).
func (e *Env) DigestPeriod() digest.Period {
	every := e.Config.Digest.Every
	if every == "" {
		every = "quarter"
	}
	return digest.LastComplete(every, e.now(), e.Config.Location())
}

// Digest builds client's digest of period, with the maintainer's notes.
func (e *Env) Digest(ctx context.Context, client string, period digest.Period, notes string) (*digest.Digest, error) {
	p, err := e.client(client)
	if err != nil {
		return nil, err
	}
	if !period.Start.Before(e.now()) {
		return nil, fmt.Errorf("the period %s has not started yet", period.Name)
	}
	return digest.Build(ctx, digest.Request{Data: e.Data, Policy: e.SLAPolicy(), Client: p, Period: period, Notes: notes, Now: e.now(), Location: e.Config.Location()})
}

// Engagement returns client's engagement record since since (zero: all);
// with no data yet, an empty one.
func (e *Env) Engagement(client string, since time.Time) (*engagement.Record, error) {
	p, err := e.client(client)
	if err != nil {
		return nil, err
	}
	if e.Data == nil {
		return &engagement.Record{Client: p.ID, Name: p.Name, Events: []engagement.Event{}, Line: engagement.Summary{}.String()}, nil
	}
	return engagement.Build(e.Data.Store, e.SLAPolicy(), p, since)
}

// ErrNotFound is watcher's, for callers that check an unknown item.
var ErrNotFound = watcher.ErrNotFound
