package store

import (
	"errors"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bolt is the engine of a bbolt file, opened by the caller (the vault opens
// its file with options of its own: page size, map size, lock timeout).
type Bolt struct{ DB *bolt.DB }

func (e Bolt) View(fn func(Tx) error) error {
	return e.DB.View(func(tx *bolt.Tx) error { return fn(BoltTx{tx}) })
}

func (e Bolt) Update(fn func(Tx) error) error {
	return e.DB.Update(func(tx *bolt.Tx) error { return fn(BoltTx{tx}) })
}

func (e Bolt) Close() error { return e.DB.Close() }

// BoltTx is a transaction of a bbolt file. The vault reaches through it for
// what only a file has: its pages, its size, its structure check.
type BoltTx struct{ Tx *bolt.Tx }

// BoltOf returns the bbolt transaction under tx, or nil for another engine.
func BoltOf(tx Tx) *bolt.Tx {
	if b, ok := tx.(BoltTx); ok {
		return b.Tx
	}
	return nil
}

func (t BoltTx) Bucket(name []byte) Bucket {
	if b := t.Tx.Bucket(name); b != nil {
		return boltBucket{b}
	}
	return nil
}

func (t BoltTx) CreateBucket(name []byte) (Bucket, error) {
	b, err := t.Tx.CreateBucket(name)
	if err != nil {
		return nil, boltErr(err)
	}
	return boltBucket{b}, nil
}

func (t BoltTx) CreateBucketIfNotExists(name []byte) (Bucket, error) {
	b, err := t.Tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, boltErr(err)
	}
	return boltBucket{b}, nil
}

func (t BoltTx) DeleteBucket(name []byte) error { return boltErr(t.Tx.DeleteBucket(name)) }

func (t BoltTx) ForEach(fn func(name []byte, b Bucket) error) error {
	return t.Tx.ForEach(func(name []byte, b *bolt.Bucket) error { return fn(name, boltBucket{b}) })
}

func (t BoltTx) Writable() bool { return t.Tx.Writable() }

// boltBucket is a bbolt bucket; its cursor is bbolt's.
type boltBucket struct{ *bolt.Bucket }

func (b boltBucket) Cursor() Cursor { return b.Bucket.Cursor() }

// Put is bbolt's, with a nil value put as an empty one: bbolt hands a nil
// value put back as nil until the transaction commits, and the store's
// model is that a key that is there has a non-nil value.
func (b boltBucket) Put(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	return boltErr(b.Bucket.Put(key, value))
}

func (b boltBucket) Delete(key []byte) error    { return boltErr(b.Bucket.Delete(key)) }
func (b boltBucket) SetSequence(n uint64) error { return boltErr(b.Bucket.SetSequence(n)) }
func (b boltBucket) NextSequence() (uint64, error) {
	n, err := b.Bucket.NextSequence()
	return n, boltErr(err)
}

// boltErr maps bbolt's errors to the store's.
func boltErr(err error) error {
	switch {
	case errors.Is(err, bolterrors.ErrBucketExists):
		return ErrBucketExists
	case errors.Is(err, bolterrors.ErrBucketNotFound):
		return ErrBucketNotFound
	case errors.Is(err, bolterrors.ErrKeyRequired):
		return ErrKeyRequired
	case errors.Is(err, bolterrors.ErrTxNotWritable):
		return ErrTxNotWritable
	}
	return err
}

// BoltBucketOf returns the bbolt bucket under b, or nil for another engine.
func BoltBucketOf(b Bucket) *bolt.Bucket {
	if b, ok := b.(boltBucket); ok {
		return b.Bucket
	}
	return nil
}
