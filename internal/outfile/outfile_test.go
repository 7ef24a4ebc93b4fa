package outfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckRefusesTheDataDirectory(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	os.MkdirAll(filepath.Join(data, "index"), 0o755)
	os.WriteFile(filepath.Join(data, "store.db"), []byte("store"), 0o644)
	os.Symlink(data, filepath.Join(tmp, "link"))
	os.Symlink(filepath.Join(data, "store.db"), filepath.Join(tmp, "store-link"))
	os.Link(filepath.Join(data, "store.db"), filepath.Join(tmp, "hard"))
	t.Chdir(tmp)

	for _, p := range []string{
		filepath.Join(data, "store.db"),
		"data/store.db",
		"data/../data/store.db",
		"data",
		"data/index/new-file",
		"link/store.db",
		"store-link",
		"hard",
		"data/new-file",
	} {
		if _, err := Check("data", p); !errors.Is(err, ErrInDataDir) {
			t.Errorf("Check(data, %q) = %v, want ErrInDataDir", p, err)
		}
		if _, err := Check(data, p); !errors.Is(err, ErrInDataDir) {
			t.Errorf("Check(%s, %q) = %v, want ErrInDataDir", data, p, err)
		}
	}
	for _, p := range []string{"out.jsonl", "data.jsonl", "sub/out.jsonl", "../x"} {
		if _, err := Check("data", p); err != nil {
			t.Errorf("Check(data, %q) = %v, want nil", p, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(data, "store.db")); string(b) != "store" {
		t.Errorf("store changed: %q", b)
	}
}

func TestWriteIsAtomic(t *testing.T) {
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	os.WriteFile(out, []byte("old"), 0o600)
	err := Write(filepath.Join(tmp, "data"), out, func(w io.Writer) error {
		io.WriteString(w, "half")
		return errors.New("broke")
	})
	if err == nil {
		t.Fatal("Write returned nil for a failing writer")
	}
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Errorf("after a failed write the file holds %q, want old", b)
	}
	if err := Write(filepath.Join(tmp, "data"), out, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "new" {
		t.Errorf("file holds %q, want new", b)
	}
	fi, _ := os.Stat(out)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the old file's 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(tmp)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only out (no temporary files)", len(entries))
	}
}
