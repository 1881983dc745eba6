package vault

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/clientvault/clientvault/records"
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
	w := v.newBulk(o)
	err := sealAll(ctx, recordsIn(next), v.prepareNew(o.Sealed == nil, w.stage), func(s *sealed) error {
		if o.Sealed != nil {
			o.Sealed(v.stored(s.entry, s.record))
		}
		return w.put(s)
	}, v.keys.primeTags)
	if err == nil {
		err = w.finish(nil)
	}
	if err != nil {
		w.abort()
		return nil, err
	}
	return w.ids, nil
}

// prepareNew returns the sealing step for new records: validate, assign an
// ID and treatment numbers, compute retention, seal, compute index tags.
// With drop, the plaintext is let go as soon as it is sealed. stage is the
// bulk write's (see bulk.stage).
func (v *Vault) prepareNew(drop bool, stage uint64) func(*sealed) error {
	seal := v.sealNew(drop, stage)
	today := records.DateOf(v.now())
	return func(s *sealed) error {
		if err := s.record.Validate(today); err != nil {
			return indexed(s.n, fmt.Errorf("%w: %s", ErrInvalid, joinLines(err)))
		}
		return seal(s)
	}
}

// sealNew is prepareNew for records that were validated already (Import
// validates each row itself, to report a bad one rather than fail). The
// entry is encoded and authenticated here, on the sealing workers, under
// the bulk write's stage, so the committer only stores its bytes.
func (v *Vault) sealNew(drop bool, stage uint64) func(*sealed) error {
	now := v.now()
	return func(s *sealed) error {
		rec := s.record
		id, err := newID()
		if err != nil {
			return err
		}
		for i := range rec.Treatments {
			rec.Treatments[i].N = i + 1
		}
		e := &entry{ID: id, Created: now.Truncate(time.Second), Updated: now.Truncate(time.Second), Stage: stage}
		e.RetainUntil = retainUntil(v.hdr.Retention, e.Created, rec)
		e.dir = directoryFields(rec)
		raw, err := v.keys.sealEntry(e, rec)
		if err != nil {
			return err
		}
		s.entry, s.raw, s.tags = e, raw, v.keys.sealTags(rec)
		if drop {
			s.record = nil
		}
		return nil
	}
}

// bulk writes new records in batches. The first full batch opens a stage:
// staged entries are invisible until finish publishes them in one small
// transaction, so an interrupted bulk write leaves the vault as it was.
// Batches are committed on their own goroutine while sealing goes on.
type bulk struct {
	v     *Vault
	o     AddOptions
	ids   []ID
	batch []*sealed
	// stage is chosen up front, so that the sealing workers can encode and
	// authenticate entries under it; its record is written with the first
	// staged batch. The entries of an add that fits in one batch carry it
	// too, but no stage record: they are visible as soon as written.
	stage   uint64
	commits chan []*sealed
	done    chan error
	written int
	failed  error
	started bool // the committer runs
	stopped bool // commits is closed
	// doneRead is set once the committer's result was received.
	doneRead bool
	// published lists the written records whose ID map and index entries
	// are not written yet. Staged batches only append entries to the
	// records bucket; the IDs' slots and the index entries are written
	// later, many at a time and in key order (every publishEvery records
	// and at the end, in key ranges: publishStaged): written batch by
	// batch, their random keys would rewrite most of those buckets' pages
	// at every commit, and the freed pages would stay in the file.
	published []publishedRecord
	// later is the batch size, on an engine with limits (etcd), once the
	// committer has found the vault past eagerPublish (past): its batches
	// publish nothing then, and hold more records within the same limits.
	// eagerMax is the most records a batch publishes in its own
	// transaction: a batch made larger before the committer found the vault
	// past eagerPublish is published later, with the others.
	later, eagerMax int
	past            atomic.Bool
}

func (v *Vault) newBulk(o AddOptions) *bulk {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	// A record's entry, expiry row and directory row, and their ID map and
	// index entries when published in the same transaction: 6 keys and
	// about 2 KB for a record of 1 KB of JSON (4 KB budgeted). Once the
	// vault is past eagerPublish, a batch writes the first three alone, and
	// may hold twice as many records.
	var later int
	if n := v.perTxn(6, 4<<10); n > 0 {
		later = min(o.BatchSize, v.perTxn(3, 4<<10))
		o.BatchSize = min(o.BatchSize, n)
	}
	if o.Action == "" {
		o.Action = ActionAdd
	}
	return &bulk{v: v, o: o, stage: newStage(), later: later, eagerMax: o.BatchSize}
}

// newStage returns a random non-zero stage number.
func newStage() uint64 {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return binary.BigEndian.Uint64(b[:]) | 1
}

// put queues one sealed record. A full batch is sent to the committer only
// when the next record arrives, so that the last batch goes into the final
// transaction rather than into a commit of its own.
func (w *bulk) put(s *sealed) error {
	if w.failed != nil {
		return w.failed
	}
	if len(w.batch) >= w.batchSize() {
		if err := w.send(); err != nil {
			return err
		}
	}
	w.ids = append(w.ids, s.entry.ID)
	w.batch = append(w.batch, s)
	return nil
}

// batchSize is how many records the next batch holds.
func (w *bulk) batchSize() int {
	if w.later > 0 && w.past.Load() {
		return max(w.o.BatchSize, w.later)
	}
	return w.o.BatchSize
}

// send hands the full batch to the committer, starting it with the first
// batch.
func (w *bulk) send() error {
	if !w.started {
		w.commits, w.done = make(chan []*sealed, 1), make(chan error, 1)
		go w.committer()
		w.started = true
	}
	select {
	case w.commits <- w.batch:
	case err := <-w.done:
		// The committer stopped on an error and drains commits until closed.
		w.doneRead, w.failed = true, err
		return err
	}
	w.batch = make([]*sealed, 0, w.batchSize())
	return nil
}

// committer writes staged batches in order until commits is closed. The
// first batch's transaction records the stage, so that an add killed after
// it is found and removed. While the vault is small (eagerPublish), a
// batch's records are published in its own transaction.
func (w *bulk) committer() {
	first := true
	for batch := range w.commits {
		// The transaction may run again on etcd (a conflict with another
		// writer): it starts each time from the records not yet published.
		n0, published := len(w.published), false
		err := w.v.update(func(tx *txn) error {
			w.published, published = w.published[:n0], false
			if first {
				if err := w.v.writeStage(tx, w.stage); err != nil {
					return err
				}
			} else if err := w.stageThere(tx); err != nil {
				return err
			}
			if err := w.writeBatch(tx, batch); err != nil {
				return err
			}
			if tx.Bucket(bucketRecords).Sequence() > eagerPublish {
				w.past.Store(true)
				return nil
			}
			if len(w.published) > w.eagerMax {
				return nil
			}
			published = true
			return publish(tx, w.published)
		})
		if err == nil {
			letGo(batch)
		}
		if err == nil && published {
			clear(w.published)
			w.published = w.published[:0]
		}
		first = false
		if err == nil && len(w.published) >= publishEvery {
			err = w.publishStaged()
		}
		if err != nil {
			w.done <- err
			for range w.commits {
			}
			return
		}
		w.written += len(batch)
		w.v.dropMapped()
		if w.o.Progress != nil {
			w.o.Progress(w.written)
		}
	}
	w.done <- nil
}

// finish writes what is left and publishes everything in one transaction,
// with the audit event; extra, if set, runs in that transaction too.
func (w *bulk) finish(extra func(tx *txn) error) error {
	if w.failed != nil {
		return w.failed
	}
	if err := w.stopCommitter(); err != nil {
		w.failed = err
		return err
	}
	// A staged add whose ID map and index entries would touch more than
	// one publishing transaction's share of those trees makes them findable
	// (under the stage) before the final transaction, which then only ends
	// the stage: see publishStaged.
	if w.started && w.publishParts(len(w.batch)) > 1 {
		n0 := len(w.published)
		err := w.v.update(func(tx *txn) error {
			w.published = w.published[:n0] // from the start again, if run again
			if err := w.stageThere(tx); err != nil {
				return err
			}
			return w.writeBatch(tx, w.batch)
		})
		if err == nil {
			letGo(w.batch)
			w.batch = nil
			err = w.publishStaged()
		}
		if err != nil {
			w.failed = err
			return err
		}
		w.v.dropMapped()
	}
	n0 := len(w.published)
	err := w.v.update(func(tx *txn) error {
		w.published = w.published[:n0] // from the start again, if run again
		if w.started {
			if err := w.stageThere(tx); err != nil {
				return err
			}
		}
		if err := w.writeBatch(tx, w.batch); err != nil {
			return err
		}
		if err := publish(tx, w.published); err != nil {
			return err
		}
		if w.started {
			if err := endStage(tx, w.stage); err != nil {
				return err
			}
		}
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		ev := Event{Action: w.o.Action, Detail: w.o.Detail, Count: len(w.ids)}
		switch len(w.ids) {
		case 0:
			return w.v.appendAudit(tx, ev)
		case 1:
			ev.Record = w.ids[0].String()
			return w.v.appendAudit(tx, ev)
		}
		return w.v.appendAuditIDs(tx, ev, sortedIDs(w.ids))
	})
	if err != nil {
		w.failed = err
		return err
	}
	letGo(w.batch)
	w.published = nil
	if w.o.Progress != nil {
		w.o.Progress(len(w.ids))
	}
	return nil
}

// stopCommitter closes the committer's queue and waits for it to end,
// returning its error.
func (w *bulk) stopCommitter() error {
	if !w.started || w.stopped {
		return nil
	}
	w.stopped = true
	close(w.commits)
	if w.doneRead {
		return nil
	}
	w.doneRead = true
	return <-w.done
}

// stageThere fails when the bulk write's stage is no longer there: on a
// shared engine (etcd), a command that opened the vault on another computer
// took the add for an interrupted one and removed what it had staged (see
// Unlock). Entries written under the stage now would be visible at once,
// and IDs published would lead to removed entries: the add stops, and
// writes nothing more.
func (w *bulk) stageThere(tx *txn) error {
	gone := tx.Bucket(bucketStages).Get(seqKey(w.stage)) == nil
	if b := tx.Bucket(bucketStageBeats); b != nil {
		if t := b.Get(seqKey(w.stage)); t != nil && len(t) == 0 {
			gone = true // being removed (discardStage)
		}
	}
	if gone {
		return fmt.Errorf("%w: another command removed what this add had staged, taking it for an interrupted add; nothing was added", ErrBusy)
	}
	return w.v.beat(tx, w.stage)
}

// stageAlive is how long, on a shared engine, a staged add that wrote
// nothing is taken for one still going on (on another computer): a command
// that unlocks the vault removes only the stages older than that. Each
// transaction of a staged add beats (stagebeats), so an add is seconds
// apart at most between beats. On a file, the lock says it: a stage found
// by the next writer is always an interrupted add's.
var stageAlive = 2 * time.Minute

// beat records, on a shared engine, that the add of stage is going on now.
func (v *Vault) beat(tx *txn, stage uint64) error {
	if v.remote == nil {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketStageBeats)
	if err != nil {
		return err
	}
	return b.Put(seqKey(stage), binary.BigEndian.AppendUint64(nil, uint64(time.Now().Unix())))
}

// endStage removes the record of stage, and its beat.
func endStage(tx *txn, stage uint64) error {
	if b := tx.Bucket(bucketStageBeats); b != nil {
		if err := b.Delete(seqKey(stage)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketStages).Delete(seqKey(stage))
}

// alive reports whether the add of stage beat less than stageAlive ago.
func (v *Vault) alive(stage uint64) bool {
	if v.remote == nil {
		return false
	}
	alive := false
	_ = v.view(func(tx *txn) error {
		if b := tx.Bucket(bucketStageBeats); b != nil {
			if t := b.Get(seqKey(stage)); len(t) == 8 {
				alive = time.Since(time.Unix(int64(binary.BigEndian.Uint64(t)), 0)) < stageAlive
			}
		}
		return nil
	})
	return alive
}

// abort stops the committer and removes what was staged: its own stage
// only, for on etcd another computer's may be an add going on. The stage is
// invisible either way; if removal fails, the next command that writes
// removes it.
func (w *bulk) abort() {
	w.stopCommitter()
	if w.started {
		w.v.pending[w.stage] = true
		_ = w.v.discardStage(w.stage)
	}
}

// publishEvery is how many staged records a bulk write keeps to publish
// (about 70 bytes each) before it writes their ID map and index entries
// early, in transactions of their own under the stage (publishStaged): an
// add of a million records keeps memory flat. Early-published IDs lead to
// staged entries, which stay invisible (getEntry) until the final
// transaction ends the stage, and are removed with them if the add is
// interrupted.
var publishEvery = 100_000

// eagerPublish is how many slots a vault may have used for a staged batch
// to publish its records at once rather than keep them for later. While the
// ID map and the index are this small, a commit rewrites few of their pages
// whatever keys it adds, and what is published early is not left for the
// final transaction, which the whole add waits for (publishing 10,000
// records took about 5% of their add). The pages that early commits rewrite
// are left free in the file: with 8192, a vault of 100,000 records added at
// once is 2% larger (1.55 times its JSON, not 1.52; 16384 made it 1.61, over
// issue 2's 1.6).
var eagerPublish uint64 = 8192

// writeBatch appends a batch of sealed entries to the records bucket, under
// the bulk write's stage (0 when it is the only batch), with its expiry
// metadata, and keeps what publishing them will need.
func (w *bulk) writeBatch(tx *txn, batch []*sealed) error {
	recs, exp := tx.Bucket(bucketRecords), tx.Bucket(bucketExpiry)
	// With the unlock agent, the batch's MACs in two requests, not two per
	// record.
	w.v.keys.primeBatch(batch, w.stage, recs.Sequence()+1)
	if err := w.v.keys.primeDirectory(batch, w.stage, recs.Sequence()+1); err != nil {
		return err
	}
	// The slots the batch fills, read in one request each on etcd: every
	// Put reads the old value (the state root), and NextSequence checks
	// the slot is free.
	from, to := seqKey(recs.Sequence()+1), seqKey(recs.Sequence()+1+uint64(len(batch)))
	for _, b := range []*bucket{recs, exp, tx.Bucket(bucketDirectory)} {
		if b != nil {
			if err := b.prefetch(from, to); err != nil {
				return err
			}
		}
	}
	// Slots only ever grow, so pages fill completely.
	recs.appendInOrder()
	if exp != nil {
		exp.appendInOrder()
	}
	if dir := tx.Bucket(bucketDirectory); dir != nil {
		dir.appendInOrder()
	}
	for _, s := range batch {
		raw := s.raw
		if raw == nil || s.entry.Stage != w.stage {
			s.entry.Stage = w.stage
			raw = s.entry.marshal(w.v.keys)
		}
		slot, err := recs.NextSequence()
		if err != nil {
			return err
		}
		key := seqKey(slot)
		if err := recs.Put(key, raw); err != nil {
			return err
		}
		// Expiry metadata is keyed by slot, so it is appended here with
		// the entries, not rewritten all over its tree at each publication.
		val, err := w.v.keys.expiryValue(s.entry.ID, key, s.entry, entryTag(raw))
		if err != nil {
			return err
		}
		if exp != nil {
			if err := exp.Put(key, val); err != nil {
				return err
			}
		}
		if err := w.v.putDirectory(tx, key, s.entry); err != nil {
			return err
		}
		p := publishedRecord{id: s.entry.ID, slot: slot, tags: make([][tagLen]byte, len(s.tags))}
		for i, t := range s.tags {
			p.tags[i] = [tagLen]byte(t)
		}
		w.published = append(w.published, p)
	}
	return nil
}

// letGo lets go of the directory fields (the plaintext) of a batch's
// entries once it is committed: until then, a transaction that is run again
// on etcd (another computer committed first) writes their rows again
// (putDirectory).
func letGo(batch []*sealed) {
	for _, s := range batch {
		s.entry.dir, s.entry.dirRow, s.entry.dirSlot = nil, nil, nil
	}
}

// publishedRecord is what makes a stored entry findable: its ID's slot and
// its blind index tags.
type publishedRecord struct {
	id   ID
	slot uint64
	tags [][tagLen]byte
}

// publish maps each record's ID to its slot and writes its index entries,
// in key order, so that a bulk add fills each page as it writes it.
func publish(tx *txn, recs []publishedRecord) error {
	slices.SortFunc(recs, func(a, b publishedRecord) int { return bytes.Compare(a.id[:], b.id[:]) })
	keys := make([][]byte, 0, 2*len(recs))
	for _, r := range recs {
		for _, t := range r.tags {
			keys = append(keys, indexKey(t, r.id))
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	if err := prefetchPublish(tx, recs, keys); err != nil {
		return err
	}
	if err := putIDs(tx, recs); err != nil {
		return err
	}
	return putIndexKeys(tx, keys)
}

// prefetchRatio bounds the vault's size, in slots ever taken, for a
// publication of so many records to read the ranges it fills whole
// (prefetchPublish).
const prefetchRatio = 16

// prefetchPublish reads, on an engine where each Get is a request (etcd),
// the ranges of the ID map and of the index that publishing recs (sorted)
// fills, whose index keys are keys (sorted): one request each, not one or
// two a record (putIDs checks that each ID is free, and every Put reads the
// old value, for the state root). IDs and tags are random, so the ranges
// hold about all of both trees: they are read only while the vault has
// taken at most prefetchRatio times as many slots as there are records to
// publish, as in the first batches of a staged add (eagerPublish), so that
// what is read is at most that many times what is written. Otherwise the
// keys are inserted unread, on an engine that can (store.Inserter), or read
// one by one. publishStaged reads its own ranges.
func prefetchPublish(tx *txn, recs []publishedRecord, keys [][]byte) error {
	if len(recs) == 0 || tx.Bucket(bucketRecords).Sequence() > prefetchRatio*uint64(len(recs)) {
		return nil
	}
	if err := tx.Bucket(bucketIDs).prefetch(recs[0].id[:], append(clone(recs[len(recs)-1].id[:]), 0)); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	return tx.Bucket(bucketIndex).prefetch(keys[0], append(clone(keys[len(keys)-1]), 0))
}

// beginStage records a new stage, MAC'd, with the first slot its entries
// will take, so that an interrupted add can be found and removed.
func (v *Vault) beginStage(tx *txn) (uint64, error) {
	stage := newStage()
	return stage, v.writeStage(tx, stage)
}

// writeStage records stage, MAC'd, with the first slot its entries will
// take.
func (v *Vault) writeStage(tx *txn, stage uint64) error {
	first := tx.Bucket(bucketRecords).Sequence() + 1
	val := binary.BigEndian.AppendUint64(nil, first)
	val = append(val, v.keys.mac(macObject, []byte("stage"), seqKey(stage), val)...)
	if err := v.beat(tx, stage); err != nil {
		return err
	}
	return tx.Bucket(bucketStages).Put(seqKey(stage), val)
}

// discardStages removes the entries of every stage that was never
// published (an add that was killed or failed), in batches, and then the
// stages themselves.
func (v *Vault) discardStages() error {
	for stage := range v.pending {
		if v.alive(stage) {
			continue // another computer's add, going on
		}
		if v.remote != nil {
			// First, in a transaction of its own: the add, if it goes on
			// after all, stops at its next transaction (stageThere), not
			// in the middle of the removal, which takes several.
			err := v.update(func(tx *txn) error {
				b, err := tx.CreateBucketIfNotExists(bucketStageBeats)
				if err != nil {
					return err
				}
				return b.Put(seqKey(stage), []byte{})
			})
			if err != nil {
				return err
			}
		}
		if err := v.discardStage(stage); err != nil {
			return err
		}
	}
	return nil
}

// discardStage removes the entries of stage, in batches, and then the
// stage.
func (v *Vault) discardStage(stage uint64) error {
	var first uint64
	err := v.view(func(tx *txn) error {
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
	// Each record: its entry, expiry and directory rows, ID and
	// two index entries.
	per := 5000
	if n := v.perTxn(6, 64); n > 0 {
		per = min(per, n)
	}
	for more := first != 0; more; {
		err := v.update(func(tx *txn) error {
			if tx.Bucket(bucketStages).Get(seqKey(stage)) == nil {
				// Removed by another command since, or, on etcd, the
				// add of another computer that was going on and is
				// published now: its entries are not to be touched.
				more = false
				return nil
			}
			var err error
			more, err = v.discardBatch(tx, stage, first, per)
			if err != nil || more {
				return err
			}
			return endStage(tx, stage)
		})
		if err != nil {
			return err
		}
	}
	delete(v.pending, stage)
	return nil
}

// discardBatch deletes up to max entries of stage from slot first on, with
// their ID mappings and index entries; more is true when some remain.
func (v *Vault) discardBatch(tx *txn, stage, first uint64, max int) (more bool, err error) {
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
		if err := deleteExpiry(tx, k); err != nil {
			return false, err
		}
		if err := deleteDirectory(tx, k); err != nil {
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
