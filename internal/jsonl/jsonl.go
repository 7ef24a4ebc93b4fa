// Package jsonl reads JSON Lines, plain or gzip-compressed: the form in
// which reciprocal imports and exports raw tracker objects, and in which
// the fake trackers are loaded.
package jsonl

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// MaxLine is the longest line Each reads: far beyond any real issue.
const MaxLine = 64 << 20

var utf8BOM = []byte("\uFEFF")

// A ReadError is a failure to read line Line (not an error returned by the
// caller's function).
type ReadError struct {
	Line int
	Err  error
}

func (e *ReadError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *ReadError) Unwrap() error { return e.Err }

// Each calls fn with each non-blank line of r, trimmed of surrounding white
// space, and its line number (from 1). r may be gzip-compressed; Each tells
// by its first bytes. raw is valid only during the call. Each stops at the
// first error fn returns and returns it unchanged.
func Each(r io.Reader, fn func(line int, raw []byte) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return &ReadError{Line: 1, Err: err}
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 1<<16), MaxLine)
	n := 0
	for sc.Scan() {
		n++
		// A byte order mark (which some editors write at the start of a
		// file, and concatenating such files puts at the start of a line)
		// is not part of the JSON.
		raw := bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(sc.Bytes()), utf8BOM))
		if len(raw) == 0 {
			continue
		}
		if err := fn(n, raw); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d MiB", MaxLine>>20)
		}
		return &ReadError{Line: n + 1, Err: err}
	}
	return nil
}
