package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// The mailbox keeps every message other than the daily briefing (alerts
// to the maintainer, notes and digests to clients) under a key of its
// own, with the outbox's rules: a message is stored pending, with its
// bytes, before the first attempt; every retry sends those bytes with the
// same Message-ID; a temporary failure leaves it pending, a refusal (5xx)
// marks it failed; it is marked sent only once the server accepted DATA.
// A key is used once: adding a message under a key that holds one does
// nothing, which is what makes an alert or a note go out exactly once.
//
// # Key schema
//
//	mailbox  "entry/" + key → Entry (JSON)
//	mailbox  "raw/" + key   → the message, RFC 5322 bytes
//
// Keys are "kind/name": "alert/GO-2026-4951", "alert/GO-2026-4951/amended",
// "note/GO-2026-4951/acme", "digest/acme/2026-Q4". Keys sort by kind, so a
// kind's messages are one range.
const MailboxBucket = "mailbox"

// ErrNoMessage reports a key the mailbox holds no message for.
var ErrNoMessage = errors.New("no such message in the mailbox")

// A Mailbox is the store's keyed messages.
type Mailbox struct {
	st *store.Store
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// NewMailbox returns the mailbox kept in st.
func NewMailbox(st *store.Store) *Mailbox { return &Mailbox{st: st} }

func (m *Mailbox) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Entry returns what the mailbox holds under key.
func (m *Mailbox) Entry(key string) (Entry, bool, error) {
	var e Entry
	var ok bool
	err := m.st.View(func(tx *store.Tx) error {
		b, err := tx.Bucket(MailboxBucket)
		if err != nil {
			return err
		}
		e, ok, err = getEntryKey(b, key)
		return err
	})
	return e, ok, err
}

// Entries returns the entries whose key starts with prefix, in key order.
func (m *Mailbox) Entries(prefix string) ([]Entry, error) {
	var out []Entry
	err := m.st.View(func(tx *store.Tx) error {
		b, err := tx.Bucket(MailboxBucket)
		if err != nil || b == nil {
			return err
		}
		p := []byte(entryPrefix + prefix)
		c := b.Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("mailbox: entry %s: %w", k[len(entryPrefix):], err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// Add stores msg pending under key, unless the key already holds a
// message: then it returns that one's entry and added false.
func (m *Mailbox) Add(key string, msg *Message) (e Entry, added bool, err error) {
	if key == "" || strings.ContainsAny(key, "\x00") {
		return Entry{}, false, fmt.Errorf("mailbox: bad key %q", key)
	}
	err = m.st.Update(func(tx *store.Tx) error {
		b, err := tx.Bucket(MailboxBucket)
		if err != nil {
			return err
		}
		old, ok, err := getEntryKey(b, key)
		if err != nil || ok {
			e = old
			return err
		}
		e = Entry{
			Key:       key,
			Date:      msg.Date,
			State:     StatePending,
			MessageID: msg.MessageID,
			Subject:   msg.Subject,
			From:      msg.From,
			To:        msg.To,
			Size:      len(msg.Raw),
			Composed:  m.now(),
		}
		added = true
		if err := b.Put([]byte(rawPrefix+key), msg.Raw); err != nil {
			return err
		}
		return putEntry(b, e)
	})
	return e, added, err
}

// Raw returns the stored message of key.
func (m *Mailbox) Raw(key string) ([]byte, error) {
	var raw []byte
	err := m.st.View(func(tx *store.Tx) error {
		b, err := tx.Bucket(MailboxBucket)
		if err != nil || b == nil {
			return err
		}
		raw = bytes.Clone(b.Get([]byte(rawPrefix + key)))
		return nil
	})
	if err == nil && raw == nil {
		err = fmt.Errorf("mailbox: %s: %w", key, ErrNoMessage)
	}
	return raw, err
}

// Send sends the message of key if it is pending, and returns its entry
// afterwards; a message already sent or refused is left alone (attempted
// false).
func (m *Mailbox) Send(ctx context.Context, key string, s Sender) (e Entry, attempted bool, err error) {
	e, ok, err := m.Entry(key)
	if err != nil {
		return e, false, err
	}
	if !ok {
		return e, false, fmt.Errorf("mailbox: %s: %w", key, ErrNoMessage)
	}
	if e.State != StatePending {
		return e, false, nil
	}
	e, err = attempt(ctx, m.st, m.now, slot{MailboxBucket, key, key, ErrNoMessage}, s)
	return e, true, err
}

// Deliver sends every pending message whose key starts with prefix, in
// key order, and returns their entries afterwards. It tries them all; the
// errors are joined.
func (m *Mailbox) Deliver(ctx context.Context, prefix string, s Sender) ([]Entry, error) {
	es, err := m.Entries(prefix)
	if err != nil {
		return nil, err
	}
	var out []Entry
	var errs []error
	for _, e := range es {
		if e.State != StatePending {
			continue
		}
		e, _, err := m.Send(ctx, e.Key, s)
		out = append(out, e)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.Key, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return out, errors.Join(errs...)
}
