package notify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/reciprocal-access/reciprocal/configs"
)

// A testServer is an in-process SMTP server that records what it is sent
// and can be told to refuse at any step.
type testServer struct {
	t    testing.TB
	Addr string
	srv  *smtp.Server
	ln   net.Listener

	mu       sync.Mutex
	received []receivedMessage // messages accepted (DATA answered 250)
	attempts []receivedMessage // every DATA the server read, accepted or not
	mails    int               // MAIL commands seen
	tlsMails int               // MAIL commands seen over TLS
	auths    []string          // "username:password" of every AUTH attempt

	// Failures to answer with; set them between deliveries with set.
	MailErr, RcptErr, DataErr error
	// DataDelay, if set, is how long the server waits, having read the
	// message, before it replies to DATA.
	DataDelay time.Duration
	// Users, if set, are the accepted username → password pairs; AUTH
	// PLAIN is refused for anyone else.
	Users map[string]string
}

type receivedMessage struct {
	From string
	To   []string
	Data []byte
}

type serverOptions struct {
	// TLS is "starttls" (offer STARTTLS), "tls" (implicit TLS) or "none".
	TLS               string
	AllowInsecureAuth bool
}

// testCert is a self-signed certificate for 127.0.0.1 and localhost,
// generated once per test binary.
var testCert = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "reciprocal test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
})

// startServer starts a test server on 127.0.0.1; addr, if not empty, is
// the address to listen on (to bring a "down" server back up).
func startServer(t testing.TB, opts serverOptions, addr string) *testServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ts := &testServer{t: t}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &testSession{ts: ts, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.AllowInsecureAuth = opts.AllowInsecureAuth
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.ErrorLog = nopLogger{}
	cert, _ := testCert()
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	switch opts.TLS {
	case "starttls":
		s.TLSConfig = tlsConfig
	case "tls":
		s.TLSConfig = tlsConfig
		ln = tls.NewListener(ln, tlsConfig)
	}
	ts.srv, ts.ln, ts.Addr = s, ln, ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) Close() { ts.srv.Close() }

// set changes the server's behaviour under its lock.
func (ts *testServer) set(f func(*testServer)) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	f(ts)
}

func (ts *testServer) Received() []receivedMessage {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]receivedMessage(nil), ts.received...)
}

func (ts *testServer) Attempts() []receivedMessage {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]receivedMessage(nil), ts.attempts...)
}

func (ts *testServer) Mails() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.mails
}

// MailsOverTLS returns how many MAIL commands came over TLS.
func (ts *testServer) MailsOverTLS() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.tlsMails
}

func (ts *testServer) Auths() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.auths...)
}

// config returns an [smtp] configuration pointing at the server.
func (ts *testServer) config(mode string) configs.SMTP {
	host, port, _ := net.SplitHostPort(ts.Addr)
	p, _ := strconv.Atoi(port)
	return configs.SMTP{
		Host:    host,
		Port:    p,
		TLS:     mode,
		From:    "reciprocal <me@example.com>",
		To:      []string{"me@example.com"},
		Timeout: configs.Duration(5 * time.Second),
	}
}

// sender returns an SMTP sender for the server that trusts its certificate.
func (ts *testServer) sender(mode string) *SMTP {
	_, pool := testCert()
	s := NewSMTP(new(ts.config(mode)))
	s.TLSConfig = &tls.Config{RootCAs: pool}
	return s
}

type testSession struct {
	ts   *testServer
	conn *smtp.Conn
	from string
	to   []string
}

func (s *testSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		s.ts.mu.Lock()
		defer s.ts.mu.Unlock()
		s.ts.auths = append(s.ts.auths, username+":"+password)
		if want, ok := s.ts.Users[username]; ok && want == password {
			return nil
		}
		return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
	}), nil
}

func (s *testSession) Mail(from string, opts *smtp.MailOptions) error {
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	s.ts.mails++
	if _, ok := s.conn.TLSConnectionState(); ok {
		s.ts.tlsMails++
	}
	if s.ts.MailErr != nil {
		return s.ts.MailErr
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	if s.ts.RcptErr != nil {
		return s.ts.RcptErr
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg := receivedMessage{From: s.from, To: s.to, Data: data}
	s.ts.mu.Lock()
	s.ts.attempts = append(s.ts.attempts, msg)
	delay := s.ts.DataDelay
	s.ts.mu.Unlock()
	time.Sleep(delay)
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	if s.ts.DataErr != nil {
		return s.ts.DataErr
	}
	s.ts.received = append(s.ts.received, msg)
	return nil
}

func (s *testSession) Reset()        { s.from, s.to = "", nil }
func (s *testSession) Logout() error { return nil }

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

// Replies the tests make the server give.
var (
	err451 = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	err554 = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message rejected as spam"}
	err550 = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
)

// freeAddr returns a loopback address where nothing listens.
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func asSendError(t testing.TB, err error) *SendError {
	t.Helper()
	var se *SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *SendError", err, err)
	}
	return se
}
