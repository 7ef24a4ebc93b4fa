package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
	bolt "go.etcd.io/bbolt"

	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Commands that damage files the way a disk or a crash does, for the
// scenarios of damaged stores and indexes.

// cmdCorrupt damages a bbolt file (the store, or the index's root.bolt) by
// overwriting the page ID in the header of pages in use, as a bad sector
// or a torn write would: "corrupt FILE" damages every branch and leaf page,
// "corrupt FILE KEY" only the leaf page holding KEY. bbolt then fails its
// "Page expected to be N" assertion when it reads them.
//
// "corrupt -freelist FILE" damages the freelist page instead: a read-only
// open never reads it, only a writer (or a full check) does.
func cmdCorrupt(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 2 && args[0] == "-freelist" {
		corruptFreelist(ts, ts.MkAbs(args[1]))
		return
	}
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: corrupt FILE [KEY] | corrupt -freelist FILE")
	}
	path := ts.MkAbs(args[0])
	pages, pageSize, err := boltPages(path, args[1:])
	ts.Check(err)
	if len(pages) == 0 {
		ts.Fatalf("no page to corrupt in %s", args[0])
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	ts.Check(err)
	defer f.Close()
	for _, id := range pages {
		_, err := f.WriteAt([]byte{0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef}, int64(id)*int64(pageSize))
		ts.Check(err)
	}
	ts.Logf("corrupted %d pages of %s: %v", len(pages), args[0], pages)
}

// boltPages returns the branch and leaf pages in use in the bbolt file at
// path, or with a key, the leaf page whose elements hold it.
func boltPages(path string, key []string) ([]int, int, error) {
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		return nil, 0, err
	}
	defer db.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	pageSize := db.Info().PageSize
	var pages []int
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			info, err := tx.Page(id)
			if err != nil || info == nil {
				return err
			}
			if info.Type != "leaf" && info.Type != "branch" {
				continue
			}
			if len(key) == 0 {
				pages = append(pages, id)
			} else if info.Type == "leaf" && leafHolds(data[id*pageSize:], info.Count, []byte(key[0])) {
				pages = append(pages, id)
			}
			id += info.OverflowCount
		}
	})
	return pages, pageSize, err
}

// leafHolds reports whether the leaf page p has an element with key k. A
// leaf page is a 16-byte header and count elements of four uint32s (flags,
// pos, ksize, vsize), pos counting from the element itself.
func leafHolds(p []byte, count int, k []byte) bool {
	for i := range count {
		off := 16 + 16*i
		pos := int(binary.LittleEndian.Uint32(p[off+4:]))
		ksize := int(binary.LittleEndian.Uint32(p[off+8:]))
		if bytes.Equal(p[off+pos:off+pos+ksize], k) {
			return true
		}
	}
	return false
}

// cmdTruncate cuts a file to the given size: "truncate FILE SIZE".
func cmdTruncate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: truncate FILE SIZE")
	}
	n, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	ts.Check(os.Truncate(ts.MkAbs(args[0]), n))
}

// cmdGenIssues writes N GitHub issue objects (golang/go#1 to #N), each with
// a body of some hundred bytes, to FILE: "genissues N FILE".
func cmdGenIssues(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: genissues N FILE")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"url":"https://api.github.com/repos/golang/go/issues/%d","repository_url":"https://api.github.com/repos/golang/go","html_url":"https://github.com/golang/go/issues/%[1]d","id":%[2]d,"number":%[1]d,"title":"crypto/tls: generated issue %[1]d about session tickets","user":{"login":"gopher"},"labels":[],"state":"open","comments":0,"created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-02T00:00:00Z","body":"%[3]s"}`+"\n",
			i, 1000000+i, strings.Repeat("This generated issue body pads the record. ", 4))
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(b.String()), 0o644))
}

// cmdStorePut writes FILE's bytes into the store of the data directory DIR
// as the raw JSON of item ID from SOURCE, bypassing every check, as an
// older reciprocal or a tracker's odd answer may have stored a record that
// this version cannot normalize: "storeput DIR ID SOURCE FILE".
func cmdStorePut(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: storeput DIR ID SOURCE FILE")
	}
	raw, err := os.ReadFile(ts.MkAbs(args[3]))
	ts.Check(err)
	st, err := store.Open(ts.MkAbs(args[0]), store.Options{})
	ts.Check(err)
	defer st.Close()
	ts.Check(st.Update(func(tx *store.Tx) error {
		_, err := tx.PutItem(args[1], args[2], bytes.TrimSpace(raw))
		return err
	}))
}

// cmdHoldLock takes the data directory DIR's writer lock, as a running
// sync does, until the script ends: "holdlock DIR".
func cmdHoldLock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: holdlock DIR")
	}
	f, err := os.OpenFile(filepath.Join(ts.MkAbs(args[0]), "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	ts.Check(err)
	ts.Check(syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	heldLocks.Store(ts, f)
	ts.Defer(func() { f.Close() })
}

// heldLocks are the lock files taken by holdlock, by script.
var heldLocks sync.Map // *testscript.TestScript → *os.File

// cmdUnlock releases the lock taken by holdlock: "unlock DIR".
func cmdUnlock(ts *testscript.TestScript, neg bool, args []string) {
	v, ok := heldLocks.LoadAndDelete(ts)
	if neg || !ok {
		ts.Fatalf("usage: unlock DIR (after holdlock)")
	}
	ts.Check(v.(*os.File).Close())
}

// corruptFreelist overwrites the page header of the freelist that the
// newer of the two meta pages of the bbolt file at path names. A meta page
// (after its 16-byte page header) holds magic, version, page size and
// flags (4 bytes each), the root bucket (16), the freelist's page ID (8),
// the high-water page ID (8) and the transaction ID (8).
func corruptFreelist(ts *testscript.TestScript, path string) {
	data, err := os.ReadFile(path)
	ts.Check(err)
	le := binary.LittleEndian
	pageSize := int64(le.Uint32(data[16+8:]))
	var freelist, txid uint64
	for i := int64(0); i < 2; i++ {
		meta := data[i*pageSize+16:]
		if t := le.Uint64(meta[48:]); t >= txid {
			txid, freelist = t, le.Uint64(meta[32:])
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	ts.Check(err)
	defer f.Close()
	_, err = f.WriteAt(bytes.Repeat([]byte{0xff}, 16), int64(freelist)*pageSize)
	ts.Check(err)
	ts.Logf("corrupted the freelist page %d of %s", freelist, path)
}
