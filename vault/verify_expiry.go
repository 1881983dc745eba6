package vault

import (
	"bytes"
	"encoding/binary"
)

// verifyExpiry checks the expiry metadata (bucketExpiry) against the ID map
// and the stored entries: every record has metadata, authentic, in its own
// slot, for its current entry, and there is none for a record not in the
// vault (but for the records of an interrupted bulk add, which has no ID
// map yet and goes with it). Expire would read the entry of a record whose metadata is missing
// or stale, so these are not unsafe, but they mean the file was edited or
// rolled back. A vault made before the bucket existed has none until an
// Unlock that may write builds it.
func (v *Vault) verifyExpiry(tx *txn, add func(rec, format string, args ...any)) {
	exp := tx.Bucket(bucketExpiry)
	if exp == nil {
		return
	}
	ids, recs := tx.Bucket(bucketIDs), tx.Bucket(bucketRecords)
	if v.keys.remote != nil {
		// With the unlock agent: the rows' and the entries' MACs in
		// batches, not one request each.
		v.keys.primeExpiryRows(exp)
		var raws [][]byte
		c := ids.Cursor()
		for k, slot := c.First(); k != nil; k, slot = c.Next() {
			if raw := recs.Get(slot); raw != nil {
				raws = append(raws, raw)
			}
		}
		v.keys.primeEntryMACs(raws)
	}
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
		val := exp.Get(slot)
		if val == nil {
			add(id.String(), "its expiry metadata is missing")
			continue
		}
		s, ok := r.read(id, slot, val)
		if !ok {
			add(id.String(), "its expiry metadata: tampered with, moved, or another record's")
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
	for k, val := ec.First(); k != nil; k, val = ec.Next() {
		if len(val) != expiryLen {
			add("", "expiry metadata in slot %x is malformed", k)
			continue
		}
		// A row of an interrupted bulk add has no ID mapping yet.
		if tx.pending[binary.BigEndian.Uint64(val[13:21])] {
			continue
		}
		id := ID(val[:8])
		if !bytes.Equal(ids.Get(id[:]), k) {
			add(id.String(), "expiry metadata for a record that is not in the vault, or not in that slot")
		}
	}
}
