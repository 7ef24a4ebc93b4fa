package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// Steps that fail on the same cause join the same error: the user reads
// it once.
func TestFailSaysARepeatedCauseOnce(t *testing.T) {
	var stderr bytes.Buffer
	a := &app{stderr: &stderr}
	cause := errors.New("the store is damaged: D/store.db: assertion failed")
	code := a.fail(nil, errors.Join(cause, cause, errors.New("other"), cause))
	if code != exitFail {
		t.Errorf("exit code %d, want %d", code, exitFail)
	}
	want := "reciprocal: the store is damaged: D/store.db: assertion failed\nother\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
}

// When every source failed, the hint does not say the others were synced.
func TestSyncFailureHint(t *testing.T) {
	fail := errors.New("no such host")
	one := []watcher.SourceResult{{Err: fail}, {}}
	one[0].Source, one[1].Source = "github golang/go", "vulndb"
	all := []watcher.SourceResult{{Err: fail}, {Err: fail}}
	all[0].Source, all[1].Source = "github golang/go", "vulndb"
	for _, tc := range []struct {
		results []watcher.SourceResult
		hint    string
	}{
		{one, "the other sources were synced"},
		{all, "no source was synced"},
	} {
		var h hinted
		if err := syncFailure(tc.results, nil); !errors.As(err, &h) || !strings.HasPrefix(h.Hint(), tc.hint) {
			t.Errorf("%d sources failed: hint %v, want it to start %q", len(tc.results), err, tc.hint)
		}
	}
}

// A writer on a read-only data directory says so, and what still works.
func TestReadOnlyHint(t *testing.T) {
	var stderr bytes.Buffer
	a := &app{stderr: &stderr}
	err := fmt.Errorf("%w (/backup): open /backup/lock: %w", store.ErrReadOnly, syscall.EROFS)
	a.fail(nil, err)
	for _, want := range []string{
		"reciprocal: the data directory is read-only (/backup): open /backup/lock: read-only file system\n",
		"hint: search, show, export, status and the other reads work on it;",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr:\n%s\nwant it to contain %q", stderr.String(), want)
		}
	}
}
