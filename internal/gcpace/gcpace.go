// Package gcpace has the garbage collector run less often during a phase
// of bulk work (an import, an offline index build) whose memory is bounded
// by the process's soft memory limit.
//
// By default the collector runs whenever the heap has doubled since the
// last collection (GOGC=100). Bulk work allocates hundreds of megabytes a
// second of short-lived garbage (decoded JSON, analyzed text) over a live
// heap of some tens of megabytes, so the collector runs many times a
// second: about 15% of the CPU time of an import of 100,000 items. At
// GOGC=400 it runs a quarter as often; the memory limit (which
// cmd/reciprocal sets, and which the collector honours whatever GOGC says)
// still bounds the heap. Without a memory limit Relax does nothing, so that
// a program that sets none keeps its heap within twice the live data.
package gcpace

import (
	"math"
	"runtime/debug"
	"sync"
)

// Percent is the GOGC value of a relaxed phase.
const Percent = 400

var (
	mu     sync.Mutex
	phases int // relaxed phases under way
	before int // the GOGC value to restore after the last
)

// Relax makes the collector run at Percent, if a memory limit is set and
// the current setting is lower, until restore is called. Phases may
// overlap: the setting is restored after the last ends.
func Relax() (restore func()) {
	mu.Lock()
	defer mu.Unlock()
	if phases == 0 {
		if debug.SetMemoryLimit(-1) == math.MaxInt64 {
			return func() {}
		}
		before = debug.SetGCPercent(Percent)
		if before < 0 || before >= Percent {
			// Off (the collector runs only at the limit) or already
			// relaxed: leave it as it was.
			debug.SetGCPercent(before)
		}
	}
	phases++
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			if phases--; phases == 0 {
				debug.SetGCPercent(before)
			}
		})
	}
}
