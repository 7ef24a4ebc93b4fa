package store

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPutItemChangesAndSequence(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	var changes []Change
	err := s.Update(func(tx *Tx) error {
		for _, w := range []struct{ id, raw string }{
			{"golang/go#1", `{"n":1}`},
			{"golang/go#2", `{"n":2}`},
			{"golang/go#1", `{"n":1}`},          // same bytes
			{"golang/go#1", `{"n":1,"x":true}`}, // new bytes
		} {
			c, err := tx.PutItem(w.id, "github", []byte(w.raw))
			if err != nil {
				return err
			}
			changes = append(changes, c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{New, New, Unchanged, Updated}
	if fmt.Sprint(changes) != fmt.Sprint(want) {
		t.Errorf("changes = %v, want %v", changes, want)
	}
	var order []string
	s.View(func(tx *Tx) error {
		if n := tx.Count(); n != 2 {
			t.Errorf("Count = %d, want 2", n)
		}
		if seq := tx.LastSeq(); seq != 3 {
			t.Errorf("LastSeq = %d, want 3 (two new items and one update)", seq)
		}
		return tx.Since(0, func(r Record) error {
			order = append(order, fmt.Sprintf("%d:%s:%s", r.Seq, r.ID, r.Raw))
			return nil
		})
	})
	// Item 1 was rewritten last, so it comes after item 2, once.
	wantOrder := `[2:golang/go#2:{"n":2} 3:golang/go#1:{"n":1,"x":true}]`
	if fmt.Sprint(order) != wantOrder {
		t.Errorf("Since(0) = %v, want %v", order, wantOrder)
	}
	var since2 []string
	s.View(func(tx *Tx) error {
		return tx.Since(2, func(r Record) error { since2 = append(since2, r.ID); return nil })
	})
	if fmt.Sprint(since2) != "[golang/go#1]" {
		t.Errorf("Since(2) = %v", since2)
	}
}

func TestCommentsTouchTheirItem(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	err := s.Update(func(tx *Tx) error {
		// A comment may arrive before its issue: it is kept.
		if _, err := tx.PutComment("golang/go#7", 300, []byte(`{"id":300}`)); err != nil {
			return err
		}
		if _, err := tx.PutItem("golang/go#7", "github", []byte(`{}`)); err != nil {
			return err
		}
		if _, err := tx.PutItem("golang/go#8", "github", []byte(`{}`)); err != nil {
			return err
		}
		if c, err := tx.PutComment("golang/go#7", 100, []byte(`{"id":100}`)); err != nil || c != New {
			return fmt.Errorf("PutComment = %v, %v", c, err)
		}
		if c, err := tx.PutComment("golang/go#7", 100, []byte(`{"id":100}`)); err != nil || c != Unchanged {
			return fmt.Errorf("PutComment again = %v, %v", c, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		var ids []int64
		tx.Comments("golang/go#7", func(id int64, raw []byte) error { ids = append(ids, id); return nil })
		if fmt.Sprint(ids) != "[100 300]" {
			t.Errorf("comments in order = %v, want [100 300]", ids)
		}
		// Written in the same transaction as its comment: the reader
		// sees both at once, so the item keeps its sequence number.
		rec, _, _ := tx.Item("golang/go#7")
		if rec.Seq != 1 {
			t.Errorf("item written with its comment in one transaction has seq %d, want 1", rec.Seq)
		}
		var all []string
		tx.ForEachComment(func(item string, id int64, _ []byte) error {
			all = append(all, fmt.Sprint(item, "/", id))
			return nil
		})
		if fmt.Sprint(all) != "[golang/go#7/100 golang/go#7/300]" {
			t.Errorf("ForEachComment = %v", all)
		}
		return nil
	})
	// A new comment in a later transaction touches its item.
	s.Update(func(tx *Tx) error {
		_, err := tx.PutComment("golang/go#7", 400, []byte(`{"id":400}`))
		return err
	})
	s.View(func(tx *Tx) error {
		if rec, _, _ := tx.Item("golang/go#7"); rec.Seq != 3 {
			t.Errorf("item touched by a later comment has seq %d, want 3", rec.Seq)
		}
		return nil
	})
}

func TestCursorsAndBuckets(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	err := s.Update(func(tx *Tx) error {
		if err := tx.SetCursor("github golang/go issues", []byte("2024-01-01T00:00:00Z")); err != nil {
			return err
		}
		b, err := tx.Bucket("prompts")
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.View(func(tx *Tx) error {
		if got := string(tx.Cursor("github golang/go issues")); got != "2024-01-01T00:00:00Z" {
			t.Errorf("cursor = %q", got)
		}
		if tx.Cursor("nope") != nil {
			t.Error("missing cursor is not nil")
		}
		b, _ := tx.Bucket("prompts")
		if b == nil || string(b.Get([]byte("k"))) != "v" {
			t.Error("own bucket lost")
		}
		if b, _ := tx.Bucket("absent"); b != nil {
			t.Error("read-only Bucket created a bucket")
		}
		return nil
	})
}

func TestRolledBackTransactionLeavesNothing(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		tx.PutItem("GO-2024-0001", "vulndb", []byte(`{}`))
		tx.SetCursor("vulndb", []byte("x"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	s.View(func(tx *Tx) error {
		if tx.Count() != 0 || tx.Cursor("vulndb") != nil || tx.LastSeq() != 0 {
			t.Error("rolled-back transaction left data behind")
		}
		return nil
	})
}

func TestReadOnlyOpenOfMissingStore(t *testing.T) {
	_, err := Open(t.TempDir(), Options{ReadOnly: true})
	if !errors.Is(err, ErrNoStore) {
		t.Fatalf("Open = %v, want ErrNoStore", err)
	}
}

// The helper process below runs in a child copy of the test binary, so that
// the tests can kill a real writer and lock against a real second process.
func TestMain(m *testing.M) {
	switch os.Getenv("STORE_TEST_HELPER") {
	case "":
		os.Exit(m.Run())
	case "crash":
		helperCrash(os.Getenv("STORE_TEST_DIR"))
	case "hold":
		helperHold(os.Getenv("STORE_TEST_DIR"))
	case "slow-commit":
		helperSlowCommit(os.Getenv("STORE_TEST_DIR"))
	}
}

// helperCrash commits 100 items, then dies in the middle of a transaction
// writing 100 more.
func helperCrash(dir string) {
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	s.Update(func(tx *Tx) error {
		for i := range 100 {
			tx.PutItem("golang/go#"+strconv.Itoa(i+1), "github", []byte(`{"committed":true}`))
		}
		return tx.SetCursor("c", []byte("100"))
	})
	s.Update(func(tx *Tx) error {
		for i := range 100 {
			tx.PutItem("golang/go#"+strconv.Itoa(i+101), "github", []byte(`{"committed":false}`))
		}
		tx.SetCursor("c", []byte("200"))
		os.Exit(9) // no commit, no close, no unlock
		return nil
	})
}

// helperHold opens the store for writing, commits a cursor and waits to
// be killed.
func helperHold(dir string) {
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	if err := s.Update(func(tx *Tx) error { return tx.SetCursor("c", []byte("1")) }); err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	fmt.Println("holding")
	time.Sleep(time.Minute)
	s.Close()
}

// helperSlowCommit writes 50 items in a transaction that takes a second.
func helperSlowCommit(dir string) {
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	s.Update(func(tx *Tx) error {
		fmt.Println("committing")
		for i := range 50 {
			tx.PutItem("golang/go#"+strconv.Itoa(i+1), "github", []byte(`{}`))
			time.Sleep(20 * time.Millisecond)
		}
		return tx.SetCursor("c", []byte("50"))
	})
	s.Close()
}

func helper(t *testing.T, mode, dir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STORE_TEST_HELPER="+mode, "STORE_TEST_DIR="+dir)
	return cmd
}

func TestReopenAfterInterruptedWrite(t *testing.T) {
	dir := t.TempDir()
	out, err := helper(t, "crash", dir).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 9 {
		t.Fatalf("helper: %v: %s", err, out)
	}
	s := open(t, dir)
	defer s.Close()
	s.View(func(tx *Tx) error {
		if n := tx.Count(); n != 100 {
			t.Errorf("after the crash the store holds %d items, want the 100 committed", n)
		}
		if c := string(tx.Cursor("c")); c != "100" {
			t.Errorf("cursor = %q, want the committed 100", c)
		}
		rec, ok, err := tx.Item("golang/go#100")
		if !ok || err != nil || string(rec.Raw) != `{"committed":true}` {
			t.Errorf("committed item: %v %v %q", ok, err, rec.Raw)
		}
		if _, ok, _ := tx.Item("golang/go#101"); ok {
			t.Error("uncommitted item survived")
		}
		return nil
	})
	// And the store is writable again.
	if err := s.Update(func(tx *Tx) error { _, err := tx.PutItem("golang/go#101", "github", []byte(`{}`)); return err }); err != nil {
		t.Fatal(err)
	}
}

// A second writer gets *ErrLocked naming the first one's pid; readers open
// and read while the writer runs, since it has no file open between its
// transactions.
func TestSecondWriterGetsLockError(t *testing.T) {
	dir := t.TempDir()
	cmd := helper(t, "hold", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	buf := make([]byte, 8)
	if n, _ := stdout.Read(buf); string(buf[:n]) != "holding\n" {
		t.Fatalf("helper said %q", buf[:n])
	}
	start := time.Now()
	_, err = Open(dir, Options{Wait: 300 * time.Millisecond})
	var le *ErrLocked
	if !errors.As(err, &le) {
		t.Fatalf("Open while another process writes = %v, want *ErrLocked", err)
	}
	if le.PID != cmd.Process.Pid {
		t.Errorf("lock error names pid %d, want %d", le.PID, cmd.Process.Pid)
	}
	if want := fmt.Sprintf("another reciprocal is running (pid %d)", cmd.Process.Pid); err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open took %v to give up; it must not hang", d)
	}

	r, err := Open(dir, Options{ReadOnly: true, FileWait: time.Second})
	if err != nil {
		t.Fatalf("reader while a writer runs: %v", err)
	}
	r.View(func(tx *Tx) error {
		if c := string(tx.Cursor("c")); c != "1" {
			t.Errorf("reader sees cursor %q, want the writer's committed 1", c)
		}
		return nil
	})
	r.Close()

	// Once the writer is gone, the directory is free again.
	cmd.Process.Kill()
	cmd.Wait()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after the writer died: %v", err)
	}
	s.Close()
}

// A reader that opens during a writer's transaction waits for its commit
// and sees all of it.
func TestReaderWaitsForACommit(t *testing.T) {
	dir := t.TempDir()
	cmd := helper(t, "slow-commit", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	buf := make([]byte, 16)
	if n, _ := stdout.Read(buf); string(buf[:n]) != "committing\n" {
		t.Fatalf("helper said %q", buf[:n])
	}
	r, err := Open(dir, Options{ReadOnly: true, FileWait: 30 * time.Second})
	if err != nil {
		t.Fatalf("reader: %v", err)
	}
	defer r.Close()
	r.View(func(tx *Tx) error {
		if n, c := tx.Count(), string(tx.Cursor("c")); n != 50 || c != "50" {
			t.Errorf("reader sees %d items and cursor %q, want the whole commit: 50 and 50", n, c)
		}
		return nil
	})
}

// Readers share the file; a writer's use of it waits for them, and gives
// up with *ErrBusy after FileWait.
func TestReadersShare(t *testing.T) {
	dir := t.TempDir()
	open(t, dir).Close()
	r1, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Open(dir, Options{ReadOnly: true, FileWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("second reader: %v", err)
	}
	r2.Close()
	var busy *ErrBusy
	if _, err := Open(dir, Options{FileWait: 100 * time.Millisecond}); !errors.As(err, &busy) || !busy.Writer {
		t.Fatalf("writer Open while a reader has the file = %v, want *ErrBusy", err)
	}
	r1.Close()
	w, err := Open(dir, Options{FileWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// The writer has the directory, not the file: a reader opens.
	r3, err := Open(dir, Options{ReadOnly: true, FileWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("reader beside an idle writer: %v", err)
	}
	put := func() error {
		return w.Update(func(tx *Tx) error { return tx.SetCursor("x", []byte("1")) })
	}
	if err := put(); !errors.As(err, &busy) {
		t.Errorf("writer's Update while a reader has the file = %v, want *ErrBusy", err)
	}
	r3.Close()
	if err := put(); err != nil {
		t.Errorf("writer's Update after the reader closed: %v", err)
	}
}

func TestBucketRefusesTheStoresOwn(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	err := s.Update(func(tx *Tx) error {
		_, err := tx.Bucket("items")
		return err
	})
	if err == nil {
		t.Fatal("Bucket(\"items\") handed out the store's own bucket")
	}
}

// A panic in the caller's own code is a bug, not a damaged page: it is not
// reported as ErrDamaged.
func TestPanicOutsideBoltIsNotDamage(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer func() {
		if r := recover(); r != "a bug" {
			t.Errorf("recovered %v, want the callback's own panic", r)
		}
	}()
	s.View(func(tx *Tx) error { panic("a bug") })
	t.Error("View returned after its callback panicked")
}

// A writer cannot lock a data directory it may not write, and says why.
func TestLockReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes through file modes")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	_, err := lockDir(dir, true, 0)
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("lockDir on a read-only directory: %v, want ErrReadOnly", err)
	}
}
