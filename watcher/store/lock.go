package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrLocked reports that another process holds the data directory.
type ErrLocked struct {
	PID int // 0 if unknown
}

func (e *ErrLocked) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("another reciprocal is running (pid %d)", e.PID)
	}
	return "another reciprocal is running"
}

// ErrReadOnly reports that a writer cannot take the lock of a data
// directory it may not write: a backup, a read-only mount. Readers take no
// lock and work there.
var ErrReadOnly = errors.New("the data directory is read-only")

// A dirLock is an advisory lock on the data directory: shared for readers,
// exclusive for the one writer. The writer records its pid in the lock file
// so that others can say who holds it.
type dirLock struct {
	f         *os.File
	exclusive bool
}

const lockName = "lock"

// lockDir takes the lock of dir, retrying until wait has passed.
func lockDir(dir string, exclusive bool, wait time.Duration) (*dirLock, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return nil, fmt.Errorf("%w (%s): %w", ErrReadOnly, dir, err)
	}
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	deadline := time.Now().Add(wait)
	for {
		err = syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			pid := readPID(path)
			f.Close()
			return nil, &ErrLocked{PID: pid}
		}
		time.Sleep(25 * time.Millisecond)
	}
	if exclusive {
		if err := f.Truncate(0); err == nil {
			f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
	}
	return &dirLock{f: f, exclusive: exclusive}, nil
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func (l *dirLock) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	if l.exclusive {
		// Readers record no pid; clear ours so that nobody names a
		// process that has gone.
		l.f.Truncate(0)
	}
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// Writer reports whether a process is writing to the data directory dir
// now (it holds the lock file), and its pid if it recorded one. Readers
// use it to tell an index that lags because a sync is indexing as it goes
// from one that was left behind.
func Writer(dir string) (pid int, writing bool) {
	path := filepath.Join(dir, lockName)
	f, err := os.Open(path) // read-only: works on a read-only mount too
	if err != nil {
		return 0, false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return readPID(path), errors.Is(err, syscall.EWOULDBLOCK)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return 0, false
}
