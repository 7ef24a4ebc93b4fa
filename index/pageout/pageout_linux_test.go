package pageout

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// residentKB returns the kilobytes of the mapping that starts at addr
// resident in this process, from /proc/self/smaps.
func residentKB(t *testing.T, addr uintptr) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	start := fmt.Sprintf("%x-", addr)
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = strings.HasPrefix(line, start)
			continue
		}
		if in && len(fields) == 3 && fields[0] == "Rss:" {
			n, _ := strconv.Atoi(fields[1])
			return n
		}
	}
	t.Fatalf("no mapping at %x in /proc/self/smaps", addr)
	return 0
}

// mapFile writes size bytes of a pattern to a file in dir and maps it
// shared and read-only, as scorch maps its segments.
func mapFile(t *testing.T, dir string, size int) []byte {
	t.Helper()
	data := bytes.Repeat([]byte("segment!"), size/8)
	name := filepath.Join(dir, "000000000001.zap")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(m) })
	return m
}

func addrOf(m []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(m))) }

// touch reads every page of m and checks what it holds.
func touch(t *testing.T, m []byte) {
	t.Helper()
	for i := 0; i < len(m); i += 4096 {
		if string(m[i:i+8]) != "segment!" {
			t.Fatalf("byte %d: read %q", i, m[i:i+8])
		}
	}
}

// Touched pages of a mapped file under the directory are given back, and
// the file reads the same after.
func TestDirReleases(t *testing.T) {
	dir := t.TempDir()
	const size = 16 << 20
	m := mapFile(t, dir, size)
	touch(t, m)
	before := residentKB(t, addrOf(m))
	if before < size/1024/2 {
		t.Fatalf("only %d kB of %d kB resident after reading the whole file", before, size/1024)
	}
	st, err := Dir(dir)
	if err == ErrUnsupported {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.Mappings != 1 || st.Bytes != size {
		t.Errorf("Dir advised %+v, want 1 mapping of %d bytes", st, size)
	}
	after := residentKB(t, addrOf(m))
	if after > before/8 {
		t.Errorf("resident: %d kB before, %d kB after", before, after)
	}
	touch(t, m)
	t.Logf("resident: %d kB before, %d kB after, all %d MB read back", before, after, size>>20)
}

// Mappings of files elsewhere are not advised, nor is a directory whose
// name only begins like the one asked for.
func TestDirOnlyUnderDir(t *testing.T) {
	root := t.TempDir()
	inside, elsewhere := filepath.Join(root, "index"), filepath.Join(root, "index.new")
	os.Mkdir(inside, 0o755)
	os.Mkdir(elsewhere, 0o755)
	m := mapFile(t, elsewhere, 1<<20)
	touch(t, m)
	before := residentKB(t, addrOf(m))
	st, err := Dir(inside)
	if err != nil && err != ErrUnsupported {
		t.Fatal(err)
	}
	if st.Mappings != 0 {
		t.Errorf("Dir(%s) advised %+v", inside, st)
	}
	if after := residentKB(t, addrOf(m)); after != before {
		t.Errorf("resident: %d kB before, %d kB after", before, after)
	}
}

// Every releases in the background, once the process's mapped files are
// over the limit, until stopped.
func TestEvery(t *testing.T) {
	dir := t.TempDir()
	m := mapFile(t, dir, 4<<20)
	if _, err := Dir(dir); err == ErrUnsupported {
		t.Skip(err)
	}
	touch(t, m)
	files, err := residentFiles()
	if err != nil {
		t.Fatal(err)
	}
	if files < 4<<20 {
		t.Fatalf("residentFiles = %d with 4 MiB of a mapped file read", files)
	}
	// Under the limit, nothing is released.
	stop := Every(dir, time.Millisecond, 1<<40)
	time.Sleep(20 * time.Millisecond)
	stop()
	if kb := residentKB(t, addrOf(m)); kb < 4<<10 {
		t.Fatalf("%d kB of 4096 resident: released under the limit", kb)
	}
	stop = Every(dir, time.Millisecond, 0)
	deadline := time.Now().Add(10 * time.Second)
	for residentKB(t, addrOf(m)) > 512 {
		if time.Now().After(deadline) {
			t.Fatalf("still %d kB resident after 10 s", residentKB(t, addrOf(m)))
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	stop() // a second stop is harmless
	touch(t, m)
}

func TestParseLine(t *testing.T) {
	const prefix = "/data/index/"
	for _, tc := range []struct {
		line       string
		start, end uintptr
		ok         bool
	}{
		{"7f5e2c000000-7f5e2c400000 r--s 00000000 fd:01 1234567                    /data/index/store/00000000001a.zap", 0x7f5e2c000000, 0x7f5e2c400000, true},
		{"7f5e2c000000-7f5e2c400000 r--s 00000000 fd:01 1234567                    /data/index/store/00000000001a.zap (deleted)", 0x7f5e2c000000, 0x7f5e2c400000, true},
		{"7f5e2c000000-7f5e2c400000 r--s 00000000 fd:01 1234567                    /data/index with space/x.zap", 0, 0, false},
		{"7f5e2c000000-7f5e2c400000 rw-s 00000000 fd:01 1234567                    /data/index/store/00000000001a.zap", 0, 0, false}, // writable
		{"7f5e2c000000-7f5e2c400000 r--p 00000000 fd:01 1234567                    /data/index/store/00000000001a.zap", 0, 0, false}, // private
		{"7f5e2c000000-7f5e2c400000 r--s 00000000 fd:01 1234567                    /data/store.db", 0, 0, false},
		{"7f5e2c000000-7f5e2c400000 r--s 00000000 fd:01 1234567                    /data/index.new/store/1.zap", 0, 0, false},
		{"c000000000-c004000000 rw-p 00000000 00:00 0 ", 0, 0, false},
		{"7ffd1f1e0000-7ffd1f201000 rw-p 00000000 00:00 0                          [stack]", 0, 0, false},
		{"garbage", 0, 0, false},
	} {
		start, end, ok := parseLine(tc.line, prefix)
		if start != tc.start || end != tc.end || ok != tc.ok {
			t.Errorf("parseLine(%q) = %x, %x, %v; want %x, %x, %v", tc.line, start, end, ok, tc.start, tc.end, tc.ok)
		}
	}
}

// The advice Dir gives is harmless on whatever a stale address range maps
// by then: here private anonymous memory, the Go runtime's kind, which
// MADV_DONTNEED would zero. Its contents stay.
func TestPageoutKeepsAnonymous(t *testing.T) {
	const size = 4 << 20
	m, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	for i := range m {
		m[i] = byte(i % 251)
	}
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addrOf(m), size, madvPageout)
	if errno == syscall.EINVAL {
		t.Skip(ErrUnsupported)
	}
	if errno != 0 {
		t.Fatal(errno)
	}
	for i := range m {
		if m[i] != byte(i%251) {
			t.Fatalf("byte %d is %d after MADV_PAGEOUT, want %d", i, m[i], i%251)
		}
	}
}

// BenchmarkDirIdle is the cost of one pass over a directory of 100 mapped
// files of 16 MB with nothing resident: what Every costs between merges.
func BenchmarkDirIdle(b *testing.B) {
	dir := b.TempDir()
	const size = 16 << 20
	for i := range 100 {
		name := filepath.Join(dir, fmt.Sprintf("%012x.zap", i))
		if err := os.WriteFile(name, make([]byte, size), 0o644); err != nil {
			b.Fatal(err)
		}
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { syscall.Munmap(m) })
	}
	if _, err := Dir(dir); err == ErrUnsupported {
		b.Skip(err)
	}
	for b.Loop() {
		if st, err := Dir(dir); err != nil || st.Mappings != 100 {
			b.Fatal(st, err)
		}
	}
}
