package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/notify/report"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func init() {
	commands = append(commands, (*app).statusCommand)
}

func (a *app) statusCommand() *cobra.Command {
	var asJSON, check bool
	c := &cobra.Command{
		Use:         "status",
		Annotations: map[string]string{annotQuick: "true"},
		Short:       "Show sync health, data sizes, the matcher's lag, the queue and the briefing",
		Long: `Status shows, for each source, the last sync (when, how it went, items,
requests, the rate limit left); the store's and index's sizes and item counts;
how many changed items the matcher has not seen yet; open prompts per client;
and when the next briefing is due, with the outbox's state.

The exit status is 1 when something needs attention — a source failing for
more than a day, a briefing the mail server refused — so that it works as a
health check from cron or a monitoring system. It reads only the parts of
the store it needs; --check also reads and verifies every page of the
store, to find damage on disk before a command trips on it.`,
		Example: "  reciprocal status\n  reciprocal status --json\n  reciprocal status --check",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := a.status(check)
			if err != nil {
				return err
			}
			if asJSON {
				if err := a.printJSON(rep); err != nil {
					return err
				}
			} else {
				a.printStatus(rep)
			}
			if len(rep.Attention) > 0 {
				return &silentError{code: exitFail}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	c.Flags().BoolVar(&check, "check", false, "also read and verify every page of the store (reads the whole file)")
	return c
}

// status reports the health of the data directory.
func (a *app) status(check bool) (*report.Status, error) {
	if _, err := a.config(); err != nil {
		return nil, err
	}
	dir, err := a.dataDir()
	if err != nil {
		return nil, err
	}
	d, err := a.openStore(false) // the index's state is in the status
	if errors.Is(err, store.ErrNoStore) {
		return report.EmptyStatus(dir), nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var damage error
	if check {
		if damage = d.Store.Check(); damage != nil && !errors.Is(damage, store.ErrDamaged) {
			return nil, damage
		}
	}
	rep, err := a.reports(d, true)
	if err != nil {
		return nil, err
	}
	st, err := rep.Status()
	if err == nil && damage != nil {
		st.Attention = append(st.Attention, damage.Error()+": "+hintFor(damage))
	}
	if err == nil && check {
		// The index too: a read-only open does not read the pages a
		// writer needs (the freelist), so damage there would surface
		// only at the next sync.
		if _, serr := os.Stat(d.IndexPath()); serr == nil {
			if ierr := index.Check(d.IndexPath()); ierr != nil && !slices.ContainsFunc(st.Attention, func(s string) bool { return strings.HasPrefix(s, index.ErrDamaged.Error()) }) {
				st.Attention = append(st.Attention, ierr.Error())
			}
		}
	}
	return st, err
}

func (a *app) printStatus(rep *report.Status) {
	w := a.stdout
	cfg, _ := a.config()
	loc := cfg.Location()
	fmt.Fprintf(w, "data: %s\n", rep.DataDir)
	if rep.Empty {
		fmt.Fprintln(w, "nothing synced or imported yet: run 'reciprocal sync' (or 'reciprocal demo' to try it out)")
		return
	}
	fmt.Fprintln(w, "\nsources:")
	if len(rep.Sources) == 0 {
		fmt.Fprintln(w, "  never synced: run 'reciprocal sync'")
	}
	for _, s := range rep.Sources {
		result := "ok"
		if s.LastError != "" {
			result = "FAILING since " + s.FailingSince.In(loc).Format("2006-01-02 15:04") + ": " + oneLine(s.LastError)
		}
		if s.Interrupted {
			result = "interrupted (the next sync continues from there); before that " + result
		}
		fmt.Fprintf(w, "  %-24s last sync %s, %s\n", s.Source, s.LastAttempt.In(loc).Format("2006-01-02 15:04"), result)
		l := s.Last
		fmt.Fprintf(w, "  %-24s %d new, %d updated, %d requests (%d not modified)", "", l.New, l.Updated, l.Requests, l.NotModified)
		if l.RateRemaining >= 0 && !l.RateReset.IsZero() {
			fmt.Fprintf(w, ", rate limit %d left", l.RateRemaining)
		}
		fmt.Fprintln(w)
	}
	total := 0
	var srcs []string
	for s, n := range rep.Items {
		total += n
		srcs = append(srcs, fmt.Sprintf("%s %d", s, n))
	}
	sort.Strings(srcs)
	fmt.Fprintf(w, "\nstore: %d items (%s), %d comments, %s\n", total, strings.Join(srcs, ", "), rep.Comments, bytesize(rep.StoreBytes))
	switch {
	case rep.IndexError != "":
		fmt.Fprintf(w, "index: %s\n", rep.IndexError)
	case rep.IndexLag > 0:
		fmt.Fprintf(w, "index: %d items, %s, %d items behind the store%s\n", rep.Indexed, bytesize(rep.IndexBytes), rep.IndexLag, writerNote(rep.IndexWriter))
	default:
		fmt.Fprintf(w, "index: %d items, %s\n", rep.Indexed, bytesize(rep.IndexBytes))
	}
	if len(rep.Quarantine) > 0 {
		fmt.Fprintf(w, "quarantine: %s:\n", quarantineCount(len(rep.Quarantine), "", ""))
		for _, q := range rep.Quarantine {
			fmt.Fprintf(w, "  %s (seq %d): %s\n", oneLine(q.ID), q.Seq, oneLine(q.Err))
		}
	}
	more := ""
	if rep.MatchLagAtLeast {
		more = "more than "
	}
	fmt.Fprintf(w, "match: %s%d changed items not matched yet\n", more, rep.MatchLag)

	fmt.Fprintln(w, "\nprompts:")
	var ids []string
	for id := range rep.Prompts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		fmt.Fprintln(w, "  no client profiles")
	}
	for _, id := range ids {
		c := rep.Prompts[id]
		fmt.Fprintf(w, "  %-12s %-24s %d open, %d snoozed\n", id, oneLine(c.Name), c.Open, c.Snoozed)
	}

	if len(rep.SLA) > 0 {
		fmt.Fprintln(w, "\nSLA requests open:")
		t := a.now()
		for _, r := range rep.SLA {
			fmt.Fprintf(w, "  %-4s %-12s %-20s %s\n", r.ID, r.Client, r.Vuln, slaStatus(&r.Request, t, loc))
		}
	}

	if b := rep.Briefing; b != nil {
		fmt.Fprintln(w, "\nbriefing:")
		if b.Entry != nil {
			fmt.Fprintf(w, "  today (%s): %s\n", b.Today, b.Entry.Describe(loc))
		} else if b.Due {
			fmt.Fprintf(w, "  today (%s): due since %s, not sent yet\n", b.Today, b.DueAt.In(loc).Format("15:04 MST"))
		} else {
			fmt.Fprintf(w, "  today (%s): due at %s\n", b.Today, b.DueAt.In(loc).Format("15:04 MST"))
		}
		if b.Last != nil && b.Last != b.Entry {
			fmt.Fprintf(w, "  last (%s): %s\n", b.Last.Date, b.Last.Describe(loc))
		}
		fmt.Fprintf(w, "  next due: %s\n", b.NextDue.In(loc).Format("Mon 2 Jan 15:04 MST"))
		if cfg.SMTP == nil {
			fmt.Fprintln(w, "  no [smtp] configured: briefings are not sent")
		}
	}

	if len(rep.Attention) > 0 {
		fmt.Fprintln(w, "\nneeds attention:")
		for _, s := range rep.Attention {
			fmt.Fprintf(w, "  - %s\n", oneLine(s))
		}
	}
}

// bytesize writes n bytes for a person: "12.3 MB".
func bytesize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// writerNote says that a running writer indexes what the index lacks.
func writerNote(pid int) string {
	switch {
	case pid > 0:
		return fmt.Sprintf(" (reciprocal pid %d is writing and indexes them)", pid)
	case pid < 0:
		return " (a reciprocal is writing and indexes them)"
	}
	return ""
}

// quarantineCount says how many stored records cannot be normalized
// ("1 stored record cannot be normalized"), followed by many or one, as
// the count asks.
func quarantineCount(n int, many, one string) string {
	s := fmt.Sprintf("%d stored records cannot be normalized", n)
	tail := many
	if n == 1 {
		s, tail = "1 stored record cannot be normalized", one
	}
	if tail != "" {
		s += " and " + tail
	}
	return s
}
