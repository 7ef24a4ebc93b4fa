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

// Map reads the lines of r as Each does, and calls parse with each of them
// in one of workers goroutines, up to a few hundred lines ahead; use gets
// each line with what parse returned for it, in the order of the lines, in
// the caller's goroutine. raw is valid only during the calls. Map stops at
// the first error use returns and returns it unchanged; a failure to read
// is a *ReadError, returned after use has had every line before it.
//
// Map is for files whose lines are expensive to parse (raw JSON objects of
// kilobytes): on two cores, it reads a file in about half the time Each
// would, and lines ahead of use take at most a few megabytes.
func Map[T any](r io.Reader, workers int, parse func(line int, raw []byte) T, use func(line int, raw []byte, v T) error) error {
	workers = max(workers, 1)
	work := make(chan *chunk[T], workers)
	ordered := make(chan *chunk[T], 2*workers)
	quit := make(chan struct{})
	var readErr error
	go func() {
		defer close(work)
		defer close(ordered)
		c := newChunk[T]()
		send := func() bool {
			c.seal()
			// To a worker first: a chunk that use waits for is one
			// that a worker has.
			select {
			case work <- c:
			case <-quit:
				return false
			}
			select {
			case ordered <- c:
			case <-quit:
				return false
			}
			c = newChunk[T]()
			return true
		}
		errQuit := errors.New("quit")
		err := Each(r, func(line int, raw []byte) error {
			c.add(line, raw)
			if len(c.lines) >= chunkLines || len(c.buf) >= chunkBytes {
				if !send() {
					return errQuit
				}
			}
			return nil
		})
		if err == errQuit {
			return
		}
		readErr = err
		if len(c.lines) > 0 {
			send()
		}
	}()
	for range workers {
		go func() {
			for c := range work {
				for i, line := range c.lines {
					c.vals[i] = parse(line, c.raw(i))
				}
				close(c.done)
			}
		}()
	}
	for c := range ordered {
		<-c.done
		for i, line := range c.lines {
			if err := use(line, c.raw(i), c.vals[i]); err != nil {
				close(quit)
				for c := range ordered { // let the reader and the workers end
					<-c.done
				}
				return err
			}
		}
	}
	return readErr
}

// Map hands lines to its workers in chunks of up to chunkLines lines or
// chunkBytes bytes (more for one long line).
const (
	chunkLines = 256
	chunkBytes = 1 << 20
)

// A chunk is consecutive lines of a file, with what parse returned for
// each once done is closed.
type chunk[T any] struct {
	lines []int
	ends  []int // the end of each line in buf
	buf   []byte
	vals  []T
	done  chan struct{}
}

func newChunk[T any]() *chunk[T] { return &chunk[T]{done: make(chan struct{})} }

func (c *chunk[T]) add(line int, raw []byte) {
	c.buf = append(c.buf, raw...)
	c.lines = append(c.lines, line)
	c.ends = append(c.ends, len(c.buf))
}

func (c *chunk[T]) seal() { c.vals = make([]T, len(c.lines)) }

func (c *chunk[T]) raw(i int) []byte {
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	return c.buf[start:c.ends[i]:c.ends[i]]
}
