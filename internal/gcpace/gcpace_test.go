package gcpace

import (
	"math"
	"runtime/debug"
	"testing"
)

// withSettings runs f with the given GOGC and memory limit, restoring the
// process's after.
func withSettings(t *testing.T, percent int, limit int64, f func()) {
	t.Helper()
	defer debug.SetGCPercent(debug.SetGCPercent(percent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
	f()
}

func gogc() int {
	p := debug.SetGCPercent(0)
	debug.SetGCPercent(p)
	return p
}

// Under a memory limit, the collector is relaxed from the first phase to
// the end of the last, and then set back.
func TestRelax(t *testing.T) {
	withSettings(t, 100, 256<<20, func() {
		outer := Relax()
		if gogc() != Percent {
			t.Fatalf("GOGC %d during a phase, want %d", gogc(), Percent)
		}
		inner := Relax()
		outer()
		outer() // a second call does nothing
		if gogc() != Percent {
			t.Fatalf("GOGC %d while a phase goes on, want %d", gogc(), Percent)
		}
		inner()
		if gogc() != 100 {
			t.Fatalf("GOGC %d after the phases, want 100", gogc())
		}
	})
}

// Without a memory limit nothing bounds a relaxed heap, so Relax leaves
// the collector alone; a collector already off or slower stays as it is.
func TestRelaxLeavesAlone(t *testing.T) {
	for _, c := range []struct {
		name    string
		percent int
		limit   int64
	}{
		{"no limit", 100, math.MaxInt64},
		{"off", -1, 256 << 20},
		{"slower", 800, 256 << 20},
	} {
		withSettings(t, c.percent, c.limit, func() {
			restore := Relax()
			if gogc() != c.percent {
				t.Errorf("%s: GOGC %d during a phase, want %d", c.name, gogc(), c.percent)
			}
			restore()
			if gogc() != c.percent {
				t.Errorf("%s: GOGC %d after, want %d", c.name, gogc(), c.percent)
			}
		})
	}
}
