package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/gerrit/gerrittest"
	"github.com/reciprocal-access/reciprocal/watcher/github/githubtest"
	"github.com/reciprocal-access/reciprocal/watcher/vulndb/vulndbtest"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWatchStopsOnSignal runs the daemon, waits for its first pass, sends
// the process SIGTERM and expects a clean exit with status 0 and the
// pass's work saved.
func TestWatchStopsOnSignal(t *testing.T) {
	srv := githubtest.NewServer()
	defer srv.Close()
	gerritSrv := gerrittest.NewServer()
	defer gerritSrv.Close()
	vulnSrv := vulndbtest.NewServer()
	defer vulnSrv.Close()
	f, err := os.Open("../../watcher/testdata/issues.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddJSONL(f); err != nil {
		t.Fatal(err)
	}
	f.Close()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "reciprocal.toml")
	os.MkdirAll(filepath.Join(dir, "clients"), 0o755)
	os.WriteFile(filepath.Join(dir, "clients", "acme.toml"), []byte(`id = "acme"
name = "Acme"
tier = "gold"
[[concern]]
id = "tickets"
summary = "Session tickets"
told = 2024-01-01
packages = ["crypto/tls"]
`), 0o644)
	os.WriteFile(cfg, []byte(`clients = "clients"
[[github]]
repo = "golang/go"
api_url = "`+srv.URL()+`"
since = 2024-01-01
[[gerrit]]
url = "`+gerritSrv.URL()+`"
projects = ["go"]
[vulndb]
url = "`+vulnSrv.URL()+`"
[matching]
lookback = "3650d"
`), 0o644)
	t.Setenv("GITHUB_TOKEN", "")

	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"--config", cfg, "--data", filepath.Join(dir, "data"), "watch", "--every", "1h"}, nil, &stdout, &stderr)
	}()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(stderr.String(), "next pass") {
		select {
		case code := <-done:
			t.Fatalf("watch exited %d before its first pass ended:\n%s\n%s", code, stdout.String(), stderr.String())
		case <-deadline:
			t.Fatalf("no pass in 30s:\n%s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("watch exited %d after SIGTERM:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("watch did not stop after SIGTERM")
	}
	for _, want := range []string{"github golang/go: 6 new", "2 new, 0 re-opened"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "stopped by signal") {
		t.Errorf("stderr lacks the shutdown line:\n%s", stderr.String())
	}
	// The pass's prompts were committed: the queue shows them.
	stdout = syncBuffer{}
	if code := run([]string{"--config", cfg, "--data", filepath.Join(dir, "data"), "queue"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("queue: %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "golang/go#70001") {
		t.Errorf("queue after watch:\n%s", stdout.String())
	}
}
