package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func init() {
	commands = append(commands, (*app).syncCommand)
}

func (a *app) syncCommand() *cobra.Command {
	var (
		kind    string
		since   string
		maxWait time.Duration
		asJSON  bool
	)
	c := &cobra.Command{
		Use:   "sync [--source " + strings.Join(watcher.Sources.Kinds(), "|") + "] [--since DATE] [--max-wait D]",
		Short: "Bring the store up to date with GitHub, Gerrit and the vulnerability database",
		Long: `Sync asks each configured source for what changed since its last sync,
stores the raw JSON and updates the index. Cheap enough to run every few
minutes: an unchanged GitHub repository costs two conditional requests
answered 304, which do not count against the rate limit.

A source's first sync reaches back to 'since' in the configuration, or
--since, or one year. A source that fails does not stop the others; the exit
status is 1 and the summary says which failed.`,
		Example: `  reciprocal sync
  reciprocal sync --source github --since 2025-06-01
  reciprocal sync --max-wait 1h   # wait up to an hour for a GitHub rate limit to reset`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if kind != "" && watcher.Sources.Lookup(kind) == nil {
				return usagef("--source %q: want %s", kind, watcher.Sources.KindList())
			}
			opts := source.Options{MaxWait: maxWait, Now: a.now}
			var err error
			if opts.Since, err = parseDay(since, "--since"); err != nil {
				return err
			}
			d, err := a.openData(true)
			if err != nil {
				return err
			}
			defer d.Close()
			results, err := a.syncSources(cmd.Context(), d, kind, opts)
			if asJSON {
				out := make([]syncJSON, len(results))
				for i, r := range results {
					out[i] = syncJSON{Stats: r.Stats, Interrupted: r.Interrupted, NotRun: r.NotRun}
					if r.Err != nil {
						out[i].Error = r.Err.Error()
					}
				}
				if jerr := a.printJSON(out); jerr != nil {
					return jerr
				}
			} else {
				for _, r := range results {
					fmt.Fprintln(a.stdout, summarize(r))
				}
			}
			err = syncFailure(results, err)
			// With [smtp] set, a sync alerts on new qualifying
			// vulnerabilities at once, as a pass of run does.
			// (With --json, what it did goes to standard error.)
			if cfg, cerr := a.config(); cerr == nil && cfg.SMTP != nil && cmd.Context().Err() == nil {
				w := a.stdout
				if asJSON {
					w = a.stderr
				}
				err = errors.Join(err, a.sendAlerts(cmd.Context(), d, w))
			}
			return err
		},
	}
	c.Flags().StringVar(&kind, "source", "", "sync only this kind of source: "+watcher.Sources.KindList())
	c.Flags().StringVar(&since, "since", "", "how far back a first sync reaches (YYYY-MM-DD); default: since in the config, or one year")
	c.Flags().DurationVar(&maxWait, "max-wait", source.DefaultMaxWait, "longest wait for a rate limit to reset before stopping a source (its progress is saved)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the per-source results as JSON")
	return c
}

type syncJSON struct {
	source.Stats
	Error       string `json:"error,omitempty"`
	Interrupted bool   `json:"interrupted,omitempty"`
	NotRun      bool   `json:"not_run,omitempty"`
}

// syncFailure turns failed sources into the command's error.
func syncFailure(results []watcher.SourceResult, err error) error {
	interrupted := errors.Is(err, context.Canceled)
	var failed []string
	for _, r := range results {
		if r.Err != nil {
			failed = append(failed, r.Source)
		}
	}
	if len(failed) > 0 {
		for _, r := range results {
			if r.Err != nil {
				err = r.Err // the first source's error explains itself
				break
			}
		}
		hint := "the other sources were synced; run 'reciprocal sync' again later, or 'reciprocal status' to see when each last worked"
		if len(failed) == len(results) {
			hint = "no source was synced: check the network and the sources' URLs in the configuration, then run 'reciprocal sync' again ('reciprocal status' shows when each last worked)"
		}
		if interrupted {
			hint = "then the sync was interrupted; the next sync continues where each source stopped"
		}
		return withHint(fmt.Errorf("sync: %d of %d sources failed (%s): %w", len(failed), len(results), strings.Join(failed, ", "), err), hint)
	}
	if interrupted {
		return errors.New("sync: interrupted; what was stored is kept and the next sync continues from there")
	}
	return err
}

// summarize says in one line what syncing a source did.
func summarize(r watcher.SourceResult) string {
	s := r.Stats
	if r.NotRun {
		return s.Source + ": not run (interrupted)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d new, %d updated", s.Source, s.New, s.Updated)
	if c := s.Comments; c.New+c.Updated > 0 {
		fmt.Fprintf(&b, ", %d comments", c.New+c.Updated)
	}
	fmt.Fprintf(&b, ", %s", plural(s.Requests, "request"))
	if s.NotModified > 0 {
		fmt.Fprintf(&b, " (%d not modified)", s.NotModified)
	}
	fmt.Fprintf(&b, ", %s", s.Duration.Round(time.Millisecond))
	if s.RateRemaining >= 0 && !s.RateReset.IsZero() {
		fmt.Fprintf(&b, ", rate limit %d left", s.RateRemaining)
	}
	if r.Interrupted {
		b.WriteString(" — interrupted: what was stored is kept")
	}
	if r.Err != nil {
		fmt.Fprintf(&b, " — FAILED: %v", r.Err)
	}
	return b.String()
}

// sources builds the configured sources, all or those of one kind.
func (a *app) sources(ctx context.Context, kind string) ([]source.Source, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	return buildSources(cfg, kind, a.srcOpts)
}

// sourceOptions adjusts how sources are built; the demo points them at its
// in-process servers.
type sourceOptions struct {
	build source.BuildOptions
	// links maps host labels of item IDs to the base URL of the links
	// items carry, where it is not the configured URL.
	links map[string]string
}

func buildSources(cfg *configs.Config, kind string, so sourceOptions) ([]source.Source, error) {
	return watcher.Sources.Build(cfg, kind, so.build)
}

// A firstSyncer can say whether it has synced before and how far back its
// first sync reaches.
type firstSyncer interface {
	HasCursor(st *store.Store) (bool, error)
	Backfill(opts source.Options) (time.Time, string)
}

// syncSources syncs the configured sources with progress, then indexes.
func (a *app) syncSources(ctx context.Context, d *watcher.Data, kind string, opts source.Options) ([]watcher.SourceResult, error) {
	srcs, err := a.sources(ctx, kind)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, withHint(errors.New("sync: no sources configured"), "add "+watcher.Sources.SectionList()+" to the configuration")
	}
	for _, s := range srcs {
		fs, ok := s.(firstSyncer)
		if !ok {
			continue
		}
		if has, err := fs.HasCursor(d.Store); err == nil && !has {
			from, why := fs.Backfill(opts)
			msg := fmt.Sprintf("%s: first sync, reaching back to %s", s.Name(), from.Format("2006-01-02"))
			switch why {
			case source.BackfillDefault:
				msg += " (one year, the default; change it with --since or since = in the configuration)"
			case source.BackfillConfig:
				msg += " (since in the configuration)"
			}
			fmt.Fprintln(a.stderr, msg)
		}
	}
	p := newProgress(a.stderr, isTerminal(a.stderr))
	opts.Progress = p.update
	defer p.done()
	return d.SyncAll(ctx, srcs, opts)
}

// progress shows a sync's running totals: one rewritten line on a terminal,
// a log line every few seconds otherwise.
type progress struct {
	mu        sync.Mutex
	w         io.Writer
	tty       bool
	last      time.Time
	start     map[string]time.Time
	announced map[string]bool
	shown     bool
}

func newProgress(w io.Writer, tty bool) *progress {
	return &progress{w: w, tty: tty, start: map[string]time.Time{}, announced: map[string]bool{}}
}

// estimateLine says, once a source knows it, how much work its sync needs
// and what the rate limit allows: a long backfill should not surprise.
func estimateLine(s source.Stats, perRequest time.Duration) string {
	left := s.Estimate - s.Requests
	msg := fmt.Sprintf("%s: about %d more requests to go", s.Source, left)
	if perRequest > 0 {
		msg += fmt.Sprintf(", about %s at this pace", (perRequest * time.Duration(left)).Round(time.Second))
	}
	if s.RateRemaining >= 0 && !s.RateReset.IsZero() && left > s.RateRemaining {
		msg += fmt.Sprintf("; that is more than the %d requests the rate limit has left before %s, so it will wait for the reset (up to --max-wait) or stop, saved, and resume at the next sync",
			s.RateRemaining, s.RateReset.Local().Format("15:04"))
	}
	return msg
}

func (p *progress) update(s source.Stats) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if _, ok := p.start[s.Source]; !ok {
		p.start[s.Source] = now
	}
	eta := ""
	var per time.Duration
	if s.Requests > 0 {
		per = now.Sub(p.start[s.Source]) / time.Duration(s.Requests)
	}
	if s.Estimate > s.Requests && s.Requests > 0 {
		eta = fmt.Sprintf(", about %d requests and %s to go", s.Estimate-s.Requests, (per * time.Duration(s.Estimate-s.Requests)).Round(time.Second))
		// A long sync announces its size once, on a line of its own.
		if !p.announced[s.Source] && s.Estimate-s.Requests >= 10 {
			p.announced[s.Source] = true
			if p.tty && p.shown {
				fmt.Fprint(p.w, "\r\x1b[K")
			}
			fmt.Fprintln(p.w, estimateLine(s, per))
		}
	}
	rate := ""
	if s.RateRemaining >= 0 && !s.RateReset.IsZero() {
		rate = fmt.Sprintf(", rate limit %d left", s.RateRemaining)
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s: %d items, %d pages%s%s", s.Source, s.New+s.Updated+s.Unchanged, s.Pages, rate, eta)
		p.shown = true
		return
	}
	if now.Sub(p.last) < 5*time.Second {
		return
	}
	p.last = now
	slog.Info("sync progress", "source", s.Source, "items", s.New+s.Updated+s.Unchanged, "pages", s.Pages, "requests", s.Requests, "estimate", s.Estimate, "rate_remaining", s.RateRemaining)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
