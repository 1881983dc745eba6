package vault

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"

	"filippo.io/age"
	"github.com/clientvault/clientvault/records"
)

// sealed is a record made ready for storage by a sealing worker: the entry
// with its ciphertext, and the blind index tags to store with it.
type sealed struct {
	n      int // position in the input, from 1
	entry  *entry
	raw    []byte   // the entry's stored bytes, if the worker encoded them
	tags   [][]byte // indexed by tagName and tagPerson
	err    error
	record *records.Record
	// row and problem are an import's: the row's number in the file, and
	// why the row cannot be imported (then record is nil, and nothing is
	// sealed). A problem goes on to the sink, to be reported, where err
	// would stop everything.
	row     int
	problem error
}

// The blind index tags of a record, in the order indexTags and sealTags
// return them.
const (
	tagName   = iota // of the normalised name
	tagPerson        // of the normalised name and the date of birth
)

// recordsIn makes a record source into sealAll's.
func recordsIn(next func() (*records.Record, error)) func() (*sealed, error) {
	return func() (*sealed, error) {
		rec, err := next()
		return &sealed{record: rec}, err
	}
}

// seal encrypts rec for e.ID to the vault and the extra recipients.
func (k *keySet) seal(e *entry, rec *records.Record, extra []age.Recipient) error {
	payload, err := records.Encode(e.ID.String(), rec)
	if err != nil {
		return err
	}
	to := make([]age.Recipient, 0, 1+len(extra))
	to = append(to, k.recipient)
	to = append(to, extra...)
	e.Sealed, err = encrypt(payload, to...)
	e.dir = directoryFields(rec)
	return err
}

// open decrypts and authenticates a stored entry with the vault key: the
// entry's MAC, then the ID bound inside the payload.
func (k *keySet) open(id ID, raw []byte) (*entry, *records.Record, error) {
	if !authentic(k, id, raw) {
		return nil, nil, recordErr(id, ErrTampered)
	}
	e, err := unmarshalEntry(raw)
	if err != nil {
		return nil, nil, recordErr(id, err)
	}
	rec, err := openSealed(id, e.Sealed, k.identity)
	if err != nil {
		return nil, nil, err
	}
	return e, rec, nil
}

// openSealed decrypts a record's ciphertext with ids and checks the ID bound
// inside it.
func openSealed(id ID, ct []byte, ids ...age.Identity) (*records.Record, error) {
	plain, err := decrypt(ct, ids...)
	if err != nil {
		return nil, recordErr(id, err)
	}
	inner, rec, err := records.DecodeSealed(plain)
	if errors.Is(err, records.ErrNewerEncoding) {
		return nil, recordErr(id, ErrNewerFormat)
	}
	if err != nil || inner != id.String() {
		return nil, recordErr(id, ErrTampered)
	}
	return rec, nil
}

// indexTags returns the blind index tags of a record.
func (k *keySet) indexTags(rec *records.Record) [][]byte {
	name := records.NormalizeName(rec.Name)
	return [][]byte{k.normalizedNameTag(name), k.normalizedPersonTag(name, rec.DOB)}
}

// rewriteEntry replaces an existing record's entry in its slot, and its
// expiry metadata and directory row.
func (v *Vault) rewriteEntry(tx *txn, e *entry) error {
	slot := tx.Bucket(bucketIDs).Get(e.ID[:])
	if slot == nil {
		return recordErr(e.ID, ErrNotFound)
	}
	slot = clone(slot)
	raw := e.marshal(v.keys)
	if err := tx.Bucket(bucketRecords).Put(slot, raw); err != nil {
		return err
	}
	if err := v.putExpiry(tx, slot, e, raw); err != nil {
		return err
	}
	return v.putDirectory(tx, slot, e)
}

// sealAll reads records from next (recordsIn), prepares them (validates and seals) on
// all cores, and hands them to sink in input order. next returns io.EOF after
// the last. The first failure of next, prepare or sink stops everything and
// is returned as it is (prepare and sink may name the record's position,
// s.n); the records before it have been sunk, none after it. Each of
// beforeRun sees a run of records as it is read, before a worker prepares
// them one by one (keySet.primeTags asks the unlock agent for their tags in
// one batch).
func sealAll(ctx context.Context, next func() (*sealed, error), prepare func(*sealed) error, sink func(*sealed) error, beforeRun ...func([]*sealed)) error {
	workers := runtime.GOMAXPROCS(0)
	ctx, cancel := context.WithCancel(ctx)
	jobs := make(chan *sealJob, workers*2)
	// results holds the jobs in input order, so that the sink sees records
	// in the order they were read while sealing runs in parallel.
	results := make(chan *sealJob, workers*4)

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { readRuns(ctx, next, beforeRun, jobs, results) })
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				for _, s := range j.s {
					switch {
					case s.err != nil: // next failed here: the run ends with it
					case ctx.Err() != nil:
						s.err = ctx.Err()
					default:
						s.err = prepare(s)
					}
				}
				close(j.done)
			}
		})
	}
	for j := range results {
		select {
		case <-j.done:
		case <-ctx.Done():
			// A job sent to results but not to jobs (the reader stopped
			// between the two) is never done.
			return ctx.Err()
		}
		for _, s := range j.s {
			if s.err == nil {
				s.err = sink(s)
			}
			if s.err != nil {
				return s.err
			}
		}
	}
	return ctx.Err()
}

// A sealJob is a run of consecutive records, sealed by one worker: handed
// over one record at a time, every record woke a parked goroutine or two,
// and between those hand-offs the cores of an import sat idle for about a
// tenth of its time.
type sealJob struct {
	s    []*sealed
	done chan struct{} // closed when every record of s is prepared
}

// readRuns is sealAll's reader: it reads runs of records from next, shows
// each run to beforeRun, and sends it to results, then to jobs, until next
// ends or fails, or ctx is done. It closes both channels.
func readRuns(ctx context.Context, next func() (*sealed, error), beforeRun []func([]*sealed), jobs, results chan<- *sealJob) {
	defer close(jobs)
	defer close(results)
	// Runs start at one record and double up to sealRun, so that the first
	// records of a slow source are not held back waiting for more.
	size := 1
	for n := 1; ; size = min(2*size, sealRun) {
		j := &sealJob{s: make([]*sealed, 0, size), done: make(chan struct{})}
		last := false
		for len(j.s) < size && !last {
			s, err := next()
			if errors.Is(err, io.EOF) {
				last = true
				break
			}
			if s == nil {
				s = &sealed{}
			}
			s.n, s.err = n, err
			j.s = append(j.s, s)
			n++
			last = err != nil
		}
		if len(j.s) == 0 {
			return
		}
		// Here, not on the workers: the reader runs ahead of them, so a
		// hook that waits (a round trip to the unlock agent) overlaps with
		// their sealing instead of stalling it.
		for _, before := range beforeRun {
			before(j.s)
		}
		select {
		case results <- j:
		case <-ctx.Done():
			return
		}
		select {
		case jobs <- j:
		case <-ctx.Done():
			return
		}
		if last {
			return
		}
	}
}

// sealRun is the most records one sealing job holds.
const sealRun = 32
