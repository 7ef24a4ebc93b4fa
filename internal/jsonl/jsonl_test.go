package jsonl

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
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
