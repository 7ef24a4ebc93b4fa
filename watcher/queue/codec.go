package queue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
)

// Prompts are stored in a compact binary form rather than JSON: listing the
// queue decodes every open prompt, and JSON made 10,000 of them take longer
// than a command should. The layout is versioned by its first byte.
//
// Strings are a uvarint length and the bytes; lists a uvarint count and the
// elements; times a uvarint 0 for the zero time, or 1, the Unix seconds
// (varint) and the nanoseconds (uvarint), read back in UTC.

// Version 2 added topics: the prompt's topic, members, the member of each
// trigger, where a merged prompt went and judgements. Version 1 records are
// still read (as prompts of one member); they are written back as version 2.
//
// Version 3 added the routine reason of items and the reason a held prompt
// was held.
const codecVersion = 3

type encoder struct{ b []byte }

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) strs(ss []string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.b = binary.AppendVarint(e.b, t.Unix())
	e.b = binary.AppendUvarint(e.b, uint64(t.Nanosecond()))
}

func (e *encoder) n(n int) { e.b = binary.AppendUvarint(e.b, uint64(n)) }

func (e *encoder) snapshot(s Snapshot) {
	e.str(s.State)
	e.str(s.Stage)
	e.time(s.Modified)
}

func (e *encoder) item(it *ItemInfo) {
	e.str(it.ID)
	e.str(it.Kind)
	e.str(it.Title)
	e.str(it.URL)
	e.str(it.State)
	e.str(it.Stage)
	e.strs(it.Packages)
	e.str(it.Routine)
	e.time(it.Updated)
	e.time(it.Published)
}

func (e *encoder) reasons(r *Reasons) {
	e.strs(r.Packages)
	e.strs(r.Terms)
	e.str(string(r.Snippet))
}

func marshal(p *Prompt) []byte {
	e := &encoder{b: make([]byte, 0, 512)}
	e.b = append(e.b, codecVersion)
	e.str(p.ID)
	e.str(p.Client)
	e.str(p.Concern)
	e.str(p.Topic)
	e.str(p.MergedInto)
	e.str(p.HeldReason)
	e.item(&p.Item)
	e.n(len(p.Members))
	for i := range p.Members {
		m := &p.Members[i]
		e.item(&m.Item)
		e.reasons(&m.Reasons)
		e.snapshot(m.Snapshot)
		e.time(m.Joined)
	}
	e.str(string(p.State))
	e.time(p.Until)
	e.time(p.Created)
	e.time(p.Updated)
	e.n(len(p.Triggers))
	for _, t := range p.Triggers {
		e.time(t.At)
		e.str(t.Kind)
		e.str(t.Item)
		e.str(t.Description)
		e.snapshot(t.Snapshot)
	}
	e.reasons(&p.Reasons)
	e.time(p.ClockStart)
	e.n(len(p.Log))
	for _, ev := range p.Log {
		e.time(ev.At)
		e.str(ev.Action)
		e.str(ev.Note)
		e.time(ev.Until)
		e.str(ev.Judgement)
	}
	return e.b
}

var errCorrupt = errors.New("corrupt record")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) n() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) { // every element takes at least a byte
		d.err = errCorrupt
		return 0
	}
	return int(v)
}

func (d *decoder) str() string {
	n := d.n()
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) strs() []string {
	n := d.n()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) time() time.Time {
	if d.err != nil || len(d.b) == 0 {
		d.err = errCorrupt
		return time.Time{}
	}
	flag := d.b[0]
	d.b = d.b[1:]
	if flag == 0 {
		return time.Time{}
	}
	s, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return time.Time{}
	}
	d.b = d.b[n:]
	ns := d.uvarint()
	return time.Unix(s, int64(ns)).UTC()
}

func (d *decoder) snapshot() Snapshot {
	return Snapshot{State: d.str(), Stage: d.str(), Modified: d.time()}
}

func (d *decoder) item(v byte) ItemInfo {
	it := ItemInfo{ID: d.str(), Kind: d.str(), Title: d.str(), URL: d.str(), State: d.str(), Stage: d.str(), Packages: d.strs()}
	if v >= 3 {
		it.Routine = d.str()
	}
	it.Updated, it.Published = d.time(), d.time()
	return it
}

func (d *decoder) reasons() Reasons {
	return Reasons{Packages: d.strs(), Terms: d.strs(), Snippet: index.Snippet(d.str())}
}

func unmarshal(b []byte, p *Prompt) error {
	if len(b) == 0 || b[0] < 1 || b[0] > codecVersion {
		return fmt.Errorf("%w (version %v; this reciprocal reads 1 to %d)", errCorrupt, b[:min(1, len(b))], codecVersion)
	}
	v := b[0]
	d := &decoder{b: b[1:]}
	p.ID = d.str()
	p.Client = d.str()
	p.Concern = d.str()
	if v >= 2 {
		p.Topic = d.str()
		p.MergedInto = d.str()
	}
	if v >= 3 {
		p.HeldReason = d.str()
	}
	p.Item = d.item(v)
	if v >= 2 {
		if n := d.n(); n > 0 {
			p.Members = make([]Member, n)
			for i := range p.Members {
				p.Members[i] = Member{Item: d.item(v), Reasons: d.reasons(), Snapshot: d.snapshot(), Joined: d.time()}
			}
		}
	}
	p.State = State(d.str())
	p.Until = d.time()
	p.Created = d.time()
	p.Updated = d.time()
	if n := d.n(); n > 0 {
		p.Triggers = make([]Trigger, n)
		for i := range p.Triggers {
			t := Trigger{At: d.time(), Kind: d.str()}
			if v >= 2 {
				t.Item = d.str()
			}
			t.Description = d.str()
			t.Snapshot = d.snapshot()
			p.Triggers[i] = t
		}
	}
	p.Reasons = d.reasons()
	p.ClockStart = d.time()
	if n := d.n(); n > 0 {
		p.Log = make([]Event, n)
		for i := range p.Log {
			p.Log[i] = Event{At: d.time(), Action: d.str(), Note: d.str(), Until: d.time()}
			if v >= 2 {
				p.Log[i].Judgement = d.str()
			}
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errCorrupt
	}
	if d.err == nil && v == 1 {
		upgrade(p)
	}
	return d.err
}

// upgrade fills in what a version 1 prompt lacks: it was about one item,
// which is its only member and the item of every trigger.
func upgrade(p *Prompt) {
	p.Topic = p.Item.ID
	for i := range p.Triggers {
		p.Triggers[i].Item = p.Item.ID
	}
	p.Members = []Member{{Item: p.Item, Reasons: p.Reasons, Snapshot: p.Trigger().Snapshot, Joined: p.Created}}
}
