package periodic

import (
	"sync/atomic"
	"testing"
	"time"
)

// f runs repeatedly until stop, never after stop has returned, and stop
// may be called twice.
func TestEveryStop(t *testing.T) {
	var calls, after atomic.Int32
	var stopped atomic.Bool
	stop := Every(time.Millisecond, func() bool {
		if stopped.Load() {
			after.Add(1)
		}
		calls.Add(1)
		return true
	})
	for calls.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	stop()
	stopped.Store(true)
	n := calls.Load()
	time.Sleep(10 * time.Millisecond)
	if calls.Load() != n || after.Load() != 0 {
		t.Errorf("f ran after stop returned: %d calls then %d, %d after", n, calls.Load(), after.Load())
	}
	stop()
}

// f returning false ends the loop by itself; stop still returns.
func TestEveryEndsWhenFSaysSo(t *testing.T) {
	var calls atomic.Int32
	stop := Every(time.Millisecond, func() bool { return calls.Add(1) < 2 })
	for calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)
	if n := calls.Load(); n != 2 {
		t.Errorf("f ran %d times, want 2", n)
	}
	stop()
}
