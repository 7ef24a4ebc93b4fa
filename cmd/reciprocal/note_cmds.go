package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/note"
	"github.com/reciprocal-access/reciprocal/notify/report"
)

func init() {
	commands = append(commands, (*app).draftCommand, (*app).sendCommand)
}

func (a *app) draftCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "draft",
		Short: "Draft a note to clients, to review and send with 'reciprocal send'",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return usagef("draft: say what to draft: vuln ID") },
	}
	c.AddCommand(a.draftVulnCommand())
	return c
}

func (a *app) draftVulnCommand() *cobra.Command {
	var client, out string
	c := &cobra.Command{
		Use:   "vuln ID [--client C] [--out FILE]",
		Short: "Draft a note about a vulnerability to each client it touches or whose SLA covers it",
		Long: `Draft vuln writes, for each client whose concerns the vulnerability touches or
whose SLA covers it, a note addressed to the client's contacts: what it is,
whether it touches what they told you (quoting the concern and when they said
it), the affected and fixed versions and what to upgrade to, a mitigation line
for you to fill in, and until when you are available under the SLA.

Nothing is sent: review the draft, fill in the mitigation line, then
'reciprocal send FILE'. Without --out the drafts are printed; --out writes
one draft (with --client when several clients are concerned).`,
		Example: `  reciprocal draft vuln GO-2026-4951
  reciprocal draft vuln GO-2026-4951 --client acme --out acme-note.txt
  $EDITOR acme-note.txt && reciprocal send acme-note.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out != "" {
				if err := a.checkOutput("--out", out); err != nil {
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
			drafts, err := rep.VulnNotes(args[0], client)
			switch {
			case errors.Is(err, report.ErrNoClient):
				return withHint(fmt.Errorf("draft vuln: %w", err), "clients: "+strings.Join(rep.Profiles.IDs(), ", "))
			case errors.Is(err, report.ErrNotFound):
				return withHint(fmt.Errorf("draft vuln: %w", err), "'reciprocal search --kind vuln' lists the vulnerabilities in the store")
			case err != nil:
				return fmt.Errorf("draft vuln: %w", err)
			}
			return a.writeDrafts(drafts, out)
		},
	}
	c.Flags().StringVar(&client, "client", "", "only the note to this client")
	c.Flags().StringVar(&out, "out", "", "write the draft to FILE")
	return c
}

// writeDrafts prints drafts, or writes the one draft to out. A draft
// without recipients (the profile has no contacts) is written all the
// same, with a warning: send refuses it until its To line is filled in.
func (a *app) writeDrafts(drafts []note.Draft, out string) error {
	for _, d := range drafts {
		if len(d.To) == 0 && len(d.Cc) == 0 {
			fmt.Fprintf(a.stderr, "warning: %s has no contacts in its profile: fill in the To line of its draft before sending it\n", d.Client)
		}
	}
	if out == "" {
		for i, d := range drafts {
			if i > 0 {
				fmt.Fprintln(a.stdout, "\n----- next draft -----")
			}
			a.stdout.Write(d.Format())
		}
		fmt.Fprintf(a.stderr, "%d draft(s), not sent: write one to a file with --out, review it, then 'reciprocal send FILE'\n", len(drafts))
		return nil
	}
	if len(drafts) > 1 {
		var ids []string
		for _, d := range drafts {
			ids = append(ids, d.Client)
		}
		return usagef("--out writes one draft, and there are %d (%s): add --client", len(drafts), strings.Join(ids, ", "))
	}
	err := a.writeOutput("--out", out, func(w io.Writer) error {
		_, err := w.Write(drafts[0].Format())
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote the draft for %s to %s; review it, then 'reciprocal send %s'\n", drafts[0].Client, out, out)
	return nil
}

func (a *app) sendCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "send FILE",
		Short: "Send a reviewed draft (a note or a digest) to the client, once",
		Long: `Send delivers a draft written by 'reciprocal draft' or 'reciprocal digest' and
reviewed by you, through [smtp], to the addresses in its To and Cc lines.
A draft whose mitigation line is still the placeholder is refused.

Each draft is sent once: it goes through the mailbox under its
Reciprocal-Key, composed once and retried with the same Message-ID if the
server is unreachable; sending it again says when it was sent.`,
		Example: "  reciprocal send acme-note.txt",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("send: %w", err)
			}
			dr, err := note.Parse(args[0], data)
			if err != nil {
				if errors.Is(err, note.ErrUnfilled) {
					return withHint(fmt.Errorf("send: %w", err), "nothing was sent")
				}
				return fmt.Errorf("send: %w", err)
			}
			if cfg.SMTP == nil {
				path, _ := a.configPath()
				return withHint(errors.New("send: no [smtp] section in the configuration, so there is no way to send it"), smtpHint(path))
			}
			t := a.now()
			d, err := a.openData(true)
			if err != nil {
				return err
			}
			defer d.Close()
			mb := a.mailbox(d)
			loc := cfg.Location()
			if e, ok, err := mb.Entry(dr.Key); err != nil {
				return err
			} else if ok && e.State != notify.StatePending {
				fmt.Fprintf(a.stdout, "%s was already %s; not sent again\n", dr.Key, e.Describe(loc))
				return nil
			}
			m, err := note.Compose(dr, cfg.SMTP.From, t.In(loc))
			if err != nil {
				return fmt.Errorf("send: %s: %w", args[0], err)
			}
			if _, _, err := mb.Add(dr.Key, m); err != nil {
				return err
			}
			e, _, err := mb.Send(cmd.Context(), dr.Key, a.sender(cfg))
			if err != nil {
				var se *notify.SendError
				if errors.As(err, &se) && !se.Permanent {
					return withHint(fmt.Errorf("send: %w", err), "the message stays in the mailbox: 'reciprocal send "+args[0]+"' again sends the same message, with the same Message-ID")
				}
				return fmt.Errorf("send: %w", err)
			}
			fmt.Fprintf(a.stdout, "%s %s\n", dr.Key, e.Describe(loc))
			return nil
		},
	}
}
