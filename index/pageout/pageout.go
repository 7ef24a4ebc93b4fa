// Package pageout gives back the memory that the files this process maps
// under a directory hold resident.
//
// Bleve's scorch reads its segment files through shared, read-only memory
// maps, and every page a merge or a whole-index read touches stays in the
// process's resident set until the segment is closed: a first import or a
// reindex of a million objects would count well over a gigabyte of them in
// its RSS, though the Go heap stays near 250 MB. Bleve does not expose its
// maps, so Dir finds them where the kernel lists them, /proc/self/maps:
// every shared mapping without write permission whose file is under the
// directory. Every does it whenever the process's resident pages of mapped
// files grow over a limit, which it checks periodically (a read of
// /proc/self/statm, a few microseconds).
//
// # Why this is safe
//
// Between reading /proc/self/maps and advising an address range, Bleve may
// unmap that segment (a merge retired it) and something else may be mapped
// at the same addresses: the Go runtime's own memory, or another file.
// The advice must therefore be harmless whatever memory the range holds by
// then. MADV_DONTNEED is not: on private anonymous memory it discards the
// contents, and the next read sees zeros. Dir uses MADV_PAGEOUT (Linux 5.4
// and later), which asks the kernel to reclaim the pages as it would under
// memory pressure: a clean file page is dropped and read back from the
// file on the next access, a dirty one is written back first or kept, and
// an anonymous page is swapped out if there is swap and kept otherwise.
// Nothing is ever lost, whatever the range maps; the worst a stale range
// costs is a page fault. Pages that another process maps too (a reader
// searching the same index) are left alone by the kernel. MADV_COLD would
// be as safe but only moves the pages to the inactive list: they stay
// resident.
//
// The cost: reclaimed pages also leave the page cache, so a segment read
// again after is read from the disk. Scorch reads a segment about once per
// merge, and an import of 100k items took no more CPU time with the pages
// given back than without (273 s against 281 s, side by side); a
// whole-index match, which reads stored fields across every segment, took
// 40 s against 29 s (see README.md, "Years of history").
//
// On a kernel without MADV_PAGEOUT, Dir returns ErrUnsupported and Every
// stops trying. On other systems both do nothing.
package pageout

import (
	"errors"
	"path/filepath"
	"time"

	"github.com/reciprocal-access/reciprocal/internal/periodic"
)

// Stats says what one pass of Dir advised.
type Stats struct {
	Mappings int   // file mappings advised
	Bytes    int64 // their total size (resident or not)
}

// ErrUnsupported reports a kernel that does not know MADV_PAGEOUT.
var ErrUnsupported = errors.New("pageout: the kernel does not support MADV_PAGEOUT (Linux 5.4 or later)")

// Dir asks the kernel to reclaim the resident pages of every shared,
// read-only file mapping of this process whose file is inside dir (see the
// package documentation). Mappings that vanish meanwhile are skipped.
func Dir(dir string) (Stats, error) {
	return pageOut(canonical(dir))
}

// Every checks every interval how much of this process's memory is pages
// of mapped files (the executable's, the store's, the index's), and when
// that is over limit bytes, runs Dir(dir). Below the limit it does nothing,
// so that a short read (a search) keeps what it touched in the page cache
// for the next one. stop ends it, waiting for a pass under way. Errors
// other than ErrUnsupported are of no consequence (at worst pages stay
// resident) and are ignored.
func Every(dir string, interval time.Duration, limit int64) (stop func()) {
	if !supported {
		return func() {}
	}
	dir = canonical(dir)
	return periodic.Every(interval, func() bool {
		if n, err := residentFiles(); err == nil && n <= limit {
			return true
		}
		_, err := pageOut(dir)
		return !errors.Is(err, ErrUnsupported)
	})
}

// canonical returns dir as the kernel names files in /proc/self/maps:
// absolute, with symbolic links resolved.
func canonical(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return filepath.Clean(dir)
}
