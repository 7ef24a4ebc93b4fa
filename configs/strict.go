package configs

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// A FileError is a problem at a place in a configuration file.
type FileError struct {
	File string
	Line int // 0 if unknown
	Col  int // 0 if unknown
	Msg  string
}

func (e *FileError) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// DecodeStrict decodes TOML data from file into v and rejects keys that v
// does not have, naming the closest key it does have. Errors are
// *FileError values (joined when there are several).
func DecodeStrict(file string, data []byte, v any) error {
	fatal, unknown := decodeLenient(file, data, v)
	if fatal != nil {
		return fatal
	}
	return errors.Join(unknown...)
}

func decodeMeta(file string, data []byte, v any) (toml.MetaData, error) {
	if err := checkDepth(file, data); err != nil {
		return toml.MetaData{}, err
	}
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(v)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return md, &FileError{File: file, Line: pe.Position.Line, Col: pe.Position.Col, Msg: strings.TrimPrefix(pe.Message, "toml: ")}
		}
		// Type mismatches come as "toml: line 9 (last key "a.b"): incompatible types: ...".
		if m := decodeErrRE().FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return md, &FileError{File: file, Line: line, Msg: fmt.Sprintf("%s: %s", m[2], m[3])}
		}
		return md, &FileError{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	return md, nil
}

// decodeLenient decodes data into v and returns, besides a fatal error, the
// keys v does not have as *FileError values, so that a caller can report
// them along with the problems it finds in what was decoded.
func decodeLenient(file string, data []byte, v any) (fatal error, unknown []error) {
	md, err := decodeMeta(file, data, v)
	if err != nil {
		return err, nil
	}
	return nil, undecoded(file, data, v, md, nil)
}

// undecoded reports the keys of data that v does not have. It lists the
// undecoded keys once and looks each one's parent up in a set, and finds
// lines through one index of the file, so its cost is linear in the size
// of the file (calling md.Undecoded per key made it cubic in the nesting
// depth).
//
// If keep is set, only the keys it keeps are reported.
func undecoded(file string, data []byte, v any, md toml.MetaData, keep func(toml.Key) bool) []error {
	keys := md.Undecoded()
	if keep != nil {
		keys = slices.DeleteFunc(keys, func(k toml.Key) bool { return !keep(k) })
	}
	if len(keys) == 0 {
		return nil
	}
	unknown := make(map[string]bool, len(keys))
	for _, k := range keys {
		unknown[k.String()] = true
	}
	lines := indexLines(data)
	var errs []error
	for _, k := range keys {
		// Report only the outermost unknown key of a table.
		if len(k) > 1 && unknown[k[:len(k)-1].String()] {
			continue
		}
		msg := fmt.Sprintf("unknown key %q", k.String())
		if valid := keysAt(reflect.TypeOf(v), k[:len(k)-1]); len(valid) > 0 {
			if near := closest(k[len(k)-1], valid); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			} else {
				msg += fmt.Sprintf(" (valid keys here: %s)", strings.Join(valid, ", "))
			}
		}
		errs = append(errs, &FileError{File: file, Line: lines.keyLine(k), Msg: msg})
	}
	return errs
}

var decodeErrRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`) })

// keysAt returns the TOML keys of the struct found by following path from t.
func keysAt(t reflect.Type, path toml.Key) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	if len(path) > 0 {
		for i := 0; i < t.NumField(); i++ {
			if tomlName(t.Field(i)) == path[0] {
				return keysAt(t.Field(i).Type, path[1:])
			}
		}
		return nil
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if name := tomlName(t.Field(i)); name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	return keys
}

func tomlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "" {
		name = f.Name
	}
	return name
}

// closest returns the valid key nearest to k by edit distance, if near enough.
func closest(k string, valid []string) string {
	best, bestD := "", len(k)/2+2
	for _, v := range valid {
		if d := editDistance(k, v); d < bestD {
			best, bestD = v, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// A lineIndex records, for each table header and each line that assigns a
// plain key, the lines where it appears, so that finding the line of a key
// costs a map lookup and a binary search rather than a scan of the file.
type lineIndex struct {
	headers map[string][]int // name inside [ ] or [[ ]] → 0-based lines
	assigns map[string][]int // first key before = (quotes dropped) → lines
}

func indexLines(data []byte) lineIndex {
	ix := lineIndex{headers: map[string][]int{}, assigns: map[string][]int{}}
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimLeft(l, " \t")
		if strings.HasPrefix(l, "[") {
			name := strings.TrimPrefix(strings.TrimPrefix(l, "["), "[")
			if end := strings.IndexByte(name, ']'); end >= 0 {
				name = strings.TrimSpace(name[:end])
				ix.headers[name] = append(ix.headers[name], i)
			}
			continue
		}
		name, _, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		name = strings.TrimSpace(name)
		if unq := strings.TrimSuffix(strings.TrimPrefix(name, `"`), `"`); len(unq) < len(name) {
			name = unq
		}
		ix.assigns[name] = append(ix.assigns[name], i)
	}
	return ix
}

// keyLine finds the line where key k is set: the first line assigning its
// last element, or opening a table of that name, after the header of its
// table. It returns 0 if not found.
func (ix lineIndex) keyLine(k toml.Key) int {
	start := 0
	if len(k) > 1 {
		if h := ix.headers[k[:len(k)-1].String()]; len(h) > 0 {
			start = h[0]
		}
	}
	best := -1
	for _, ls := range [][]int{ix.assigns[k[len(k)-1]], ix.headers[k[len(k)-1]]} {
		if j := sort.SearchInts(ls, start); j < len(ls) && (best < 0 || ls[j] < best) {
			best = ls[j]
		}
	}
	return best + 1
}
