package report

import (
	"time"

	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/digest"
)

// DigestsDue returns the clients whose digest for the last complete period
// of [digest] every has not been sent by t: none when digests are not
// scheduled.
func (e *Env) DigestsDue(t time.Time) ([]notify.DigestDue, error) {
	if e.Config.Digest.Every == "" {
		return nil, nil
	}
	per := digest.LastComplete(e.Config.Digest.Every, t, e.Config.Location())
	mb := e.Mailbox()
	var out []notify.DigestDue
	for _, p := range e.Profiles {
		en, ok, err := mb.Entry("digest/" + p.ID + "/" + per.Name)
		if err != nil {
			return nil, err
		}
		if ok && en.State == notify.StateSent {
			continue
		}
		out = append(out, notify.DigestDue{Client: p.Name, Period: per.Name, Command: "reciprocal digest " + p.ID + " --period " + per.Name})
	}
	return out, nil
}
