package store

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// mappedRSS returns the kilobytes of the file at path resident in this
// process's memory maps.
func mappedRSS(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	kb, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = strings.HasSuffix(line, " "+path)
			continue
		}
		if in && len(fields) == 3 && fields[0] == "Rss:" {
			n, _ := strconv.Atoi(fields[1])
			kb += n
		}
	}
	return kb
}

// A scan leaves the store's pages resident; releasing them gives them back,
// and the data reads the same after.
func TestReleaseMapped(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	body := strings.Repeat("y", 4000)
	for i := 0; i < 4000; i += 1000 {
		if err := s.Update(func(tx *Tx) error {
			for j := i; j < i+1000; j++ {
				if _, err := tx.PutItem(fmt.Sprintf("golang/go#%d", j), "github", []byte(body)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// A writer's store opens its file for each use: keep it open to look
	// at its mapping.
	release, err := s.Hold()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	scan := func() int {
		n := 0
		s.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketItems).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if strings.HasSuffix(string(v), body) {
					n++
				}
			}
			return nil
		})
		return n
	}
	if n := scan(); n != 4000 {
		t.Fatalf("scan read %d items", n)
	}
	before := mappedRSS(t, s.path)
	s.db.View(func(tx *bolt.Tx) error { releaseMapped(tx); return nil })
	after := mappedRSS(t, s.path)
	t.Logf("store pages resident: %d kB → %d kB", before, after)
	if before < 8000 || after > before/4 {
		t.Errorf("store pages resident: %d kB after a scan, %d kB after release", before, after)
	}
	if n := scan(); n != 4000 {
		t.Fatalf("after release, scan read %d items", n)
	}
}
