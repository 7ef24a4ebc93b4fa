// Package alert e-mails the maintainer at once when a pass (run, each
// watch interval, sync when [smtp] is set) first sees a newly published
// vulnerability that qualifies for a client's SLA: the next morning's
// briefing would be too late for a 24-hour window.
//
// # When an alert goes out
//
// Each pass looks at the vulnerabilities modified within the longest SLA
// window (the index knows them; a vulnerability is modified no earlier
// than it is published) and alerts on every one that has a window open now
// for some client and no alert yet. An entry published before the window,
// like every entry of a first sync of years of history, never alerts.
// Once alerted, a vulnerability gets at most one follow-up, when an
// amendment changes its affected or fixed versions; a new symbol or
// reference alone is not worth a second e-mail.
//
// Delivery goes through notify's Mailbox, keyed "alert/" + ID (and
// "alert/" + ID + "/amended"): composed once, stored pending, retried with
// the same bytes and Message-ID until the server accepts it, marked failed
// on a refusal: the briefing's rules. A key is never composed twice, so a
// crash between composing and recording repeats nothing.
//
// # Key schema
//
//	alerts  "vuln/" + ID → Record (JSON)
package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/sla"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Bucket is the store bucket of alert records.
const Bucket = "alerts"

// KeyPrefix starts the mailbox keys of alerts.
const KeyPrefix = "alert/"

// A Record is what was alerted about one vulnerability.
type Record struct {
	ID        string    `json:"id"`
	Alerted   time.Time `json:"alerted"`   // when the alert was composed
	Published time.Time `json:"published"` // as of the alert
	// Versions are the affected and fixed versions the alert (or its
	// follow-up) reported, to tell an amendment that changes them.
	Versions string `json:"versions"`
	Key      string `json:"key"` // mailbox key of the alert
	// Amended is when the follow-up was composed; zero if none.
	Amended  time.Time `json:"amended,omitzero"`
	AmendKey string    `json:"amend_key,omitempty"`
	// Clients are the IDs of the clients the alert named.
	Clients []string `json:"clients,omitempty"`
}

// versions fingerprints the affected and fixed versions of an item.
func versions(it *index.Item) string {
	type mv struct {
		Module   string   `json:"m"`
		Versions string   `json:"v"`
		Fixed    []string `json:"f,omitempty"`
	}
	var out []mv
	for _, a := range it.Affected {
		out = append(out, mv{a.Module, a.Versions, a.Fixed})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// An Alerter sends the alerts of a pass.
type Alerter struct {
	Data    *watcher.Data
	Policy  *sla.Policy
	Mailbox *notify.Mailbox
	// From and To are the sender and the maintainer's addresses ([smtp]).
	From string
	To   []string
	// Location is the time zone of the times alerts show.
	Location *time.Location
}

// An Alert is one alert a pass composed.
type Alert struct {
	ID       string
	FollowUp bool
	Key      string
	Subject  string
	Clients  []string // the covered clients' IDs
}

// A Result says what a pass did.
type Result struct {
	Composed []Alert
	// Delivered are the mailbox entries of the alerts attempted this pass
	// (new ones and earlier ones still pending), after the attempt.
	Delivered []notify.Entry
}

// Pass composes the alerts due at now and sends every pending alert
// through s. Composing errors stop the pass; delivery errors are returned
// with the result, the alerts staying pending for the next pass.
func (a *Alerter) Pass(ctx context.Context, now time.Time, s notify.Sender) (Result, error) {
	var res Result
	max := a.Policy.MaxWindow()
	if max > 0 {
		vs, err := a.Policy.Recent(ctx, a.Data, now.Add(-max))
		if err != nil {
			return res, fmt.Errorf("alert: %w", err)
		}
		for i := range vs {
			al, err := a.consider(&vs[i], now)
			if err != nil {
				return res, err
			}
			if al != nil {
				res.Composed = append(res.Composed, *al)
			}
		}
	}
	var err error
	res.Delivered, err = a.Mailbox.Deliver(ctx, KeyPrefix, s)
	return res, err
}

// consider composes the alert or the follow-up v needs at now, if any.
func (a *Alerter) consider(v *sla.Vuln, now time.Time) (*Alert, error) {
	rec, ok, err := a.record(v.Item.ID)
	if err != nil {
		return nil, err
	}
	ws := a.Policy.OpenAt(v, now)
	fp := versions(&v.Item)
	var al *Alert
	switch {
	case !ok && len(ws) > 0:
		al = &Alert{ID: v.Item.ID, Key: KeyPrefix + v.Item.ID}
		rec = Record{ID: v.Item.ID, Alerted: now, Published: v.Item.Created, Versions: fp, Key: al.Key}
	case ok && rec.Amended.IsZero() && rec.Versions != fp && v.Item.State != index.StateWithdrawn:
		al = &Alert{ID: v.Item.ID, FollowUp: true, Key: KeyPrefix + v.Item.ID + "/amended"}
		if len(ws) == 0 {
			// The windows closed: name the clients it touches anyway.
			ws = a.Policy.Windows(&v.Item, func(c string) []string { return v.Matched[c] })
		}
		rec.Amended, rec.AmendKey, rec.Versions = now, al.Key, fp
	default:
		return nil, nil
	}
	if !al.FollowUp {
		for _, w := range ws {
			rec.Clients = append(rec.Clients, w.ClientID)
		}
	}
	m, err := a.compose(v, ws, rec, al.FollowUp, now)
	if err != nil {
		return nil, fmt.Errorf("alert: %s: %w", v.Item.ID, err)
	}
	if _, _, err := a.Mailbox.Add(al.Key, m); err != nil {
		return nil, fmt.Errorf("alert: %s: %w", v.Item.ID, err)
	}
	if err := a.putRecord(rec); err != nil {
		return nil, err
	}
	al.Subject = m.Subject
	for _, w := range ws {
		al.Clients = append(al.Clients, w.ClientID)
	}
	return al, nil
}

// Records returns every alert record.
func Records(st *store.Store) ([]Record, error) {
	var out []Record
	err := st.View(func(tx *store.Tx) error {
		b, err := tx.Bucket(Bucket)
		if err != nil || b == nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("alert: record %s: %w", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

func (a *Alerter) record(id string) (Record, bool, error) {
	var r Record
	var ok bool
	err := a.Data.Store.View(func(tx *store.Tx) error {
		b, err := tx.Bucket(Bucket)
		if err != nil || b == nil {
			return err
		}
		v := b.Get([]byte("vuln/" + id))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return r, false, fmt.Errorf("alert: record %s: %w", id, err)
	}
	return r, ok, nil
}

func (a *Alerter) putRecord(r Record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	err = a.Data.Store.Update(func(tx *store.Tx) error {
		b, err := tx.Bucket(Bucket)
		if err != nil {
			return err
		}
		return b.Put([]byte("vuln/"+r.ID), v)
	})
	if err != nil {
		return fmt.Errorf("alert: record %s: %w", r.ID, err)
	}
	return nil
}
