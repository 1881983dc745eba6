package vault

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"time"

	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault/store"
)

// Shares that lapse by themselves. On an engine whose keys can expire
// (store.Expirer: etcd's leases), a share with an end (--until, or a
// consent's expiry) is put to expire at the end of its last day: the engine
// deletes it then, and no computer reads it after, whether or not anyone
// runs a command. The deletion passes by the vault, so the state root still
// counts the share: the lapsing bucket says, for each such share, when it
// goes and what its element is, under the vault's MAC. A share absent
// after its time, whose element the object index and a lapsing entry both
// give, has lapsed (not been deleted by hand); the owner's next command
// takes it out of the root (foldLapsed), and until then the shard check
// accounts for it (lapsedInShard). A share deleted before its time, or
// one whose lapsing entry was edited or removed, is still tampering.
//
// On a file nothing expires by itself: the owner's next command lapses
// shares past their end (lapseShares), as before.

// lapseSkew is how far this computer's clock may be behind the engine's
// for a share the engine deleted at its time: a share gone that much before
// its time lapsed, one gone earlier was deleted by hand.
const lapseSkew = 10 * time.Minute

// shareExpiry is when a share that ends on end goes: the start of the next
// day, UTC, the vault's clock.
func shareExpiry(end records.Date) time.Time {
	return time.Date(end.Year, time.Month(end.Month), end.Day+1, 0, 0, 0, 0, time.UTC)
}

// putShareObject stores the share k=val, to expire after end on an engine
// whose keys expire, with its lapsing entry.
func (v *Vault) putShareObject(tx *txn, k, val []byte, end records.Date) error {
	b := tx.Bucket(bucketShares)
	if _, expiring := b.Bucket.(store.Expirer); end.IsZero() || !expiring {
		if l := tx.Bucket(bucketLapsing); l != nil {
			if err := l.Delete(k); err != nil { // it lapses no more
				return err
			}
		}
		return b.Put(k, val)
	}
	lapsing, err := tx.CreateBucketIfNotExists(bucketLapsing)
	if err != nil {
		return err
	}
	at := shareExpiry(end)
	if err := b.putExpiring(k, val, at); err != nil {
		return err
	}
	return lapsing.Put(k, v.lapsingValue(k, at, v.keys.element(bucketShares, k, val)))
}

// lapsingValue is a lapsing entry: when (Unix seconds), the element, and
// their MAC with the key.
func (v *Vault) lapsingValue(k []byte, at time.Time, elem []byte) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(at.Unix()))
	b = append(b, elem...)
	return append(b, v.keys.mac(macObject, bucketLapsing, k, b)...)
}

// lapsed reads the lapsing entry of the share k, as tx sees it, and says
// whether the share has lapsed by itself by now: the entry is authentic,
// its time has come, the share is not there, and the object index still
// holds the element the entry gives. It returns that element.
func (v *Vault) lapsed(tx *txn, k, entry []byte) ([]byte, bool) {
	if len(entry) != 8+2*macLen || !hmac.Equal(entry[8+macLen:], v.keys.mac(macObject, bucketLapsing, k, entry[:8+macLen])) {
		return nil, false
	}
	at := time.Unix(int64(binary.BigEndian.Uint64(entry[:8])), 0)
	elem := entry[8 : 8+macLen]
	if v.now().Add(lapseSkew).Before(at) {
		return nil, false
	}
	if sb := tx.Tx.Bucket(bucketShares); sb != nil && sb.Get(k) != nil {
		return nil, false
	}
	idx := tx.Tx.Bucket(bucketObjects)
	if idx == nil || !bytes.Equal(idx.Get(objectKey(bucketShares, k)), elem[:objectTagLen]) {
		return nil, false
	}
	return elem, true
}

// lapsedInShard is the XOR of the elements of the shares of shard s that
// lapsed by themselves.
func (v *Vault) lapsedInShard(tx *txn, s byte) [macLen]byte {
	var x [macLen]byte
	l := tx.Tx.Bucket(bucketLapsing)
	if l == nil {
		return x
	}
	c := l.Cursor()
	for k, entry := c.Seek([]byte{s}); k != nil && shardOf(k) == s; k, entry = c.Next() {
		if elem, ok := v.lapsed(tx, k, entry); ok {
			xorInto(&x, elem)
		}
	}
	return x
}

// foldLapsed takes the shares that lapsed by themselves out of the state
// root, the shard roots and the object index, and drops lapsing entries
// whose share is gone another way or was replaced. It returns the keys of
// the shares that lapsed.
func (v *Vault) foldLapsed(tx *txn) ([][]byte, error) {
	l := tx.Tx.Bucket(bucketLapsing)
	if l == nil {
		return nil, nil
	}
	type gone struct{ k, elem []byte }
	var folded []gone
	var stale [][]byte
	c := l.Cursor()
	for k, entry := c.First(); k != nil; k, entry = c.Next() {
		if elem, ok := v.lapsed(tx, k, entry); ok {
			folded = append(folded, gone{clone(k), clone(elem)})
		} else if tx.Tx.Bucket(bucketShares).Get(k) == nil {
			stale = append(stale, clone(k))
		}
	}
	var keys [][]byte
	for _, g := range folded {
		if err := tx.untrack(bucketShares, g.k, g.elem); err != nil {
			return nil, err
		}
		stale = append(stale, g.k)
		keys = append(keys, g.k)
	}
	lb := tx.Bucket(bucketLapsing)
	for _, k := range stale {
		if err := lb.Delete(k); err != nil {
			return nil, err
		}
	}
	return keys, nil
}
