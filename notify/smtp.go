package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/reciprocal-access/reciprocal/configs"
)

// A Sender delivers a message. It returns the server's reply on acceptance.
// A *SendError says at which step it failed and whether the failure is
// permanent.
type Sender interface {
	Send(ctx context.Context, from string, to []string, raw []byte) (reply string, err error)
}

// DefaultPasswordEnv is the environment variable that holds the SMTP
// password when [smtp] sets a username but neither password_env nor
// password_cmd.
const DefaultPasswordEnv = "RECIPROCAL_SMTP_PASSWORD"

// ErrNoSTARTTLS reports that the server does not offer STARTTLS when the
// configuration requires it. The message is not sent in plain text.
var ErrNoSTARTTLS = errors.New("the server does not offer STARTTLS, and tls = \"starttls\" forbids sending in plain text")

// A SendError is a failed delivery.
type SendError struct {
	// Step is where it failed: password, connect, tls, starttls, hello,
	// auth, mail, rcpt or data.
	Step   string
	Server string // host:port
	// Code and Reply are the server's reply, when it gave one.
	Code  int
	Reply string
	// Permanent is set when the server refused the message itself (a 5xx
	// reply to MAIL, RCPT or DATA): sending the same message again will
	// fail again. Every other failure is worth retrying.
	Permanent bool
	Err       error
}

func (e *SendError) Error() string {
	if e.Permanent {
		return fmt.Sprintf("smtp %s: the server refused the message (%s): %s", e.Server, strings.ToUpper(e.Step), e.Reply)
	}
	if e.Reply != "" {
		return fmt.Sprintf("smtp %s: %s: %s", e.Server, e.Step, e.Reply)
	}
	return fmt.Sprintf("smtp %s: %s: %v", e.Server, e.Step, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// Temporary reports whether sending again later may succeed.
func (e *SendError) Temporary() bool { return !e.Permanent }

// SMTP sends messages through the server of an [smtp] configuration:
// STARTTLS (required, never downgraded), implicit TLS or, to localhost
// only, plain text; AUTH PLAIN over TLS (or to localhost) when a username
// is set; every step bounded by the configured timeout.
type SMTP struct {
	Config configs.SMTP
	// TLSConfig, if set, is the base TLS configuration, for example with
	// RootCAs to trust a private certificate authority. ServerName
	// defaults to Config.Host.
	TLSConfig *tls.Config
	// LocalName is the name sent with EHLO; empty means "localhost".
	LocalName string
}

// NewSMTP returns a Sender for cfg.
func NewSMTP(cfg *configs.SMTP) *SMTP { return &SMTP{Config: *cfg} }

func (s *SMTP) addr() string {
	port := s.Config.Port
	if port == 0 {
		port = 587
		switch s.Config.TLS {
		case "tls":
			port = 465
		case "none":
			port = 25
		}
	}
	return net.JoinHostPort(s.Config.Host, strconv.Itoa(port))
}

func (s *SMTP) timeout() time.Duration {
	if t := time.Duration(s.Config.Timeout); t > 0 {
		return t
	}
	return 30 * time.Second
}

// Send delivers raw from the envelope sender to the recipients.
func (s *SMTP) Send(ctx context.Context, from string, to []string, raw []byte) (reply string, err error) {
	cfg := s.Config
	addr := s.addr()
	fail := func(step string, err error) error { return classify(step, addr, err) }
	mode := cfg.TLS
	if mode == "" {
		mode = "starttls"
	}
	if mode == "none" && !isLoopback(cfg.Host) {
		return "", fail("connect", fmt.Errorf("tls = \"none\" is only allowed to localhost, not %q", cfg.Host))
	}
	if mode != "none" && mode != "tls" && mode != "starttls" {
		return "", fail("connect", fmt.Errorf("unknown tls mode %q: want starttls, tls or none", mode))
	}
	var password string
	if cfg.Username != "" {
		if password, err = s.password(ctx); err != nil {
			return "", &SendError{Step: "password", Server: addr, Err: err}
		}
	}

	timeout := s.timeout()
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fail("connect", err)
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.Close() }) // cancellation ends any step at once
	defer stop()
	defer func() {
		// A step cut short by cancellation fails with the reason, not
		// with "use of closed network connection".
		var se *SendError
		if err != nil && ctx.Err() != nil && errors.As(err, &se) && !se.Permanent {
			se.Err = fmt.Errorf("%w (%v)", ctx.Err(), se.Err)
			se.Reply = ""
		}
	}()
	conn := &deadlineConn{Conn: nc, timeout: timeout}

	tlsConfig := s.tlsConfig()
	var c *smtp.Client
	switch mode {
	case "tls":
		tc := tls.Client(conn, tlsConfig)
		hctx, cancel := context.WithTimeout(ctx, timeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return "", fail("tls", err)
		}
		c = smtp.NewClient(tc)
	case "starttls":
		c, err = smtp.NewClientStartTLS(conn, tlsConfig)
		if err != nil {
			var se *smtp.SMTPError
			if !errors.As(err, &se) && !conn.sentSTARTTLS && strings.Contains(err.Error(), "STARTTLS") {
				err = ErrNoSTARTTLS
			}
			return "", fail("starttls", err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	c.CommandTimeout = timeout
	c.SubmissionTimeout = timeout

	// After STARTTLS this greets the server again, over TLS: the handshake
	// happens here.
	if err := c.Hello(s.localName()); err != nil {
		return "", fail("hello", err)
	}
	if cfg.Username != "" {
		if _, isTLS := c.TLSConnectionState(); !isTLS && !isLoopback(cfg.Host) {
			return "", fail("auth", errors.New("refusing to send the password over a connection without TLS"))
		}
		if !c.SupportsAuth(sasl.Plain) {
			return "", fail("auth", errors.New("the server does not offer AUTH PLAIN"))
		}
		if err := c.Auth(sasl.NewPlainClient("", cfg.Username, password)); err != nil {
			return "", fail("auth", err)
		}
	}

	var opts *smtp.MailOptions
	if !isASCII(from) || !isASCII(strings.Join(to, "")) {
		opts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(from, opts); err != nil {
		return "", fail("mail", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return "", fail("rcpt", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return "", fail("data", err)
	}
	if _, err := w.Write(raw); err != nil {
		return "", fail("data", err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		var reply *smtp.SMTPError
		if !errors.As(err, &reply) && ctx.Err() == nil {
			// The whole message went out but no reply came back: the
			// server may have taken it. Sending again (as the outbox
			// does) can deliver it twice, with the same Message-ID, as
			// any mail transfer agent can after a lost reply.
			var ne net.Error
			what := "the connection ended with no reply to DATA"
			if errors.As(err, &ne) && ne.Timeout() {
				what = fmt.Sprintf("no reply to DATA within %v", timeout)
			}
			err = fmt.Errorf("%s: the message may have been delivered; it will be sent again with the same Message-ID (%w)", what, err)
		}
		return "", fail("data", err)
	}
	// The server has taken responsibility for the message: nothing after
	// this point may turn the delivery into a failure.
	c.Quit()
	return "250 " + oneLine(resp.StatusText), nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	var c *tls.Config
	if s.TLSConfig != nil {
		c = s.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName = s.Config.Host
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

func (s *SMTP) localName() string {
	if n := s.LocalName; n != "" && !strings.ContainsAny(n, " \r\n") {
		return n
	}
	return "localhost"
}

// password returns the SMTP password from the environment or from running
// password_cmd. Neither the password nor the command's output appears in
// errors.
func (s *SMTP) password(ctx context.Context) (string, error) {
	cfg := s.Config
	if len(cfg.PasswordCmd) > 0 {
		return runPasswordCmd(ctx, cfg.PasswordCmd, s.timeout())
	}
	env := cfg.PasswordEnv
	if env == "" {
		env = DefaultPasswordEnv
	}
	p := os.Getenv(env)
	if p == "" {
		return "", fmt.Errorf("$%s is empty or not set; it should hold the SMTP password for %s", env, cfg.Username)
	}
	return p, nil
}

// runPasswordCmd runs argv and returns the first line of its output.
func runPasswordCmd(ctx context.Context, argv []string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = nil
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	first, _, _ := strings.Cut(stdout.String(), "\n")
	first = strings.TrimSuffix(first, "\r")
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if first != "" {
			msg = strings.ReplaceAll(msg, first, "[redacted]")
		}
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		msg = headerValue(msg)
		if msg != "" {
			return "", fmt.Errorf("password_cmd %s: %v: %s", argv[0], err, msg)
		}
		return "", fmt.Errorf("password_cmd %s: %v", argv[0], err)
	}
	if first == "" {
		return "", fmt.Errorf("password_cmd %s printed no password", argv[0])
	}
	return first, nil
}

// classify wraps an error from a step of the SMTP conversation.
func classify(step, server string, err error) *SendError {
	se := &SendError{Step: step, Server: server, Err: err}
	var reply *smtp.SMTPError
	if errors.As(err, &reply) {
		se.Code = reply.Code
		se.Reply = replyText(reply)
		switch step {
		case "mail", "rcpt", "data":
			se.Permanent = reply.Code >= 500 && reply.Code < 600
		}
	} else if isTLSError(err) && step != "tls" {
		se.Step = "tls"
	}
	return se
}

// replyText formats an SMTP reply for a person: "554 5.7.1 message refused".
func replyText(e *smtp.SMTPError) string {
	s := strconv.Itoa(e.Code)
	if c := e.EnhancedCode; c != smtp.EnhancedCodeNotSet && c != smtp.NoEnhancedCode {
		s += fmt.Sprintf(" %d.%d.%d", c[0], c[1], c[2])
	}
	if m := oneLine(e.Message); m != "" {
		s += " " + m
	}
	return s
}

func isTLSError(err error) bool {
	var (
		alert    tls.AlertError
		record   tls.RecordHeaderError
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &alert) || errors.As(err, &record) || errors.As(err, &verify) ||
		errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// A deadlineConn bounds every read and write (the TLS handshake and the
// message body included, which go-smtp's command timeouts do not cover) by
// timeout, and notes whether STARTTLS was sent.
type deadlineConn struct {
	net.Conn
	timeout      time.Duration
	sentSTARTTLS bool
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("STARTTLS")) {
		c.sentSTARTTLS = true
	}
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(p)
}
