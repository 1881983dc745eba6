package vault

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"slices"
)

// The object index. The state root (state.go) says that a bucket holds
// something other than what was last written, not what: every object in it
// is authentic on its own. For the buckets whose entries decide who may
// read what, an entry put back from an older copy must be named, so the
// index keeps, for each of their objects, its element (truncated to 128
// bits: it is keyed, and only compared). verify compares each object with
// its index entry and names the one that differs, was removed, or was
// added. The index is under the root like any bucket, so putting back an
// object together with its index entry still fails the root.

const objectTagLen = 16

func objectKey(bucket, key []byte) []byte {
	return append(append(append(make([]byte, 0, len(bucket)+1+len(key)), bucket...), 0), key...)
}

func isGuarded(bucket []byte) bool {
	return slices.ContainsFunc(guardedBuckets, func(g []byte) bool { return bytes.Equal(g, bucket) })
}

// indexObject records, in t, that key of the guarded bucket now holds the
// object whose element is elem (nil: removed).
func (t *txn) indexObject(bucket, key, elem []byte) error {
	b, err := t.CreateBucketIfNotExists(bucketObjects)
	if err != nil {
		return err
	}
	if elem == nil {
		return b.Delete(objectKey(bucket, key))
	}
	return b.Put(objectKey(bucket, key), elem[:objectTagLen])
}

// buildObjectIndex indexes every object of the guarded buckets, for a vault
// that has no index yet (upgradeState).
func (v *Vault) buildObjectIndex(tx *txn) error {
	return eachGuarded(tx, func(name, k, val []byte) error {
		return tx.indexObject(name, k, v.keys.element(name, k, val))
	})
}

// eachGuarded calls fn for every object of the guarded buckets, as stored
// (unchecked: for the index's own building and checking).
func eachGuarded(tx *txn, fn func(name, k, val []byte) error) error {
	for _, name := range guardedBuckets {
		b := tx.Tx.Bucket(name)
		if b == nil {
			continue
		}
		c := b.Cursor()
		for k, val := c.First(); k != nil; k, val = c.Next() {
			if err := fn(name, k, val); err != nil {
				return err
			}
		}
	}
	return nil
}

// verifyObjects names every object of the guarded buckets that differs from
// the index: put back, added or removed outside clientvault.
func (v *Vault) verifyObjects(tx *txn, add func(rec, format string, args ...any)) {
	idx := tx.Tx.Bucket(bucketObjects)
	seen := map[string]bool{}
	_ = eachGuarded(tx, func(name, k, val []byte) error {
		ok := objectKey(name, k)
		seen[string(ok)] = true
		var want []byte
		if idx != nil {
			want = idx.Get(ok)
		}
		rec, what := describeObject(name, k)
		switch {
		case want == nil:
			add(rec, "%s was added outside clientvault", what)
		case !hmac.Equal(want, v.keys.element(name, k, val)[:objectTagLen]):
			add(rec, "%s is not as last written (put back from an older copy, or edited)", what)
		}
		return nil
	})
	if idx == nil {
		return
	}
	c := idx.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if seen[string(k)] {
			continue
		}
		name, key, _ := bytes.Cut(k, []byte{0})
		rec, what := describeObject(name, key)
		add(rec, "%s was removed outside clientvault", what)
	}
}

// describeObject names an object of a guarded bucket in words, with the
// record it belongs to; no client data (IDs and staff names only).
func describeObject(bucket, key []byte) (rec, what string) {
	if len(key) >= 8 && !bytes.Equal(bucket, bucketStaff) {
		rec = ID(key[:8]).String()
	}
	switch string(bucket) {
	case "staff":
		return "", fmt.Sprintf("the staff entry of %s", key)
	case "consents":
		return rec, fmt.Sprintf("consent %s", hex.EncodeToString(key[min(8, len(key)):]))
	case "shares":
		return rec, fmt.Sprintf("the share with %s", key[min(8, len(key)):])
	case "holds":
		return rec, "a legal hold"
	case "disclosures":
		return rec, "a disclosure record"
	}
	return rec, fmt.Sprintf("an entry of %s", bucket)
}

// withObjects adds to d the object index entries of the guarded objects it
// removes, so that a compaction drops them together.
func (d doomed) withObjects() doomed {
	for name, keys := range d {
		if !isGuarded([]byte(name)) {
			continue
		}
		for k := range keys {
			if d[string(bucketObjects)] == nil {
				d[string(bucketObjects)] = map[string]bool{}
			}
			d[string(bucketObjects)][string(objectKey([]byte(name), []byte(k)))] = true
		}
	}
	return d
}
