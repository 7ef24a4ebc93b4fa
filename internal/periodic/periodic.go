// Package periodic runs a function at a fixed interval in the background
// until stopped: the loop the index's page release (index/pageout) and the
// store's release during compaction (watcher/store) both need, in packages
// that must not import each other.
package periodic

import (
	"sync"
	"time"
)

// Every calls f every interval in a goroutine of its own, until f returns
// false or stop is called. stop waits for a call under way to return, so
// that nothing f touches is used after it; it may be called more than once.
func Every(interval time.Duration, f func() (more bool)) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if !f() {
					return
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}
