// Package boltcheck runs bbolt's consistency check over a whole file, for
// the store and for the index's root.bolt alike.
package boltcheck

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// Run checks every page reachable in tx. It returns nil for a sound file,
// else the first problem found, followed by how many more there were.
// bbolt's check runs in a goroutine of its own, so its channel is drained
// to the end even after the first problem.
func Run(tx *bbolt.Tx) error {
	var first error
	n := 0
	for e := range tx.Check() {
		if first == nil {
			first = e
		}
		n++
	}
	switch {
	case n == 1:
		return first
	case n > 1:
		return fmt.Errorf("%w (and %d more problems)", first, n-1)
	}
	return nil
}
