package configs

import (
	"bytes"
	"fmt"
)

// MaxDepth is how deeply tables, dotted keys, inline tables and arrays may
// nest in a configuration file or profile. Real files nest two or three
// levels; the limit exists because the TOML decoder's cost grows with the
// square of the nesting depth, so a few kilobytes of braces would otherwise
// take minutes and gigabytes to reject.
const MaxDepth = 32

// checkDepth rejects data that nests deeper than MaxDepth, before the
// decoder sees it. It is a small TOML scanner that only counts: key
// segments (table headers and dotted keys), inline tables through the keys
// inside them, and arrays one level each. On anything it does not
// understand it returns nil and leaves the error to the decoder, so it
// never rejects a file for a reason other than depth. It runs in time
// linear in len(data) and its recursion is bounded by MaxDepth.
func checkDepth(file string, data []byte) error {
	s := &depthScanner{d: data}
	err := s.document()
	if err == errConfused {
		return nil
	}
	if err != nil {
		return &FileError{File: file, Line: 1 + bytes.Count(data[:min(s.i, len(data))], []byte("\n")), Msg: err.Error()}
	}
	return nil
}

type depthScanner struct {
	d []byte
	i int
}

type depthError struct{}

func (depthError) Error() string {
	return fmt.Sprintf("nested deeper than %d levels (tables, dotted keys, inline tables and arrays); flatten it", MaxDepth)
}

// errConfused stops the scan on input the scanner does not follow; the
// decoder will report it properly.
var errConfused = fmt.Errorf("not understood")

func (s *depthScanner) eof() bool  { return s.i >= len(s.d) }
func (s *depthScanner) peek() byte { return s.d[s.i] }

// space skips blanks, and newlines and comments too when nl is set.
func (s *depthScanner) space(nl bool) {
	for !s.eof() {
		switch s.peek() {
		case ' ', '\t':
			s.i++
		case '\r', '\n':
			if !nl {
				return
			}
			s.i++
		case '#':
			if !nl {
				return
			}
			for !s.eof() && s.peek() != '\n' {
				s.i++
			}
		default:
			return
		}
	}
}

func (s *depthScanner) document() error {
	base := 0 // segments of the current table header
	for {
		s.space(true)
		if s.eof() {
			return nil
		}
		if s.peek() == '[' {
			s.i++
			if !s.eof() && s.peek() == '[' {
				s.i++
			}
			n, err := s.key(0)
			if err != nil {
				return err
			}
			base = n
			for !s.eof() && s.peek() != '\n' {
				s.i++
			}
			continue
		}
		n, err := s.key(base)
		if err != nil {
			return err
		}
		if err := s.assign(base + n); err != nil {
			return err
		}
		s.space(false)
		if !s.eof() && s.peek() == '#' {
			for !s.eof() && s.peek() != '\n' {
				s.i++
			}
		}
	}
}

// key reads a possibly dotted key at depth base and returns its number of
// segments.
func (s *depthScanner) key(base int) (int, error) {
	n := 0
	for {
		s.space(false)
		if s.eof() {
			return 0, errConfused
		}
		switch c := s.peek(); {
		case c == '"' || c == '\'':
			if err := s.str(); err != nil {
				return 0, err
			}
		case isBare(c):
			for !s.eof() && isBare(s.peek()) {
				s.i++
			}
		default:
			return 0, errConfused
		}
		n++
		if base+n > MaxDepth {
			return 0, depthError{}
		}
		s.space(false)
		if s.eof() || s.peek() != '.' {
			return n, nil
		}
		s.i++
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// assign reads "= value" whose key stands at depth.
func (s *depthScanner) assign(depth int) error {
	s.space(false)
	if s.eof() || s.peek() != '=' {
		return errConfused
	}
	s.i++
	return s.value(depth)
}

func (s *depthScanner) value(depth int) error {
	s.space(false)
	if s.eof() {
		return errConfused
	}
	switch s.peek() {
	case '"', '\'':
		return s.str()
	case '{':
		s.i++
		for {
			s.space(true)
			if s.eof() {
				return errConfused
			}
			if s.peek() == '}' {
				s.i++
				return nil
			}
			n, err := s.key(depth)
			if err != nil {
				return err
			}
			if err := s.assign(depth + n); err != nil {
				return err
			}
			s.space(true)
			if s.eof() {
				return errConfused
			}
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				return nil
			default:
				return errConfused
			}
		}
	case '[':
		if depth+1 > MaxDepth {
			return depthError{}
		}
		s.i++
		for {
			s.space(true)
			if s.eof() {
				return errConfused
			}
			if s.peek() == ']' {
				s.i++
				return nil
			}
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.space(true)
			if s.eof() {
				return errConfused
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return errConfused
			}
		}
	}
	// A number, boolean or date: up to what ends a value.
	for !s.eof() {
		switch s.peek() {
		case ',', ']', '}', '#', '\n', '\r':
			return nil
		}
		s.i++
	}
	return nil
}

// str skips a basic, literal or multi-line string.
func (s *depthScanner) str() error {
	q := s.peek()
	if bytes.HasPrefix(s.d[s.i:], []byte{q, q, q}) {
		s.i += 3
		end := bytes.Repeat([]byte{q}, 3)
		for !s.eof() {
			if q == '"' && s.peek() == '\\' {
				s.i += 2
				continue
			}
			if bytes.HasPrefix(s.d[s.i:], end) {
				s.i += 3
				// Up to two more quotes may end the content.
				for k := 0; k < 2 && !s.eof() && s.peek() == q; k++ {
					s.i++
				}
				return nil
			}
			s.i++
		}
		return errConfused
	}
	s.i++
	for !s.eof() {
		switch c := s.peek(); {
		case c == '\n':
			return errConfused
		case c == '\\' && q == '"':
			s.i += 2
			continue
		case c == q:
			s.i++
			return nil
		}
		s.i++
	}
	return errConfused
}
