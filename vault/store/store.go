// Package store is the vault's storage seam: ordered keys in named buckets,
// read in read-only transactions and written in read-write ones. The vault
// keeps everything it stores sealed and authenticated (package vault), so an
// engine is untrusted storage: it sees only ciphertext, MACs and blind tags,
// and whatever it returns is checked by the vault before it is believed.
//
// Two engines implement it: the bbolt file (Bolt), the embedded default for
// one person, and etcd (Etcd), for a salon on several computers. Both pass
// the same conformance suite, in package storetest.
//
// The model is bbolt's, which the vault was first written against:
//   - a bucket is a flat, ordered map from non-empty byte keys to byte
//     values, with a sequence number; buckets are not nested;
//   - a read-write transaction sees its own writes; it commits all of them
//     or none, and transactions are serializable;
//   - a key or value returned by a transaction is valid only until the
//     transaction ends, and must not be modified;
//   - a bucket, cursor or value is used by one goroutine at a time.
package store

import (
	"context"
	"errors"
	"time"
)

// Engine is a store of buckets.
type Engine interface {
	// View runs fn in a read-only transaction over a consistent snapshot.
	// A reader is never blocked by a writer on etcd; on bbolt, a writer in
	// another process holds the file's lock.
	View(fn func(Tx) error) error
	// Update runs fn in a read-write transaction, and commits what it wrote
	// if fn returns nil. An engine with optimistic transactions (etcd) runs
	// fn again, on a new snapshot, when another writer committed first: fn
	// must not have effects outside the transaction that a second run
	// would repeat.
	Update(fn func(Tx) error) error
	// Close releases the engine.
	Close() error
}

// Tx is a transaction.
type Tx interface {
	// Bucket returns the bucket name, or nil if there is none.
	Bucket(name []byte) Bucket
	// CreateBucket makes the bucket name; ErrBucketExists if there is one.
	CreateBucket(name []byte) (Bucket, error)
	// CreateBucketIfNotExists returns the bucket name, made if need be.
	CreateBucketIfNotExists(name []byte) (Bucket, error)
	// DeleteBucket deletes the bucket name and every key in it;
	// ErrBucketNotFound if there is none.
	DeleteBucket(name []byte) error
	// ForEach calls fn for every bucket, in the order of their names.
	ForEach(fn func(name []byte, b Bucket) error) error
	// Writable reports whether the transaction may write.
	Writable() bool
}

// Bucket is an ordered map of keys to values.
type Bucket interface {
	// Get returns the value of key, or nil if key is not there. A key that
	// is there always has a non-nil value (empty, if it was put empty).
	Get(key []byte) []byte
	// Put sets key to value. Neither may be modified until the transaction
	// ends; an empty key is ErrKeyRequired.
	Put(key, value []byte) error
	// Delete removes key; removing a key that is not there is no error.
	Delete(key []byte) error
	// ForEach calls fn for every key in order.
	ForEach(fn func(k, v []byte) error) error
	// Cursor returns a cursor over the bucket.
	Cursor() Cursor
	// Sequence returns the bucket's sequence number.
	Sequence() uint64
	// SetSequence sets it.
	SetSequence(n uint64) error
	// NextSequence increments it and returns the new number.
	NextSequence() (uint64, error)
}

// Cursor moves over a bucket's keys in order. Each move returns the key and
// value it lands on, or nil, nil past either end.
type Cursor interface {
	First() (k, v []byte)
	Last() (k, v []byte)
	Next() (k, v []byte)
	Prev() (k, v []byte)
	// Seek moves to key, or to the first key after it.
	Seek(key []byte) (k, v []byte)
}

// Prefetcher is a bucket that reads every key in [from, to) into its
// transaction in one request, so that the Gets and Puts that follow, of keys
// in that range whether there or not, ask the engine nothing. A bulk write
// prefetches the range it is about to fill (a Put reads the old value, for
// the vault's state root). bbolt's buckets, where a Get costs nothing, have
// none. A nil to is the end of the bucket.
type Prefetcher interface {
	Prefetch(from, to []byte) error
}

// KeyPrefetcher is a bucket that reads the given keys into its transaction
// in as few requests as the engine takes (etcd: one transaction of point
// reads per so many keys), so that the Gets and Puts that follow, of those
// keys whether there or not, ask the engine nothing. A bulk write
// prefetches the keys it is about to write when they are spread over the
// bucket (random IDs, blind index tags), where a range (Prefetcher) would
// read most of the bucket. bbolt's buckets have none.
type KeyPrefetcher interface {
	PrefetchKeys(keys [][]byte) error
}

// Inserter is a bucket that puts keys the caller holds to be new without
// reading them first: Insert is Put of a key that must not be in the bucket,
// and the transaction commits only if it is not there (etcd: a compare in
// the commit). Insert fails with ErrKeyExists when the transaction knows
// the key is there already (it read it, or wrote it); when that is learnt
// only at the commit, Update fails with ErrKeyExists and writes nothing. A
// bulk write inserts the keys of new random IDs so that it need not read
// each one, on an engine where a read is a request. An inserted key
// counts against Limits.Bytes twice, with some bytes of framing (etcd: the
// compare names it again). bbolt's buckets have none: a Get costs nothing
// there.
type Inserter interface {
	Insert(key, value []byte) error
}

// Expirer is a bucket whose keys can expire by themselves: PutExpiring
// puts key, which the engine deletes at (or within a second after) at, with
// no transaction of the vault's (etcd: a lease). bbolt's buckets have none:
// a file has no one awake to delete it.
type Expirer interface {
	PutExpiring(key, value []byte, at time.Time) error
}

// Replacer is an engine whose whole content can be replaced in one step,
// larger than one transaction may write: its readers see the old content or
// the new, never part of each. A file has none (the vault writes a new file
// and renames it over the old).
type Replacer interface {
	// Replace begins a replacement: the new content is written into the
	// Replacement's Engine, in as many transactions as it takes.
	Replace() (Replacement, error)
}

// Replacement is a new content of an engine, written aside.
type Replacement interface {
	// Engine is where the new content is written; no reader of the
	// replaced engine sees it.
	Engine() Engine
	// Publish makes the new content the engine's, in one commit, if no
	// other commit was made to the engine since Replace; otherwise it
	// returns ErrReplaced and nothing changes. The old content is deleted
	// after that commit; ErrOldContentLeft if it could not be (the new
	// content is in place).
	Publish(ctx context.Context) error
	// Abort deletes what was written aside, if Publish was not called or
	// failed.
	Abort() error
}

// ErrReplaced is returned by Publish when another commit was made to the
// engine after Replace: the replacement would have undone it.
var ErrReplaced = errors.New("store: the content changed while its replacement was written")

// ErrOldContentLeft is returned by Publish when the new content is in
// place but the old could not be deleted; the next replacement deletes it.
var ErrOldContentLeft = errors.New("store: the new content is in place, but the old is not deleted yet")

// Limits are how much one read-write transaction may write on an engine.
// Zero means no limit. The vault sizes its bulk writes by them.
type Limits struct {
	// Ops is the most keys one transaction may put or delete.
	Ops int
	// Bytes is the most bytes of keys and values it may put.
	Bytes int
}

// Limited is an engine with limits on one transaction.
type Limited interface {
	Limits() Limits
}

// LimitsOf returns the limits of e, or none.
func LimitsOf(e Engine) Limits {
	if l, ok := e.(Limited); ok {
		return l.Limits()
	}
	return Limits{}
}

var (
	// ErrBucketExists is returned by CreateBucket for a bucket that exists.
	ErrBucketExists = errors.New("store: the bucket exists")
	// ErrBucketNotFound is returned by DeleteBucket for one that does not.
	ErrBucketNotFound = errors.New("store: no such bucket")
	// ErrKeyRequired is returned by Put for an empty key.
	ErrKeyRequired = errors.New("store: a key is required")
	// ErrKeyExists is returned by Inserter's Insert, or by Update, for a
	// key inserted as new that is in the bucket; nothing of the
	// transaction is written.
	ErrKeyExists = errors.New("store: a key put as new is there already")
	// ErrTxNotWritable is returned by a write in a read-only transaction.
	ErrTxNotWritable = errors.New("store: the transaction is read-only")
	// ErrTooLarge is returned when a transaction writes more than the
	// engine's Limits allow; nothing of it is written.
	ErrTooLarge = errors.New("store: the transaction is larger than the engine accepts")
	// ErrUnavailable is returned when the engine cannot be reached in
	// time; nothing of the transaction is written.
	ErrUnavailable = errors.New("store: the engine did not answer in time")
	// ErrNoSpace is returned when the engine is out of space (etcd's
	// NOSPACE alarm); nothing of the transaction is written.
	ErrNoSpace = errors.New("store: the engine is out of space")
	// ErrAccessDenied is returned when the engine refuses the caller the
	// keys asked for (etcd's role-based access control).
	ErrAccessDenied = errors.New("store: the engine refused access")
	// ErrSnapshotGone is returned by a View whose snapshot another
	// computer's compaction removed while it was read (an Update is run
	// again on a new one instead). Nothing was written; the same View
	// again reads the present.
	ErrSnapshotGone = errors.New("store: another computer compacted the engine's history while this read it")
)
