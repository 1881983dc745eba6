package vault

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"errors"
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
	var stage uint64
	// Staged batches only append entries to the records bucket. The IDs'
	// slots and the index entries are all written by the final
	// transaction, in key order: written batch by batch, their random keys
	// would rewrite most of those buckets' pages at every commit, and the
	// freed pages would stay in the file.
	var published []publishedRecord
	// commit writes one batch in one transaction; the final one publishes
	// the stage and appends the audit entry.
	commit := func(batch []*sealed, final bool) error {
		return v.db.Update(func(tx *bolt.Tx) error {
			if stage == 0 && !final {
				var err error
				if stage, err = v.beginStage(tx); err != nil {
					return err
				}
			}
			recs := tx.Bucket(bucketRecords)
			// Slots only ever grow, so pages fill completely.
			recs.FillPercent = 1.0
			for _, s := range batch {
				s.entry.Stage = stage
				slot, err := recs.NextSequence()
				if err != nil {
					return err
				}
				key := seqKey(slot)
				if err := recs.Put(key, s.entry.marshal(v.keys)); err != nil {
					return err
				}
				published = append(published, publishedRecord{id: s.entry.ID, slot: key, tags: s.tags})
			}
			if !final {
				return nil
			}
			if err := publish(tx, published); err != nil {
				return err
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
	}
	// A full batch is committed in the background while the next one is
	// sealed, so that the workers never wait for the disk; at most one
	// commit runs at a time (bbolt has one writer), and callbacks run on
	// this goroutine.
	var inflight chan error
	var inflightN int
	// wait waits for the commit in flight, or with block false only
	// checks whether it is done, so that Progress is called soon after.
	wait := func(block bool) error {
		if inflight == nil {
			return nil
		}
		var err error
		if block {
			err = <-inflight
		} else {
			select {
			case err = <-inflight:
			default:
				return nil
			}
		}
		inflight = nil
		if err == nil && o.Progress != nil {
			o.Progress(inflightN)
		}
		return err
	}
	// A full batch is sent off only when the next record arrives, so that
	// the last batch goes into the final transaction rather than into a
	// commit of its own that nothing else overlaps.
	batch := make([]*sealed, 0, o.BatchSize)
	err := sealAll(ctx, next, prepare, func(s *sealed) error {
		if err := wait(false); err != nil {
			return err
		}
		if len(batch) >= o.BatchSize {
			if err := wait(true); err != nil {
				return err
			}
			full := batch
			batch = make([]*sealed, 0, o.BatchSize)
			done := make(chan error, 1)
			inflight, inflightN = done, len(ids)
			go func() { done <- commit(full, false) }()
		}
		ids = append(ids, s.entry.ID)
		if o.Sealed != nil {
			o.Sealed(v.stored(s.entry, s.record))
		}
		batch = append(batch, s)
		return nil
	})
	if werr := wait(true); err == nil {
		err = werr
	}
	if err == nil {
		err = commit(batch, true)
		if err == nil && o.Progress != nil {
			o.Progress(len(ids))
		}
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

// publishedRecord is what makes a stored entry findable: its ID's slot and
// its blind index tags.
type publishedRecord struct {
	id   ID
	slot []byte
	tags [][]byte
}

// publish maps each record's ID to its slot and writes its index entries,
// in key order, so that a bulk add fills each page as it writes it.
func publish(tx *bolt.Tx, recs []publishedRecord) error {
	slices.SortFunc(recs, func(a, b publishedRecord) int { return bytes.Compare(a.id[:], b.id[:]) })
	ids := tx.Bucket(bucketIDs)
	ids.FillPercent = 1.0
	keys := make([][]byte, 0, 2*len(recs))
	for _, r := range recs {
		if ids.Get(r.id[:]) != nil {
			return recordErr(r.id, errors.New("ID already in use"))
		}
		if err := ids.Put(r.id[:], r.slot); err != nil {
			return err
		}
		for _, t := range r.tags {
			keys = append(keys, append(clone(t), r.id[:]...))
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	idx := tx.Bucket(bucketIndex)
	idx.FillPercent = 1.0
	for _, k := range keys {
		if err := idx.Put(k, []byte{}); err != nil {
			return err
		}
	}
	return nil
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
