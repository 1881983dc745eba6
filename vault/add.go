package vault

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/clientvault/clientvault/records"
	bolt "go.etcd.io/bbolt"
)

// AddOptions tune Add.
type AddOptions struct {
	// BatchSize is how many records go into one transaction; 0 means 1000.
	// An add of more than one batch is staged: its batches are invisible
	// until one small final transaction publishes them all, so a killed add
	// leaves the vault as it was.
	BatchSize int
	// Progress, if set, is called after each batch with the number of
	// records written so far.
	Progress func(written int)
	// Action and Detail name the add in the audit log ("add", "import").
	Action string
	Detail string
	// Sealed, if set, is called with each record as it will be stored, in
	// input order, before the add is committed (the add may still fail).
	Sealed func(*Stored)
}

// Add validates, seals and stores every record next returns (io.EOF after the
// last), sealing on all cores and writing in batches, and returns their IDs
// in input order. It is all or nothing: on any error no record is added.
// The audit log gets one entry listing the new IDs.
func (v *Vault) Add(ctx context.Context, next func() (*records.Record, error), o AddOptions) ([]ID, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Action == "" {
		o.Action = "add"
	}
	now := v.now()
	today := records.DateOf(now)
	prepare := func(s *sealed) error {
		rec := s.record
		if err := rec.Validate(today); err != nil {
			return indexed(s.n, fmt.Errorf("%w: %s", ErrInvalid, joinLines(err)))
		}
		id, err := newID()
		if err != nil {
			return err
		}
		for i := range rec.Treatments {
			rec.Treatments[i].N = i + 1
		}
		e := &entry{ID: id, Created: now.Truncate(1e9), Updated: now.Truncate(1e9)}
		e.RetainUntil = v.hdr.Retention.RetainUntil(rec.LastVisit(), records.DateOf(e.Created), rec.DOB)
		if err := v.keys.seal(e, rec, nil); err != nil {
			return err
		}
		s.entry, s.tags = e, v.keys.indexTags(rec)
		if o.Sealed == nil {
			s.record = nil // let the plaintext go as soon as it is sealed
		}
		return nil
	}

	var ids []ID
	var batch []*sealed
	var stage uint64
	flush := func(final bool) error {
		if len(batch) == 0 && !final {
			return nil
		}
		err := v.db.Update(func(tx *bolt.Tx) error {
			if stage == 0 && !final {
				var err error
				if stage, err = v.beginStage(tx); err != nil {
					return err
				}
			}
			for _, s := range batch {
				s.entry.Stage = stage
				if err := v.putEntry(tx, s.entry); err != nil {
					return err
				}
				if err := putIndex(tx, s.entry.ID, s.tags); err != nil {
					return err
				}
			}
			if !final {
				return nil
			}
			if stage != 0 {
				if err := tx.Bucket(bucketStages).Delete(seqKey(stage)); err != nil {
					return err
				}
			}
			ev := Event{Action: o.Action, Detail: o.Detail, Count: len(ids), Records: idStrings(ids)}
			if len(ids) == 1 {
				ev.Record, ev.Records = ids[0].String(), nil
			}
			return v.appendAudit(tx, ev)
		})
		if err != nil {
			return err
		}
		batch = batch[:0]
		if o.Progress != nil {
			o.Progress(len(ids))
		}
		return nil
	}
	err := sealAll(ctx, next, prepare, func(s *sealed) error {
		ids = append(ids, s.entry.ID)
		if o.Sealed != nil {
			o.Sealed(v.stored(s.entry, s.record))
		}
		batch = append(batch, s)
		if len(batch) >= o.BatchSize {
			return flush(false)
		}
		return nil
	})
	if err == nil {
		err = flush(true)
	}
	if err != nil {
		if stage != 0 {
			// Best effort: the stage is invisible either way, and the next
			// command that opens the vault for writing removes it.
			v.pending[stage] = true
			_ = v.discardStages()
		}
		return nil, err
	}
	return ids, nil
}

// beginStage records a new stage, MAC'd, with the first slot its entries
// will take, so that an interrupted add can be found and removed.
func (v *Vault) beginStage(tx *bolt.Tx) (uint64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	stage := binary.BigEndian.Uint64(b[:]) | 1
	first := tx.Bucket(bucketRecords).Sequence() + 1
	val := binary.BigEndian.AppendUint64(nil, first)
	val = append(val, v.keys.mac(macObject, []byte("stage"), seqKey(stage), val)...)
	if err := tx.Bucket(bucketStages).Put(seqKey(stage), val); err != nil {
		return 0, err
	}
	return stage, nil
}

// discardStages removes the entries of every stage that was never
// published (an add that was killed or failed), in batches, and then the
// stages themselves.
func (v *Vault) discardStages() error {
	for stage := range v.pending {
		var first uint64
		err := v.db.View(func(tx *bolt.Tx) error {
			val := tx.Bucket(bucketStages).Get(seqKey(stage))
			if val == nil {
				return nil
			}
			if len(val) != 8+macLen || !hmac.Equal(val[8:], v.keys.mac(macObject, []byte("stage"), seqKey(stage), val[:8])) {
				return fmt.Errorf("staged add: %w", ErrTampered)
			}
			first = binary.BigEndian.Uint64(val[:8])
			return nil
		})
		if err != nil {
			return err
		}
		for more := first != 0; more; {
			err := v.db.Update(func(tx *bolt.Tx) error {
				var err error
				more, err = v.discardBatch(tx, stage, first, 5000)
				if err != nil || more {
					return err
				}
				return tx.Bucket(bucketStages).Delete(seqKey(stage))
			})
			if err != nil {
				return err
			}
		}
		delete(v.pending, stage)
	}
	return nil
}

// discardBatch deletes up to max entries of stage from slot first on, with
// their ID mappings and index entries; more is true when some remain.
func (v *Vault) discardBatch(tx *bolt.Tx, stage, first uint64, max int) (more bool, err error) {
	gone := map[ID]bool{}
	c := tx.Bucket(bucketRecords).Cursor()
	var doomed [][]byte
	for k, val := c.Seek(seqKey(first)); k != nil; k, val = c.Next() {
		e, err := unmarshalEntry(val)
		if err != nil || e.Stage != stage {
			continue
		}
		if len(gone) == max {
			more = true
			break
		}
		gone[e.ID] = true
		doomed = append(doomed, clone(k))
	}
	for _, k := range doomed {
		if err := tx.Bucket(bucketRecords).Delete(k); err != nil {
			return false, err
		}
	}
	for id := range gone {
		if err := tx.Bucket(bucketIDs).Delete(id[:]); err != nil {
			return false, err
		}
	}
	idx := tx.Bucket(bucketIndex)
	var stale [][]byte
	err = idx.ForEach(func(k, _ []byte) error {
		if len(k) == tagLen+8 && gone[ID(k[tagLen:])] {
			stale = append(stale, clone(k))
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	for _, k := range stale {
		if err := idx.Delete(k); err != nil {
			return false, err
		}
	}
	return more, nil
}

func idStrings(ids []ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	slices.Sort(out)
	return out
}
