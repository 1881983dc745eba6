package vault

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/clientvault/clientvault/vault/store"
)

// The state root. Each stored object — a key and its value in one of the
// vault's buckets — has an element: HMAC(macKey, label, bucket, key,
// value). A bucket's root is the XOR of its objects' elements, kept up to
// date by every Put and Delete (txn.go) at the cost of one MAC of the value
// written; the state is the roots of all buckets with a version that every
// committed write transaction increments, and it is stored in the audit
// head under the head's MAC, beside the audit chain's last entry.
//
// So the MAC'd head commits to every object in the file. Someone who can
// write the file but has no MAC key can put back an object from an older
// copy (each is authentic on its own), remove one or add one, but cannot
// make the roots agree with what is stored: an XOR of MACs under a key they
// do not have is a MAC over the set (an XOR-MAC). The audit head itself
// cannot be put back alone (its version and chain would disagree with the
// anchor kept outside the file, anchor.go), nor the whole file.
//
// Checking a root means reading the whole bucket. verify checks every
// bucket; every command checks what it reads of the buckets that decide who
// may read what (guardedBuckets), by shard (shards.go): a consent, share,
// hold or staff entry put back, or removed, is refused before it is used. The records themselves are checked one by one against the expiry
// table's entry tags, which the root covers.
//
// The coworkers' audit bucket is the one bucket outside the root: coworkers
// append to it without the MAC key, so it is checked event by event with
// their own keys instead (staff.go).

const (
	macElement      = "clientvault/v2/state-element"
	macElementEntry = "clientvault/v2/state-element-entry"
)

// stateBuckets are the buckets the state root covers, in the order of their
// roots in the head. Appending to this list is a format change.
var stateBuckets = [][]byte{bucketMeta, bucketIDs, bucketRecords, bucketIndex, bucketAudit, bucketStages,
	bucketStaff, bucketConsents, bucketShares, bucketDisclosures, bucketExpiry, bucketHolds, bucketArchive, bucketDirectory, bucketObjects}

// guardedBuckets are checked against their roots the first time a command
// reads them: their entries decide who may read a record, and whether it
// may be destroyed.
var guardedBuckets = [][]byte{bucketStaff, bucketConsents, bucketShares, bucketDisclosures, bucketHolds}

// unrooted reports whether the key of the bucket is outside the root: the
// audit head, which holds the root, and the compaction marker, which
// compaction removes before the vault is unlocked (it says only that freed
// pages may hold destroyed data; removing it by hand forces nothing).
func unrooted(bucket, key []byte) bool {
	return bytes.Equal(bucket, bucketMeta) && (bytes.Equal(key, keyAuditHead) || bytes.Equal(key, keyCompactPending))
}

func stateIndex(bucket []byte) int {
	return slices.IndexFunc(stateBuckets, func(b []byte) bool { return bytes.Equal(b, bucket) })
}

// state is what the audit head holds: the audit chain's last entry, and
// the state root with its version.
type state struct {
	seq uint64 // the audit chain's last sequence number
	tag []byte // and that entry's MAC; empty for an empty log
	// version counts the committed write transactions. 0 with legacy set
	// is a vault of format 1, whose head has no root yet.
	version uint64
	roots   [][macLen]byte
	// digests commit to each guarded bucket's shard roots (shards.go);
	// shards holds those read or changed, dirty those to write.
	digests [][macLen]byte
	shards  []*shardRoots
	dirty   []map[byte]bool
	legacy  bool
	// mac is the head's own MAC, which the anchor remembers.
	mac []byte
}

func newState() *state {
	st := &state{roots: make([][macLen]byte, len(stateBuckets)), digests: make([][macLen]byte, len(guardedBuckets)),
		shards: make([]*shardRoots, len(guardedBuckets)), dirty: make([]map[byte]bool, len(guardedBuckets))}
	for i := range st.digests {
		st.digests[i] = emptyShardsDigest
	}
	return st
}

// element is the MAC of one stored object. A record's entry ends with its
// own MAC over everything before it (entry.go), which every reader checks:
// that MAC stands for the entry, so the element is a MAC of 32 bytes, not
// of the whole sealed record (an import's entries are 1.5 KB each), under a
// label of its own. A value whose body does not match its MAC fails that
// check wherever it is read.
func (k *keySet) element(bucket, key, value []byte) []byte {
	label, parts := elementParts(bucket, key, value)
	return k.mac(label, parts...)
}

// elementParts is what element MACs, and under which label.
func elementParts(bucket, key, value []byte) (string, [][]byte) {
	if bytes.Equal(bucket, bucketRecords) && len(value) >= 1+8+macLen {
		return macElementEntry, [][]byte{bucket, key, value[len(value)-macLen:]}
	}
	return macElement, [][]byte{bucket, key, value}
}

// elements is element of many objects ({bucket, key, value} each), in
// one batch per label with the unlock agent.
func (k *keySet) elements(objs [][][]byte) [][]byte {
	out := make([][]byte, len(objs))
	byLabel := map[string][]int{}
	parts := make([][][]byte, len(objs))
	for i, o := range objs {
		label, p := elementParts(o[0], o[1], o[2])
		byLabel[label] = append(byLabel[label], i)
		parts[i] = p
	}
	for label, idx := range byLabel {
		batch := make([][][]byte, len(idx))
		for j, i := range idx {
			batch[j] = parts[i]
		}
		for j, m := range k.macs(label, batch) {
			out[idx[j]] = m
		}
	}
	return out
}

func xorInto(dst *[macLen]byte, b []byte) {
	for i := range dst {
		dst[i] ^= b[i]
	}
}

// track moves the root of bucket from the object key=old to key=new (either
// may be nil: an insert or a delete).
func (t *txn) track(bucket, key, old, new []byte) error {
	i := stateIndex(bucket)
	if i < 0 || unrooted(bucket, key) || t.v.hooks.noStateRoot {
		return nil
	}
	st, err := t.state()
	if err != nil {
		return err
	}
	if st.legacy {
		// A format 1 vault gets its root when an owner unlocks it for
		// writing (upgradeState); until then there is none to keep.
		return nil
	}
	k := t.v.keys
	gi := guardedIndex(bucket)
	if k.remote != nil && gi < 0 {
		// The unlock agent's MACs are asked for in one batch at commit
		// (flushElements): the root is an XOR, in any order. A guarded
		// object's element is needed now (its shard, the object index);
		// those are few.
		for _, val := range [][]byte{old, new} {
			if val != nil {
				t.elements = append(t.elements, pendingElement{i, [][]byte{bucket, clone(key), clone(val)}})
			}
		}
		t.changed = true
		return nil
	}
	var newElem []byte
	for j, val := range [][]byte{old, new} {
		if val == nil {
			continue
		}
		elem := k.element(bucket, key, val)
		xorInto(&st.roots[i], elem)
		if gi >= 0 {
			if err := t.trackShard(gi, key, elem); err != nil {
				return err
			}
		}
		if j == 1 {
			newElem = elem
		}
	}
	t.changed = true
	if gi < 0 {
		return nil
	}
	return t.indexObject(bucket, key, newElem)
}

// untrack takes out of the roots the object key of the guarded bucket
// whose element is elem, which the engine deleted by itself (lapsing.go).
func (t *txn) untrack(bucket, key, elem []byte) error {
	st, err := t.state()
	if err != nil {
		return err
	}
	xorInto(&st.roots[stateIndex(bucket)], elem)
	if err := t.trackShard(guardedIndex(bucket), key, elem); err != nil {
		return err
	}
	t.changed = true
	return t.indexObject(bucket, key, nil)
}

// state returns the transaction's state, read from the audit head the first
// time it is needed.
func (t *txn) state() (*state, error) {
	if t.st != nil {
		return t.st, nil
	}
	if t.v.keys == nil {
		return nil, ErrLocked
	}
	st, err := t.v.readState(t.Tx.Bucket(bucketMeta).Get(keyAuditHead))
	if err != nil {
		return nil, err
	}
	t.st = st
	return st, nil
}

// headLegacyLen is the length of a format 1 head: seq, tag, mac.
const headLegacyLen = 8 + 2*macLen

// readState parses and checks the audit head h. An absent head is a vault
// being created.
func (v *Vault) readState(h []byte) (*state, error) {
	st := newState()
	if h == nil {
		return st, nil
	}
	bad := fmt.Errorf("audit log head: %w", ErrTampered)
	if len(h) < headLegacyLen || !hmac.Equal(h[len(h)-macLen:], v.keys.mac(macHead, h[:len(h)-macLen])) {
		return nil, bad
	}
	st.seq = binary.BigEndian.Uint64(h[:8])
	st.tag = clone(h[8 : 8+macLen])
	st.mac = clone(h[len(h)-macLen:])
	if len(h) == headLegacyLen {
		if v.hdr.Format >= 2 {
			// The header says the vault has a root: a format 1 head put
			// in place of its own is a rollback, not an old vault.
			return nil, bad
		}
		st.legacy = true
		return st, nil
	}
	body := h[8+macLen : len(h)-macLen]
	if len(body) != 8+(len(stateBuckets)+len(guardedBuckets))*macLen {
		return nil, bad
	}
	st.version = binary.BigEndian.Uint64(body)
	for i := range st.roots {
		copy(st.roots[i][:], body[8+i*macLen:])
	}
	for i := range st.digests {
		copy(st.digests[i][:], body[8+(len(stateBuckets)+i)*macLen:])
	}
	return st, nil
}

// encode returns the head that stores st, MAC'd.
func (st *state) encode(k *keySet) []byte {
	h := binary.BigEndian.AppendUint64(make([]byte, 0, 8+2*macLen+8+len(st.roots)*macLen+macLen), st.seq)
	h = append(h, st.tag...)
	if len(st.tag) == 0 {
		h = append(h, make([]byte, macLen)...)
	}
	if !st.legacy {
		h = binary.BigEndian.AppendUint64(h, st.version)
		for _, r := range st.roots {
			h = append(h, r[:]...)
		}
		for _, d := range st.digests {
			h = append(h, d[:]...)
		}
	}
	st.mac = k.mac(macHead, h)
	return append(h, st.mac...)
}

// pendingElement is an element of the state root not yet computed: the
// bucket's index in stateBuckets, and the parts of its MAC.
type pendingElement struct {
	i     int
	parts [][]byte
}

// flushElements folds the pending elements into the roots, with one batch
// of MACs.
func (t *txn) flushElements() {
	if len(t.elements) == 0 {
		return
	}
	parts := make([][][]byte, len(t.elements))
	for j, e := range t.elements {
		parts[j] = e.parts
	}
	for j, m := range t.v.keys.elements(parts) {
		xorInto(&t.st.roots[t.elements[j].i], m)
	}
	t.elements = nil
}

// commit writes the state into the audit head if the transaction changed
// anything it covers, with the next version.
func (t *txn) commit() error {
	if !t.changed || t.st == nil {
		return nil
	}
	t.flushElements()
	if !t.st.legacy {
		t.st.version++
		if err := t.commitShards(); err != nil {
			return err
		}
	}
	return t.Tx.Bucket(bucketMeta).Put(keyAuditHead, t.st.encode(t.v.keys))
}

// raiseVersion makes the state's version at least floor before this
// transaction's own increment, so that a restored vault, whose own count
// is older, still moves forward past the one it replaces.
func (t *txn) raiseVersion(floor uint64) error {
	st, err := t.state()
	if err != nil {
		return err
	}
	st.version = max(st.version, floor)
	t.changed = true
	return nil
}

// bucketRoot computes the root of the stored bucket b from its contents.
func (k *keySet) bucketRoot(name []byte, b store.Bucket) [macLen]byte {
	var root [macLen]byte
	if b == nil {
		return root
	}
	if k.remote != nil {
		// With the unlock agent: every element in one batch.
		var parts [][][]byte
		c := b.Cursor()
		for key, val := c.First(); key != nil; key, val = c.Next() {
			if val != nil && !unrooted(name, key) {
				parts = append(parts, [][]byte{name, key, val})
			}
		}
		for _, m := range k.elements(parts) {
			xorInto(&root, m)
		}
		return root
	}
	c := b.Cursor()
	for key, val := c.First(); key != nil; key, val = c.Next() {
		if val == nil || unrooted(name, key) {
			continue // a nested bucket: the vault makes none
		}
		xorInto(&root, k.element(name, key, val))
	}
	return root
}

// stateMismatch says what a bucket whose root does not match means.
func stateMismatch(name []byte) string {
	return fmt.Sprintf("the stored %s do not match the vault's state root (an entry was put back from an older copy, removed or added outside clientvault)", bucketNoun(name))
}

// bucketNoun names a bucket's entries in words.
func bucketNoun(name []byte) string {
	switch string(name) {
	case "meta":
		return "vault header and keys"
	case "ids":
		return "record ID map entries"
	case "index":
		return "name index entries"
	case "audit":
		return "audit log entries"
	case "stages":
		return "bulk add stages"
	case "staff":
		return "staff entries"
	case "expiry":
		return "expiry table rows"
	case "holds":
		return "legal holds"
	case "archive":
		return "archived audit log entries"
	case "directory":
		return "client directory entries"
	case "objects":
		return "object index entries"
	default:
		return string(name)
	}
}

func (t *txn) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// upgradeState gives a format 1 vault its state root: the roots of what it
// holds now, version 1, and format 2 in the header. It runs once, when an
// owner first unlocks the vault for writing.
func (v *Vault) upgradeState() error {
	legacy := false
	err := v.view(func(tx *txn) error {
		st, err := tx.state()
		legacy = err == nil && st.legacy
		return err
	})
	if err != nil || !legacy {
		return err
	}
	return v.update(func(tx *txn) error {
		st, err := tx.state()
		if err != nil || !st.legacy {
			return err
		}
		st.legacy = false
		if err := v.buildObjectIndex(tx); err != nil {
			return err
		}
		if err := tx.buildShards(); err != nil {
			return err
		}
		for i, name := range stateBuckets {
			st.roots[i] = v.keys.bucketRoot(name, tx.Tx.Bucket(name))
		}
		v.hdr.Format = FormatVersion
		if err := tx.Bucket(bucketMeta).Put(keyFormat, binary.BigEndian.AppendUint32(nil, FormatVersion)); err != nil {
			return err
		}
		if err := v.putHeader(tx); err != nil {
			return err
		}
		return v.appendAudit(tx, Event{Action: ActionUpgrade, Detail: "format 1 to 2: state root"})
	})
}

// verifyState recomputes every bucket's root and reports each bucket whose
// stored contents do not match the committed state.
func (v *Vault) verifyState(tx *txn, add func(rec, format string, args ...any)) error {
	st, err := tx.state()
	if err != nil {
		return err
	}
	if st.legacy {
		add("", "the vault has no state root yet (format 1): any command that writes, run by the owner, adds it")
		return nil
	}
	for i, name := range stateBuckets {
		if v.keys.bucketRoot(name, tx.Tx.Bucket(name)) != st.roots[i] {
			add("", "%s", stateMismatch(name))
		}
	}
	return nil
}

// stateWithout returns the state of src without the objects drop names and
// without the compaction marker: the state of a compacted copy of it.
func (v *Vault) stateWithout(src *txn, drop doomed) (*state, error) {
	cur, err := src.state()
	if err != nil {
		return nil, err
	}
	st := *cur
	st.roots = slices.Clone(cur.roots)
	st.digests = slices.Clone(cur.digests)
	st.shards, st.dirty = make([]*shardRoots, len(guardedBuckets)), make([]map[byte]bool, len(guardedBuckets))
	if st.legacy {
		return &st, nil
	}
	for gi := range guardedBuckets {
		s, err := src.shards(gi)
		if err != nil {
			return nil, err
		}
		c := *s
		st.shards[gi] = &c
	}
	out := func(name, key []byte) {
		if b := src.Tx.Bucket(name); b != nil {
			if val := b.Get(key); val != nil && stateIndex(name) >= 0 {
				elem := v.keys.element(name, key, val)
				xorInto(&st.roots[stateIndex(name)], elem)
				if gi := guardedIndex(name); gi >= 0 {
					xorInto(&st.shards[gi][shardOf(key)], elem)
					if st.dirty[gi] == nil {
						st.dirty[gi] = map[byte]bool{}
					}
					st.dirty[gi][shardOf(key)] = true
				}
			}
		}
	}
	for name, keys := range drop {
		for k := range keys {
			out([]byte(name), []byte(k))
		}
	}
	// The object index's entries of what goes are in drop too
	// (doomed.withObjects).
	return &st, nil
}
