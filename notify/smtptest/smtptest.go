// Package smtptest runs an in-process SMTP server on the loopback address
// that keeps the messages it accepts: the receiving end of the offline demo
// and of tests that drive the command line. It speaks plain SMTP (no TLS, no
// AUTH), which reciprocal allows only to localhost.
package smtptest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// A Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
}

// A Server is a running SMTP server.
type Server struct {
	// Addr is the server's host:port.
	Addr string

	srv *smtp.Server
	mu  sync.Mutex
	got []Message
	// reject, if set, is the reply to every DATA.
	reject *smtp.SMTPError
}

// Start starts a server on 127.0.0.1 on a free port.
func Start() (*Server, error) {
	s := &Server{}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 16 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Addr = ln.Addr().String()
	go s.srv.Serve(ln)
	return s, nil
}

// Port returns the port the server listens on.
func (s *Server) Port() string {
	_, port, _ := net.SplitHostPort(s.Addr)
	return port
}

// Reject makes the server answer every DATA with code and message (for
// example 451 or 554); code 0 accepts again.
func (s *Server) Reject(code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.reject = nil
		return
	}
	s.reject = &smtp.SMTPError{Code: code, Message: message}
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.got...)
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s   *Server
	msg Message
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.msg = Message{From: from}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.reject != nil {
		return ss.s.reject
	}
	if ss.msg.From == "" {
		return errors.New("DATA without MAIL")
	}
	ss.msg.Data = buf.Bytes()
	ss.s.got = append(ss.s.got, ss.msg)
	return nil
}

func (ss *session) Reset()        { ss.msg = Message{} }
func (ss *session) Logout() error { return nil }
