package vault

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/clientvault/clientvault/vault/store"
)

// Shards of the guarded buckets. A command must not use a consent, share,
// hold, staff entry or disclosure that does not match the state root, but
// checking a whole bucket's root means reading the whole bucket: with a
// coworker holding 10,000 shares that took 37 ms before each command. So
// each guarded bucket's objects are split into 256 shards by the first byte
// of their key (for all but staff, a record ID's, which is random), each
// shard has a root of its own (the XOR of its objects' elements), the shard
// roots are stored in the shardroots bucket, and the audit head holds a
// digest of each guarded bucket's 256 shard roots. A command checks the
// digest against its bucket's shard roots once, and a shard's objects
// against its root the first time it reads a key in it: one record's
// consents or shares cost the objects of one shard in 256.
//
// shardroots is outside the bucket roots: the digests in the head
// authenticate it, and verify checks it.

const shardCount = 256

// shardRoots are the roots of one guarded bucket's shards.
type shardRoots [shardCount][macLen]byte

// digest commits to the shard roots.
func (s *shardRoots) digest() [macLen]byte {
	h := sha256.New()
	for i := range s {
		h.Write(s[i][:])
	}
	var d [macLen]byte
	copy(d[:], h.Sum(nil))
	return d
}

// emptyShardsDigest is the digest of a guarded bucket with no objects.
var emptyShardsDigest = new(shardRoots).digest()

func guardedIndex(bucket []byte) int {
	return slices.IndexFunc(guardedBuckets, func(g []byte) bool { return bytes.Equal(g, bucket) })
}

func shardOf(key []byte) byte {
	if len(key) == 0 {
		return 0
	}
	return key[0]
}

func shardRootKey(bucket []byte, s byte) []byte {
	return append(append(append(make([]byte, 0, len(bucket)+2), bucket...), 0), s)
}

// shards returns the shard roots of guarded bucket gi as this transaction
// sees them, read from shardroots the first time and checked against the
// head's digest.
func (t *txn) shards(gi int) (*shardRoots, error) {
	st, err := t.state()
	if err != nil {
		return nil, err
	}
	if s := st.shards[gi]; s != nil {
		return s, nil
	}
	s := new(shardRoots)
	name := guardedBuckets[gi]
	if b := t.Tx.Bucket(bucketShardRoots); b != nil {
		// One walk, not 256 lookups: on etcd each lookup is a request.
		prefix := shardRootKey(name, 0)[:len(name)+1]
		c := store.PrefixCursor(b, prefix)
		for k, r := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, r = c.Next() {
			if len(k) == len(prefix)+1 && len(r) == macLen {
				copy(s[k[len(prefix)]][:], r)
			}
		}
	}
	if s.digest() != st.digests[gi] {
		return nil, fmt.Errorf("the stored shard roots of the %s were edited outside clientvault (they differ from the audit head's digest): %w", bucketNoun(name), ErrTampered)
	}
	st.shards[gi] = s
	return s, nil
}

// trackShard moves the root of key's shard of guarded bucket gi by elem.
func (t *txn) trackShard(gi int, key, elem []byte) error {
	s, err := t.shards(gi)
	if err != nil {
		return err
	}
	xorInto(&s[shardOf(key)], elem)
	st := t.st
	if st.dirty[gi] == nil {
		st.dirty[gi] = map[byte]bool{}
	}
	st.dirty[gi][shardOf(key)] = true
	return nil
}

// commitShards writes the shard roots the transaction changed and the
// digests the head will hold.
func (t *txn) commitShards() error {
	st := t.st
	for gi, dirty := range st.dirty {
		if len(dirty) == 0 {
			continue
		}
		b, err := t.Tx.CreateBucketIfNotExists(bucketShardRoots)
		if err != nil {
			return err
		}
		s := st.shards[gi]
		for i := range dirty {
			if err := b.Put(shardRootKey(guardedBuckets[gi], i), clone(s[i][:])); err != nil {
				return err
			}
		}
		st.digests[gi] = s.digest()
		clear(dirty)
	}
	return nil
}

// checkShard checks the objects of key's shard of the guarded bucket b
// against the shard's root, the first time this vault reads that shard. A
// mismatch is recorded in t.err, which ends the transaction with
// ErrTampered.
func (t *txn) checkShard(b *bucket, key []byte) {
	s := shardOf(key)
	seen, roots := t.toCheck(b, func(seen map[byte]bool) bool { return !seen[s] })
	if roots == nil {
		return
	}
	v := t.v
	var root [macLen]byte
	// The shard's keys alone: on etcd, a cursor over the bucket streams
	// the keys after them ahead.
	c := store.PrefixCursor(b.Bucket, []byte{s})
	for k, val := c.Seek([]byte{s}); k != nil && shardOf(k) == s; k, val = c.Next() {
		if len(k) > 0 && val != nil {
			xorInto(&root, v.keys.element(b.name, k, val))
		}
	}
	if t.shardMatches(b, s, root, roots) {
		seen[s] = true
	}
}

// toCheck returns the shards of the guarded bucket b that this transaction
// checked already, and the shard roots to check others against; nil roots
// when there is nothing to check: b is not guarded, the vault keeps no
// roots, or need, given the shards seen, says no check is needed.
func (t *txn) toCheck(b *bucket, need func(seen map[byte]bool) bool) (map[byte]bool, *shardRoots) {
	v := t.v
	if b.gi < 0 || v.keys == nil || t.unguarded || v.hooks.noStateRoot {
		return nil, nil
	}
	seen := t.rooted[string(b.name)]
	if seen == nil {
		seen = map[byte]bool{}
		t.rooted[string(b.name)] = seen
	}
	if !need(seen) {
		return nil, nil
	}
	st, err := t.state()
	if err != nil {
		t.fail(err)
		return nil, nil
	}
	if st.legacy {
		return nil, nil
	}
	roots, err := t.shards(b.gi)
	if err != nil {
		t.fail(err)
		return nil, nil
	}
	return seen, roots
}

// shardMatches reports whether root, computed from what shard s of the
// guarded bucket b holds, is the shard's root in roots; if not, it records
// the mismatch in t.err.
func (t *txn) shardMatches(b *bucket, s byte, root [macLen]byte, roots *shardRoots) bool {
	if root != roots[s] && bytes.Equal(b.name, bucketShares) {
		// Shares the engine deleted at their time (lapsing.go).
		lapsed := t.v.lapsedInShard(t, s)
		xorInto(&root, lapsed[:])
	}
	if root != roots[s] {
		t.fail(fmt.Errorf("%s: %w", stateMismatch(b.name), ErrTampered))
		return false
	}
	return true
}

// checkAllShards checks every shard of a guarded bucket, for a read of all
// of it (ForEach, a cursor from the first key).
//
// The shards not checked yet are checked from one walk of the bucket: on
// etcd, each shard read on its own is a request, 256 for a bucket that may
// hold nothing.
func (t *txn) checkAllShards(b *bucket) {
	seen, roots := t.toCheck(b, func(seen map[byte]bool) bool { return len(seen) < shardCount })
	if roots == nil {
		return
	}
	v := t.v
	var got [shardCount][macLen]byte
	c := b.Bucket.Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		if s := shardOf(k); !seen[s] && len(k) > 0 && val != nil {
			xorInto(&got[s], v.keys.element(b.name, k, val))
		}
	}
	for i := range shardCount {
		if s := byte(i); !seen[s] {
			if !t.shardMatches(b, s, got[s], roots) {
				return
			}
			seen[s] = true
		}
	}
}

// buildShards computes every guarded bucket's shard roots from what it
// holds (upgradeState), marking them all to be written.
func (t *txn) buildShards() error {
	st := t.st
	for gi, name := range guardedBuckets {
		s := new(shardRoots)
		if b := t.Tx.Bucket(name); b != nil {
			c := b.Cursor()
			for k, val := c.First(); k != nil; k, val = c.Next() {
				xorInto(&s[shardOf(k)], t.v.keys.element(name, k, val))
			}
		}
		st.shards[gi] = s
		st.dirty[gi] = map[byte]bool{}
		for i := range shardCount {
			st.dirty[gi][byte(i)] = true
		}
	}
	return nil
}

// verifyShards reports each guarded bucket whose stored shard roots do not
// match its digest in the head, or whose shards do not match their roots.
func (v *Vault) verifyShards(tx *txn, add func(rec, format string, args ...any)) {
	for gi, name := range guardedBuckets {
		roots, err := tx.shards(gi)
		if err != nil {
			add("", "%v", err)
			continue
		}
		var got shardRoots
		if b := tx.Tx.Bucket(name); b != nil {
			c := b.Cursor()
			for k, val := c.First(); k != nil; k, val = c.Next() {
				xorInto(&got[shardOf(k)], v.keys.element(name, k, val))
			}
		}
		if got != *roots {
			add("", "the stored shard roots of the %s differ from the shards they hold (edited outside clientvault)", bucketNoun(name))
		}
	}
}
