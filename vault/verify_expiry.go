package vault

import (
	bolt "go.etcd.io/bbolt"
)

// verifyExpiry checks the expiry metadata (bucketExpiry) against the ID map
// and the stored entries: every record has metadata, authentic, for its own
// slot and its current entry, and there is none for a record not in the
// vault. Expire would read the entry of a record whose metadata is missing
// or stale, so these are not unsafe, but they mean the file was edited or
// rolled back. A vault made before the bucket existed has none until an
// Unlock that may write builds it.
func (v *Vault) verifyExpiry(tx *bolt.Tx, add func(rec, format string, args ...any)) {
	exp := tx.Bucket(bucketExpiry)
	if exp == nil {
		return
	}
	ids, recs := tx.Bucket(bucketIDs), tx.Bucket(bucketRecords)
	r := v.keys.newExpiryReader()
	c := ids.Cursor()
	for k, slot := c.First(); k != nil; k, slot = c.Next() {
		if len(k) != len(ID{}) {
			continue // reported with the ID map
		}
		id := ID(k)
		raw := recs.Get(slot)
		if raw == nil {
			continue // reported with the ID map
		}
		val := exp.Get(k)
		if val == nil {
			add(id.String(), "its expiry metadata is missing")
			continue
		}
		s, ok := r.read(id, slot, val)
		if !ok {
			add(id.String(), "its expiry metadata: tampered with, or its ID now maps to another slot")
			continue
		}
		e, err := unmarshalEntry(raw)
		if err != nil || !authentic(v.keys, id, raw) {
			continue // the entry itself is reported
		}
		if !s.equal(stateOf(slot, e, raw)) {
			add(id.String(), "its expiry metadata does not match its entry (stale)")
		}
	}
	ec := exp.Cursor()
	for k, _ := ec.First(); k != nil; k, _ = ec.Next() {
		if len(k) != len(ID{}) {
			add("", "expiry metadata holds a malformed key")
			continue
		}
		if ids.Get(k) == nil {
			add(ID(k).String(), "expiry metadata for a record that is not in the vault")
		}
	}
}
