package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/notify/digest"
)

func init() {
	commands = append(commands, (*app).digestCommand)
}

func (a *app) digestCommand() *cobra.Command {
	var period, since, until, notesFile, out string
	c := &cobra.Command{
		Use:   "digest CLIENT [--period 2026-Q3|2026-11] [--since DAY --until DAY] [--notes FILE] [--out FILE]",
		Short: "Write a client's periodic digest: Markdown to review and a draft e-mail",
		Long: `Digest writes the executive summary of a period for one client: per concern,
the proposals that moved, the changes merged, the vulnerabilities and what
they were consulted about with your notes; then the vulnerabilities under
their SLA and how they were handled; then your "what I'm looking at" notes
(--notes FILE, Markdown).

The period is a quarter (--period 2026-Q3), a month (--period 2026-11) or
days (--since and --until, both included); by default the last complete
period of [digest] every (a quarter if unset).

Without --out the Markdown is printed. --out FILE writes it to FILE and the
draft e-mail to the client's contacts beside it (FILE without its extension,
plus .draft.txt); review it, then 'reciprocal send' it.`,
		Example: `  reciprocal digest acme --period 2026-Q4 --notes looking-at.md --out acme-2026-Q4.md
  reciprocal send acme-2026-Q4.draft.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			loc := cfg.Location()
			var draftPath string
			if out != "" {
				draftPath = strings.TrimSuffix(out, filepath.Ext(out)) + ".draft.txt"
				if err := a.checkOutput("--out", out); err != nil {
					return err
				}
				if err := a.checkOutput("--out", draftPath); err != nil {
					return err
				}
			}
			d, err := a.openData(false)
			if err != nil {
				return err
			}
			defer d.Close()
			rep, err := a.reports(d, false)
			if err != nil {
				return err
			}
			p := rep.Profiles.Client(args[0])
			if p == nil {
				return unknownClient(args[0], rep.Profiles)
			}
			var per digest.Period
			switch {
			case period != "" && (since != "" || until != ""):
				return usagef("--period cannot be combined with --since or --until")
			case period != "":
				if per, err = digest.ParsePeriod(period, loc); err != nil {
					return usagef("--period: %v", err)
				}
			case since != "" || until != "":
				if since == "" || until == "" {
					return usagef("--since and --until go together")
				}
				s, err := parseDay(since, "--since")
				if err != nil {
					return err
				}
				u, err := parseDay(until, "--until")
				if err != nil {
					return err
				}
				if per, err = digest.Days(s, u, loc); err != nil {
					return usagef("%v", err)
				}
			default:
				per = rep.DigestPeriod()
			}
			var notes string
			if notesFile != "" {
				b, err := os.ReadFile(notesFile)
				if err != nil {
					return fmt.Errorf("digest: --notes: %w", err)
				}
				notes = string(b)
			}
			dg, err := rep.Digest(cmd.Context(), p.ID, per, notes)
			if err != nil {
				return fmt.Errorf("digest: %w", err)
			}
			md := dg.Markdown()
			if out == "" {
				io.WriteString(a.stdout, md)
				fmt.Fprintf(a.stderr, "not written to a file: --out FILE writes the Markdown and a draft e-mail to send\n")
				return nil
			}
			if err := a.writeOutput("--out", out, func(w io.Writer) error { _, err := io.WriteString(w, md); return err }); err != nil {
				return err
			}
			dr := dg.Draft()
			if err := a.writeOutput("--out", draftPath, func(w io.Writer) error { _, err := w.Write(dr.Format()); return err }); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote the %s digest for %s to %s and the draft e-mail to %s; review them, then 'reciprocal send %s'\n",
				per.Name, p.ID, out, draftPath, draftPath)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&period, "period", "", "a quarter (2026-Q3) or a month (2026-11)")
	f.StringVar(&since, "since", "", "the first day (YYYY-MM-DD), with --until")
	f.StringVar(&until, "until", "", "the last day (YYYY-MM-DD), with --since")
	f.StringVar(&notesFile, "notes", "", "your \"what I'm looking at\" notes (Markdown)")
	f.StringVar(&out, "out", "", "write the Markdown to FILE and the draft e-mail beside it")
	return c
}
