package vault

import (
	"encoding/binary"

	"github.com/clientvault/clientvault/records"
)

// verifyDirectory checks the client directory (bucketDirectory) against the
// records Verify opened (checked, by ID): every visible record has its row
// in its own slot, the row opens under the directory key with the record's
// ID and stage, and it says what the record and its entry say now; no row
// is left for a record not in the vault (but for the rows of an interrupted
// bulk add, which go with it). Problems name the record. A vault made
// before the directory existed has none until an Unlock that may write
// builds it: that is not a problem.
func (v *Vault) verifyDirectory(checked map[ID]*records.Record, add func(rec, format string, args ...any)) error {
	return v.view(func(tx *txn) error {
		if !directoryReady(tx) {
			return nil // none yet, or an interrupted build the next writer redoes
		}
		dir := tx.Bucket(bucketDirectory)
		ids, recs := tx.Bucket(bucketIDs), tx.Bucket(bucketRecords)
		o := v.keys.newDirOpener()
		// Through the unlock agent, every row is opened in one batch first;
		// if one does not open, they are opened one by one to name it.
		pre := map[string]dirRow{}
		if o.remote != nil {
			var slots, vals [][]byte
			if err := dir.ForEach(func(k, val []byte) error {
				slots, vals = append(slots, clone(k)), append(vals, clone(val))
				return nil
			}); err != nil {
				return err
			}
			if rows, _, err := o.openAll(slots, vals); err == nil {
				for i, r := range rows {
					pre[string(slots[i])] = r
				}
			}
		}
		open := func(slot, val []byte) (dirRow, error) {
			if r, ok := pre[string(slot)]; ok {
				return r, nil
			}
			return o.open(slot, val)
		}
		own := map[string]bool{} // slots whose row is a present record's
		c := ids.Cursor()
		for k, slot := c.First(); k != nil; k, slot = c.Next() {
			if len(k) != len(ID{}) {
				continue // reported with the ID map
			}
			id := ID(k)
			own[string(slot)] = true
			rec := checked[id]
			if rec == nil {
				continue // staged, or its entry is reported
			}
			e, err := unmarshalEntry(recs.Get(slot))
			if err != nil {
				continue // reported with the entry
			}
			val := dir.Get(slot)
			if val == nil {
				add(id.String(), "its directory entry is missing")
				continue
			}
			row, err := open(slot, val)
			if err != nil || row.id != id || row.stage != e.Stage {
				add(id.String(), "%v", errDirRow)
				continue
			}
			d, ok := decodeDir(row.plain)
			want := directoryFields(rec)
			want.retainUntil, want.held = e.RetainUntil, e.Held
			if !ok || *d.fields() != *want {
				add(id.String(), "its directory entry does not match its record (stale)")
			}
		}
		dc := dir.Cursor()
		for k, val := dc.First(); k != nil; k, val = dc.Next() {
			if own[string(k)] {
				continue
			}
			if len(val) < dirHeadLen {
				add("", "a directory entry in slot %x is malformed", k)
				continue
			}
			if stage := binary.BigEndian.Uint64(val[9:17]); stage != 0 && tx.pending[stage] {
				continue // an interrupted bulk add's, which goes with it
			}
			id := ID(val[1:9])
			if _, err := open(k, val); err != nil {
				add(id.String(), "a directory entry in slot %x: tampered with", k)
				continue
			}
			add(id.String(), "a directory entry for a record that is not in the vault, or not in that slot (orphaned)")
		}
		return nil
	})
}
