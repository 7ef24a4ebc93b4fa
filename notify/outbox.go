package notify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	bolt "go.etcd.io/bbolt"

	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// The outbox lives in one bucket of the store.
//
// # Key schema
//
//	outbox  "entry/" + day (2006-01-02) → Entry (JSON)
//	outbox  "raw/" + day                → the message, RFC 5322 bytes
//
// A day's briefing is composed once and stored pending, with its bytes,
// before the first attempt to send it; every retry sends those bytes. It is
// marked sent only once the server has accepted DATA, and failed when the
// server refused the message itself. Keys sort by day.
const Bucket = "outbox"

const (
	entryPrefix = "entry/"
	rawPrefix   = "raw/"
)

// The State of a day's briefing.
type State string

const (
	// StatePending: composed, not yet accepted by the server; the next
	// run retries it.
	StatePending State = "pending"
	// StateSent: the server accepted it.
	StateSent State = "sent"
	// StateFailed: the server refused it (a 5xx reply to MAIL, RCPT or
	// DATA); it is not retried unless resent.
	StateFailed State = "failed"
	// StateExpired: still pending when a later day's briefing was
	// composed; that one carries what is still open.
	StateExpired State = "expired"
)

// An Entry is what the outbox remembers about one day's briefing.
type Entry struct {
	// Key names a message of the Mailbox ("alert/GO-2026-4951"); empty
	// for a briefing, which its Date names.
	Key         string    `json:"key,omitempty"`
	Date        Date      `json:"date"`
	State       State     `json:"state"`
	MessageID   string    `json:"message_id"`
	Subject     string    `json:"subject"`
	From        string    `json:"from"`
	To          []string  `json:"to"`
	Size        int       `json:"size"`
	Composed    time.Time `json:"composed"`
	Attempts    int       `json:"attempts"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	// LastError is why the last attempt failed.
	LastError string `json:"last_error,omitempty"`
	// Reply is the server's reply to DATA: acceptance, or refusal.
	Reply string    `json:"reply,omitempty"`
	Sent  time.Time `json:"sent,omitzero"`
	// Resends counts the times the user asked to send it again.
	Resends int `json:"resends,omitempty"`
}

// Describe says in a line what became of the briefing, with times in loc:
// for 'reciprocal status' and the brief command.
func (e Entry) Describe(loc *time.Location) string {
	at := func(t time.Time) string { return t.In(loc).Format("Mon 2 Jan 15:04") }
	switch e.State {
	case StateSent:
		return fmt.Sprintf("sent %s to %s <%s>", at(e.Sent), joinClean(e.To, ", "), e.MessageID)
	case StateFailed:
		return fmt.Sprintf("refused by the server %s: %s", at(e.LastAttempt), e.LastError)
	case StateExpired:
		return "never sent: a later briefing superseded it"
	}
	if e.Attempts == 0 {
		return "pending, composed " + at(e.Composed)
	}
	attempts := "1 failed attempt"
	if e.Attempts > 1 {
		attempts = fmt.Sprintf("%d failed attempts", e.Attempts)
	}
	return fmt.Sprintf("pending after %s, last %s: %s", attempts, at(e.LastAttempt), e.LastError)
}

// ErrNoBriefing reports that the outbox holds no briefing for a day.
var ErrNoBriefing = errors.New("no briefing in the outbox for that day")

// An Outbox remembers composed briefings and what became of them, in the
// store's "outbox" bucket.
type Outbox struct {
	st *store.Store
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// NewOutbox returns the outbox kept in st.
func NewOutbox(st *store.Store) *Outbox { return &Outbox{st: st} }

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func getEntry(b *bolt.Bucket, day Date) (Entry, bool, error) { return getEntryKey(b, day.String()) }

func getEntryKey(b *bolt.Bucket, key string) (Entry, bool, error) {
	if b == nil {
		return Entry{}, false, nil
	}
	v := b.Get([]byte(entryPrefix + key))
	if v == nil {
		return Entry{}, false, nil
	}
	var e Entry
	if err := json.Unmarshal(v, &e); err != nil {
		return Entry{}, false, fmt.Errorf("outbox: entry %s: %w", key, err)
	}
	return e, true, nil
}

// entryKey is the key an entry is stored under: its Key, or its day.
func (e Entry) entryKey() string {
	if e.Key != "" {
		return e.Key
	}
	return e.Date.String()
}

func putEntry(b *bolt.Bucket, e Entry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return b.Put([]byte(entryPrefix+e.entryKey()), v)
}

// Entry returns what the outbox holds for day.
func (o *Outbox) Entry(day Date) (Entry, bool, error) {
	var e Entry
	var ok bool
	err := o.st.View(func(tx *store.Tx) error {
		b, err := tx.Bucket(Bucket)
		if err != nil {
			return err
		}
		e, ok, err = getEntry(b, day)
		return err
	})
	return e, ok, err
}

// Raw returns the stored message of day.
func (o *Outbox) Raw(day Date) ([]byte, error) {
	var raw []byte
	err := o.st.View(func(tx *store.Tx) error {
		b, err := tx.Bucket(Bucket)
		if err != nil {
			return err
		}
		if b != nil {
			if v := b.Get([]byte(rawPrefix + day.String())); v != nil {
				raw = bytes.Clone(v)
			}
		}
		return nil
	})
	if err == nil && raw == nil {
		err = fmt.Errorf("outbox: %s: %w", day, ErrNoBriefing)
	}
	return raw, err
}

// Entries returns every entry, the most recent day first.
func (o *Outbox) Entries() ([]Entry, error) {
	var out []Entry
	err := o.st.View(func(tx *store.Tx) error {
		b, err := tx.Bucket(Bucket)
		if err != nil || b == nil {
			return err
		}
		c := b.Cursor()
		prefix := []byte(entryPrefix)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("outbox: entry %s: %w", k[len(prefix):], err)
			}
			out = append(out, e)
		}
		return nil
	})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

// add stores m as the pending briefing of its day, and expires the
// briefings of earlier days still pending: the new one carries what is
// still open. It fails if the day already has one.
func (o *Outbox) add(m *Message) (Entry, error) {
	e := Entry{
		Date:      m.Date,
		State:     StatePending,
		MessageID: m.MessageID,
		Subject:   m.Subject,
		From:      m.From,
		To:        m.To,
		Size:      len(m.Raw),
		Composed:  o.now(),
	}
	err := o.st.Update(func(tx *store.Tx) error {
		b, err := tx.Bucket(Bucket)
		if err != nil {
			return err
		}
		if _, ok, err := getEntry(b, m.Date); err != nil || ok {
			if err == nil {
				err = fmt.Errorf("outbox: the briefing of %s is already composed", m.Date)
			}
			return err
		}
		c := b.Cursor()
		prefix := []byte(entryPrefix)
		end := []byte(entryPrefix + m.Date.String())
		var expire []Entry
		for k, v := c.Seek(prefix); k != nil && bytes.Compare(k, end) < 0; k, v = c.Next() {
			var old Entry
			if json.Unmarshal(v, &old) == nil && old.State == StatePending {
				old.State = StateExpired
				expire = append(expire, old)
			}
		}
		for _, old := range expire {
			if err := putEntry(b, old); err != nil {
				return err
			}
		}
		if err := b.Put([]byte(rawPrefix+m.Date.String()), m.Raw); err != nil {
			return err
		}
		return putEntry(b, e)
	})
	return e, err
}

// A Result says what Deliver or Resend did.
type Result struct {
	// Entry is the day's entry afterwards.
	Entry Entry
	// Composed is set when the briefing was composed by this call.
	Composed bool
	// Attempted is set when this call tried to send it.
	Attempted bool
}

// Deliver sends the briefing of day. If the outbox does not hold it yet it
// is composed (by compose) and stored pending first; if it is pending it is
// sent, the stored bytes unchanged; if it was sent or refused already,
// nothing happens (see Result.Attempted).
//
// compose may return ErrNothingToSend, which Deliver returns without
// storing anything. A failed attempt returns the *SendError along with the
// entry: still pending if the failure is temporary, failed if the server
// refused the message.
func (o *Outbox) Deliver(ctx context.Context, day Date, compose func() (*Message, error), s Sender) (Result, error) {
	e, ok, err := o.Entry(day)
	if err != nil {
		return Result{}, err
	}
	var res Result
	if !ok {
		m, err := compose()
		if err != nil {
			return Result{}, err
		}
		if m.Date != day {
			return Result{}, fmt.Errorf("outbox: composed the briefing of %s for the day %s", m.Date, day)
		}
		if e, err = o.add(m); err != nil {
			return Result{}, err
		}
		res.Composed = true
	}
	if e.State != StatePending {
		res.Entry = e
		return res, nil
	}
	res.Entry, err = o.attempt(ctx, day, s)
	res.Attempted = true
	return res, err
}

// Resend sends the briefing of day again, as the user asked: if it was
// sent or refused, it gets a new Message-ID (mail systems drop a message
// whose Message-ID they have seen) and Date, and is pending again; if it
// is pending, it is simply retried.
func (o *Outbox) Resend(ctx context.Context, day Date, s Sender) (Result, error) {
	err := o.st.Update(func(tx *store.Tx) error {
		b, err := tx.Bucket(Bucket)
		if err != nil {
			return err
		}
		e, ok, err := getEntry(b, day)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("outbox: %s: %w", day, ErrNoBriefing)
		}
		if e.State == StatePending {
			return nil
		}
		raw := b.Get([]byte(rawPrefix + day.String()))
		if raw == nil {
			return fmt.Errorf("outbox: %s: the message is missing", day)
		}
		e.Resends++
		id := messageID(day, e.Resends, e.From)
		raw, err = reheader(raw, id, o.now())
		if err != nil {
			return fmt.Errorf("outbox: %s: %w", day, err)
		}
		e.MessageID = id
		e.State = StatePending
		e.Size = len(raw)
		e.Sent = time.Time{}
		e.Reply = ""
		e.LastError = ""
		if err := b.Put([]byte(rawPrefix+day.String()), raw); err != nil {
			return err
		}
		return putEntry(b, e)
	})
	if err != nil {
		return Result{}, err
	}
	e, err := o.attempt(ctx, day, s)
	return Result{Entry: e, Attempted: true}, err
}

// reheader gives the message raw a new Message-ID and Date, keeping the
// Date's UTC offset and every other byte.
func reheader(raw []byte, id string, now time.Time) ([]byte, error) {
	br := bufio.NewReader(bytes.NewReader(raw))
	th, err := textproto.ReadHeader(br)
	if err != nil {
		return nil, err
	}
	h := mail.Header{Header: message.Header{Header: th}}
	if old, err := h.Date(); err == nil && !old.IsZero() {
		now = now.In(old.Location())
	}
	h.SetMessageID(id)
	h.SetDate(now)
	var buf bytes.Buffer
	buf.Grow(len(raw) + 64)
	if err := textproto.WriteHeader(&buf, h.Header.Header); err != nil {
		return nil, err
	}
	if _, err := io.Copy(&buf, br); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// attempt sends the pending briefing of day once and records the outcome.
func (o *Outbox) attempt(ctx context.Context, day Date, s Sender) (Entry, error) {
	return attempt(ctx, o.st, o.now, slot{Bucket, day.String(), "the briefing of " + day.String(), ErrNoBriefing}, s)
}

// A slot names one stored message: its bucket and key, how messages name
// it, and the error for its absence.
type slot struct {
	bucket, key, what string
	missing           error
}

// attempt sends the pending message of sl once and records the outcome.
// The attempt is recorded before the message goes out, so that an
// interrupted run still shows it.
func attempt(ctx context.Context, st *store.Store, now func() time.Time, sl slot, s Sender) (Entry, error) {
	var e Entry
	var raw []byte
	err := st.Update(func(tx *store.Tx) error {
		b, err := tx.Bucket(sl.bucket)
		if err != nil {
			return err
		}
		var ok bool
		if e, ok, err = getEntryKey(b, sl.key); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("outbox: %s: %w", sl.key, sl.missing)
			}
			return err
		}
		if e.State != StatePending {
			return fmt.Errorf("outbox: %s is %s, not pending", sl.what, e.State)
		}
		raw = bytes.Clone(b.Get([]byte(rawPrefix + sl.key)))
		if raw == nil {
			return fmt.Errorf("outbox: %s: the message is missing", sl.key)
		}
		e.Attempts++
		e.LastAttempt = now()
		return putEntry(b, e)
	})
	if err != nil {
		return e, err
	}

	reply, sendErr := s.Send(ctx, e.From, e.To, raw)

	var se *SendError
	switch {
	case sendErr == nil:
		e.State = StateSent
		e.Sent = now()
		e.Reply = reply
		e.LastError = ""
	case errors.As(sendErr, &se) && se.Permanent:
		e.State = StateFailed
		e.Reply = se.Reply
		e.LastError = sendErr.Error()
	default:
		e.LastError = sendErr.Error()
	}
	err = st.Update(func(tx *store.Tx) error {
		b, err := tx.Bucket(sl.bucket)
		if err != nil {
			return err
		}
		return putEntry(b, e)
	})
	if err != nil {
		if sendErr == nil {
			return e, fmt.Errorf("outbox: %s was sent, but recording it failed (the next run may send it again): %w", sl.what, err)
		}
		return e, errors.Join(sendErr, err)
	}
	return e, sendErr
}

// Status is the outbox's state, for 'reciprocal status'.
type Status struct {
	Today   Date      `json:"today"`
	DueAt   time.Time `json:"due_at"`   // when today's briefing is, or was, due
	Due     bool      `json:"due"`      // due now and not yet sent
	NextDue time.Time `json:"next_due"` // the next due time after now
	// Entry is today's entry, if there is one.
	Entry *Entry `json:"entry,omitempty"`
	// Last is the most recent entry of any day.
	Last *Entry `json:"last,omitempty"`
}

// Status returns the outbox's state at now under schedule s.
func (o *Outbox) Status(s Schedule, now time.Time) (*Status, error) {
	st := &Status{Today: s.Today(now), NextDue: s.Next(now)}
	st.DueAt = s.DueAt(st.Today)
	var err error
	if _, st.Due, err = o.Due(s, now); err != nil {
		return nil, err
	}
	entries, err := o.Entries()
	if err != nil {
		return nil, err
	}
	if len(entries) > 0 {
		st.Last = &entries[0]
		if entries[0].Date == st.Today {
			st.Entry = &entries[0]
		}
	}
	return st, nil
}
