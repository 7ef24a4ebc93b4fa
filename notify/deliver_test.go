package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

var testDay = Date{2026, time.November, 24}

// newOutbox returns an outbox in a fresh store, with a clock that starts at
// 08:00 on testDay in Rome and moves a minute each time it is read.
func newOutbox(t testing.TB) *Outbox {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ob := NewOutbox(st)
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, mustLoad(t, "Europe/Rome"))
	ob.Now = func() time.Time { now = now.Add(time.Minute); return now }
	return ob
}

// A composer composes the sample briefing and counts how often.
type composer struct {
	t     testing.TB
	b     *Briefing
	opts  Options
	calls int
}

func newComposer(t testing.TB) *composer {
	b := sampleBriefing(t)
	return &composer{t: t, b: b, opts: testOptions(b.Now.Location())}
}

func (c *composer) compose() (*Message, error) {
	c.calls++
	return Compose(c.b, c.opts)
}

func deliver(t testing.TB, ob *Outbox, c *composer, s Sender) (Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return ob.Deliver(ctx, testDay, c.compose, s)
}

func wantState(t testing.TB, ob *Outbox, want State) Entry {
	t.Helper()
	e, ok, err := ob.Entry(testDay)
	if err != nil || !ok {
		t.Fatalf("outbox entry: %v, %v", ok, err)
	}
	if e.State != want {
		t.Fatalf("outbox state = %s (last error %q), want %s", e.State, e.LastError, want)
	}
	return e
}

func wantReceived(t testing.TB, ts *testServer, n int) []receivedMessage {
	t.Helper()
	got := ts.Received()
	if len(got) != n {
		t.Fatalf("server accepted %d messages, want %d", len(got), n)
	}
	return got
}

// TestDeliverEndToEnd sends the sample briefing over STARTTLS with AUTH
// PLAIN; the first DATA gets 451, the retry succeeds with the same bytes.
func TestDeliverEndToEnd(t *testing.T) {
	const password = "correct horse battery staple"
	ts := startServer(t, serverOptions{TLS: "starttls"}, "")
	ts.set(func(ts *testServer) {
		ts.Users = map[string]string{"me@example.com": password}
		ts.DataErr = err451
	})
	t.Setenv(DefaultPasswordEnv, password)
	snd := ts.sender("starttls")
	snd.Config.Username = "me@example.com"
	ob := newOutbox(t)
	c := newComposer(t)

	res, err := deliver(t, ob, c, snd)
	se := asSendError(t, err)
	if se.Step != "data" || se.Code != 451 || se.Permanent {
		t.Errorf("first attempt: %+v, want a temporary 451 at data", se)
	}
	if !res.Composed || !res.Attempted || res.Entry.State != StatePending {
		t.Errorf("first attempt result: %+v", res)
	}
	e := wantState(t, ob, StatePending)
	if !strings.Contains(e.LastError, "451 4.3.0 Try again later") || e.Attempts != 1 {
		t.Errorf("pending entry: %+v", e)
	}
	wantReceived(t, ts, 0)

	ts.set(func(ts *testServer) { ts.DataErr = nil })
	res, err = deliver(t, ob, c, snd)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if res.Composed || !res.Attempted || res.Entry.State != StateSent || res.Entry.Attempts != 2 {
		t.Errorf("retry result: %+v", res)
	}
	if !strings.HasPrefix(res.Entry.Reply, "250 ") || res.Entry.Sent.IsZero() || res.Entry.LastError != "" {
		t.Errorf("sent entry: %+v", res.Entry)
	}

	// Once sent, never again.
	res, err = deliver(t, ob, c, snd)
	if err != nil || res.Attempted || res.Entry.State != StateSent {
		t.Errorf("third run: %+v, %v; want nothing done", res, err)
	}
	got := wantReceived(t, ts, 1)
	if c.calls != 1 {
		t.Errorf("composed %d times, want once", c.calls)
	}

	// The retry sent the bytes of the first attempt.
	attempts := ts.Attempts()
	if len(attempts) != 2 || !bytes.Equal(attempts[0].Data, attempts[1].Data) {
		t.Fatalf("server read %d DATA, retries differ", len(attempts))
	}
	raw, err := ob.Raw(testDay)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[0].Data, raw) {
		t.Errorf("received bytes differ from the outbox's")
	}
	if got[0].From != "me@example.com" || len(got[0].To) != 1 || got[0].To[0] != "me@example.com" {
		t.Errorf("envelope %q → %q", got[0].From, got[0].To)
	}
	if ts.Mails() != 2 || ts.MailsOverTLS() != 2 {
		t.Errorf("%d of %d MAIL commands over TLS", ts.MailsOverTLS(), ts.Mails())
	}
	if auths := ts.Auths(); len(auths) != 2 || auths[0] != "me@example.com:"+password {
		t.Errorf("auths = %q", auths)
	}

	pm := parseMessage(t, got[0].Data)
	first := parseMessage(t, attempts[0].Data)
	id1, _ := first.Header.MessageID()
	id2, _ := pm.Header.MessageID()
	if id1 != id2 || id2 != "briefing-2026-11-24.reciprocal@example.com" || id2 != res.Entry.MessageID {
		t.Errorf("Message-ID across retries: %q then %q (entry %q)", id1, id2, res.Entry.MessageID)
	}
	if s := subjectOf(t, pm.Header); !strings.HasPrefix(s, "reciprocal: 4 consult prompts, 1 vulnerability in its SLA window") {
		t.Errorf("subject = %q", s)
	}
	inOrder(t, "received text", pm.Text,
		"VULNERABILITIES IN THEIR SLA WINDOW", "GO-2026-4321", "Acme (platinum): may ask until Tue 24 Nov 12:10, 3h 10m left",
		"CONSULT PROMPTS", "Acme (platinum) · 2 prompts", "[high priority]", "Globex (gold)", "Initech (silver)",
		"PROPOSALS CHANGING STAGE", "active → likely-accept",
		"-- ", "Sync: gerrit go-review: FAILING", "Sync: github golang/go: ok")
	inOrder(t, "received html", pm.HTML,
		"Vulnerabilities in their SLA window", "GO-2026-4321", "3h 10m left",
		"Consult prompts", "Acme", "high priority", "Globex", "Initech",
		"Proposals changing stage", "likely-accept",
		"Sync: gerrit go-review", "FAILING", "Sync: github golang/go")
}

func TestDeliverImplicitTLS(t *testing.T) {
	ts := startServer(t, serverOptions{TLS: "tls"}, "")
	ts.set(func(ts *testServer) { ts.Users = map[string]string{"me": "pw"} })
	snd := ts.sender("tls")
	snd.Config.Username = "me"
	snd.Config.PasswordEnv = "TEST_SMTP_PW"
	t.Setenv("TEST_SMTP_PW", "pw")
	ob := newOutbox(t)
	if _, err := deliver(t, ob, newComposer(t), snd); err != nil {
		t.Fatal(err)
	}
	wantState(t, ob, StateSent)
	wantReceived(t, ts, 1)
}

func TestDeliverPlainToLocalhost(t *testing.T) {
	ts := startServer(t, serverOptions{TLS: "none"}, "")
	ob := newOutbox(t)
	if _, err := deliver(t, ob, newComposer(t), ts.sender("none")); err != nil {
		t.Fatal(err)
	}
	wantState(t, ob, StateSent)
	wantReceived(t, ts, 1)

	// Never to another host.
	s := NewSMTP(&configs.SMTP{Host: "smtp.example.com", Port: 25, TLS: "none"})
	_, err := s.Send(context.Background(), "a@example.com", []string{"b@example.com"}, []byte("x"))
	if se := asSendError(t, err); se.Step != "connect" || !strings.Contains(err.Error(), "only allowed to localhost") {
		t.Errorf("plain text to a remote host: %v", err)
	}
}

func TestServerDown(t *testing.T) {
	addr := freeAddr(t)
	ob := newOutbox(t)
	c := newComposer(t)
	down := &testServer{Addr: addr}
	res, err := deliver(t, ob, c, down.sender("starttls"))
	se := asSendError(t, err)
	if se.Step != "connect" || se.Permanent || !errors.Is(err, errConnRefused(t)) {
		t.Errorf("server down: %v (%+v)", err, se)
	}
	if res.Entry.State != StatePending {
		t.Errorf("state = %s", res.Entry.State)
	}
	wantState(t, ob, StatePending)

	// The server comes back at the same address.
	ts := startServer(t, serverOptions{TLS: "starttls"}, addr)
	if _, err := deliver(t, ob, c, ts.sender("starttls")); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	wantState(t, ob, StateSent)
	if _, err := deliver(t, ob, c, ts.sender("starttls")); err != nil {
		t.Fatal(err)
	}
	wantReceived(t, ts, 1)
	if c.calls != 1 {
		t.Errorf("composed %d times", c.calls)
	}
}

// errConnRefused returns the error a refused connection wraps.
func errConnRefused(t testing.TB) error {
	_, err := net.Dial("tcp", freeAddr(t))
	var errno interface{ Unwrap() error }
	for errors.As(err, &errno) {
		if inner := errno.Unwrap(); inner != nil {
			err = inner
			continue
		}
		break
	}
	return err
}

func TestTemporaryRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*testServer)
		step string
	}{
		{"451 on MAIL", func(ts *testServer) { ts.MailErr = err451 }, "mail"},
		{"451 on RCPT", func(ts *testServer) { ts.RcptErr = err451 }, "rcpt"},
		{"451 on DATA", func(ts *testServer) { ts.DataErr = err451 }, "data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, serverOptions{TLS: "starttls"}, "")
			ts.set(tc.set)
			ob := newOutbox(t)
			c := newComposer(t)
			snd := ts.sender("starttls")
			_, err := deliver(t, ob, c, snd)
			se := asSendError(t, err)
			if se.Step != tc.step || se.Code != 451 || se.Permanent || !se.Temporary() {
				t.Errorf("error %v: %+v", err, se)
			}
			wantState(t, ob, StatePending)
			wantReceived(t, ts, 0)

			// Still refusing: still pending, one more attempt.
			_, err = deliver(t, ob, c, snd)
			if e := wantState(t, ob, StatePending); err == nil || e.Attempts != 2 {
				t.Errorf("second attempt: %v, %d attempts", err, e.Attempts)
			}

			ts.set(func(ts *testServer) { ts.MailErr, ts.RcptErr, ts.DataErr = nil, nil, nil })
			if _, err := deliver(t, ob, c, snd); err != nil {
				t.Fatalf("after recovery: %v", err)
			}
			wantState(t, ob, StateSent)
			deliver(t, ob, c, snd)
			deliver(t, ob, c, snd)
			wantReceived(t, ts, 1)
			if c.calls != 1 {
				t.Errorf("composed %d times", c.calls)
			}
		})
	}
}

func TestPermanentRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   func(*testServer)
		step  string
		reply string
	}{
		{"554 on DATA", func(ts *testServer) { ts.DataErr = err554 }, "data", "554 5.7.1 Message rejected as spam"},
		{"550 on RCPT", func(ts *testServer) { ts.RcptErr = err550 }, "rcpt", "550 5.1.1 No such user"},
		{"554 on MAIL", func(ts *testServer) { ts.MailErr = err554 }, "mail", "554 5.7.1 Message rejected as spam"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, serverOptions{TLS: "starttls"}, "")
			ts.set(tc.set)
			ob := newOutbox(t)
			c := newComposer(t)
			snd := ts.sender("starttls")
			res, err := deliver(t, ob, c, snd)
			se := asSendError(t, err)
			if se.Step != tc.step || !se.Permanent || se.Reply != tc.reply {
				t.Errorf("error %v: %+v", err, se)
			}
			if !strings.Contains(err.Error(), "the server refused the message") || !strings.Contains(err.Error(), tc.reply) {
				t.Errorf("error does not tell the user: %v", err)
			}
			e := wantState(t, ob, StateFailed)
			if e.Reply != tc.reply || !strings.Contains(e.LastError, tc.reply) || res.Entry.State != StateFailed {
				t.Errorf("failed entry: %+v", e)
			}

			// Not retried: the server sees nothing more.
			mails := ts.Mails()
			ts.set(func(ts *testServer) { ts.MailErr, ts.RcptErr, ts.DataErr = nil, nil, nil })
			res, err = deliver(t, ob, c, snd)
			if err != nil || res.Attempted || ts.Mails() != mails {
				t.Errorf("a failed briefing was retried: %+v, %v", res, err)
			}
			wantState(t, ob, StateFailed)
			wantReceived(t, ts, 0)

			// Until the user asks: a new Message-ID, then sent once.
			res, err = ob.Resend(context.Background(), testDay, snd)
			if err != nil || res.Entry.State != StateSent || res.Entry.Resends != 1 {
				t.Fatalf("resend: %+v, %v", res, err)
			}
			got := wantReceived(t, ts, 1)
			pm := parseMessage(t, got[0].Data)
			if id, _ := pm.Header.MessageID(); id != "briefing-2026-11-24.resend-1.reciprocal@example.com" {
				t.Errorf("resent Message-ID = %q", id)
			}
			if s := subjectOf(t, pm.Header); !strings.HasPrefix(s, "reciprocal: 4 consult prompts") {
				t.Errorf("resent subject = %q", s)
			}
			deliver(t, ob, c, snd)
			wantReceived(t, ts, 1)
		})
	}
}

func TestResendSent(t *testing.T) {
	ts := startServer(t, serverOptions{TLS: "starttls"}, "")
	ob := newOutbox(t)
	c := newComposer(t)
	snd := ts.sender("starttls")
	if _, err := deliver(t, ob, c, snd); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Resend(context.Background(), Date{2026, 11, 23}, snd); !errors.Is(err, ErrNoBriefing) {
		t.Errorf("resend of a day never composed: %v", err)
	}
	for i := 1; i <= 2; i++ {
		if _, err := ob.Resend(context.Background(), testDay, snd); err != nil {
			t.Fatal(err)
		}
	}
	got := wantReceived(t, ts, 3)
	var ids []string
	for _, m := range got {
		pm := parseMessage(t, m.Data)
		id, _ := pm.Header.MessageID()
		ids = append(ids, id)
		if !strings.Contains(pm.Text, "CONSULT PROMPTS") {
			t.Errorf("resent body lost its content")
		}
	}
	want := []string{
		"briefing-2026-11-24.reciprocal@example.com",
		"briefing-2026-11-24.resend-1.reciprocal@example.com",
		"briefing-2026-11-24.resend-2.reciprocal@example.com",
	}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("Message-IDs = %q, want %q", ids, want)
	}
	// The body is byte for byte the original.
	_, body0, _ := bytes.Cut(got[0].Data, []byte("\r\n\r\n"))
	_, body2, _ := bytes.Cut(got[2].Data, []byte("\r\n\r\n"))
	if !bytes.Equal(body0, body2) {
		t.Errorf("resend changed the body")
	}
}

func TestSTARTTLSNotOffered(t *testing.T) {
	ts := startServer(t, serverOptions{TLS: "none", AllowInsecureAuth: true}, "")
	ob := newOutbox(t)
	c := newComposer(t)
	snd := ts.sender("starttls")
	snd.Config.Username = "me"
	t.Setenv(DefaultPasswordEnv, "pw")
	_, err := deliver(t, ob, c, snd)
	if !errors.Is(err, ErrNoSTARTTLS) || asSendError(t, err).Step != "starttls" {
		t.Errorf("error = %v, want ErrNoSTARTTLS", err)
	}
	wantState(t, ob, StatePending)
	if ts.Mails() != 0 || len(ts.Auths()) != 0 {
		t.Errorf("went on in plain text: %d MAIL, %d AUTH", ts.Mails(), len(ts.Auths()))
	}

	// The server gains STARTTLS: the pending briefing goes.
	ts.Close()
	ts2 := startServer(t, serverOptions{TLS: "starttls"}, ts.Addr)
	ts2.set(func(ts *testServer) { ts.Users = map[string]string{"me": "pw"} })
	if _, err := deliver(t, ob, c, ts2.sender("starttls")); err != nil {
		t.Fatal(err)
	}
	wantState(t, ob, StateSent)
	wantReceived(t, ts2, 1)
	if ts2.MailsOverTLS() != 1 {
		t.Errorf("sent without TLS")
	}
}

func TestAuthRefused(t *testing.T) {
	const password = "s3cret-Pa55w0rd"
	ts := startServer(t, serverOptions{TLS: "starttls"}, "")
	ts.set(func(ts *testServer) { ts.Users = map[string]string{"me": "another password"} })
	t.Setenv(DefaultPasswordEnv, password)
	ob := newOutbox(t)
	c := newComposer(t)
	snd := ts.sender("starttls")
	snd.Config.Username = "me"

	_, err := deliver(t, ob, c, snd)
	se := asSendError(t, err)
	if se.Step != "auth" || se.Code != 535 || se.Permanent {
		t.Errorf("error %v: %+v", err, se)
	}
	e := wantState(t, ob, StatePending)
	if ts.Mails() != 0 {
		t.Errorf("sent MAIL after a refused AUTH")
	}
	if auths := ts.Auths(); len(auths) != 1 || auths[0] != "me:"+password {
		t.Errorf("auths = %q", auths)
	}
	j, _ := json.Marshal(e)
	for what, s := range map[string]string{"error": err.Error(), "entry": string(j)} {
		if strings.Contains(s, password) {
			t.Errorf("the password leaks into the %s: %s", what, s)
		}
	}

	ts.set(func(ts *testServer) { ts.Users = map[string]string{"me": password} })
	if _, err := deliver(t, ob, c, snd); err != nil {
		t.Fatal(err)
	}
	wantState(t, ob, StateSent)
	deliver(t, ob, c, snd)
	wantReceived(t, ts, 1)
}

func TestAuthNeedsTLS(t *testing.T) {
	// A password never goes over plain text to a remote host, even when
	// the server would take it. (Validation refuses tls = "none" to a
	// remote host already; this covers a hand-built configuration.)
	ts := startServer(t, serverOptions{TLS: "none", AllowInsecureAuth: true}, "")
	_, port, _ := net.SplitHostPort(ts.Addr)
	t.Setenv(DefaultPasswordEnv, "pw")
	s := &SMTP{Config: configs.SMTP{Host: "localhost", TLS: "none", Username: "me", Timeout: configs.Duration(5 * time.Second)}}
	s.Config.Port, _ = strconv.Atoi(port)
	ts.set(func(ts *testServer) { ts.Users = map[string]string{"me": "pw"} })
	if _, err := s.Send(context.Background(), "me@example.com", []string{"me@example.com"}, []byte("Subject: x\r\n\r\nx\r\n")); err != nil {
		t.Errorf("AUTH to localhost in plain text: %v", err)
	}
}

func TestTLSFailure(t *testing.T) {
	for _, mode := range []string{"starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			ts := startServer(t, serverOptions{TLS: mode}, "")
			ob := newOutbox(t)
			c := newComposer(t)
			untrusting := ts.sender(mode)
			untrusting.TLSConfig = nil // the system roots do not know the test CA
			_, err := deliver(t, ob, c, untrusting)
			if se := asSendError(t, err); se.Step != "tls" || se.Permanent {
				t.Errorf("untrusted certificate: %v (%+v)", err, se)
			}
			wantState(t, ob, StatePending)
			if ts.Mails() != 0 {
				t.Errorf("sent MAIL over an untrusted connection")
			}

			wrongName := ts.sender(mode)
			wrongName.TLSConfig.ServerName = "smtp.example.com"
			_, err = deliver(t, ob, c, wrongName)
			if se := asSendError(t, err); se.Step != "tls" {
				t.Errorf("wrong host name: %v (%+v)", err, se)
			}

			if _, err := deliver(t, ob, c, ts.sender(mode)); err != nil {
				t.Fatal(err)
			}
			wantState(t, ob, StateSent)
			wantReceived(t, ts, 1)
			if ts.MailsOverTLS() != 1 {
				t.Errorf("sent without TLS")
			}
		})
	}
}

// TestTimeout points the sender at a server that accepts connections and
// never says a word.
func TestTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ts := &testServer{Addr: ln.Addr().String()}
	ob := newOutbox(t)
	c := newComposer(t)

	snd := ts.sender("starttls")
	snd.Config.Timeout = configs.Duration(200 * time.Millisecond)
	start := time.Now()
	_, err = deliver(t, ob, c, snd)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timed out after %v", d)
	}
	var ne net.Error
	if se := asSendError(t, err); se.Permanent || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("silent server: %v", err)
	}
	wantState(t, ob, StatePending)

	// Cancellation ends a long wait at once.
	snd.Config.Timeout = configs.Duration(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	_, err = ob.Deliver(ctx, testDay, c.compose, snd)
	if d := time.Since(start); d > 3*time.Second || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled after %v: %v", d, err)
	}
	wantState(t, ob, StatePending)
}

// A reply to DATA that comes after the timeout: the server may have taken
// the message. The outbox says so, keeps it pending and sends it again with
// the same Message-ID.
func TestLateReplyAfterData(t *testing.T) {
	ts := startServer(t, serverOptions{TLS: "none"}, "")
	ts.set(func(ts *testServer) { ts.DataDelay = 1500 * time.Millisecond })
	ob := newOutbox(t)
	c := newComposer(t)
	snd := ts.sender("none")
	snd.Config.Timeout = configs.Duration(300 * time.Millisecond)

	_, err := deliver(t, ob, c, snd)
	if se := asSendError(t, err); se.Permanent || se.Step != "data" {
		t.Fatalf("late reply: %v", err)
	}
	e := wantState(t, ob, StatePending)
	want := "no reply to DATA within 300ms: the message may have been delivered; it will be sent again with the same Message-ID"
	if !strings.Contains(e.LastError, want) {
		t.Errorf("LastError = %q, want it to say %q", e.LastError, want)
	}
	if d := e.Describe(time.UTC); !strings.Contains(d, "pending after 1 failed attempt") || !strings.Contains(d, want) {
		t.Errorf("Describe = %q", d)
	}

	// The server did take it; the retry sends the same message again.
	ts.set(func(ts *testServer) { ts.DataDelay = 0 })
	if _, err := deliver(t, ob, c, snd); err != nil {
		t.Fatal(err)
	}
	wantState(t, ob, StateSent)
	got := ts.Attempts()
	if len(got) != 2 || !bytes.Equal(got[0].Data, got[1].Data) {
		t.Errorf("the server read %d messages, want the same one twice", len(got))
	}
}

func TestPasswordCmd(t *testing.T) {
	ts := startServer(t, serverOptions{TLS: "starttls"}, "")
	ts.set(func(ts *testServer) { ts.Users = map[string]string{"me": "from the command"} })
	snd := ts.sender("starttls")
	snd.Config.Username = "me"
	snd.Config.PasswordCmd = []string{"sh", "-c", `printf 'from the command\nsecond line\n'`}
	ob := newOutbox(t)
	if _, err := deliver(t, ob, newComposer(t), snd); err != nil {
		t.Fatal(err)
	}
	wantReceived(t, ts, 1)

	const secret = "hunter2-very-secret"
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"sh", "-c", "echo " + secret + "; echo 'gpg: decryption failed for " + secret + "' >&2; exit 3"}, "exit status 3: gpg: decryption failed for [redacted]"},
		{[]string{"sh", "-c", "true"}, "printed no password"},
		{[]string{"/nonexistent/password-helper"}, "password_cmd /nonexistent/password-helper"},
	} {
		s := &SMTP{Config: configs.SMTP{Host: "127.0.0.1", Username: "me", PasswordCmd: tc.argv}}
		_, err := s.Send(context.Background(), "a@example.com", []string{"b@example.com"}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secret) {
			t.Errorf("password_cmd %q: %v, want %q without the secret", tc.argv, err, tc.want)
		}
		if se := asSendError(t, err); se.Step != "password" {
			t.Errorf("step = %q", se.Step)
		}
	}

	t.Setenv("EMPTY_PW", "")
	s := &SMTP{Config: configs.SMTP{Host: "127.0.0.1", Username: "me", PasswordEnv: "EMPTY_PW"}}
	if _, err := s.Send(context.Background(), "a@example.com", nil, nil); err == nil || !strings.Contains(err.Error(), "$EMPTY_PW is empty or not set") {
		t.Errorf("empty password env: %v", err)
	}
}

// TestExpire: a briefing still pending when the next day's is composed is
// expired, not sent a day late.
func TestExpire(t *testing.T) {
	ob := newOutbox(t)
	c := newComposer(t)
	down := &testServer{Addr: freeAddr(t)}
	if _, err := deliver(t, ob, c, down.sender("starttls")); err == nil {
		t.Fatal("delivery to a closed port succeeded")
	}
	ts := startServer(t, serverOptions{TLS: "starttls"}, "")
	c.b.Now = c.b.Now.Add(24 * time.Hour)
	tomorrow := testDay.AddDays(1)
	if _, err := ob.Deliver(context.Background(), tomorrow, c.compose, ts.sender("starttls")); err != nil {
		t.Fatal(err)
	}
	wantState(t, ob, StateExpired)
	entries, err := ob.Entries()
	if err != nil || len(entries) != 2 || entries[0].Date != tomorrow || entries[0].State != StateSent {
		t.Fatalf("entries = %+v, %v", entries, err)
	}
	wantReceived(t, ts, 1)
	if d := entries[1].Describe(time.UTC); !strings.Contains(d, "superseded") {
		t.Errorf("describe expired = %q", d)
	}
}

func TestComposeMismatch(t *testing.T) {
	ob := newOutbox(t)
	c := newComposer(t)
	_, err := ob.Deliver(context.Background(), testDay.AddDays(1), c.compose, &testServer{})
	if err == nil || !strings.Contains(err.Error(), "composed the briefing of 2026-11-24 for the day 2026-11-25") {
		t.Errorf("err = %v", err)
	}
	if _, ok, _ := ob.Entry(testDay.AddDays(1)); ok {
		t.Errorf("stored a briefing for the wrong day")
	}
}

func TestNothingToSend(t *testing.T) {
	ob := newOutbox(t)
	compose := func() (*Message, error) { return nil, ErrNothingToSend }
	_, err := ob.Deliver(context.Background(), testDay, compose, &testServer{})
	if !errors.Is(err, ErrNothingToSend) {
		t.Errorf("err = %v", err)
	}
	if entries, _ := ob.Entries(); len(entries) != 0 {
		t.Errorf("stored %d entries for an empty day", len(entries))
	}
}

// The test server's sender is a Sender; so is a testServer, for tests
// that must fail before sending.
func (ts *testServer) Send(context.Context, string, []string, []byte) (string, error) {
	return "", errors.New("test: no sender")
}
