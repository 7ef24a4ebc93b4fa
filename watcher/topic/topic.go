// Package topic groups related tracker items into topics: one story told by
// an issue, the CLs that fix it, its backport issues and their
// release-branch cherry-picks, the vulnerability entry about it, or a
// proposal with its design document and implementing CLs. The matcher
// (watcher/match) keeps one consult prompt per client, concern and topic, so
// that a story reaches the maintainer once, not once per item.
//
// # Links
//
// Links are derived from each item's raw JSON in the store, never from
// other items, so they can be computed one item at a time as items arrive.
// Each source derives the links of its own items (source.Descriptor.Links,
// given to Record as a Linker), with the helpers here for the Go project's
// conventions (MessageLinks, IssueURLLinks, CLURLLinks, the meeting points
// CLNode and ChangeIDNode):
//
//	CL or pull request → issue   "Fixes #N", "Fixes golang/go#N", "Updates #N",
//	                             "For #N" (bare #N in any Go Gerrit project is
//	                             golang/go#N), go.dev/issue/N, golang.org/issue/N
//	backport issue → parent      a "[1.26 backport]" issue opened by gopherbot,
//	                             whose body says "requested issue #N"
//	CL → ~change-id:P:I          every CL; cherry-picks to release branches carry
//	                             the main CL's Change-Id I in project P, so they
//	                             meet the main CL at this node
//	CL → ~cl:N                   every CL, so that references to go.dev/cl/N meet it
//	CL → pull request            a CL imported from GitHub: its
//	                             "GitHub-Pull-Request: golang/go#N" trailer
//	vulnerability → issue, CL    OSV references naming go.dev/issue/N, go.dev/cl/N
//	design-doc CL → proposal     a golang/proposal CL with design/N-name.md
//
// Nodes starting with "~" are meeting points, not items. A link may name an
// item that is not stored (yet): it is a node like any other, and the item
// joins its topic when it arrives. Gerrit change numbers are taken to be
// unique: reciprocal watches one Gerrit host, Go's.
//
// # Union-find
//
// Topics are the connected components of the link graph, kept by weighted
// union-find with full relabelling: every node of a topic of more than one
// node records its root, and a root lists its members, so finding a node's
// topic is one read and uniting two topics relabels the smaller one. The
// root of a topic is its topic ID. When two topics of the same size unite,
// an item node wins over a meeting point (so a topic ID is always an item
// ID), then the smaller string. Links are only ever added: an item that
// later drops a "Fixes #N" stays in its topic.
//
// Record reports every union as a Merge (From's topic is now Into's), so that
// the caller can merge what it keeps per topic — the prompt queue does — in
// the same transaction.
//
// # Key schema (buckets of the store)
//
//	topic-root     node → root node (only for nodes of topics of two nodes or more)
//	topic-members  root 0x00 node → empty (a root lists itself too)
//	topic-size     root → uvarint number of members
//	topic-edges    item ID 0x00 node → link kind (what the item itself says)
//	cursors        "topic" → last store sequence linked (8 bytes, big-endian)
package topic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// CursorName is the store cursor of the items linked so far.
const CursorName = "topic"

const (
	bucketRoot    = "topic-root"
	bucketMembers = "topic-members"
	bucketSize    = "topic-size"
	bucketEdges   = "topic-edges"
)

// A Merge says that topic From became part of topic Into.
type Merge struct {
	From, Into string
}

type buckets struct {
	root, members, size, edges *bolt.Bucket
}

func open(tx *store.Tx) (b buckets, ok bool, err error) {
	for _, x := range []struct {
		name string
		b    **bolt.Bucket
	}{{bucketRoot, &b.root}, {bucketMembers, &b.members}, {bucketSize, &b.size}, {bucketEdges, &b.edges}} {
		if *x.b, err = tx.Bucket(x.name); err != nil {
			return b, false, fmt.Errorf("topic: %w", err)
		}
		if *x.b == nil {
			return b, false, nil
		}
	}
	return b, true, nil
}

func (b buckets) find(node string) string {
	if r := b.root.Get([]byte(node)); r != nil {
		return string(r)
	}
	return node
}

func (b buckets) sizeOf(root string) uint64 {
	v := b.size.Get([]byte(root))
	if v == nil {
		return 1
	}
	n, _ := binary.Uvarint(v)
	return n
}

func memberKey(root, node string) []byte {
	k := make([]byte, 0, len(root)+1+len(node))
	k = append(k, root...)
	k = append(k, 0)
	return append(k, node...)
}

// union unites the topics of a and b, returning the merge if they were
// different topics.
func (b buckets) union(a, c string) (Merge, bool, error) {
	ra, rc := b.find(a), b.find(c)
	if ra == rc {
		return Merge{}, false, nil
	}
	sa, sc := b.sizeOf(ra), b.sizeOf(rc)
	into, from := ra, rc
	switch {
	case sa != sc:
		if sc > sa {
			into, from = rc, ra
		}
	case IsItem(ra) != IsItem(rc):
		if IsItem(rc) {
			into, from = rc, ra
		}
	case rc < ra:
		into, from = rc, ra
	}
	// The members of from, or from alone if it was a single node.
	var moved []string
	prefix := memberKey(from, "")
	cur := b.members.Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		moved = append(moved, string(k[len(prefix):]))
	}
	if len(moved) == 0 {
		moved = []string{from}
	}
	if b.size.Get([]byte(into)) == nil {
		// into was a single node: it becomes a root that lists itself.
		if err := b.members.Put(memberKey(into, into), nil); err != nil {
			return Merge{}, false, err
		}
		if err := b.root.Put([]byte(into), []byte(into)); err != nil {
			return Merge{}, false, err
		}
	}
	for _, n := range moved {
		if err := b.members.Delete(memberKey(from, n)); err != nil {
			return Merge{}, false, err
		}
		if err := b.members.Put(memberKey(into, n), nil); err != nil {
			return Merge{}, false, err
		}
		if err := b.root.Put([]byte(n), []byte(into)); err != nil {
			return Merge{}, false, err
		}
	}
	if err := b.size.Delete([]byte(from)); err != nil {
		return Merge{}, false, err
	}
	if err := b.size.Put([]byte(into), binary.AppendUvarint(nil, sa+sc)); err != nil {
		return Merge{}, false, err
	}
	return Merge{From: from, Into: into}, true, nil
}

// Record records the links of the given stored items, derived by linker,
// returning the topic merges they caused, in order. Merges chain: a later
// merge may name as From the Into of an earlier one.
func Record(tx *store.Tx, recs []store.Record, linker Linker) ([]Merge, error) {
	var merges []Merge
	var b buckets
	for _, rec := range recs {
		links, err := links(linker, rec)
		if err != nil {
			return nil, err
		}
		if len(links) == 0 {
			continue
		}
		if b.root == nil {
			var ok bool
			if b, ok, err = open(tx); err != nil {
				return nil, err
			} else if !ok {
				return nil, errors.New("topic: link in a read-only transaction")
			}
		}
		for _, l := range links {
			if err := b.edges.Put(memberKey(rec.ID, l.To), []byte(l.Kind)); err != nil {
				return nil, fmt.Errorf("topic: %w", err)
			}
			m, ok, err := b.union(rec.ID, l.To)
			if err != nil {
				return nil, fmt.Errorf("topic: %w", err)
			}
			if ok {
				merges = append(merges, m)
			}
		}
	}
	return merges, nil
}

// Of returns the topic of an item (or any node): its root, or the node
// itself if nothing links to it.
func Of(tx *store.Tx, node string) (string, error) {
	b, ok, err := open(tx)
	if err != nil || !ok {
		return node, err
	}
	return b.find(node), nil
}

// Members returns the item nodes of a topic, sorted, whether stored or
// not; a topic of one item has that item as its only member.
func Members(tx *store.Tx, root string) ([]string, error) {
	b, ok, err := open(tx)
	if err != nil {
		return nil, err
	}
	var out []string
	if ok {
		prefix := memberKey(root, "")
		cur := b.members.Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			if n := string(k[len(prefix):]); IsItem(n) {
				out = append(out, n)
			}
		}
	}
	if len(out) == 0 && IsItem(root) {
		out = []string{root}
	}
	slices.Sort(out)
	return out, nil
}

// Edges returns the links an item itself states, sorted by node.
func Edges(tx *store.Tx, item string) ([]Link, error) {
	b, ok, err := open(tx)
	if err != nil || !ok {
		return nil, err
	}
	var out []Link
	prefix := memberKey(item, "")
	cur := b.edges.Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		out = append(out, Link{To: string(k[len(prefix):]), Kind: string(v)})
	}
	return out, nil
}

// Cursor returns the store sequence that items have been linked through.
func Cursor(tx *store.Tx) uint64 {
	if v := tx.Cursor(CursorName); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// SetCursor records that items have been linked through sequence seq.
func SetCursor(tx *store.Tx, seq uint64) error {
	return tx.SetCursor(CursorName, binary.BigEndian.AppendUint64(nil, seq))
}
