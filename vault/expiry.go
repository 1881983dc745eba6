package vault

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"hash"

	"github.com/clientvault/clientvault/records"
)

// bucketExpiry holds, for each record, what Expire needs to find the records
// due for destruction, in a small authenticated form: the record's slot ->
// its ID, retain-until date, hold flag, stage, a tag of its stored entry (the
// first 8 bytes of its MAC), and a MAC over all of it and the slot. A scan of
// the records bucket would read and authenticate every sealed record (about
// 1.5 KB each) to learn a date; a row here is 45 bytes, which keeps a vault
// of 1 KB records within 1.6 times their JSON. Keyed by slot, like the
// records, a bulk add appends its rows with its entries; keyed by the random
// IDs, every publication of a large add rewrote the whole table (a million
// records: +20% peak memory, +15% file).
//
// It reveals nothing that the stored entries do not already show in the
// clear (their retain-until date and hold flag are public metadata), and it
// is never the last word: Expire reads and authenticates a record's own
// entry before it destroys the record, and whenever the metadata is missing.
// The entry tag lets Verify notice metadata left over from an earlier
// version of the entry.
//
// A vault made before this bucket existed does not have it; the first
// Unlock that may write builds it.

// macExpiry labels the MAC of a record's expiry metadata.
const macExpiry = "clientvault/v1/expiry"

// The encoding of expiry metadata: ID (8), retain-until as YYYYMMDD (4),
// flags (1), stage (8), entry tag (8), then the MAC truncated to 16 bytes (128 bits,
// as HMAC-SHA256-128; a forger gets one try per 2^128).
const (
	expiryTagLen  = 8
	expiryMACLen  = 16
	expiryBodyLen = 8 + 4 + 1 + 8 + expiryTagLen
	expiryLen     = expiryBodyLen + expiryMACLen
)

// expiryState is what the expiry metadata of one record says, with the slot
// its ID maps to, which the MAC covers.
type expiryState struct {
	slot        []byte
	retainUntil records.Date
	held        bool
	stage       uint64
	entryTag    []byte
}

// entryTag is the tag of a stored entry raw that its expiry metadata holds.
func entryTag(raw []byte) []byte { return raw[len(raw)-macLen:][:expiryTagLen] }

// stateOf is the expiry state of entry e, stored as raw in slot.
func stateOf(slot []byte, e *entry, raw []byte) expiryState {
	return expiryState{slot: slot, retainUntil: e.RetainUntil, held: e.Held, stage: e.Stage, entryTag: entryTag(raw)}
}

func (s expiryState) equal(o expiryState) bool {
	return bytes.Equal(s.slot, o.slot) && s.retainUntil == o.retainUntil && s.held == o.held &&
		s.stage == o.stage && bytes.Equal(s.entryTag, o.entryTag)
}

// expiryValue encodes the expiry metadata of the record id whose entry e,
// with tag (entryTag), is stored in slot, with its MAC.
func (k *keySet) expiryValue(id ID, slot []byte, e *entry, tag []byte) ([]byte, error) {
	b, err := expiryBody(id, slot, e, tag)
	if err != nil {
		return nil, err
	}
	return append(b, k.mac(macExpiry, slot, b)[:expiryMACLen]...), nil
}

// expiryBody is expiryValue without its MAC.
func expiryBody(id ID, slot []byte, e *entry, tag []byte) ([]byte, error) {
	if len(slot) != 8 || len(tag) != expiryTagLen {
		return nil, recordErr(id, fmt.Errorf("malformed slot: %w", ErrTampered))
	}
	b := make([]byte, 0, expiryLen)
	b = append(b, id[:]...)
	b = binary.BigEndian.AppendUint32(b, dateNum(e.RetainUntil))
	var flags byte
	if e.Held {
		flags |= 1
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint64(b, e.Stage)
	b = append(b, tag...)
	return b, nil
}

// expiryReader checks expiry metadata with one keyed HMAC, reset for each
// record rather than cloned: Expire checks one per record.
type expiryReader struct {
	h   hash.Hash
	sum []byte
}

func (k *keySet) newExpiryReader() *expiryReader {
	return &expiryReader{h: k.macHash(), sum: make([]byte, 0, macLen)}
}

// read decodes the expiry metadata val stored under slot, which the ID map
// says is record id's; ok is false if it is malformed, its MAC is wrong (it
// was moved from another slot) or it is another record's.
// The slot and entry tag alias the arguments.
func (r *expiryReader) read(id ID, slot, val []byte) (s expiryState, ok bool) {
	if len(val) != expiryLen {
		return s, false
	}
	body := val[:expiryBodyLen]
	r.h.Reset()
	writePart(r.h, []byte(macExpiry))
	writePart(r.h, slot)
	writePart(r.h, body)
	r.sum = r.h.Sum(r.sum[:0])
	if !hmac.Equal(r.sum[:expiryMACLen], val[expiryBodyLen:]) || ID(body[:8]) != id {
		return s, false
	}
	date, flags := binary.BigEndian.Uint32(body[8:12]), body[12]
	s = expiryState{
		slot: slot, retainUntil: numDate(uint64(date)), held: flags&1 != 0,
		stage: binary.BigEndian.Uint64(body[13:21]), entryTag: body[21:],
	}
	// One encoding per state, as for entries.
	if flags&^1 != 0 || dateNum(s.retainUntil) != date {
		return s, false
	}
	return s, true
}

// putExpiry writes the expiry metadata of the entry e just stored as raw in
// slot. A vault without the bucket gets it whole when it is built (Unlock).
func (v *Vault) putExpiry(tx *txn, slot []byte, e *entry, raw []byte) error {
	b := tx.Bucket(bucketExpiry)
	if b == nil {
		return nil
	}
	val, err := v.keys.expiryValue(e.ID, slot, e, entryTag(raw))
	if err != nil {
		return err
	}
	return b.Put(clone(slot), val)
}

// refreshExpiry rewrites the expiry metadata of record id from its stored
// entry, which it authenticates first.
func (v *Vault) refreshExpiry(tx *txn, id ID) error {
	slot := tx.Bucket(bucketIDs).Get(id[:])
	if slot == nil {
		return recordErr(id, ErrNotFound)
	}
	raw := tx.Bucket(bucketRecords).Get(slot)
	if !authentic(v.keys, id, raw) {
		return recordErr(id, ErrTampered)
	}
	e, err := unmarshalEntry(raw)
	if err != nil {
		return recordErr(id, err)
	}
	return v.putExpiry(tx, clone(slot), e, raw)
}

// deleteExpiry deletes the expiry metadata of the record in slot.
func deleteExpiry(tx *txn, slot []byte) error {
	if b := tx.Bucket(bucketExpiry); b != nil {
		return b.Delete(slot)
	}
	return nil
}

// buildExpiry makes the expiry bucket of a vault that predates it, in one
// transaction, from every record's authenticated entry. Entries that fail
// their MAC get no metadata: Verify reports them, and Expire reads such a
// record's entry, and stops on it, as it did before the bucket existed.
func (v *Vault) buildExpiry() error {
	if v.opts.ReadOnly {
		return nil
	}
	exists := false
	if err := v.view(func(tx *txn) error {
		exists = tx.Bucket(bucketExpiry) != nil
		return nil
	}); err != nil || exists {
		return err
	}
	return v.update(func(tx *txn) error {
		defer readAround(tx)() // every entry, once
		b, err := tx.CreateBucketIfNotExists(bucketExpiry)
		if err != nil {
			return err
		}
		recs := tx.Bucket(bucketRecords)
		c := tx.Bucket(bucketIDs).Cursor()
		for k, slot := c.First(); k != nil; k, slot = c.Next() {
			if len(k) != len(ID{}) {
				continue
			}
			id := ID(k)
			raw := recs.Get(slot)
			if !authentic(v.keys, id, raw) {
				continue
			}
			e, err := unmarshalEntry(raw)
			if err != nil {
				continue
			}
			val, err := v.keys.expiryValue(id, slot, e, entryTag(raw))
			if err != nil {
				continue
			}
			if err := b.Put(clone(slot), val); err != nil {
				return err
			}
		}
		return nil
	})
}
