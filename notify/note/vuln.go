package note

import (
	"fmt"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/alert"
	"github.com/reciprocal-access/reciprocal/notify/sla"
)

// A VulnRequest asks for the notes about one vulnerability.
type VulnRequest struct {
	Item   *index.Item
	Policy *sla.Policy
	// Matched are the concerns the item touches, by client
	// (sla.Policy.Matched).
	Matched map[string][]string
	// Client, if set, limits the drafts to that client.
	Client   string
	Now      time.Time
	Location *time.Location
}

// ErrNoClient reports that a vulnerability concerns none of the clients
// (or not the one asked for).
var ErrNoClient = fmt.Errorf("no client to write to")

// VulnDrafts writes a note about the vulnerability for each client whose
// concerns it touches or whose SLA covers it, in profile order.
func VulnDrafts(r VulnRequest) ([]Draft, error) {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	windows := map[string]sla.Window{}
	for _, w := range r.Policy.Windows(r.Item, func(c string) []string { return r.Matched[c] }) {
		windows[w.ClientID] = w
	}
	facts := alert.FactsOf(r.Item, loc)
	var out []Draft
	for _, p := range r.Policy.Profiles {
		if r.Client != "" && p.ID != r.Client {
			continue
		}
		w, covered := windows[p.ID]
		touches := sla.Touches(r.Item, p, r.Matched[p.ID])
		if !covered && len(touches) == 0 {
			continue
		}
		out = append(out, Draft{
			Client:  p.ID,
			Key:     "note/" + r.Item.ID + "/" + p.ID,
			To:      p.Contacts,
			Subject: r.Item.ID + ": " + r.Item.Title,
			Body:    vulnBody(p, &facts, r.Item, touches, w, covered, r.Now, loc),
		})
	}
	if len(out) == 0 {
		if r.Client != "" {
			return nil, fmt.Errorf("%s neither touches the concerns of %s nor falls under their SLA: %w", r.Item.ID, r.Client, ErrNoClient)
		}
		return nil, fmt.Errorf("%s touches no client's concerns and no client's SLA covers it: %w", r.Item.ID, ErrNoClient)
	}
	return out, nil
}

func vulnBody(p *configs.Profile, f *alert.Facts, it *index.Item, touches []sla.Touch, w sla.Window, covered bool, now time.Time, loc *time.Location) string {
	var b strings.Builder
	para := func(s string) {
		b.WriteString(notify.Wrap(s, 72, ""))
		b.WriteString("\n\n")
	}
	para("Hi " + notify.OneLine(p.Name) + " team,")
	what := "A new vulnerability"
	if sla.GoItself(it) {
		what = "A new Go vulnerability"
	}
	id := f.ID
	if f.Aliases != "" {
		id += " (" + f.Aliases + ")"
	}
	para(what + ", " + id + ", was published on " + f.Published + ": " + f.Summary + ".")
	if f.Details != "" {
		b.WriteString(notify.Wrap(f.Details, 72, ""))
		b.WriteString("\n\n")
	}

	if len(touches) > 0 {
		var lines []string
		for _, t := range alert.TouchesOf(touches) {
			s := "On " + t.Told + " you told me: \"" + t.Summary + "\""
			if t.Via != "" {
				s += " (" + t.Via + ")"
			}
			if t.Packages != "" {
				s += "; it affects " + t.Packages
			}
			lines = append(lines, s+".")
		}
		para("Does it touch you? I think it does. " + strings.Join(lines, " "))
	} else {
		para("Does it touch you? Not anything you told me about, but it is in " + where(it) + ", so it is worth checking whether you use the affected packages.")
	}

	b.WriteString("Affected:\n")
	for _, a := range f.Affected {
		what := a.Module
		if a.Packages != "" {
			what += " (" + a.Packages + ")"
		}
		b.WriteString("  " + what + ": " + a.Versions + "\n")
		if a.Fixed != "" {
			b.WriteString("  fixed in " + a.Fixed + "\n")
		}
	}
	if f.Upgrade != "" {
		b.WriteString("What to do: upgrade to " + f.Upgrade + ".\n")
	} else {
		b.WriteString("What to do: there is no fixed version yet.\n")
	}
	if f.URL != "" {
		b.WriteString("Details: " + f.URL + "\n")
	}
	b.WriteString("\n")
	b.WriteString(Placeholder + " what to do until you can upgrade, or why you are not affected; edit or delete this line]\n\n")

	switch {
	case covered && w.Open(now):
		para("I'm available until " + alert.When(w.Closes, loc) + " with a " + durationWords(w.Terms.Response) + " response: reply to this e-mail with any question about it (are we affected, what should we do, is this mitigation good?).")
	case covered:
		para("The window of my vulnerability SLA for this one closed on " + alert.When(w.Closes, loc) + ", but reply to this e-mail if you have questions.")
	default:
		para("Reply to this e-mail if you have questions.")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// where says what a vulnerability is in, for a client it does not touch.
func where(it *index.Item) string {
	switch {
	case sla.GoItself(it):
		return "Go itself"
	case it.Repo != "":
		return notify.OneLine(it.Repo)
	}
	return "a module you may use"
}

var numberWords = []string{"", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"}

// durationWords writes a response time as an adjective: "six-hour",
// "90-minute", "36-hour".
func durationWords(d time.Duration) string {
	if d%time.Hour == 0 {
		h := int(d / time.Hour)
		if h < len(numberWords) {
			return numberWords[h] + "-hour"
		}
		return fmt.Sprintf("%d-hour", h)
	}
	return fmt.Sprintf("%d-minute", int(d/time.Minute))
}
