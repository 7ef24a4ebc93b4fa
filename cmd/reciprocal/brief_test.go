package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// briefEnv is a configuration, a data directory and perhaps an SMTP server
// for running 'reciprocal brief' in-process.
type briefEnv struct {
	t       *testing.T
	config  string
	data    string
	server  *mailServer
	rome    *time.Location
	failing bool      // a source whose last sync failed is recorded
	now     time.Time // the commands' clock
}

func newBriefEnv(t *testing.T, withSMTP bool, extra string) *briefEnv {
	t.Helper()
	dir := t.TempDir()
	e := &briefEnv{t: t, config: filepath.Join(dir, "reciprocal.toml"), data: filepath.Join(dir, "data")}
	var err error
	if e.rome, err = time.LoadLocation("Europe/Rome"); err != nil {
		t.Fatal(err)
	}
	cfg := "[briefing]\nat = \"08:00\"\ntimezone = \"Europe/Rome\"\n" + extra
	if withSMTP {
		e.server = startMailServer(t)
		_, port, _ := net.SplitHostPort(e.server.addr)
		cfg += fmt.Sprintf("\n[smtp]\nhost = \"127.0.0.1\"\nport = %s\ntls = \"none\"\nfrom = \"reciprocal <me@example.com>\"\nto = [\"me@example.com\"]\ntimeout = \"5s\"\n", port)
	}
	if err := os.WriteFile(e.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// 09:00 on Tuesday 24 November 2026 in Rome.
	e.now = time.Date(2026, 11, 24, 9, 0, 0, 0, e.rome)
	return e
}

// seed creates the data directory with one healthy and one failing source.
func (e *briefEnv) seed() {
	e.t.Helper()
	d, err := watcher.OpenData(e.data, false, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	defer d.Close()
	old := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	defer slog.SetDefault(old)
	at := time.Date(2026, 11, 24, 7, 55, 0, 0, e.rome)
	d.SyncAll(context.Background(), []source.Source{
		fakeSource{name: "github golang/go"},
		fakeSource{name: "gerrit go-review", err: errors.New("503 Service Unavailable")},
	}, source.Options{Now: func() time.Time { return at }})
}

type fakeSource struct {
	name string
	err  error
}

func (s fakeSource) Name() string { return s.name }
func (s fakeSource) Sync(context.Context, *store.Store, source.Options) (source.Stats, error) {
	return source.Stats{}, s.err
}

// run runs reciprocal with args and returns the exit code and output.
func (e *briefEnv) run(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"--config", e.config, "--data", e.data}, args...)
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, clock: func() time.Time { return e.now }}
	code = a.run(context.Background(), args)
	return code, out.String(), errb.String()
}

func (e *briefEnv) mustRun(wantCode int, args ...string) (stdout, stderr string) {
	e.t.Helper()
	code, stdout, stderr := e.run(args...)
	if code != wantCode {
		e.t.Fatalf("reciprocal %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
	}
	return stdout, stderr
}

func TestBriefWithoutSMTP(t *testing.T) {
	e := newBriefEnv(t, false, "")
	e.seed()
	_, stderr := e.mustRun(1, "brief")
	for _, want := range []string{
		"reciprocal: brief: no [smtp] section in the configuration",
		"hint: add an [smtp] section to " + e.config,
		`  host = "smtp.example.com"`,
		`  password_env = "RECIPROCAL_SMTP_PASSWORD"`,
		"reciprocal brief --dry-run",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// Previews need no [smtp].
	e.mustRun(0, "brief", "--dry-run")
	e.mustRun(0, "brief", "--out", "-")
}

func TestBriefDryRun(t *testing.T) {
	e := newBriefEnv(t, false, "")
	e.seed()
	stdout, stderr := e.mustRun(0, "brief", "--dry-run")
	for _, want := range []string{
		"Subject: reciprocal: 1 source failing to sync — Tue 24 Nov\n",
		"Sync: gerrit go-review: FAILING since Tue 24 Nov 07:55, never synced",
		"gerrit go-review: 503 Service Unavailable",
		"Sync: github golang/go: ok, last synced Tue 24 Nov 07:55",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "dry run: not sent") {
		t.Errorf("stderr = %q", stderr)
	}

	file := filepath.Join(t.TempDir(), "brief.eml")
	_, stderr = e.mustRun(0, "brief", "--out", file)
	if !strings.Contains(stderr, "wrote the briefing for 2026-11-24 to "+file) {
		t.Errorf("stderr = %q", stderr)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	stdout, _ = e.mustRun(0, "brief", "--out", "-")
	if stdout != string(raw) {
		t.Errorf("--out - and --out FILE differ")
	}
	r, err := mail.CreateReader(strings.NewReader(stdout))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := r.Header.MessageID(); id != "briefing-2026-11-24.reciprocal@localhost" {
		t.Errorf("Message-ID = %q", id)
	}
	var types []string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := p.Header.(*mail.InlineHeader).ContentType()
		types = append(types, ct)
	}
	if strings.Join(types, " ") != "text/plain text/html" {
		t.Errorf("parts = %v", types)
	}

	// Previews leave no trace in the outbox.
	d, err := watcher.OpenData(e.data, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if entries, err := notify.NewOutbox(d.Store).Entries(); err != nil || len(entries) != 0 {
		t.Errorf("outbox after previews: %v, %v", entries, err)
	}
}

func TestBriefSend(t *testing.T) {
	e := newBriefEnv(t, true, "")
	e.seed()
	stdout, _ := e.mustRun(0, "brief")
	if !strings.Contains(stdout, "sent the briefing for 2026-11-24 to me@example.com: reciprocal: 1 source failing to sync — Tue 24 Nov") {
		t.Errorf("stdout = %q", stdout)
	}
	if n := e.server.count(); n != 1 {
		t.Fatalf("server received %d messages", n)
	}

	stdout, _ = e.mustRun(0, "brief")
	if !strings.Contains(stdout, "the briefing for 2026-11-24 was already sent Tue 24 Nov 09:00 to me@example.com") ||
		!strings.Contains(stdout, "'reciprocal brief --resend 2026-11-24' sends it again") {
		t.Errorf("second run stdout = %q", stdout)
	}
	stdout, _ = e.mustRun(0, "brief", "--if-due")
	if !strings.Contains(stdout, "briefing for 2026-11-24: sent") {
		t.Errorf("--if-due stdout = %q", stdout)
	}
	if n := e.server.count(); n != 1 {
		t.Fatalf("server received %d messages after repeated runs", n)
	}

	stdout, _ = e.mustRun(0, "brief", "--resend", "2026-11-24")
	if !strings.Contains(stdout, "resent the briefing for 2026-11-24: sent") || !strings.Contains(stdout, "resend-1") {
		t.Errorf("resend stdout = %q", stdout)
	}
	if n := e.server.count(); n != 2 {
		t.Fatalf("server received %d messages after a resend", n)
	}
	_, stderr := e.mustRun(1, "brief", "--resend", "2026-11-20")
	if !strings.Contains(stderr, "no briefing in the outbox") {
		t.Errorf("resend of an unknown day: %q", stderr)
	}
}

func TestBriefIfDue(t *testing.T) {
	e := newBriefEnv(t, true, "")
	e.seed()
	e.now = time.Date(2026, 11, 24, 7, 30, 0, 0, e.rome)
	stdout, _ := e.mustRun(0, "brief", "--if-due")
	if !strings.Contains(stdout, "briefing for 2026-11-24: not due until Tue 24 Nov 08:00 CET") || e.server.count() != 0 {
		t.Errorf("before 08:00: %q, %d sent", stdout, e.server.count())
	}
	e.now = time.Date(2026, 11, 24, 8, 1, 0, 0, e.rome)
	stdout, _ = e.mustRun(0, "brief", "--if-due")
	if !strings.Contains(stdout, "sent the briefing") || e.server.count() != 1 {
		t.Errorf("after 08:00: %q, %d sent", stdout, e.server.count())
	}
}

func TestBriefSendFailures(t *testing.T) {
	e := newBriefEnv(t, true, "")
	e.seed()
	e.server.set(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"})
	_, stderr := e.mustRun(1, "brief")
	if !strings.Contains(stderr, "reciprocal: brief: smtp 127.0.0.1:") || !strings.Contains(stderr, "data: 451 4.3.0 Try again later") ||
		!strings.Contains(stderr, "hint: the briefing stays in the outbox; the next 'reciprocal brief' sends it, with the same Message-ID") {
		t.Errorf("451: %s", stderr)
	}
	e.server.set(nil)
	e.mustRun(0, "brief")
	if n := e.server.count(); n != 1 {
		t.Fatalf("server accepted %d", n)
	}

	// Tomorrow the server refuses for good.
	e.now = time.Date(2026, 11, 25, 9, 0, 0, 0, e.rome)
	e.server.set(&smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message rejected"})
	_, stderr = e.mustRun(1, "brief")
	if !strings.Contains(stderr, "the server refused the message (DATA): 554 5.7.1 Message rejected") ||
		!strings.Contains(stderr, "hint: the briefing for 2026-11-25 is marked failed; fix the cause, then 'reciprocal brief --resend 2026-11-25'") {
		t.Errorf("554: %s", stderr)
	}
	e.server.set(nil)
	_, stderr = e.mustRun(1, "brief")
	if !strings.Contains(stderr, "the briefing for 2026-11-25 was refused by the server") || e.server.count() != 1 {
		t.Errorf("after 554: %s (%d accepted)", stderr, e.server.count())
	}
	e.mustRun(0, "brief", "--resend", "2026-11-25")
	if n := e.server.count(); n != 2 {
		t.Fatalf("server accepted %d", n)
	}
}

func TestBriefSkipEmpty(t *testing.T) {
	e := newBriefEnv(t, true, "skip_empty = true\n")
	stdout, _ := e.mustRun(0, "brief")
	if !strings.Contains(stdout, "nothing to send for 2026-11-24 (skip_empty = true)") || e.server.count() != 0 {
		t.Errorf("stdout = %q", stdout)
	}
	_, stderr := e.mustRun(0, "brief", "--dry-run")
	if !strings.Contains(stderr, "nothing to send") {
		t.Errorf("dry run stderr = %q", stderr)
	}
}

func TestBriefUsage(t *testing.T) {
	e := newBriefEnv(t, false, "")
	for _, args := range [][]string{
		{"brief", "--resend", "2026-11-24", "--dry-run"},
		{"brief", "--resend", "24/11/2026"},
		{"brief", "--if-due", "--out", "-"},
		{"brief", "extra"},
	} {
		if code, _, stderr := e.run(args...); code != exitUsage || !strings.Contains(stderr, "usage: reciprocal brief") {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
	}
}

// A mailServer is a plain-text SMTP server on 127.0.0.1 that counts what
// it accepts and refuses DATA with err when set.
type mailServer struct {
	addr string
	mu   sync.Mutex
	n    int
	err  error
}

func startMailServer(t *testing.T) *mailServer {
	ms := &mailServer{}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{ms}, nil }))
	s.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.addr = ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ms
}

func (ms *mailServer) set(err error) { ms.mu.Lock(); ms.err = err; ms.mu.Unlock() }
func (ms *mailServer) count() int    { ms.mu.Lock(); defer ms.mu.Unlock(); return ms.n }

type mailSession struct{ ms *mailServer }

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }
func (s *mailSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.ms.mu.Lock()
	defer s.ms.mu.Unlock()
	if s.ms.err != nil {
		return s.ms.err
	}
	s.ms.n++
	return nil
}
