package watcher

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/reciprocal-access/reciprocal/internal/gcpace"
	"github.com/reciprocal-access/reciprocal/internal/jsonl"
	"github.com/reciprocal-access/reciprocal/watcher/gerrit"
	"github.com/reciprocal-access/reciprocal/watcher/github"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb"
)

// Shapes of raw objects in JSON Lines files.
const (
	ShapeGitHubIssue   = github.ShapeIssue   // a GitHub issue or pull request
	ShapeGitHubComment = github.ShapeComment // a GitHub issue comment
	ShapeGerritChange  = gerrit.ShapeChange  // a Gerrit ChangeInfo
	ShapeOSV           = vulndb.ShapeOSV     // an OSV entry
)

// Shapes lists the shapes Import understands, for messages.
var Shapes = Sources.ShapeNames()

// DetectShape says which kind of raw object line is.
func DetectShape(line []byte) (string, error) {
	s, _, err := Sources.DetectShape(line)
	if err != nil {
		return "", err
	}
	return s.Name, nil
}

// ImportOptions control Import.
type ImportOptions struct {
	// Shape forces every line to be read as this shape instead of
	// detecting it.
	Shape string
	// SkipBad imports the good lines of a file that has bad ones, and
	// reports the bad ones; otherwise one bad line imports nothing.
	SkipBad bool
	// GerritHost is the host of imported Gerrit changes, as a URL or host
	// name. Empty means Go's, go-review.googlesource.com.
	GerritHost string
}

// Counts counts what an import did with one shape of object.
type Counts = source.Counts

// A LineError is a bad line of an imported file.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// ImportResult says what Import did.
type ImportResult struct {
	Counts map[string]*Counts // by shape
	Bad    []*LineError       // with SkipBad, the lines not imported
}

// Total returns the number of objects imported (new, updated or unchanged).
func (r *ImportResult) Total() int {
	n := 0
	for _, c := range r.Counts {
		n += c.New + c.Updated + c.Unchanged
	}
	return n
}

// line is one parsed line waiting to be stored.
type line struct {
	kind
	obj source.Object
	raw []byte
}

// kind is the shape of a line and the source it belongs to.
type kind struct {
	shape *source.Shape
	desc  *source.Descriptor
}

// parsed is what parseLine returned for a line (skip: a line the first
// pass found bad).
type parsed struct {
	line
	err  error
	skip bool
}

// noShape marks a bad line in Import's list of line shapes. A file has
// far fewer shapes than this.
const noShape = 255

// Bounds of one import transaction: a file is stored in transactions of at
// most this many objects or bytes of raw JSON, so that memory stays flat
// however large the file.
var (
	importTxObjects = 5000
	importTxBytes   = 8 << 20
)

// testHookImportTx, if set, is called after each import transaction with
// the number of objects and bytes it stored.
var testHookImportTx func(objects, bytes int)

// Import reads JSON Lines of raw API objects from r (plain or gzip-compressed)
// and stores them. name is used in messages. The index is not updated; call
// IndexPending after.
//
// Import streams: it reads the file twice, first checking every line (a file
// with a bad line imports nothing unless opts.SkipBad is set), then storing
// the lines in transactions of at most 5,000 objects or 8 MB. It never holds
// more than one transaction's lines. If r cannot seek (a pipe), it is copied
// to a temporary file first. An interrupted import leaves what it stored in
// the store, which is never inconsistent: importing the file again completes
// it (what is stored already counts as unchanged).
func (d *Data) Import(ctx context.Context, name string, r io.Reader, opts ImportOptions) (*ImportResult, error) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		f, err := os.CreateTemp("", "reciprocal-import-*")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		if _, err := io.Copy(f, r); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rs = f
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer gcpace.Relax()() // decoding JSON makes much short-lived garbage
	res := &ImportResult{Counts: make(map[string]*Counts)}
	reg := d.Norm.sources()
	env := d.Norm.env()
	env.Host = opts.GerritHost

	// First pass: check every line, noting its shape (one byte a line, an
	// index into kinds) so that the second pass need not detect it again.
	var (
		kinds  []kind
		shapes []byte // of line n at n-1; noShape for a bad line
	)
	err = jsonl.Map(rs, runtime.GOMAXPROCS(0), func(_ int, raw []byte) parsed {
		l, err := parseLine(reg, raw, opts.Shape, env, nil)
		return parsed{line: l, err: err}
	}, func(n int, _ []byte, p parsed) error {
		if n%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		for len(shapes) < n-1 {
			shapes = append(shapes, noShape) // lines jsonl.Each skips (blank)
		}
		if p.err != nil {
			lerr := &LineError{File: name, Line: n, Err: p.err}
			if !opts.SkipBad {
				return lerr
			}
			res.Bad = append(res.Bad, lerr)
			shapes = append(shapes, noShape)
			return nil
		}
		i := slices.Index(kinds, p.kind)
		if i < 0 {
			i = len(kinds)
			kinds = append(kinds, p.kind)
		}
		shapes = append(shapes, byte(i))
		return nil
	})
	var re *jsonl.ReadError
	if errors.As(err, &re) {
		return nil, &LineError{File: name, Line: re.Line, Err: re.Err}
	}
	if err != nil {
		return nil, err
	}

	// Second pass: store the good lines, a bounded transaction at a time.
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var pending []line
	size := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := d.Store.Update(func(tx *store.Tx) error { return storeLines(tx, pending, res) })
		if err == nil && testHookImportTx != nil {
			testHookImportTx(len(pending), size)
		}
		pending, size = pending[:0], 0
		return err
	}
	err = jsonl.Map(rs, runtime.GOMAXPROCS(0), func(n int, raw []byte) parsed {
		if n > len(shapes) || shapes[n-1] == noShape {
			return parsed{skip: true}
		}
		l, err := parseLine(reg, raw, opts.Shape, env, &kinds[shapes[n-1]])
		return parsed{line: l, err: err}
	}, func(n int, raw []byte, p parsed) error {
		if p.skip {
			return nil
		}
		if n%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if p.err != nil {
			// The file changed between the passes.
			return &LineError{File: name, Line: n, Err: p.err}
		}
		l := p.line
		l.raw = append([]byte(nil), raw...)
		pending = append(pending, l)
		size += len(raw)
		if len(pending) >= importTxObjects || size >= importTxBytes {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if errors.As(err, &re) {
		return nil, &LineError{File: name, Line: re.Line, Err: re.Err}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

// storeLines writes lines in tx, counting in res what each write did (a
// failed transaction fails the whole import, so its counts never show).
func storeLines(tx *store.Tx, lines []line, res *ImportResult) error {
	for _, l := range lines {
		var ch store.Change
		var err error
		if l.obj.Comment {
			ch, err = tx.PutComment(l.obj.ID, l.obj.CommentID, l.raw)
		} else {
			ch, err = tx.PutItem(l.obj.ID, l.desc.Kind, l.raw)
		}
		if err != nil {
			return err
		}
		c := res.Counts[l.shape.Name]
		if c == nil {
			c = new(Counts)
			res.Counts[l.shape.Name] = c
		}
		c.Add(ch)
	}
	return nil
}

// parseLine detects (or takes) the shape of raw and checks that it
// normalizes. known, if not nil, is the shape the first pass found.
//
// It decodes raw once to detect its shape (unless the shape is known) and
// once to parse it, and checks that it is valid JSON only when one of
// those fails, to say where: every decoding checks the whole line anyway.
func parseLine(reg source.Registry, raw []byte, shape string, env source.Env, known *kind) (line, error) {
	if raw[0] != '{' {
		return line{}, errors.New("not a JSON object")
	}
	var k kind
	switch {
	case known != nil:
		k = *known
	case shape == "":
		var err error
		if k.shape, k.desc, err = reg.DetectShape(raw); err != nil {
			return line{}, invalidJSON(raw, err)
		}
	default:
		if k.shape, k.desc = reg.Shape(shape); k.shape == nil {
			return line{}, fmt.Errorf("unknown shape %q (want one of %s)", shape, strings.Join(reg.ShapeNames(), ", "))
		}
	}
	obj, err := k.shape.Parse(raw, env)
	if err != nil {
		return line{}, invalidJSON(raw, err)
	}
	// The ID is what show, export and the queue take apart later: one
	// they would refuse ("evil/..#1" from a forged repository URL) must
	// not get into the store.
	if _, err := reg.ParseID(obj.ID); err != nil {
		return line{}, fmt.Errorf("%s: %w", k.shape.Name, err)
	}
	return line{kind: k, obj: obj}, nil
}

// invalidJSON returns an error saying where raw is not valid JSON, if it is
// not, or else err, the reason decoding it failed.
func invalidJSON(raw []byte, err error) error {
	if json.Valid(raw) {
		return err
	}
	var v any
	err = json.Unmarshal(raw, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// Export writes the store's raw objects as JSON Lines to w, in the order they
// were last written, each GitHub issue followed by its comments. source
// (a kind of watcher.Sources, "github", or "" for all) selects one source. Importing
// the output into an empty data directory reproduces the store.
func (d *Data) Export(ctx context.Context, w io.Writer, kind string) (int, error) {
	reg := d.Norm.sources()
	var comments bool // whether the exported sources have comments
	if kind == "" {
		comments = slices.ContainsFunc(reg, func(d *source.Descriptor) bool { return d.Comments })
	} else if desc := reg.Lookup(kind); desc != nil {
		comments = desc.Comments
	} else {
		return 0, fmt.Errorf("unknown source %q: want %s", kind, reg.KindList())
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	n := 0
	write := func(raw []byte) error {
		n++
		bw.Write(raw)
		return bw.WriteByte('\n')
	}
	err := d.Store.View(func(tx *store.Tx) error {
		err := tx.Since(0, func(rec store.Record) error {
			if kind != "" && rec.Source != kind {
				return nil
			}
			if n%1000 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := write(rec.Raw); err != nil {
				return err
			}
			if desc := reg.Lookup(rec.Source); desc == nil || !desc.Comments {
				return nil
			}
			return tx.Comments(rec.ID, func(_ int64, raw []byte) error { return write(raw) })
		})
		if err != nil || !comments {
			return err
		}
		// Comments whose issue is not stored (yet) are part of the store too.
		return tx.ForEachComment(func(itemID string, _ int64, raw []byte) error {
			if _, ok, err := tx.Item(itemID); ok || err != nil {
				return err
			}
			return write(raw)
		})
	})
	if err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, bw.Flush()
}

// Salvage writes what is still readable of a damaged store to w as JSON
// Lines, the items first and then the comments, and returns how many
// objects it wrote. Unlike Export it does not follow the store's
// sequence, whose own pages may be damaged: it reads the item and comment
// records directly, skipping damaged pages (see store.Store.Salvage).
// Importing the output with --skip-bad into a new data directory recovers
// everything that was readable.
func (d *Data) Salvage(w io.Writer) (n int, lost bool, err error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	write := func(raw []byte) error {
		n++
		bw.Write(raw)
		return bw.WriteByte('\n')
	}
	lost, err = d.Store.Salvage(
		func(rec store.Record) error { return write(rec.Raw) },
		func(_ string, _ int64, raw []byte) error { return write(raw) })
	if err != nil {
		return n, lost, fmt.Errorf("salvage: %w", err)
	}
	return n, lost, bw.Flush()
}
