// Package outfile writes the files that commands produce (exports, briefing
// messages, drafts) without ever touching the data directory and without
// leaving a half-written file behind.
//
// Two rules, for every output path a user names:
//
//   - The path may not resolve to the data directory or anything in it.
//     Relative paths, ".." and symbolic links (of the file and of every
//     directory above it) are resolved first, and an existing file is also
//     compared with the store by identity, so a hard link is caught too.
//     One typo ("-o data/store.db") must not replace the store.
//   - The content is written to a temporary file in the target's directory,
//     synced, and renamed over the target only once it is complete. A
//     failed or interrupted write leaves the old file as it was.
package outfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrInDataDir reports an output path inside the data directory.
var ErrInDataDir = errors.New("is in the data directory")

// Check returns an error wrapping ErrInDataDir if path, once made absolute
// and its symbolic links resolved, is the data directory dataDir or lies
// inside it. It returns the resolved path to write to.
func Check(dataDir, path string) (string, error) {
	target, err := resolve(path)
	if err != nil {
		return "", err
	}
	data, err := resolve(dataDir)
	if err != nil {
		return "", err
	}
	if within(data, target) {
		return "", fmt.Errorf("%s %w %s", path, ErrInDataDir, dataDir)
	}
	// A hard link to a file of the data directory has a path outside it.
	if fi, err := os.Stat(target); err == nil {
		entries, _ := os.ReadDir(data)
		for _, e := range entries {
			if di, err := os.Stat(filepath.Join(data, e.Name())); err == nil && os.SameFile(fi, di) {
				return "", fmt.Errorf("%s %w %s (it is %s)", path, ErrInDataDir, dataDir, e.Name())
			}
		}
	}
	return target, nil
}

// resolve makes path absolute and resolves the symbolic links of its
// longest existing prefix; the rest is appended as written (it cannot hold
// links, since it does not exist).
func resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for p := abs; ; {
		r, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// within reports whether path is dir or lies under it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)))
}

// Write checks path with Check and writes it atomically: fn writes the
// content to a temporary file beside the target, which replaces the target
// only if fn and the write succeed. The file keeps an existing target's
// permissions, or gets 0644.
func Write(dataDir, path string, fn func(io.Writer) error) (err error) {
	target, err := Check(dataDir, path)
	if err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(target); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file", path)
		}
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := fn(f); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), target)
}
