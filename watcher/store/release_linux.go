package store

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// ReleaseMemory tells the kernel that the pages of the store file mapped
// into memory are not needed now. bbolt reads the file through a shared,
// read-only memory map, and every page a long scan touches stays resident
// (and counts in the process's RSS) until the map is closed; a scan over
// millions of records would hold the whole file. Dropping the pages is
// safe: the next read of one faults it back from the page cache.
//
// Call it between transactions, never while one is open in this process.
func (s *Store) ReleaseMemory() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return // closed: nothing is mapped
	}
	var size int64
	s.db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
	info := s.db.Info()
	if info.Data == 0 || size <= 0 {
		return
	}
	// Errors are of no consequence: at worst the pages stay resident.
	syscall.Syscall(syscall.SYS_MADVISE, info.Data, uintptr(size), syscall.MADV_DONTNEED)
}
