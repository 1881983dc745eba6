package vault

import (
	bolt "go.etcd.io/bbolt"
)

// txn is one transaction of the vault's store. The vault's code reads and
// writes only through it, never through bbolt's types directly: every Put
// and Delete passes through bucket, which keeps the state root (state.go)
// in step with what the transaction changes, and the first read of a bucket
// whose contents decide who may read what (staff, consents, shares, holds,
// disclosures) checks that bucket against the committed state first.
//
// The embedded *bolt.Tx serves what has no bearing on the stored objects:
// the file's size, its pages, and the read-only walks of verify and
// compaction.
type txn struct {
	*bolt.Tx
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
}

// bucket is a bucket of the store, read and written through txn.
type bucket struct {
	*bolt.Bucket
	name []byte
	tx   *txn
}

// Bucket returns the bucket name, or nil if the file has none of that name.
// A bucket that decides who may read what is checked against the state
// root the first time a command reads it (checkGuarded).
func (t *txn) Bucket(name []byte) *bucket {
	b := t.Tx.Bucket(name)
	if b == nil {
		return nil
	}
	t.checkGuarded(name, b)
	return &bucket{Bucket: b, name: name, tx: t}
}

// CreateBucketIfNotExists is bbolt's, returning the vault's bucket.
func (t *txn) CreateBucketIfNotExists(name []byte) (*bucket, error) {
	b, err := t.Tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return &bucket{Bucket: b, name: name, tx: t}, nil
}

// Put stores value under key, and moves the state root from the old value
// (if any) to the new one.
func (b *bucket) Put(key, value []byte) error {
	if err := b.tx.track(b.name, key, b.Bucket.Get(key), value); err != nil {
		return err
	}
	return b.Bucket.Put(key, value)
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
	return b.Bucket.Delete(key)
}

// Cursor returns a cursor over the bucket. It reads only: deleting through
// a cursor would pass by the state root, so the vault deletes by key.
func (b *bucket) Cursor() *cursor { return &cursor{c: b.Bucket.Cursor()} }

// cursor is bbolt's cursor without Delete.
type cursor struct{ c *bolt.Cursor }

func (c *cursor) First() ([]byte, []byte)        { return c.c.First() }
func (c *cursor) Last() ([]byte, []byte)         { return c.c.Last() }
func (c *cursor) Next() ([]byte, []byte)         { return c.c.Next() }
func (c *cursor) Prev() ([]byte, []byte)         { return c.c.Prev() }
func (c *cursor) Seek(k []byte) ([]byte, []byte) { return c.c.Seek(k) }
