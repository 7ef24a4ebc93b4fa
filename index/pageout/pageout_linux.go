package pageout

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

const supported = true

// madvPageout is MADV_PAGEOUT, the same number on every Linux architecture
// (the syscall package predates it).
const madvPageout = 21

// residentFiles returns the bytes of this process's resident memory that
// are pages of files or shared memory: the third field of /proc/self/statm,
// in pages, kept by the kernel as a counter (no page table is walked).
func residentFiles() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return 0, errors.New("pageout: unexpected /proc/self/statm")
	}
	n, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("pageout: /proc/self/statm: %w", err)
	}
	return n * int64(os.Getpagesize()), nil
}

// pageOut advises every shared read-only mapping of a file under dir.
func pageOut(dir string) (Stats, error) {
	var st Stats
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return st, err
	}
	defer f.Close()
	prefix := strings.TrimSuffix(dir, "/") + "/"
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		start, end, ok := parseLine(sc.Text(), prefix)
		if !ok {
			continue
		}
		_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, start, end-start, madvPageout)
		switch errno {
		case 0:
			st.Mappings++
			st.Bytes += int64(end - start)
		case syscall.EINVAL:
			// The range came from the kernel, page-aligned: an unknown
			// advice is the only reason left.
			return st, ErrUnsupported
		default:
			// ENOMEM: the range was unmapped meanwhile. EAGAIN, EPERM:
			// the pages stay, which is no harm.
		}
	}
	return st, sc.Err()
}

// parseLine reads one line of /proc/self/maps,
//
//	7f5e2c000000-7f5e2c400000 r--s 00000000 fd:01 1234567    /data/index/store/00000000001a.zap
//
// and returns its address range if it maps, shared and without write
// permission, a file whose path starts with prefix. The path may be
// followed by " (deleted)" when the file was removed while mapped, which
// does not matter here.
func parseLine(line, prefix string) (start, end uintptr, ok bool) {
	addr, rest, _ := strings.Cut(line, " ")
	perms, rest, _ := strings.Cut(rest, " ")
	if len(perms) != 4 || perms[0] != 'r' || perms[1] != '-' || perms[3] != 's' {
		return 0, 0, false
	}
	// Skip offset, device and inode; the path follows after padding.
	for range 3 {
		_, rest, _ = strings.Cut(rest, " ")
	}
	if !strings.HasPrefix(strings.TrimLeft(rest, " "), prefix) {
		return 0, 0, false
	}
	lo, hi, found := strings.Cut(addr, "-")
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(lo, 16, 64)
	e, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}
