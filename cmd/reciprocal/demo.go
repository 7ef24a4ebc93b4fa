package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal"
	"github.com/reciprocal-access/reciprocal/notify/note"
	"github.com/reciprocal-access/reciprocal/notify/smtptest"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit/gerrittest"
	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb/vulndbtest"
)

func init() {
	commands = append(commands, (*app).demoCommand)
}

func (a *app) demoCommand() *cobra.Command {
	var keep bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run reciprocal end to end on built-in sample data, offline",
		Long: `Demo runs the whole of reciprocal without network or setup. In a temporary
directory it names, it starts in-process stand-ins for the GitHub API, Gerrit,
the vulnerability database and an SMTP server, serving the project's own
sample data: a week of Go tracker activity (a TLS session-ticket proposal in
review, a crypto/tls vulnerability, RSA and HTTP/2 work). With the three
example client profiles it runs sync → match → brief as 'reciprocal run'
would on Monday morning, shows the queue and the briefing as the SMTP server
received it, then replays Tuesday's activity to show a prompt coming back
when a proposal moves to likely-accept and its CL is merged. Tuesday's pass
also alerts at once on a vulnerability published Monday evening; Acme asks
about it under the SLA and is answered within the six hours; then the note
to Acme is drafted, its mitigation line written and sent with 'reciprocal
send' through the SMTP server, and come Acme's quarterly digest and its
engagement record.

The clock is simulated; nothing outside the temporary directory is touched.`,
		Example: "  go run ./cmd/reciprocal demo\n  reciprocal demo --keep   # then explore with --data",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := os.MkdirTemp("", "reciprocal-demo-")
			if err != nil {
				return err
			}
			if !keep {
				defer os.RemoveAll(dir)
			}
			d := &demo{a: a, ctx: cmd.Context(), dir: dir}
			if err := d.run(); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			if keep {
				d.say("\nThe demo's directory is kept. Explore it with the same commands:")
				d.say("  reciprocal --config %s --data %s search 'http2 reset'", d.cfgPath, d.dataDir)
				d.say("  RECIPROCAL_NOW=2026-11-24T07:05:00Z reciprocal --config %s --data %s queue", d.cfgPath, d.dataDir)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory (data, configuration, received e-mails) to explore afterwards")
	return c
}

// The demo's simulated mornings: the first run on Monday at 08:05 in Rome,
// after the briefing time, and the next on Tuesday.
var (
	demoMonday  = time.Date(2026, 11, 23, 7, 5, 0, 0, time.UTC)
	demoTuesday = time.Date(2026, 11, 24, 7, 5, 0, 0, time.UTC)
)

// demo is one run of the demonstration.
type demo struct {
	a       *app
	ctx     context.Context
	dir     string
	cfgPath string
	dataDir string

	github *githubtest.Server
	gerrit *gerrittest.Server
	vulndb *vulndbtest.Server
	smtp   *smtptest.Server
	seen   int // messages of the SMTP server already shown
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.a.stdout, format+"\n", args...)
}

func (d *demo) step(format string, args ...any) {
	d.say("\n== "+format, args...)
}

func (d *demo) run() error {
	if os.Getenv("RECIPROCAL_LOG") == "" {
		// The demo narrates; progress logs would only interleave.
		slog.SetDefault(slog.New(slog.NewTextHandler(d.a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}
	if err := d.start(); err != nil {
		return err
	}
	defer d.stop()

	d.say("reciprocal demo: a week of Go tracker activity and three clients, offline.")
	d.say("Working in %s (configuration, data, received e-mail).", d.dir)
	d.say("Stand-ins on this machine: GitHub API %s, Gerrit %s, vulnerability DB %s, SMTP %s.", d.github.URL(), d.gerrit.URL(), d.vulndb.URL(), d.smtp.Addr)
	d.say("Clients (configs/example/clients): Acme CDN (gold), Globex Payments (platinum), Initech (silver).")

	d.step("Monday 23 November, 08:05 in Rome: the first run")
	d.say("A week of activity waits on the trackers. 'reciprocal run' syncs it, matches it")
	d.say("against every client concern and sends the day's briefing, as cron would.")
	d.a.clock = func() time.Time { return demoMonday }
	if err := d.cli("run"); err != nil {
		return err
	}
	if err := d.cli("clients"); err != nil {
		return err
	}
	if err := d.cli("queue", "-n", "3"); err != nil {
		return err
	}
	if err := d.showBriefing("briefing-2026-11-23.eml", 70); err != nil {
		return err
	}
	if err := d.cli("search", "session ticket", "--package", "crypto/tls", "-n", "5"); err != nil {
		return err
	}

	d.step("Tuesday 24 November, 08:05: a day later")
	d.say("Overnight the review group marked the session-ticket proposal golang/go#76412")
	d.say("likely accept, its groundwork CL 723418 was merged, GO-2026-4927 was amended and")
	d.say("a new crypto/rsa issue came in. The maintainer had closed one prompt yesterday.")
	if err := d.closeOnePrompt(); err != nil {
		return err
	}
	if err := d.replay("round2"); err != nil {
		return err
	}
	d.a.clock = func() time.Time { return demoTuesday }
	if err := d.cli("run"); err != nil {
		return err
	}
	if err := d.showMessage("alert-GO-2026-4951.eml", "The alert the pass sent at once", 40, func(subject string) bool {
		return strings.Contains(subject, "GO-2026-4951")
	}); err != nil {
		return err
	}
	d.say("\nAcme's prompt about the proposal is back, with both triggers: ask them now,")
	d.say("during the final comment period, while their input can still change the API.")
	if err := d.cli("queue", "show", "p-4tjpga6"); err != nil {
		return err
	}
	if err := d.showBriefing("briefing-2026-11-24.eml", 45); err != nil {
		return err
	}
	if err := d.cli("status"); err != nil {
		return err
	}
	return d.clientSide()
}

// clientSide is the second half of Tuesday: the vulnerability SLA as
// promised, a note to the client, the quarterly digest and the record.
func (d *demo) clientSide() error {
	d.step("Tuesday 24 November, 09:10: Acme asks about GO-2026-4951")
	d.say("Jane Roe, who got the maintainer's alert forwarded, writes: are we affected?")
	d.say("Their window to ask is open until 19:31; the answer is owed within six hours.")
	d.a.clock = func() time.Time { return time.Date(2026, 11, 24, 8, 10, 0, 0, time.UTC) }
	if err := d.cli("sla", "ask", "acme", "GO-2026-4951", "--note", "Jane: we load ticket keys from one file on every edge; are we affected?"); err != nil {
		return err
	}

	d.step("10:50: answered within the six hours")
	d.a.clock = func() time.Time { return time.Date(2026, 11, 24, 9, 50, 0, 0, time.UTC) }
	if err := d.cli("sla", "answer", "r1", "--note", "Yes until 1.26.10; rotate with SetSessionTicketKeys meanwhile."); err != nil {
		return err
	}
	if err := d.cli("sla", "list"); err != nil {
		return err
	}

	d.step("11:00: a note to Acme, drafted for review (nothing is sent yet)")
	d.a.clock = func() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) }
	draft := filepath.Join(d.dir, "acme-GO-2026-4951.txt")
	if err := d.cli("draft", "vuln", "GO-2026-4951", "--client", "acme", "--out", draft); err != nil {
		return err
	}
	if err := d.showFile(draft, 12); err != nil {
		return err
	}

	d.step("11:05: the mitigation line written, the note sent (once, through the SMTP server)")
	d.say("The maintainer reviews the draft and writes the advice on its %s …] line.", note.Placeholder)
	d.a.clock = func() time.Time { return time.Date(2026, 11, 24, 10, 5, 0, 0, time.UTC) }
	if err := fillMitigation(draft, "Until you upgrade: give each listener its own ticket key file, or rotate with SetSessionTicketKeys."); err != nil {
		return err
	}
	if err := d.cli("send", draft); err != nil {
		return err
	}
	if err := d.showMessage("acme-GO-2026-4951.eml", "The note to Acme", 30, func(subject string) bool {
		return strings.HasPrefix(subject, "GO-2026-4951: ")
	}); err != nil {
		return err
	}

	d.step("Acme's quarterly digest, to date")
	looking := filepath.Join(d.dir, "looking-at.md")
	if err := os.WriteFile(looking, []byte("- The TicketKeyProvider API (golang/go#76412): in final comment; I will review the CL for key rotation without restarts.\n- x509 chain building with large intermediate pools: nothing new this quarter; I am watching the path builder.\n"), 0o644); err != nil {
		return err
	}
	digest := filepath.Join(d.dir, "acme-2026-Q4.md")
	if err := d.cli("digest", "acme", "--period", "2026-Q4", "--notes", looking, "--out", digest); err != nil {
		return err
	}
	if err := d.showFile(digest, 80); err != nil {
		return err
	}
	return d.cli("client", "acme", "--log")
}

// fillMitigation replaces the mitigation placeholder line of the draft in
// file with text, as the maintainer does in an editor.
func fillMitigation(file, text string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, note.Placeholder) {
			lines[i] = text
			return os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644)
		}
	}
	return fmt.Errorf("%s: no %s line to fill in", file, note.Placeholder)
}

// showFile prints the first lines of a file the demo wrote.
func (d *demo) showFile(name string, lines int) error {
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	d.say("\n--- %s", name)
	text := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	for i, l := range text {
		if i == lines {
			d.say("[… %d more lines]", len(text)-lines)
			break
		}
		d.say("%s", l)
	}
	return nil
}

// start writes the configuration and profiles and starts the stand-in
// servers with the first round of data.
func (d *demo) start() error {
	d.cfgPath = filepath.Join(d.dir, "reciprocal.toml")
	d.dataDir = filepath.Join(d.dir, "data")
	clients := filepath.Join(d.dir, "clients")
	if err := os.MkdirAll(clients, 0o755); err != nil {
		return err
	}
	if err := fs.WalkDir(reciprocal.ExampleClients, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := fs.ReadFile(reciprocal.ExampleClients, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(clients, path.Base(p)), data, 0o644)
	}); err != nil {
		return err
	}

	d.github = githubtest.NewServer()
	d.gerrit = gerrittest.NewServer()
	d.vulndb = vulndbtest.NewServer()
	var err error
	if d.smtp, err = smtptest.Start(); err != nil {
		d.github.Close()
		d.gerrit.Close()
		d.vulndb.Close()
		return err
	}
	if err := d.replay("round1"); err != nil {
		d.stop()
		return err
	}
	cfg := fmt.Sprintf(`# The demo's configuration: the sources are in-process stand-ins, gone
# once the demo ends. Explore the data with search, queue, client and status;
# do not sync with this file.
clients = "clients"

[[github]]
repo = "golang/go"
api_url = %q
since = 2025-01-01

# Go's Gerrit, reached through the stand-in (the demo routes its requests).
[[gerrit]]
url = "http://go-review.googlesource.com"
projects = ["go", "crypto", "net"]
since = 2025-01-01

[vulndb]
url = %q

[smtp]
host = "127.0.0.1"
port = %s
tls = "none"
from = "reciprocal <maintainer@example.com>"
to = ["maintainer@example.com"]

[briefing]
at = "08:00"
timezone = "Europe/Rome"

[matching]
lookback = "14d"
`, d.github.URL(), d.vulndb.URL(), d.smtp.Port())
	if err := os.WriteFile(d.cfgPath, []byte(cfg), 0o644); err != nil {
		d.stop()
		return err
	}
	// The stand-in GitHub must never see a real token. Gerrit requests go
	// to the stand-in whatever their host, so that item IDs and links are
	// those of Go's Gerrit.
	d.a.srcOpts.build = source.BuildOptions{
		Anonymous: true,
		Clients:   map[string]*http.Client{gerrit.Kind: d.gerrit.Client()},
	}
	d.a.srcOpts.links = map[string]string{"go-review": "https://go-review.googlesource.com"}
	return nil
}

func (d *demo) stop() {
	d.github.Close()
	d.gerrit.Close()
	d.vulndb.Close()
	d.smtp.Close()
}

// replay loads one round of the sample data into the stand-in servers.
func (d *demo) replay(round string) error {
	for _, f := range []struct {
		name string
		add  func(io.Reader) (int, error)
	}{
		{"github-issues.jsonl", d.github.AddJSONL},
		{"github-comments.jsonl", d.github.AddJSONL},
		{"gerrit-changes.jsonl", d.gerrit.AddJSONL},
		{"osv.jsonl", d.vulndb.AddJSONL},
	} {
		data, err := fs.ReadFile(reciprocal.DemoData, path.Join("testdata/demo", round, f.name))
		if err != nil {
			return err
		}
		if _, err := f.add(bytes.NewReader(data)); err != nil {
			return fmt.Errorf("%s/%s: %w", round, f.name, err)
		}
	}
	return nil
}

// cli runs a reciprocal command line against the demo's configuration and
// data, showing it as typed.
func (d *demo) cli(args ...string) error {
	shown := make([]string, len(args))
	for i, s := range args {
		shown[i] = s
		if strings.ContainsAny(s, " #'") {
			shown[i] = "'" + s + "'"
		}
	}
	d.say("\n$ reciprocal %s", strings.Join(shown, " "))
	root := d.a.rootCommand()
	root.SetArgs(append([]string{"--config", d.cfgPath, "--data", d.dataDir}, args...))
	root.SetOut(d.a.stdout)
	root.SetErr(d.a.stderr)
	d.a.cfg = nil
	if err := root.ExecuteContext(d.ctx); err != nil {
		return fmt.Errorf("reciprocal %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// closeOnePrompt records a consultation, as the maintainer would after a
// call: the first open prompt of Globex.
func (d *demo) closeOnePrompt() error {
	// Find it the way a user would: from the queue, as JSON.
	var out bytes.Buffer
	saved := d.a.stdout
	d.a.stdout = &out
	root := d.a.rootCommand()
	root.SetArgs([]string{"--config", d.cfgPath, "--data", d.dataDir, "queue", "--client", "globex", "--json"})
	root.SetOut(&out)
	err := root.ExecuteContext(d.ctx)
	d.a.stdout = saved
	if err != nil {
		return err
	}
	id := jsonField(out.String(), `"id": "`)
	if id == "" {
		return nil
	}
	return d.cli("queue", "done", id, "--note", "Called Hank: multi-prime keys are not in their fleet; the CRT speed-up matters most.")
}

// jsonField returns the first string value after key in indented JSON.
func jsonField(s, key string) string {
	i := strings.Index(s, key)
	if i < 0 {
		return ""
	}
	s = s[i+len(key):]
	if j := strings.IndexByte(s, '"'); j >= 0 {
		return s[:j]
	}
	return ""
}

// showBriefing prints the newest briefing the SMTP server accepted.
func (d *demo) showBriefing(name string, lines int) error {
	return d.showMessage(name, "The briefing", lines, func(subject string) bool {
		return strings.HasPrefix(subject, "reciprocal: ") && strings.Contains(subject, " — ")
	})
}

// showMessage prints the newest message the SMTP server accepted since the
// last one shown whose subject match accepts, as received: its headers and
// the first lines of its plain text part. The whole message is saved as
// name in the demo's directory.
func (d *demo) showMessage(name, what string, lines int, match func(subject string) bool) error {
	msgs := d.smtp.Messages()
	var m *smtptest.Message
	var r *mail.Reader
	for i := len(msgs) - 1; i >= d.seen && m == nil; i-- {
		rd, err := mail.CreateReader(bytes.NewReader(msgs[i].Data))
		if err != nil {
			return err
		}
		if subject, _ := rd.Header.Subject(); match(subject) {
			m, r = &msgs[i], rd
		}
	}
	if m == nil {
		d.say("\n(no new message: %s)", strings.ToLower(what))
		return nil
	}
	if what == "The briefing" {
		d.seen = len(msgs)
	}
	file := filepath.Join(d.dir, name)
	if err := os.WriteFile(file, m.Data, 0o644); err != nil {
		return err
	}
	d.step("%s, as the SMTP server received it (%d bytes, saved as %s)", what, len(m.Data), file)
	d.say("MAIL FROM:<%s> RCPT TO:<%s>", m.From, strings.Join(m.To, ">, <"))
	for _, h := range []string{"From", "To", "Subject", "Date", "Message-Id"} {
		v := r.Header.Get(h)
		if h == "Subject" {
			v, _ = r.Header.Subject()
		}
		d.say("%s: %s", h, v)
	}
	d.say("")
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		ct := p.Header.Get("Content-Type")
		if !strings.HasPrefix(ct, "text/plain") {
			d.say("[%s part, %s]", strings.SplitN(ct, ";", 2)[0], "not shown")
			continue
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			return err
		}
		// The message travelled with CRLF line endings.
		text := strings.Split(strings.TrimRight(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n"), "\n")
		for i, l := range text {
			if i == lines {
				d.say("[… %d more lines in %s]", len(text)-lines, file)
				break
			}
			d.say("%s", l)
		}
	}
	return nil
}
