package jsonl

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func collect(t *testing.T, data []byte) ([]string, error) {
	t.Helper()
	var got []string
	err := Each(bytes.NewReader(data), func(line int, raw []byte) error {
		got = append(got, fmt.Sprintf("%d:%s", line, raw))
		return nil
	})
	return got, err
}

func TestEach(t *testing.T) {
	src := "{\"a\":1}\n\n  {\"b\":2}  \r\n{\"c\":3}"
	want := `[1:{"a":1} 3:{"b":2} 4:{"c":3}]`
	got, err := collect(t, []byte(src))
	if err != nil || fmt.Sprint(got) != want {
		t.Fatalf("plain: %v, %v; want %s", got, err, want)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(src))
	zw.Close()
	got, err = collect(t, gz.Bytes())
	if err != nil || fmt.Sprint(got) != want {
		t.Fatalf("gzip: %v, %v; want %s", got, err, want)
	}
}

// A byte order mark at the start of a line, as editors write at the start
// of a file and concatenation leaves in the middle, is not part of the line.
func TestEachByteOrderMark(t *testing.T) {
	got, err := collect(t, []byte("\uFEFF{\"a\":1}\n\uFEFF {\"b\":2}\n{\"c\":\"\uFEFF\"}"))
	want := "[1:{\"a\":1} 2:{\"b\":2} 3:{\"c\":\"\uFEFF\"}]"
	if err != nil || fmt.Sprint(got) != want {
		t.Fatalf("got %v, %v; want %s", got, err, want)
	}
}

func TestEachStopsAtTheCallersError(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	err := Each(strings.NewReader("1\n2\n3\n"), func(line int, raw []byte) error {
		n++
		if line == 2 {
			return boom
		}
		return nil
	})
	if err != boom || n != 2 {
		t.Fatalf("err %v after %d lines", err, n)
	}
}

func TestEachReadErrors(t *testing.T) {
	// A gzip stream cut short fails with the line it was reading.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for i := range 20000 {
		fmt.Fprintf(zw, "{\"x\":%d}\n", i*7919%104729)
	}
	zw.Close()
	_, err := collect(t, gz.Bytes()[:gz.Len()/2])
	var re *ReadError
	if !errors.As(err, &re) || re.Line < 2 {
		t.Fatalf("truncated gzip: %v", err)
	}
	// A line over MaxLine is refused, not read into memory without bound.
	long := bytes.Repeat([]byte("x"), MaxLine+1)
	_, err = collect(t, append([]byte("{}\n"), long...))
	if !errors.As(err, &re) || re.Line != 2 || !strings.Contains(err.Error(), "longer than 64 MiB") {
		t.Fatalf("long line: %v", err)
	}
}

// Map hands use every line, in order, with what parse made of it in
// another goroutine, across chunks of lines and lines longer than a chunk.
func TestMap(t *testing.T) {
	var src strings.Builder
	var want []string
	for i := 1; i <= 5000; i++ {
		switch {
		case i%97 == 0:
			src.WriteString("  \n") // blank: skipped, but counted
			continue
		case i%1000 == 0:
			long := strings.Repeat("x", chunkBytes+10)
			fmt.Fprintf(&src, "%q\n", long)
			want = append(want, fmt.Sprintf("%d:%d", i, len(long)+2))
			continue
		}
		fmt.Fprintf(&src, "{\"n\":%d}\n", i)
		want = append(want, fmt.Sprintf("%d:%d", i, len(fmt.Sprintf("{\"n\":%d}", i))))
	}
	for _, workers := range []int{1, 2, 8} {
		var got []string
		err := Map(strings.NewReader(src.String()), workers, func(line int, raw []byte) string {
			return fmt.Sprintf("%d:%d", line, len(raw))
		}, func(line int, raw []byte, v string) error {
			if v != fmt.Sprintf("%d:%d", line, len(raw)) {
				t.Fatalf("line %d got %q from parse", line, v)
			}
			got = append(got, v)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%d workers: %d lines, want %d; first difference at %d", workers, len(got), len(want), firstDiff(got, want))
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// Map stops at the first error use returns, however far ahead the reader
// and the workers are, and returns it.
func TestMapStopsAtUsesError(t *testing.T) {
	boom := errors.New("boom")
	src := strings.Repeat("{}\n", 100000)
	last := 0
	err := Map(strings.NewReader(src), 2, func(line int, raw []byte) int { return line }, func(line int, raw []byte, v int) error {
		last = v
		if line == 1234 {
			return boom
		}
		return nil
	})
	if err != boom || last != 1234 {
		t.Fatalf("err %v after line %d", err, last)
	}
}

// A file that cannot be read to its end fails with a *ReadError, after use
// has had every line before the failure.
func TestMapReadError(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for i := 1; i <= 3000; i++ {
		fmt.Fprintf(zw, "{\"n\":%d}\n", i)
	}
	zw.Close()
	cut := gz.Bytes()[:gz.Len()*3/4]
	n := 0
	err := Map(bytes.NewReader(cut), 2, func(line int, raw []byte) int { return line }, func(line int, raw []byte, v int) error {
		if line != n+1 {
			t.Fatalf("line %d after %d", line, n)
		}
		n = line
		return nil
	})
	var re *ReadError
	if !errors.As(err, &re) || re.Line != n+1 || n == 0 {
		t.Fatalf("err %v after %d lines", err, n)
	}
}
