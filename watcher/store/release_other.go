//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releaseMapped does nothing on this system: see release_linux.go.
func releaseMapped(*bolt.Tx) {}
