package vault

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
)

// What a restore keeps of the vault it replaces, besides its erasures
// (backup.go): a backup is older than the vault, and putting it back must
// not undo what protected a client since. So every withdrawal of consent,
// removal of a share and removal of a coworker recorded after the backup is
// applied again; every disclosure record is kept (the accounting of
// disclosures is owed to the client whatever is restored); and the audit
// entries the backup does not have are kept as an archived segment of the
// log, whose chain still verifies, instead of being dropped.

// bucketArchive holds archived segments of the audit log: key = segment
// number (8 bytes) || the entry's sequence number (8 bytes), value = the
// entry as it was stored (mac || JSON); and per segment, under the entry
// number math.MaxUint64, its head: base seq || base mac || last seq ||
// last mac || MAC.

const macArchive = "clientvault/v2/archive-head"

// revocations are the actions a restore applies again.
var revocations = map[string]bool{ActionConsentRevoke: true, ActionUnshare: true, ActionStaffRemove: true}

// replaced is what Restore reads of the vault it replaces.
type replaced struct {
	revoked     []Event     // consent withdrawals, unshares, staff removals after the backup
	disclosures [][2][]byte // every disclosure record: key, value
	tail        [][2][]byte // the audit entries after base: key, value
	base        uint64      // the last entry the backup shares
	baseTag     []byte
}

// readReplaced reads, in the vault's transaction tx, what a restore from a
// backup sharing the log up to entry base keeps.
func (v *Vault) readReplaced(tx *txn, base uint64) (*replaced, error) {
	r := &replaced{base: base}
	err := v.walkAudit(tx, func(e Event) error {
		if e.Seq > base && revocations[e.Action] {
			r.revoked = append(r.revoked, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if base > 0 {
		if at := tx.Bucket(bucketAudit).Get(seqKey(base)); len(at) >= macLen {
			r.baseTag = clone(at[:macLen])
		}
	}
	c := tx.Bucket(bucketAudit).Cursor()
	for k, val := c.Seek(seqKey(base + 1)); k != nil; k, val = c.Next() {
		r.tail = append(r.tail, [2][]byte{clone(k), clone(val)})
	}
	err = tx.Bucket(bucketDisclosures).ForEach(func(k, val []byte) error {
		r.disclosures = append(r.disclosures, [2][]byte{clone(k), clone(val)})
		return nil
	})
	return r, err
}

// reapply applies r to the restored vault in its transaction tx and
// returns what it did, in words for the report (IDs and staff names only).
func (v *Vault) reapply(tx *txn, r *replaced) ([]string, error) {
	var done []string
	for _, e := range r.revoked {
		id, _ := ParseID(e.Record)
		switch e.Action {
		case ActionStaffRemove:
			if tx.Bucket(bucketStaff).Get([]byte(e.Staff)) == nil {
				continue
			}
			if _, _, err := v.removeStaff(tx, e.Staff); err != nil {
				return nil, err
			}
			done = append(done, "removed coworker "+e.Staff)
		case ActionConsentRevoke:
			cs, err := v.consentsOf(tx, id)
			if err != nil {
				return nil, err
			}
			for _, sc := range cs {
				if sc.To != e.Staff || !sc.WithdrawnAt.IsZero() || sc.GivenAt.After(e.Time) {
					continue
				}
				if err := sc.Withdraw(e.Time, ReasonReapplied); err != nil {
					return nil, err
				}
				key := recordObjectKey(id, mustHex(sc.ID))
				if err := v.putObject(tx, bucketConsents, macConsent, key, []byte(sc.uid), &sc.Consent); err != nil {
					return nil, err
				}
				done = append(done, fmt.Sprintf("withdrew consent %s (record %s, %s)", sc.ID, id, e.Staff))
			}
			if err := v.resyncShare(tx, id, nil, e.Staff, false); err != nil {
				return nil, err
			}
		case ActionUnshare:
			k := shareKeyOf(id, e.Staff)
			if tx.Bucket(bucketShares).Get(k) == nil {
				continue
			}
			if err := tx.Bucket(bucketShares).Delete(k); err != nil {
				return nil, err
			}
			done = append(done, fmt.Sprintf("removed the share of record %s with %s", id, e.Staff))
		}
	}
	b := tx.Bucket(bucketDisclosures)
	for _, kv := range r.disclosures {
		if b.Get(kv[0]) == nil {
			if err := b.Put(kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
	}
	return done, nil
}

// archiveTail keeps r's tail of the replaced log as a new archived segment
// and returns its number (0 if the tail is empty).
func (v *Vault) archiveTail(tx *txn, r *replaced) (uint64, error) {
	if len(r.tail) == 0 {
		return 0, nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketArchive)
	if err != nil {
		return 0, err
	}
	var n uint64 = 1
	if k, _ := b.Cursor().Last(); len(k) == 16 {
		n = binary.BigEndian.Uint64(k) + 1
	}
	for _, kv := range r.tail {
		if err := b.Put(append(seqKey(n), kv[0]...), kv[1]); err != nil {
			return 0, err
		}
	}
	last := r.tail[len(r.tail)-1]
	head := binary.BigEndian.AppendUint64(nil, r.base)
	head = append(head, padTag(r.baseTag)...)
	head = append(head, last[0]...)
	head = append(head, last[1][:macLen]...)
	head = append(head, v.keys.mac(macArchive, seqKey(n), head)...)
	return n, b.Put(append(seqKey(n), seqKey(math.MaxUint64)...), head)
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

func padTag(t []byte) []byte {
	if len(t) == macLen {
		return t
	}
	return make([]byte, macLen)
}

// verifyArchive checks every archived segment: its head's MAC, and the
// chain of its entries from the base entry's mac to the last's.
func (v *Vault) verifyArchive(tx *txn) error {
	b := tx.Bucket(bucketArchive)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	k, _ := c.First()
	for k != nil {
		if len(k) != 16 {
			return fmt.Errorf("archived audit log: a malformed key: %w", ErrTampered)
		}
		seg := clone(k[:8])
		head := b.Get(append(clone(seg), seqKey(math.MaxUint64)...))
		bad := fmt.Errorf("archived audit log segment %d: %w", binary.BigEndian.Uint64(seg), ErrTampered)
		if len(head) != 8+macLen+8+macLen+macLen || !hmac.Equal(head[len(head)-macLen:], v.keys.mac(macArchive, seg, head[:len(head)-macLen])) {
			return bad
		}
		prev := head[8 : 8+macLen]
		if binary.BigEndian.Uint64(head) == 0 {
			prev = nil
		}
		want := binary.BigEndian.Uint64(head) + 1
		var val []byte
		// The inner loop leaves k at the next segment's first key.
		for k, val = c.Seek(seg); k != nil && bytes.HasPrefix(k, seg); k, val = c.Next() {
			s := binary.BigEndian.Uint64(k[8:])
			if s == math.MaxUint64 {
				continue
			}
			if s != want || len(val) < macLen || !hmac.Equal(val[:macLen], v.keys.mac(macAudit, prev, val[macLen:])) {
				return bad
			}
			prev, want = val[:macLen], want+1
		}
		if want-1 != binary.BigEndian.Uint64(head[8+macLen:]) || !hmac.Equal(prev, head[8+macLen+8:8+macLen+8+macLen]) {
			return bad
		}
	}
	return nil
}
