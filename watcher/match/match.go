// Package match turns "what changed on the tracker" into consult prompts:
// it evaluates every client concern against the items that changed since
// its last run and records the matches in the prompt queue (package
// watcher/queue).
//
// # How a run works
//
// Run first brings the index up to date with the store; after an upgrade
// it also rewrites an older queue for topics (queue.Migrate) and links the
// items matched before topics existed. Then:
//
//  1. Changed items. The matcher keeps its own cursor over the store's
//     modification sequence. It takes the items written after the cursor in
//     batches (500 by default), links them into topics (package
//     watcher/topic; prompts of topics that merge are merged, see
//     queue.MergeTopics) and evaluates each known concern against a batch
//     with one index query restricted to the batch's IDs (and the concern's
//     packages, kinds and query). A hit opens a prompt for its topic or
//     joins the topic's prompt as a member. The links, prompts and the
//     cursors past the batch are committed in one store transaction: a crash
//     repeats a batch, it never loses or duplicates a prompt.
//  2. New and changed concerns. A concern whose fingerprint (a hash of its
//     packages, query and kinds) is not the one recorded after its last
//     evaluation is evaluated over the whole index, and its prompts are
//     committed with its new fingerprint. This covers a new install, a new
//     client, a new concern and an edited query, packages or kinds. An
//     edited concern also withdraws its stale prompts (withdraw.go).
//
// A new match that resembles what the maintainer marked not relevant for
// the concern is held back instead of prompted (learn.go).
//
// # No flood
//
// A new match becomes an open prompt only if the item was updated within
// the look-back window (14 days by default) before now; an older match is
// recorded with state history: shown with the client, never queued. In a
// whole-index evaluation a vulnerability must also have been published
// within the window. A vulnerability published within the window starts the
// client's response clock (Prompt.ClockStart); an older one never does.
// The look-back applies to changed items too, so that a backfill of old
// items (a newly watched repository, an import) does not flood the queue;
// items that really changed since the last run are recent anyway.
//
// # Milestones
//
// A match on an item that already has a prompt adds a trigger (and re-opens
// the prompt) only on a milestone; see the queue package.
//
// # Key schema (store)
//
//	cursors         "match" → last store sequence matched (8 bytes, big-endian)
//	match-concerns  client 0x00 concern → JSON {fingerprint, evaluated, content}
//	                (content: contentOf, which tells an edit from a rules change)
//
// Topics keep their own buckets and cursor (package watcher/topic); the
// queue its own (package watcher/queue).
package match

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/queue"
	"github.com/reciprocal-access/reciprocal/watcher/store"
	"github.com/reciprocal-access/reciprocal/watcher/topic"
)

// Defaults of Options.
const (
	DefaultLookback  = 14 * 24 * time.Hour
	DefaultBatchSize = 500
)

// CursorName is the store cursor of the matcher.
const CursorName = "match"

const bucketConcerns = "match-concerns"

// Options control a run.
type Options struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Lookback is how far back a new match may have been updated and
	// still be queued (Config.Matching.Lookback); zero means 14 days.
	Lookback time.Duration
	// BatchSize is how many changed items are evaluated (and committed)
	// at once; zero means 500.
	BatchSize int
	// Workers is how many index queries run at once; zero means GOMAXPROCS.
	Workers int
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
	// NoLearning turns off holding back matches that resemble what the
	// maintainer marked not relevant (learn.go).
	NoLearning bool
}

// A Result says what a run did.
type Result struct {
	// Seq is the store sequence number matched through.
	Seq uint64 `json:"seq"`
	// Changed is the number of changed items evaluated, in Batches.
	Changed int `json:"changed"`
	Batches int `json:"batches"`
	// Evaluated are the concerns evaluated over the whole index because
	// they were new or changed.
	Evaluated []ConcernID `json:"evaluated,omitempty"`
	// New are the prompts created open.
	New []*queue.Prompt `json:"new"`
	// Reopened are the prompts that got a milestone trigger: re-opened,
	// or already open and now carrying the newer trigger.
	Reopened []*queue.Prompt `json:"reopened"`
	// Joined are the prompts that a newly matching item of their topic
	// joined as a member, without a milestone.
	Joined []Join `json:"joined,omitempty"`
	// Merged are the prompts whose topic became part of another topic:
	// each names the prompt it is part of now (MergedInto).
	Merged []*queue.Prompt `json:"merged,omitempty"`
	// Held are the new prompts held back as probably not relevant
	// (learn.go), each with its HeldReason.
	Held []*queue.Prompt `json:"held,omitempty"`
	// Withdrawn are the open prompts that nobody acted on and that an
	// edited concern no longer matches.
	Withdrawn []*queue.Prompt `json:"withdrawn,omitempty"`
	// Migrated is how many prompts of an older queue were rewritten
	// for topics.
	Migrated int `json:"migrated,omitempty"`
	// History counts the matches recorded as history (older than the
	// look-back window).
	History int `json:"history"`
	// Woken counts the snoozed prompts whose time had come.
	Woken int           `json:"woken"`
	Took  time.Duration `json:"took"`
}

// A Join is an item that joined a prompt.
type Join struct {
	Prompt *queue.Prompt `json:"prompt"`
	Item   string        `json:"item"`
}

// A ConcernID names a concern of a client.
type ConcernID struct {
	Client  string `json:"client"`
	Concern string `json:"concern"`
}

func (c ConcernID) String() string { return c.Client + "/" + c.Concern }

// concernState is what the store remembers about a concern.
type concernState struct {
	Fingerprint string    `json:"fingerprint"`
	Evaluated   time.Time `json:"evaluated"`
	// Content is contentOf the concern as evaluated: it tells an edit
	// from a change of the matching rules (see withdraw.go).
	Content string `json:"content,omitempty"`
}

// testHookBeforeCommit, if set, runs inside every transaction of a run
// just before it commits; an error aborts the transaction (tests inject
// crashes with it).
var testHookBeforeCommit func() error

type runner struct {
	d        *watcher.Data
	opts     Options
	now      time.Time
	lookback time.Time // now - Lookback
	res      *Result
	log      *slog.Logger
	// states are the concerns' states before the run.
	states map[string]concernState
	// models are what each concern learned, by concernEval.key.
	models map[string]*model
}

// Run matches the items changed since the last run against every concern of
// profiles, and evaluates new and changed concerns over the whole index,
// recording prompts in the queue. profiles must be valid (as returned by
// configs.LoadProfiles). See the package documentation.
func Run(ctx context.Context, d *watcher.Data, profiles configs.Profiles, opts Options) (*Result, error) {
	start := time.Now()
	// Matching is many searches and short transactions with no network
	// wait: the files stay open for the run (readers wait the seconds it
	// takes) rather than open for each step.
	release, err := d.Hold()
	if err != nil {
		return nil, err
	}
	defer release()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Lookback <= 0 {
		opts.Lookback = DefaultLookback
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if _, err := d.IndexPending(ctx); err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	upto, err := d.Index.Seq()
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	now := opts.Now()
	r := &runner{d: d, opts: opts, now: now, lookback: now.Add(-opts.Lookback), res: &Result{Seq: upto}, log: opts.Logger}

	var cursor uint64
	var states map[string]concernState
	err = d.Store.View(func(tx *store.Tx) error {
		if v := tx.Cursor(CursorName); len(v) == 8 {
			cursor = binary.BigEndian.Uint64(v)
		}
		var err error
		if states, err = readStates(tx); err != nil {
			return err
		}
		if !opts.NoLearning {
			r.models, err = models(tx)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	r.states = states

	if err := r.prepare(ctx, cursor); err != nil {
		return nil, err
	}

	var known, fresh []*concernEval
	current := map[string]bool{}
	for _, p := range profiles {
		for i := range p.Concerns {
			ce := newConcernEval(p, &p.Concerns[i])
			current[ce.key()] = true
			if states[ce.key()].Fingerprint == ce.fp {
				known = append(known, ce)
			} else {
				fresh = append(fresh, ce)
			}
		}
	}

	if err := r.changed(ctx, cursor, upto, known); err != nil {
		return nil, err
	}
	for len(fresh) > 0 {
		n := min(len(fresh), opts.Workers)
		if err := r.whole(ctx, fresh[:n]); err != nil {
			return nil, err
		}
		fresh = fresh[n:]
	}
	// Forget removed concerns, so that adding one back evaluates it again,
	// and store expired snoozes as open.
	err = r.commit(func(tx *store.Tx) error {
		b, err := tx.Bucket(bucketConcerns)
		if err != nil {
			return err
		}
		for k := range states {
			if !current[k] {
				if err := b.Delete([]byte(k)); err != nil {
					return err
				}
			}
		}
		// Concerns evaluated before the store kept their content get it
		// now, so that a later edit is told from a rules change.
		for _, ce := range known {
			if s := states[ce.key()]; s.Content == "" {
				s.Content = ce.content
				v, _ := json.Marshal(s)
				if err := b.Put([]byte(ce.key()), v); err != nil {
					return err
				}
			}
		}
		r.res.Woken, err = queue.Wake(tx, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.res.Took = time.Since(start)
	r.log.Info("matched", "changed", r.res.Changed, "evaluated", len(r.res.Evaluated), "new", len(r.res.New),
		"reopened", len(r.res.Reopened), "history", r.res.History, "took", r.res.Took.Round(time.Millisecond))
	return r.res, nil
}

// commit runs fn in a write transaction.
func (r *runner) commit(fn func(*store.Tx) error) error {
	err := r.d.Store.Update(func(tx *store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if testHookBeforeCommit != nil {
			return testHookBeforeCommit()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}
	return nil
}

var errBatchFull = errors.New("batch full")

// changed evaluates the known concerns against the items written after
// sequence from, up to upto, one batch (and one transaction) at a time.
func (r *runner) changed(ctx context.Context, from, upto uint64, concerns []*concernEval) error {
	if from >= upto {
		return nil
	}
	// With no known concerns nothing is evaluated, but the items are
	// still linked into topics: new concerns are evaluated over the whole
	// index next, with topics complete.
	for from < upto {
		if err := ctx.Err(); err != nil {
			return err
		}
		var ids []string
		var recs []store.Record
		last := from
		err := r.d.Store.View(func(tx *store.Tx) error {
			return tx.Since(from, func(rec store.Record) error {
				if rec.Seq > upto {
					return errBatchFull
				}
				ids = append(ids, rec.ID)
				recs = append(recs, rec)
				last = rec.Seq
				if len(ids) >= r.opts.BatchSize {
					return errBatchFull
				}
				return nil
			})
		})
		if err != nil && !errors.Is(err, errBatchFull) {
			return fmt.Errorf("match: %w", err)
		}
		if len(ids) == 0 {
			last = upto
		}
		hits, err := r.evaluate(ctx, concerns, ids)
		if err != nil {
			return err
		}
		err = r.commit(func(tx *store.Tx) error {
			if err := r.link(tx, recs, last); err != nil {
				return err
			}
			for i, ce := range concerns {
				if err := r.applyAll(tx, ce, hits[i], false); err != nil {
					return err
				}
			}
			return setCursor(tx, last)
		})
		if err != nil {
			return err
		}
		r.res.Changed += len(ids)
		r.res.Batches++
		r.log.Debug("matched batch", "items", len(ids), "through", last)
		from = last
	}
	return nil
}

func setCursor(tx *store.Tx, seq uint64) error {
	return tx.SetCursor(CursorName, binary.BigEndian.AppendUint64(nil, seq))
}

// whole evaluates new or changed concerns over the whole index, committing
// each concern's prompts with its fingerprint.
func (r *runner) whole(ctx context.Context, concerns []*concernEval) error {
	hits, err := r.evaluate(ctx, concerns, nil)
	if err != nil {
		return err
	}
	for i, ce := range concerns {
		err := r.commit(func(tx *store.Tx) error {
			if err := r.applyAll(tx, ce, hits[i], true); err != nil {
				return err
			}
			if edited(r.states[ce.key()], ce) {
				gone, err := queue.Withdraw(tx, ce.client.ID, ce.concern.ID, hitSet(hits[i]), r.now, editNote(r.now))
				if err != nil {
					return err
				}
				r.res.Withdrawn = append(r.res.Withdrawn, gone...)
			}
			b, err := tx.Bucket(bucketConcerns)
			if err != nil {
				return err
			}
			v, _ := json.Marshal(concernState{Fingerprint: ce.fp, Evaluated: r.now, Content: ce.content})
			return b.Put([]byte(ce.key()), v)
		})
		if err != nil {
			return err
		}
		id := ConcernID{ce.client.ID, ce.concern.ID}
		r.res.Evaluated = append(r.res.Evaluated, id)
		r.log.Info("evaluated concern", "concern", id.String(), "matches", len(hits[i]))
	}
	return nil
}

// evaluate runs each concern's query, restricted to ids unless ids is nil,
// with Workers queries at a time. Hits are sorted by item ID.
func (r *runner) evaluate(ctx context.Context, concerns []*concernEval, ids []string) ([][]index.Hit, error) {
	out := make([][]index.Hit, len(concerns))
	errs := make([]error, len(concerns))
	if ids != nil && len(ids) == 0 {
		return out, nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(r.opts.Workers, len(concerns)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(concerns) {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[i] = err
					return
				}
				out[i], errs[i] = query(ctx, r.d.Index, concerns[i], ids)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	return out, nil
}

// wholePage is how many hits a whole-index query reads at a time. A
// concern is evaluated over the whole index page by page (each page
// starting after the last hit of the one before), so that Bleve never
// collects, loads and highlights every hit at once: memory follows the
// page and the concern's own matches, not the size of the index.
var wholePage = 500

func query(ctx context.Context, ix *index.Index, ce *concernEval, ids []string) ([]index.Hit, error) {
	req := ce.request(ix)
	req.IDs = ids
	req.Sort = index.SortUpdated
	req.Limit = len(ids)
	if ids == nil {
		req.Limit = wholePage
	}
	var hits []index.Hit
	for {
		res, err := ix.Search(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", ce.client.ID, ce.concern.ID, err)
		}
		for _, h := range res.Hits {
			if ce.keep(&h) {
				h.After = nil
				hits = append(hits, h)
			}
		}
		if ids != nil || len(res.Hits) < req.Limit {
			break
		}
		req.After = res.Hits[len(res.Hits)-1].After
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].ID < hits[j].ID })
	return hits, nil
}

// applyAll applies a concern's hits, leads first (queue.KindRank), so that
// the item a story is about leads the prompt it creates.
func (r *runner) applyAll(tx *store.Tx, ce *concernEval, hits []index.Hit, whole bool) error {
	order := make([]int, len(hits))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return queue.KindRank(hits[order[i]].Kind) < queue.KindRank(hits[order[j]].Kind) })
	for _, i := range order {
		if err := r.apply(tx, ce, &hits[i], whole); err != nil {
			return err
		}
	}
	return nil
}

// apply records that hit matched the concern: a new prompt for its topic
// (open, or history if old), a new member of the topic's prompt, a
// milestone trigger on a member, or an update of what the prompt knows
// about a member.
func (r *runner) apply(tx *store.Tx, ce *concernEval, h *index.Hit, whole bool) error {
	tid, err := topic.Of(tx, h.ID)
	if err != nil {
		return err
	}
	p, err := queue.Find(tx, ce.client.ID, ce.concern.ID, tid)
	if err != nil {
		return err
	}
	info := queue.ItemInfo{
		ID: h.ID, Kind: h.Kind, Title: h.Title, URL: h.URL, State: h.State, Stage: h.Stage,
		Packages: h.Packages, Routine: h.Routine, Updated: h.Updated,
	}
	if h.Kind == index.KindVuln {
		if info.Published, err = r.published(tx, h.ID); err != nil {
			return err
		}
	}
	snap := snapshotOf(h)
	reasons := ce.reasons(h)
	recent := !info.Updated.Before(r.lookback)
	if whole && info.Kind == index.KindVuln {
		recent = recent && !info.Published.Before(r.lookback)
	}
	var clock time.Time
	if recent && info.Kind == index.KindVuln && info.State != index.StateWithdrawn &&
		!info.Published.IsZero() && !info.Published.Before(r.lookback) {
		clock = info.Published
	}
	member := queue.Member{Item: info, Reasons: reasons, Snapshot: snap, Joined: r.now}
	match := queue.Trigger{At: r.now, Kind: queue.TriggerMatch, Item: h.ID, Description: firstDescription(&info), Snapshot: snap}
	if p == nil {
		p = &queue.Prompt{
			Client: ce.client.ID, Concern: ce.concern.ID, Topic: tid, Item: info, State: queue.Open,
			Created: r.now, Updated: r.now, Reasons: reasons, ClockStart: clock,
			Members: []queue.Member{member}, Triggers: []queue.Trigger{match},
		}
		if !recent {
			p.State = queue.History
		} else if why, ok := r.models[ce.key()].hold(&info); ok {
			p.State, p.HeldReason = queue.Held, why
		}
		if err := queue.Put(tx, p); err != nil {
			return err
		}
		switch p.State {
		case queue.History:
			r.res.History++
		case queue.Held:
			r.res.Held = append(r.res.Held, p)
		default:
			r.res.New = append(r.res.New, p)
		}
		return nil
	}
	if p.State == queue.Withdrawn {
		// The concern matches one of its items again (edited back, or the
		// item changed): the prompt returns.
		p.AddMember(member)
		p.State = queue.Open
		if !recent {
			p.State = queue.History
		}
		p.Triggers = append(p.Triggers, match)
		p.Updated = r.now
		p.AddMember(member) // refreshes the lead
		if p.State == queue.Open {
			r.res.New = append(r.res.New, p)
		}
		return queue.Put(tx, p)
	}
	m := p.Member(h.ID)
	if m == nil {
		// Another item of the topic matched: it joins the prompt. A recent
		// one opens a prompt that only held history; nothing else changes
		// state: done and dismissed prompts come back only on a milestone.
		p.AddMember(member)
		if p.ClockStart.IsZero() && !clock.IsZero() {
			p.ClockStart = clock
		}
		if recent && p.State == queue.History {
			p.AddTrigger(match)
			r.res.New = append(r.res.New, p)
		} else {
			r.res.Joined = append(r.res.Joined, Join{Prompt: p, Item: h.ID})
		}
		return queue.Put(tx, p)
	}
	if p.State == queue.Dismissed || p.State == queue.Merged {
		return nil
	}
	changed := false
	if ms, ok := milestoneOf(info.Kind, m.Snapshot, snap); ok {
		p.AddTrigger(queue.Trigger{At: r.now, Kind: ms.kind, Item: h.ID, Description: ms.description, Snapshot: snap})
		r.res.Reopened = append(r.res.Reopened, p)
		changed = true
		m = p.Member(h.ID)
	}
	if !reflect.DeepEqual(m.Item, info) {
		m.Item = info
		changed = true
	}
	// A whole-index evaluation of an old item may bring no snippet; keep
	// the one the member has unless the reasons really changed.
	if !slices.Equal(m.Reasons.Packages, reasons.Packages) || !slices.Equal(m.Reasons.Terms, reasons.Terms) ||
		(reasons.Snippet != "" && reasons.Snippet != m.Reasons.Snippet) {
		m.Reasons = reasons
		changed = true
	}
	if !changed {
		return nil
	}
	p.AddMember(*m) // re-sorts the members and refreshes the lead
	return queue.Put(tx, p)
}

// prepare brings a queue of an older version and the topics up to the
// matcher's cursor: the queue is migrated to topics (once, after an
// upgrade), and the items matched before topics existed are linked, their
// prompts merging as their topics do.
func (r *runner) prepare(ctx context.Context, cursor uint64) error {
	var from uint64
	var migrate bool
	err := r.d.Store.View(func(tx *store.Tx) error {
		from = topic.Cursor(tx)
		var err error
		migrate, err = queue.NeedsMigration(tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}
	if migrate {
		err := r.commit(func(tx *store.Tx) error {
			n, err := queue.Migrate(tx, func(item string) (string, error) { return topic.Of(tx, item) }, r.now)
			r.res.Migrated = n
			return err
		})
		if err != nil {
			return err
		}
	}
	const batch = 2000
	for from < cursor {
		if err := ctx.Err(); err != nil {
			return err
		}
		var recs []store.Record
		last := from
		err := r.d.Store.View(func(tx *store.Tx) error {
			return tx.Since(from, func(rec store.Record) error {
				if rec.Seq > cursor {
					return errBatchFull
				}
				recs = append(recs, rec)
				last = rec.Seq
				if len(recs) >= batch {
					return errBatchFull
				}
				return nil
			})
		})
		if err != nil && !errors.Is(err, errBatchFull) {
			return fmt.Errorf("match: %w", err)
		}
		if len(recs) == 0 {
			last = cursor
		}
		if err := r.commit(func(tx *store.Tx) error { return r.link(tx, recs, last) }); err != nil {
			return err
		}
		from = last
	}
	return nil
}

// link links recs into topics and merges the prompts of merged topics, in
// tx; the topic cursor moves to through. Items the cursor has passed are
// not linked again.
func (r *runner) link(tx *store.Tx, recs []store.Record, through uint64) error {
	done := topic.Cursor(tx)
	if through <= done {
		return nil
	}
	todo := recs[:0:0]
	for _, rec := range recs {
		if rec.Seq > done {
			todo = append(todo, rec)
		}
	}
	merges, err := topic.Record(tx, todo, r.d.Norm.Links)
	if err != nil {
		return err
	}
	for _, m := range merges {
		gone, err := queue.MergeTopics(tx, m.From, m.Into, r.now)
		if err != nil {
			return err
		}
		r.res.Merged = append(r.res.Merged, gone...)
		for _, g := range gone {
			r.res.New = slices.DeleteFunc(r.res.New, func(p *queue.Prompt) bool { return p.ID == g.ID })
			r.res.Reopened = slices.DeleteFunc(r.res.Reopened, func(p *queue.Prompt) bool { return p.ID == g.ID })
			r.res.Held = slices.DeleteFunc(r.res.Held, func(p *queue.Prompt) bool { return p.ID == g.ID })
		}
	}
	return topic.SetCursor(tx, through)
}

// published returns when the vulnerability with the given ID was published.
func (r *runner) published(tx *store.Tx, id string) (time.Time, error) {
	rec, ok, err := tx.Item(id)
	if err != nil || !ok {
		return time.Time{}, err
	}
	it, err := r.d.Norm.Item(tx, rec)
	if err != nil {
		return time.Time{}, err
	}
	return it.Created, nil
}

// A ConcernStatus says when a concern was last evaluated over the whole
// index and whether that was with its current packages, query and kinds.
type ConcernStatus struct {
	Evaluated time.Time `json:"evaluated,omitzero"`
	// Current is false for a new or changed concern: the next run
	// evaluates it over the whole index.
	Current bool `json:"current"`
}

// Status reports the evaluation status of every concern of profiles.
func Status(st *store.Store, profiles configs.Profiles) (map[ConcernID]ConcernStatus, error) {
	out := make(map[ConcernID]ConcernStatus)
	err := st.View(func(tx *store.Tx) error {
		b, err := tx.Bucket(bucketConcerns)
		if err != nil {
			return err
		}
		for _, p := range profiles {
			for i := range p.Concerns {
				c := &p.Concerns[i]
				id := ConcernID{p.ID, c.ID}
				var s concernState
				if b != nil {
					if v := b.Get([]byte(p.ID + "\x00" + c.ID)); v != nil {
						if err := json.Unmarshal(v, &s); err != nil {
							return fmt.Errorf("concern %s: %w", id, err)
						}
					}
				}
				out[id] = ConcernStatus{Evaluated: s.Evaluated, Current: s.Fingerprint == Fingerprint(c)}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	return out, nil
}

// Lag returns how many stored items have changed since the matcher last
// ran: the work its next run has to do (the index may lag too; Run brings
// it up to date first). It counts at most limit items, so that it stays
// quick over a store that has never been matched; more reports that there
// are more than limit.
func Lag(st *store.Store, limit int) (n int, more bool, err error) {
	err = st.View(func(tx *store.Tx) error {
		var from uint64
		if v := tx.Cursor(CursorName); len(v) == 8 {
			from = binary.BigEndian.Uint64(v)
		}
		n, more = tx.CountSince(from, limit)
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("match: %w", err)
	}
	return n, more, nil
}
