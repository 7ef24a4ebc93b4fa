package store

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped tells the kernel that the pages of the store file mapped
// into memory are not needed now (madvise MADV_DONTNEED). bbolt reads the
// file through a shared, read-only memory map, and every page a long scan
// or a long import touches stays resident, counting in the process's RSS,
// until the map is closed: a first import of a million objects would hold
// the whole file. Dropping the pages is safe: the next read of one faults
// it back from the page cache, and bbolt never writes through the map.
//
// It must run inside a transaction of tx's database: an open transaction
// holds bbolt's map lock, so the map cannot move while it is advised.
func releaseMapped(tx *bolt.Tx) {
	info := tx.DB().Info()
	size := tx.Size()
	if info.Data == 0 || size <= 0 {
		return
	}
	// Errors are of no consequence: at worst the pages stay resident.
	syscall.Syscall(syscall.SYS_MADVISE, info.Data, uintptr(size), syscall.MADV_DONTNEED)
}
