package vault

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/clientvault/clientvault/vault/store"
	bolt "go.etcd.io/bbolt"
)

// txn is one transaction of the vault's store. The vault's code reads and
// writes only through it, never through bbolt's types directly: every Put
// and Delete passes through bucket, which keeps the state root (state.go)
// in step with what the transaction changes, and the first read of a bucket
// whose contents decide who may read what (staff, consents, shares, holds,
// disclosures) checks what it reads against the committed state first.
//
// The embedded store.Tx is the engine's (package store: the bbolt file or
// etcd). Used directly, it serves what has no bearing on the state root:
// the read-only walks of verify, compaction and rotation, and (through
// store.BoltOf) the file's pages and size.
type txn struct {
	store.Tx
	v *Vault
	// st is the state as this transaction changes it; nil until the first
	// write (or check) loads it from the audit head.
	st *state
	// changed reports whether anything covered by the state root was
	// written, so that the head is rewritten only then.
	changed bool
	// elements are the state root's elements still to be computed, with
	// the unlock agent, in one batch at commit (flushElements).
	elements []pendingElement
	// err is the first failure of a check made while reading (a bucket
	// that does not match the state root); view and update return it in
	// place of the function's own result, and a write transaction with it
	// set is rolled back.
	err error
	// unguarded turns the check of guarded buckets off, for Verify, which
	// checks every bucket and reports what it finds instead.
	unguarded bool
	// pending are the stages of the bulk adds not published, whose
	// entries are invisible, and rooted the shards of the guarded buckets
	// already checked: the vault's own on a file; on a shared engine
	// (etcd), the transaction's, read from its snapshot (begin).
	pending map[uint64]bool
	rooted  map[string]map[byte]bool
	// access is what the transaction changes of the engine's grants
	// (access.go).
	access accessChanges
}

// visible reports whether an entry is published (not part of a pending
// stage) in the transaction.
func (t *txn) visible(e *entry) bool { return e.Stage == 0 || !t.pending[e.Stage] }

// bucket is a bucket of the store, read and written through txn.
type bucket struct {
	store.Bucket
	name []byte
	tx   *txn
	// gi is the bucket's place among guardedBuckets, -1 for the others:
	// asked once, not at every read.
	gi int
}

// Bucket returns the bucket name, or nil if the file has none of that name.
// A bucket that decides who may read what is checked against the state
// root, shard by shard, as a command reads it (shards.go).
func (t *txn) Bucket(name []byte) *bucket {
	b := t.Tx.Bucket(name)
	if b == nil {
		return nil
	}
	return &bucket{Bucket: b, name: name, tx: t, gi: guardedIndex(name)}
}

// CreateBucket is the engine's, returning the vault's bucket.
func (t *txn) CreateBucket(name []byte) (*bucket, error) {
	b, err := t.Tx.CreateBucket(name)
	if err != nil {
		return nil, err
	}
	return &bucket{Bucket: b, name: name, tx: t, gi: guardedIndex(name)}, nil
}

// CreateBucketIfNotExists is the engine's, returning the vault's bucket, checked
// as Bucket checks it.
func (t *txn) CreateBucketIfNotExists(name []byte) (*bucket, error) {
	b, err := t.Tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return &bucket{Bucket: b, name: name, tx: t, gi: guardedIndex(name)}, nil
}

// DeleteBucket deletes the bucket name and every object in it, each taken
// out of the state root (and out of the object index and shard roots, for a
// guarded bucket) as Delete does.
func (t *txn) DeleteBucket(name []byte) error {
	b := t.Tx.Bucket(name)
	if b == nil {
		return t.Tx.DeleteBucket(name)
	}
	c := b.Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		if val == nil {
			continue // a nested bucket: the vault makes none
		}
		if err := t.track(name, k, val, nil); err != nil {
			return err
		}
	}
	return t.Tx.DeleteBucket(name)
}

// NextSequence is the engine's, refusing a number whose 8-byte key is taken. A
// bucket's sequence is not an object the state root covers: someone who
// set it back could make the next new entry overwrite an existing one (a
// new record in the slot of another), which the root would then follow.
func (b *bucket) NextSequence() (uint64, error) {
	n, err := b.Bucket.NextSequence()
	if err == nil && b.Bucket.Get(seqKey(n)) != nil {
		err = fmt.Errorf("%s: the next number, %d, is taken: the bucket's sequence was set back: %w", bucketNoun(b.name), n, ErrTampered)
	}
	return n, err
}

// Put stores value under key, and moves the state root from the old value
// (if any) to the new one.
func (b *bucket) Put(key, value []byte) error {
	if err := b.tx.track(b.name, key, b.Bucket.Get(key), value); err != nil {
		return err
	}
	b.noteAccess(key, true)
	return b.Bucket.Put(key, value)
}

// noteAccess notes a share put or deleted, for the engine's grants.
func (b *bucket) noteAccess(key []byte, present bool) {
	if bytes.Equal(b.name, bucketShares) {
		b.tx.noteShare(key, present)
	}
}

// putExpiring is Put of an object that the engine deletes by itself at at
// (store.Expirer), or Put where nothing expires.
func (b *bucket) putExpiring(key, value []byte, at time.Time) error {
	e, ok := b.Bucket.(store.Expirer)
	if !ok {
		return b.Put(key, value)
	}
	if err := b.tx.track(b.name, key, b.Bucket.Get(key), value); err != nil {
		return err
	}
	b.noteAccess(key, true)
	return e.PutExpiring(key, value, at)
}

// Delete removes key, and its value from the state root.
func (b *bucket) Delete(key []byte) error {
	old := b.Bucket.Get(key)
	if old == nil {
		return nil
	}
	if err := b.tx.track(b.name, key, old, nil); err != nil {
		return err
	}
	b.noteAccess(key, false)
	return b.Bucket.Delete(key)
}

// Get returns the value of key. In a guarded bucket, the shard key falls in
// is checked first (shards.go), whether or not the key is there: a hold
// deleted by hand must not read as no hold.
func (b *bucket) Get(key []byte) []byte {
	b.tx.checkShard(b, key)
	return b.Bucket.Get(key)
}

// ForEach is the engine's, over a guarded bucket checked whole first.
func (b *bucket) ForEach(fn func(k, v []byte) error) error {
	if b.gi >= 0 {
		b.tx.checkAllShards(b)
	}
	return b.Bucket.ForEach(fn)
}

// Cursor returns a cursor over the bucket. It reads only: deleting through
// a cursor would pass by the state root, so the vault deletes by key.
func (b *bucket) Cursor() *cursor {
	return &cursor{c: b.Bucket.Cursor(), b: b, last: shardCount - 1}
}

// prefixCursor returns a cursor over the keys of the bucket that start with
// prefix, which sees no other key (store.PrefixCursor). Every key with a
// non-empty prefix is in the shard of its first byte, so over a guarded
// bucket it checks that shard alone, where a cursor over the whole bucket
// checks every shard it passes over to find the end of the prefix's keys
// (all those after it, when they are the last): on etcd, where a shard
// checked in an earlier transaction is checked again (begin), that was a
// request per shard, some 130 for each View of a record.
func (b *bucket) prefixCursor(prefix []byte) *cursor {
	c := &cursor{c: store.PrefixCursor(b.Bucket, prefix), b: b, last: shardCount - 1}
	if len(prefix) > 0 {
		c.first, c.last = int(prefix[0]), int(prefix[0])
	}
	return c
}

// rangeCursor returns a cursor over the keys of the bucket in [from, to)
// (nil: from the first, to the last), which sees and reads no other key
// (store.RangeCursor): on etcd, a cursor over the whole bucket that its
// caller leaves at to has streamed on past it. Over a guarded bucket it
// checks the shards from that of from on.
func (b *bucket) rangeCursor(from, to []byte) *cursor {
	c := &cursor{c: store.RangeCursor(b.Bucket, from, to), b: b, last: shardCount - 1}
	if len(from) > 0 {
		c.first = int(from[0])
	}
	return c
}

// cursor is the engine's cursor, which the vault never deletes through. Over a guarded bucket, it checks
// every shard it moves into or over, before returning a key from it.
type cursor struct {
	c store.Cursor
	b *bucket
	// next is the first shard not yet checked going forward from the
	// cursor's last move.
	next int
	// first and last are the shards of the keys the cursor can return:
	// all of them, or a prefix's one.
	first, last int
}

func (c *cursor) First() ([]byte, []byte) {
	c.next = c.first
	return c.forward(c.c.First())
}

func (c *cursor) Seek(k []byte) ([]byte, []byte) {
	c.next = max(int(shardOf(k)), c.first)
	return c.forward(c.c.Seek(k))
}

func (c *cursor) Next() ([]byte, []byte) { return c.forward(c.c.Next()) }

func (c *cursor) Last() ([]byte, []byte) { c.all(); return c.c.Last() }
func (c *cursor) Prev() ([]byte, []byte) { c.all(); return c.c.Prev() }

// forward checks the shards from c.next up to that of k (the last the
// cursor can return a key from, at the end), which the cursor passed over
// or landed in.
func (c *cursor) forward(k, v []byte) ([]byte, []byte) {
	if c.b.gi < 0 {
		return k, v
	}
	end := c.last
	if k != nil {
		end = int(shardOf(k))
	}
	for ; c.next <= end; c.next++ {
		c.b.tx.checkShard(c.b, []byte{byte(c.next)})
	}
	return k, v
}

// all checks every shard the cursor can return a key from, for a move
// backwards.
func (c *cursor) all() {
	if c.b.gi >= 0 {
		for i := c.first; i <= c.last; i++ {
			c.b.tx.checkShard(c.b, []byte{byte(i)})
		}
	}
}

// appendInOrder tells the engine that this transaction writes keys in
// ascending order: a bbolt file then fills each page before starting the
// next, instead of splitting pages half full. Other engines ignore it.
func (b *bucket) appendInOrder() {
	if bb := store.BoltBucketOf(b.Bucket); bb != nil {
		bb.FillPercent = 1.0
	}
}

// file returns the bbolt transaction of a vault file, or nil on another
// engine: for what only a file has (its pages, size and structure).
func (t *txn) file() *bolt.Tx { return store.BoltOf(t.Tx) }

// prefetch reads the keys in [from, to) into the transaction in one request
// on an engine where each Get is a request (store.Prefetcher): for a bulk
// write, before it fills that range.
func (b *bucket) prefetch(from, to []byte) error {
	if p, ok := b.Bucket.(store.Prefetcher); ok {
		return p.Prefetch(from, to)
	}
	return nil
}

// prefetchKeys reads keys into the transaction in as few requests as the
// engine takes, on an engine where each Get is a request and that reads
// many scattered keys at once (store.KeyPrefetcher): for a bulk write, before
// it writes keys spread all over the bucket.
func (b *bucket) prefetchKeys(keys [][]byte) error {
	if p, ok := b.Bucket.(store.KeyPrefetcher); ok && len(keys) > 0 {
		return p.PrefetchKeys(keys)
	}
	return nil
}

// insert puts key, which the vault holds to be new (a new random ID's), and
// reports taken, writing nothing, if the bucket has it. On an engine that
// inserts without reading (store.Inserter), a key it does not know to be
// there is put as new with no request: if it is there, the commit fails
// with store.ErrKeyExists. The old value is then none, for the state root.
func (b *bucket) insert(key, value []byte) (taken bool, err error) {
	in, ok := b.Bucket.(store.Inserter)
	if !ok || b.gi >= 0 {
		if b.Get(key) != nil {
			return true, nil
		}
		return false, b.Put(key, value)
	}
	if err := in.Insert(key, value); err != nil {
		if errors.Is(err, store.ErrKeyExists) {
			return true, nil
		}
		return false, err
	}
	return false, b.tx.track(b.name, key, nil, value)
}

// perTxn is how many items of ops keys and about size bytes each one
// transaction may write on the vault's engine (store.Limits), keeping room
// for the audit head and entry; 0 when the engine has no limit (a file).
func (v *Vault) perTxn(ops, size int) int {
	lim := store.LimitsOf(v.engine())
	n := 0
	if lim.Ops > 0 {
		n = max((lim.Ops-16)/ops, 1)
	}
	if lim.Bytes > 0 {
		m := max((lim.Bytes-(64<<10))/size, 1)
		if n == 0 || m < n {
			n = m
		}
	}
	return n
}
