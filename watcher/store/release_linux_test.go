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

// fill stores n items golang/go#0... with body, a thousand a transaction.
func fill(t *testing.T, s *Store, n int, body string) {
	t.Helper()
	for i := 0; i < n; i += 1000 {
		if err := s.Update(func(tx *Tx) error {
			for j := i; j < min(i+1000, n); j++ {
				if _, err := tx.PutItem(fmt.Sprintf("golang/go#%d", j), "github", []byte(body)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// A scan leaves the store's pages resident; releasing them gives them back,
// and the data reads the same after.
func TestReleaseMapped(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	body := strings.Repeat("y", 4000)
	fill(t, s, 4000, body)
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

// Reading items all over the file, as indexing a first sync does, gives
// the pages back every releaseReads reads: the kernel maps the pages
// around each one read, and without the releases they would add up to most
// of the file. The reads count across transactions: an offline index build
// reads 250 items a transaction.
func TestReleaseWhileReading(t *testing.T) {
	defer func(n int) { releaseReads = n }(releaseReads)
	releaseReads = 64
	s := open(t, t.TempDir())
	defer s.Close()
	const items = 4000
	body := strings.Repeat("z", 4000)
	fill(t, s, items, body)
	release, err := s.Hold()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	for _, perTx := range []int{items, 40} { // one transaction; 40 reads each, under releaseReads
		most := 0
		for i := 0; i < items; i += perTx {
			err = s.View(func(tx *Tx) error {
				for j := i; j < i+perTx; j++ {
					id := fmt.Sprintf("golang/go#%d", j*7919%items) // all over the file
					if rec, ok, err := tx.Item(id); err != nil || !ok || string(rec.Raw) != body {
						t.Fatalf("Item(%s) = %d bytes, %v, %v", id, len(rec.Raw), ok, err)
					}
					if j%250 == 249 {
						most = max(most, mappedRSS(t, s.path))
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// 64 reads map at most 64 × (64 + 8) kB; the file is 16 MB.
		t.Logf("%d reads a transaction: store pages resident while reading at most %d kB", perTx, most)
		if most > 8000 {
			t.Errorf("store pages resident while reading %d items of 4 kB all over the file, %d a transaction: %d kB", items, perTx, most)
		}
	}
}
