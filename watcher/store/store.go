// Package store keeps reciprocal's truth: the raw JSON that the trackers
// served, keyed by item ID, in one bbolt file in the data directory.
//
// Every write of an item gives it the next modification sequence number, so
// that later stages (the index, the matcher) can process "everything changed
// since N" by scanning forward from the last number they handled, the pattern
// of oscar's storage/timed.
//
// # Key schema
//
//	meta      "schema" → schema version (decimal)
//	items     item ID → seq (8 bytes, big-endian) | len(source) (1 byte) | source | raw JSON
//	seq       seq (8 bytes, big-endian) → item ID; one entry per item, its latest write
//	comments  item ID | 0x00 | comment ID (8 bytes, big-endian) → raw JSON
//	cursors   name → opaque bytes (sync cursors, the matcher's position)
//	counts    how many items (per source) and comments are stored; see counts.go
//
// Other packages keep their own buckets in the same file through Tx.Bucket
// (prompts, the briefing outbox), so that their state commits atomically with
// the cursors that cover it.
//
// # Readers and the writer
//
// Only one process writes at a time: a writer holds the data directory's
// lock file (exclusively, with its pid in it) from Open to Close, and a
// second writer gets *ErrLocked. Readers take no lock on the directory, so
// they never wait for a writer's whole command (a long sync, an SMTP
// exchange).
//
// bbolt itself locks its file while it is open: exclusively when opened
// for writing, shared when read-only. So a writer's Store keeps the file
// open only while it needs it: each Update or View opens it and closes it
// when no other is running (Hold keeps it open across a phase), and while
// it waits on the network it has no file open. A reader opens the file
// read-only at Open and keeps it until Close: readers are short, and a
// writer's next transaction waits for them (up to Options.FileWait), as a
// reader waits for a transaction under way. Crash safety is bbolt's, as
// before: every transaction commits or leaves no trace, cursors included.
//
// A reader needs no write access to the directory: a backup or a read-only
// mount can be searched and exported.
package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the version of the key schema above.
const SchemaVersion = 1

// FileName is the name of the store's file in the data directory.
const FileName = "store.db"

var (
	bucketMeta     = []byte("meta")
	bucketItems    = []byte("items")
	bucketSeq      = []byte("seq")
	bucketComments = []byte("comments")
	bucketCursors  = []byte("cursors")
)

// Options control how Open opens the store.
type Options struct {
	// ReadOnly opens the store for reading, sharing the directory with
	// other readers.
	ReadOnly bool
	// Wait is how long a writer's Open waits for another writer to
	// release the directory before failing with *ErrLocked. Zero means
	// one second.
	Wait time.Duration
	// FileWait is how long opening the store file waits for another
	// process's use of it to end (a reader for a writer's transaction,
	// a writer for the readers) before failing with *ErrBusy. Zero means
	// DefaultFileWait.
	FileWait time.Duration
}

// DefaultFileWait is how long opening the store file waits for another
// process when Options.FileWait is zero.
const DefaultFileWait = time.Minute

// ErrBusy reports that another process kept the store file locked for
// longer than the wait: a writer in a very long transaction, or readers
// that do not finish.
type ErrBusy struct {
	Path   string
	Wait   time.Duration
	Writer bool // whether the one waiting was a writer
}

func (e *ErrBusy) Error() string {
	if e.Writer {
		return fmt.Sprintf("store: %s stayed open in other reciprocal commands (readers) for %v", e.Path, e.Wait)
	}
	return fmt.Sprintf("store: %s stayed busy with another reciprocal's transaction for %v", e.Path, e.Wait)
}

// A Store is a store in a data directory: for a reader, the file open
// read-only from Open to Close; for the writer, the file opened around
// each use (see the package documentation).
type Store struct {
	dir      string
	path     string
	readOnly bool
	fileWait time.Duration
	lock     *dirLock // the writer's

	mu   sync.Mutex
	db   *bolt.DB // open while refs > 0
	refs int
}

// Open opens (creating if needed and not read-only) the store in dir.
func Open(dir string, opts Options) (_ *Store, err error) {
	if opts.Wait == 0 {
		opts.Wait = time.Second
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	path := filepath.Join(dir, FileName)
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("store: no data in %s yet: %w", dir, ErrNoStore)
			}
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	if opts.FileWait == 0 {
		opts.FileWait = DefaultFileWait
	}
	s := &Store{dir: dir, path: path, readOnly: opts.ReadOnly, fileWait: opts.FileWait}
	if !opts.ReadOnly {
		if s.lock, err = lockDir(dir, true, opts.Wait); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	defer s.guard(&err)
	db, err := s.acquire()
	if err != nil {
		return nil, err
	}
	if !opts.ReadOnly {
		// The writer opens the file again for each use.
		defer s.release()
		if err := s.init(db); err != nil {
			return nil, err
		}
	} else if err := s.checkSchema(db); err != nil {
		// A reader keeps its reference until Close.
		return nil, err
	}
	return s, nil
}

// acquire opens the store file if this process does not have it open, and
// counts one more use of it.
func (s *Store) acquire() (*bolt.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		db, err := bolt.Open(s.path, 0o644, &bolt.Options{Timeout: s.fileWait, ReadOnly: s.readOnly})
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, &ErrBusy{Path: s.path, Wait: s.fileWait, Writer: !s.readOnly}
		}
		if err != nil {
			return nil, fmt.Errorf("store: open %s: %w", s.path, err)
		}
		s.db = db
	}
	s.refs++
	return s.db, nil
}

// release ends a use of the store file, closing it after the last.
func (s *Store) release() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs--; s.refs > 0 || s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// Hold keeps the store file open until release is called, so that a phase
// of many short transactions (indexing a batch, matching) opens it once.
// Other processes wait for it meanwhile: hold it only around work that
// does not wait on the network or a person.
func (s *Store) Hold() (release func(), err error) {
	defer s.guard(&err)
	if _, err := s.acquire(); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { s.release() }) }, nil
}

// ErrNoStore reports that the data directory holds no store yet.
var ErrNoStore = errors.New("nothing imported or synced yet")

func (s *Store) init(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketItems, bucketSeq, bucketComments, bucketCursors} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get([]byte("schema")); v != nil {
			if err := checkVersion(v); err != nil {
				return err
			}
		} else if err := meta.Put([]byte("schema"), []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return err
		}
		if !countsValid(tx) {
			return recount(tx)
		}
		return nil
	})
}

func (s *Store) checkSchema(db *bolt.DB) error {
	return db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("store: %s is not a reciprocal store (no meta bucket)", s.path)
		}
		return checkVersion(meta.Get([]byte("schema")))
	})
}

func checkVersion(v []byte) error {
	n, err := strconv.Atoi(string(v))
	if err != nil || n != SchemaVersion {
		return fmt.Errorf("store: schema version %q, this reciprocal reads version %d", v, SchemaVersion)
	}
	return nil
}

// Dir returns the data directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// Path returns the store file's path.
func (s *Store) Path() string { return s.path }

// ReadOnly reports whether the store was opened for reading.
func (s *Store) ReadOnly() bool { return s.readOnly }

// Close closes the store file and releases the directory lock.
func (s *Store) Close() error {
	s.mu.Lock()
	var err error
	if s.db != nil {
		err = s.db.Close()
		s.db, s.refs = nil, 0
	}
	s.mu.Unlock()
	if lerr := s.lock.unlock(); err == nil {
		err = lerr
	}
	return err
}

// Update runs fn in a read-write transaction, committed if fn returns nil.
func (s *Store) Update(fn func(*Tx) error) (err error) {
	defer s.guard(&err)
	db, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release()
	return db.Update(func(tx *bolt.Tx) error {
		defer maybeRelease(tx)
		return fn(&Tx{tx: tx})
	})
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Tx) error) (err error) {
	defer s.guard(&err)
	db, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release()
	return db.View(func(tx *bolt.Tx) error {
		defer maybeRelease(tx)
		return fn(&Tx{tx: tx})
	})
}

// Size returns the size of the store file in bytes.
func (s *Store) Size() int64 {
	var n int64
	s.View(func(tx *Tx) error { n = tx.tx.Size(); return nil })
	return n
}

// A Tx is a store transaction.
type Tx struct {
	tx *bolt.Tx
	// written holds the items this transaction gave a new sequence
	// number: touching one again would change nothing a reader can see.
	written map[string]bool
}

// A Record is one stored item. Raw is only valid during the transaction.
type Record struct {
	ID     string
	Source string
	Seq    uint64
	Raw    []byte
}

// A Change says what a write did.
type Change int

const (
	Unchanged Change = iota // the stored bytes were already these
	New                     // the key was not stored before
	Updated                 // the stored bytes were different
)

func (c Change) String() string {
	switch c {
	case New:
		return "new"
	case Updated:
		return "updated"
	}
	return "unchanged"
}

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

func decodeItem(id string, v []byte) (Record, error) {
	if len(v) < 9 || len(v) < 9+int(v[8]) {
		return Record{}, fmt.Errorf("store: item %s: corrupt record", id)
	}
	n := int(v[8])
	return Record{ID: id, Seq: binary.BigEndian.Uint64(v[:8]), Source: string(v[9 : 9+n]), Raw: v[9+n:]}, nil
}

// PutItem stores raw as the JSON of item id from source. If the stored bytes
// differ (or there were none), the item gets the next sequence number.
func (tx *Tx) PutItem(id, source string, raw []byte) (Change, error) {
	if id == "" {
		return Unchanged, errors.New("store: empty item ID")
	}
	if len(source) > 255 {
		return Unchanged, fmt.Errorf("store: item %s: source name too long", id)
	}
	items := tx.tx.Bucket(bucketItems)
	change := New
	counted := false // whether the item's source is already counted
	if old := items.Get([]byte(id)); old != nil {
		rec, err := decodeItem(id, old)
		if err != nil {
			return Unchanged, err
		}
		if rec.Source == source && bytes.Equal(rec.Raw, raw) {
			return Unchanged, nil
		}
		change = Updated
		counted = rec.Source == source
		if !counted {
			if err := tx.addCount(itemCountKey(rec.Source), -1); err != nil {
				return Unchanged, err
			}
		}
	}
	if !counted {
		if err := tx.addCount(itemCountKey(source), +1); err != nil {
			return Unchanged, err
		}
	}
	return change, tx.write(id, source, raw)
}

// write stores the record with a new sequence number.
func (tx *Tx) write(id, source string, raw []byte) error {
	items := tx.tx.Bucket(bucketItems)
	seqs := tx.tx.Bucket(bucketSeq)
	if old := items.Get([]byte(id)); old != nil {
		if err := seqs.Delete(old[:8]); err != nil {
			return err
		}
	}
	seq, err := items.NextSequence()
	if err != nil {
		return err
	}
	v := make([]byte, 0, 9+len(source)+len(raw))
	v = append(v, seqKey(seq)...)
	v = append(v, byte(len(source)))
	v = append(v, source...)
	v = append(v, raw...)
	if err := items.Put([]byte(id), v); err != nil {
		return err
	}
	if err := putCount(tx.tx.Bucket(bucketCounts), countSeq, seq); err != nil {
		return err
	}
	if tx.written == nil {
		tx.written = make(map[string]bool)
	}
	tx.written[id] = true
	return seqs.Put(seqKey(seq), []byte(id))
}

// Touch gives a stored item the next sequence number without changing its
// bytes, so that later stages look at it again (for example because one of
// its comments changed). It does nothing if the item is not stored.
//
// An item written (or touched) earlier in the same transaction is left as
// it is: its sequence number is already newer than anything a reader has
// seen, and the reader sees the transaction whole. An import of an issue
// followed by its comments thus writes the issue once, not once a comment.
func (tx *Tx) Touch(id string) error {
	if tx.written[id] {
		return nil
	}
	rec, ok, err := tx.Item(id)
	if err != nil || !ok {
		return err
	}
	raw := append([]byte(nil), rec.Raw...)
	return tx.write(id, rec.Source, raw)
}

// Item returns the stored record of id.
func (tx *Tx) Item(id string) (Record, bool, error) {
	tx.noteReads(1)
	v := tx.tx.Bucket(bucketItems).Get([]byte(id))
	if v == nil {
		return Record{}, false, nil
	}
	rec, err := decodeItem(id, v)
	return rec, err == nil, err
}

// LastSeq returns the highest sequence number given so far.
func (tx *Tx) LastSeq() uint64 {
	return tx.tx.Bucket(bucketItems).Sequence()
}

// Count returns the number of stored items.
func (tx *Tx) Count() int {
	c, err := tx.Counts()
	if err != nil {
		return tx.tx.Bucket(bucketItems).Stats().KeyN
	}
	return c.Total()
}

// Since calls fn for every item whose latest write has a sequence number
// greater than seq, in sequence order, stopping at the first error.
func (tx *Tx) Since(seq uint64, fn func(Record) error) error {
	c := tx.tx.Bucket(bucketSeq).Cursor()
	items := tx.tx.Bucket(bucketItems)
	for k, id := c.Seek(seqKey(seq + 1)); k != nil; k, id = c.Next() {
		tx.noteReads(1) // a long scan, each item a lookup: see release.go
		v := items.Get(id)
		if v == nil {
			return fmt.Errorf("store: sequence %d names item %s, which is missing", binary.BigEndian.Uint64(k), id)
		}
		rec, err := decodeItem(string(id), v)
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// CountSince returns how many items have a latest write after seq, counting
// at most limit of them (more reports that there are more). It reads only
// the sequence index's keys.
func (tx *Tx) CountSince(seq uint64, limit int) (n int, more bool) {
	if last := tx.LastSeq(); seq >= last {
		return 0, false
	}
	c := tx.tx.Bucket(bucketSeq).Cursor()
	for k, _ := c.Seek(seqKey(seq + 1)); k != nil; k, _ = c.Next() {
		if n == limit {
			return n, true
		}
		n++
	}
	return n, false
}

func commentKey(itemID string, commentID int64) []byte {
	k := make([]byte, 0, len(itemID)+9)
	k = append(k, itemID...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, uint64(commentID))
}

// PutComment stores raw as the JSON of comment commentID on item itemID.
// A new or changed comment touches its item, if stored.
func (tx *Tx) PutComment(itemID string, commentID int64, raw []byte) (Change, error) {
	b := tx.tx.Bucket(bucketComments)
	k := commentKey(itemID, commentID)
	change := New
	if old := b.Get(k); old != nil {
		if bytes.Equal(old, raw) {
			return Unchanged, nil
		}
		change = Updated
	}
	if err := b.Put(k, raw); err != nil {
		return Unchanged, err
	}
	if change == New {
		if err := tx.addCount(countComments, +1); err != nil {
			return Unchanged, err
		}
	}
	return change, tx.Touch(itemID)
}

// Comments calls fn with the raw JSON of each comment on itemID, in comment
// ID order (the order they were posted).
func (tx *Tx) Comments(itemID string, fn func(commentID int64, raw []byte) error) error {
	prefix := append([]byte(itemID), 0)
	c := tx.tx.Bucket(bucketComments).Cursor()
	tx.noteReads(1)
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		tx.noteReads(1)
		if len(k) != len(prefix)+8 {
			continue
		}
		if err := fn(int64(binary.BigEndian.Uint64(k[len(prefix):])), v); err != nil {
			return err
		}
	}
	return nil
}

// Cursor returns the value of the named cursor, or nil.
func (tx *Tx) Cursor(name string) []byte {
	v := tx.tx.Bucket(bucketCursors).Get([]byte(name))
	if v == nil {
		return nil
	}
	return append([]byte(nil), v...)
}

// SetCursor sets the named cursor.
func (tx *Tx) SetCursor(name string, value []byte) error {
	return tx.tx.Bucket(bucketCursors).Put([]byte(name), value)
}

// Bucket returns the named bucket for a package's own state, creating it in
// a writable transaction. In a read-only transaction it returns nil if the
// bucket does not exist yet.
func (tx *Tx) Bucket(name string) (*bolt.Bucket, error) {
	for _, own := range [][]byte{bucketMeta, bucketItems, bucketSeq, bucketComments, bucketCursors, bucketCounts} {
		if name == string(own) {
			return nil, fmt.Errorf("store: bucket %q is the store's own", name)
		}
	}
	if !tx.tx.Writable() {
		return tx.tx.Bucket([]byte(name)), nil
	}
	return tx.tx.CreateBucketIfNotExists([]byte(name))
}

// ForEachComment calls fn for every stored comment, ordered by item ID and
// then comment ID.
func (tx *Tx) ForEachComment(fn func(itemID string, commentID int64, raw []byte) error) error {
	c := tx.tx.Bucket(bucketComments).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) < 9 || k[len(k)-9] != 0 {
			continue
		}
		if err := fn(string(k[:len(k)-9]), int64(binary.BigEndian.Uint64(k[len(k)-8:])), v); err != nil {
			return err
		}
	}
	return nil
}
