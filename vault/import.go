package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/clientvault/clientvault/records"
)

// Row is one row of a spreadsheet being imported: its record, or the reason
// it cannot be imported (an error that names columns, never values).
type Row struct {
	N       int             // the row's number in the file
	Record  *records.Record // nil when Problem is set
	Problem error
}

// Duplicate policies for ImportOptions.OnDuplicate.
const (
	DuplicateError  = "error"  // a duplicate stops the import (the default)
	DuplicateSkip   = "skip"   // a duplicate row is not imported
	DuplicateUpdate = "update" // the row's details update the existing record
)

// DuplicateAlreadyIn is how a DuplicateRow is resolved when the record in
// the vault already holds everything the row gives, whatever the policy:
// the row was imported before, and is skipped without stopping the import.
const DuplicateAlreadyIn = "already imported"

// ImportOptions tune Import.
type ImportOptions struct {
	OnDuplicate string // DuplicateError, DuplicateSkip or DuplicateUpdate
	SkipInvalid bool   // import the good rows and report the bad ones
	DryRun      bool   // check everything, write nothing
	BatchSize   int    // records per staged transaction; 0 means 5000, then 2000 (see bigBatches)
	// Progress, if set, is called as rows are read (written is -1 then) and
	// as batches of records are written.
	Progress func(read, written int)
	// Source names the input in the audit log ("csv", "xlsx"); never a
	// file name, which may hold a client's name.
	Source string
	// Ask, if set, decides a row that is likely a client already in the
	// vault (DuplicateRow.Likely, with one such record) when OnDuplicate
	// is DuplicateError: it returns DuplicateSkip, DuplicateUpdate,
	// DuplicateNew or DuplicateError. It is called in row order, from the
	// goroutine that writes, which waits for it.
	Ask func(DuplicateRow) (string, error)
}

// DuplicateNew is an answer of ImportOptions.Ask: the row is another
// client, imported as a new record.
const DuplicateNew = "new"

// ImportReport says what an import did or, with DryRun or on failure, what
// it found. It holds row numbers and record IDs, never client data.
type ImportReport struct {
	Rows       int            `json:"rows"`
	Imported   int            `json:"imported"`
	Updated    int            `json:"updated"`
	Skipped    int            `json:"skipped"`
	Duplicates []DuplicateRow `json:"duplicates"`
	Invalid    []string       `json:"invalid"`
	DryRun     bool           `json:"dry_run,omitempty"`
	IDs        []string       `json:"ids,omitempty"`
}

// DuplicateRow is a row whose client is already in the vault or earlier in
// the file: the same normalised name and date of birth or, in the vault,
// likely the same client (see Likely).
type DuplicateRow struct {
	Row      int    `json:"row"`
	Record   string `json:"record,omitempty"` // the existing record's ID
	SameAs   int    `json:"same_as_row,omitempty"`
	Resolved string `json:"resolved"` // "error", "skipped", "updated" or "already imported"
	// Changed lists the fields an update changed, by their JSON names.
	Changed []string `json:"changed,omitempty"`
	// Likely is set when the record has the row's name but not its date
	// of birth: one of them has none, or they share a phone or an email.
	Likely bool `json:"likely,omitempty"`
	// Candidates is how many records are likely the row's client, when
	// more than one: the row cannot be told to be any of them, and stops
	// the import whatever the policy.
	Candidates int `json:"candidates,omitempty"`
}

// maxReported bounds how many bad rows a report lists.
const maxReported = 1000

// ErrImport is returned when rows are invalid or duplicated and the import
// wrote nothing; the report lists them.
var ErrImport = errors.New("import stopped: nothing was imported")

// Import adds the records of a spreadsheet, all or nothing: rows are sealed
// on all cores and staged in batches that become visible in one small final
// transaction, which also applies updates and writes one audit entry. An
// invalid or duplicate row (unless skipped) stops the writing; the rest of
// the file is still read so that the report lists every bad row.
func (v *Vault) Import(ctx context.Context, next func() (Row, error), o ImportOptions) (*ImportReport, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	switch o.OnDuplicate {
	case "":
		o.OnDuplicate = DuplicateError
	case DuplicateError, DuplicateSkip, DuplicateUpdate:
	default:
		return nil, fmt.Errorf("%w: on-duplicate must be error, skip or update", ErrInvalid)
	}
	adapt := o.BatchSize <= 0
	if adapt {
		o.BatchSize = 5000
	}
	rep := &ImportReport{Duplicates: []DuplicateRow{}, Invalid: []string{}, DryRun: o.DryRun}
	w := v.newBulk(AddOptions{BatchSize: o.BatchSize, Action: ActionImport, Detail: o.Source})
	// rowsRead is written by the reading goroutine and read by the
	// committer's progress reports.
	var rowsRead atomic.Int64
	if o.Progress != nil {
		w.o.Progress = func(n int) { o.Progress(int(rowsRead.Load()), n) }
	}
	// stopped is set at the first row that makes the import fail: from then
	// on rows are only checked, not sealed or written.
	var stopped atomic.Bool
	stop := func() {
		if !stopped.Swap(true) {
			w.abort()
			w.failed = ErrImport
		}
	}
	// The sink sees rows in the order the source read them, so what it needs
	// to know of each row goes through a queue.
	type rowInfo struct {
		n       int
		problem string
	}
	var mu sync.Mutex
	var queue []rowInfo
	source := func() (*records.Record, error) {
		r, err := next()
		if err != nil {
			return nil, err
		}
		if n := rowsRead.Add(1); o.Progress != nil && n%1000 == 0 {
			o.Progress(int(n), -1)
		}
		info := rowInfo{n: r.N}
		rec := r.Record
		if r.Problem != nil {
			info.problem = r.Problem.Error()
			rec = &records.Record{Name: problemMarker}
		}
		mu.Lock()
		queue = append(queue, info)
		mu.Unlock()
		return rec, nil
	}
	today := records.DateOf(v.now())
	// The sink still needs each record to confirm duplicates; it lets the
	// plaintext go itself.
	seal := v.sealNew(false, w.stage)
	prepare := func(s *sealed) error {
		if s.record.Name == problemMarker {
			return nil
		}
		if err := s.record.Validate(today); err != nil {
			// A record that the reader passed but the vault refuses.
			s.record = &records.Record{Name: problemMarker, Notes: joinLines(err)}
			return nil
		}
		if o.DryRun || stopped.Load() {
			s.tags = v.keys.indexTags(s.record)
			return nil
		}
		return seal(s) // which computes the tags too
	}
	// person tag -> first row; a fixed-size key keeps a million rows in
	// about 40 MB, not twice that with string keys.
	seen := map[[tagLen]byte]int{}
	var updates []*update
	updated := map[ID]*update{}
	// A vault without records has no duplicates to look up: rows are only
	// checked against each other. In one that has records, each lookup
	// maps index pages, which dropMapped lets go now and then.
	lookup, err := v.hasRecords()
	if err != nil {
		return nil, err
	}
	// Beyond the blind index: names folded further (Ø, Ł, ß), phones and
	// emails, from the client directory, read once.
	var dirx *dirIndex
	if lookup {
		if dirx, err = v.buildDirIndex(); err != nil {
			return nil, err
		}
	}
	lookups := 0
	sink := func(s *sealed) error {
		mu.Lock()
		info := queue[0]
		queue = queue[1:]
		mu.Unlock()
		if s.record != nil && s.record.Name == problemMarker {
			problem := info.problem
			if problem == "" {
				problem = fmt.Sprintf("row %d: %s", info.n, s.record.Notes)
			}
			if len(rep.Invalid) < maxReported {
				rep.Invalid = append(rep.Invalid, problem)
			}
			if o.SkipInvalid {
				rep.Skipped++
			} else {
				stop()
			}
			return nil
		}
		person := [tagLen]byte(s.tags[1])
		d := DuplicateRow{Row: info.n}
		policy := o.OnDuplicate // this row's, which Ask may decide
		if first, ok := seen[person]; ok {
			d.SameAs = first
		} else {
			seen[person] = info.n
			var existing *match
			if lookup {
				var err error
				if existing, _, err = v.findPerson(s.tags[1], w.stage, s.record); err != nil {
					return err
				}
				if existing == nil {
					// The same name without a date of birth on one side,
					// or with the same phone or email: likely the client
					// already in, whom a new record would duplicate.
					var n int
					if existing, n, err = v.findPerson(s.tags[0], w.stage, s.record); err != nil {
						return err
					}
					d.Likely = existing != nil
					if n > 1 {
						d.Candidates = n
					}
				}
				if existing == nil && dirx != nil {
					var exact bool
					var n int
					if existing, exact, n, err = v.findInDirectory(dirx, w.stage, s.record); err != nil {
						return err
					}
					d.Likely = existing != nil && !exact
					if n > 1 {
						d.Candidates = n
					}
				}
				if d.Likely && d.Candidates == 0 && o.Ask != nil && policy == DuplicateError && !stopped.Load() &&
					!existing.record.Covers(s.record) {
					d.Record = existing.entry.ID.String()
					answer, err := o.Ask(d)
					if err != nil {
						return err
					}
					switch answer {
					case DuplicateNew:
						existing, d.Likely, d.Record = nil, false, ""
					case DuplicateSkip, DuplicateUpdate, DuplicateError:
						policy = answer
					default:
						return fmt.Errorf("%w: row %d: no such answer to a likely duplicate", ErrInvalid, info.n)
					}
				}
				if lookups++; lookups%1024 == 0 {
					v.dropMapped()
				}
			}
			if existing == nil {
				if o.DryRun || stopped.Load() {
					rep.Imported++
					return nil
				}
				s.record = nil
				if adapt && len(w.ids) == bigBatches {
					w.o.BatchSize = min(w.o.BatchSize, 2000)
				}
				return w.put(s)
			}
			d.Record = existing.entry.ID.String()
			if existing.record.Covers(s.record) {
				// The record already holds all of this row: a second run
				// of a file (after fixing the rows a --skip-invalid run
				// left out) finds the rows it imported. Not a conflict.
				d.Resolved = DuplicateAlreadyIn
				rep.Skipped++
				if len(rep.Duplicates) < maxReported {
					rep.Duplicates = append(rep.Duplicates, d)
				}
				return nil
			}
			if d.Candidates > 1 {
				// Which of several clients of that name the row is
				// cannot be told: no policy decides it.
				d.Resolved = "error"
				stop()
				if len(rep.Duplicates) < maxReported {
					rep.Duplicates = append(rep.Duplicates, d)
				}
				return nil
			}
			if policy == DuplicateUpdate && !o.DryRun && !stopped.Load() {
				// Two rows may update one record (likely matches): the
				// second merges into what the first made of it.
				prior := updated[existing.entry.ID]
				m := existing
				if prior != nil {
					m = &match{prior.entry, prior.record}
				}
				u, err := v.prepareUpdate(m, s.record)
				if err != nil {
					return err
				}
				if prior == nil {
					updates = append(updates, u)
					updated[existing.entry.ID] = u
				}
				d.Changed = u.changed
			}
		}
		switch {
		case policy == DuplicateSkip || (policy == DuplicateUpdate && d.SameAs != 0):
			d.Resolved = "skipped"
			rep.Skipped++
		case policy == DuplicateUpdate:
			d.Resolved = "updated"
			rep.Updated++
		default:
			d.Resolved = "error"
			stop()
		}
		if len(rep.Duplicates) < maxReported {
			rep.Duplicates = append(rep.Duplicates, d)
		}
		return nil
	}
	err = sealAll(ctx, source, prepare, sink, v.keys.primeTags)
	seen = nil // some 40 MB for a million rows, not needed to publish them
	rep.Rows = int(rowsRead.Load())
	if err != nil && !errors.Is(err, ErrImport) {
		if !stopped.Load() {
			w.abort()
		}
		return rep, err
	}
	if stopped.Load() {
		rep.Imported = 0
		return rep, ErrImport
	}
	if o.DryRun {
		return rep, nil
	}
	err = w.finish(func(tx *txn) error {
		var ids []string
		for _, u := range updates {
			if err := v.rewriteEntry(tx, u.entry); err != nil {
				return err
			}
			ids = append(ids, u.entry.ID.String())
		}
		if len(ids) == 0 {
			return nil
		}
		slices.Sort(ids)
		return v.appendAudit(tx, Event{Action: ActionUpdate, Records: ids, Count: len(ids), Detail: "import"})
	})
	if err != nil {
		w.abort()
		return rep, err
	}
	rep.Imported = len(w.ids)
	// The audit event's list, built once its transaction is over.
	rep.IDs = idStrings(w.ids)
	return rep, nil
}

// bigBatches is how many rows an import stages in batches of 5000 before
// it goes on in batches of 2000. Each commit rewrites the index and ID-map
// pages its rows land on, which are random: while those trees are small a
// batch touches most of their pages whatever its size, so fewer, larger
// batches rewrite less; once they are large, a batch touches pages in
// proportion to its size, and smaller batches keep the memory a commit
// maps and allocates small.
const bigBatches = 200000

// problemMarker marks, inside the pipeline, a row that cannot be imported;
// it is never stored.
const problemMarker = "\x00invalid row"

// hasRecords reports whether the vault holds any record; staged ones count
// too, which errs towards looking duplicates up.
func (v *Vault) hasRecords() (bool, error) {
	var some bool
	err := v.view(func(tx *txn) error {
		k, _ := tx.Bucket(bucketIDs).Cursor().First()
		some = k != nil
		return nil
	})
	return some, err
}

// findPerson returns the first visible record (not one of stage's) under an
// index tag (of the name and date of birth, or of the name alone) that is
// likely the same client (records.LikelySameClient), confirmed against the
// decrypted record, and how many such records there are.
func (v *Vault) findPerson(tag []byte, stage uint64, rec *records.Record) (*match, int, error) {
	var found *match
	n := 0
	err := v.view(func(tx *txn) error {
		c := tx.Bucket(bucketIndex).Cursor()
		for k, _ := c.Seek(tag); k != nil && bytes.HasPrefix(k, tag); k, _ = c.Next() {
			if len(k) != tagLen+8 {
				continue
			}
			id := ID(k[tagLen:])
			raw, err := v.getEntry(tx, id)
			if err != nil {
				continue
			}
			if e, err := unmarshalEntry(raw); err != nil || (stage != 0 && e.Stage == stage) {
				continue
			}
			e, existing, err := v.keys.open(id, raw)
			if err != nil {
				return err
			}
			if records.LikelySameClient(existing, rec) {
				if n++; found == nil {
					found = &match{e, existing}
				}
			}
		}
		return nil
	})
	return found, n, err
}

// update is an existing record re-sealed with a row's details, and the
// fields that changed.
type update struct {
	entry   *entry
	record  *records.Record
	changed []string
}

// prepareUpdate merges a row into an existing record (records.Record.Merge:
// what is missing is filled, what is better kept, lists and notes added to;
// patch tests and treatments are kept). The merged record is sealed now;
// it is written in the import's final transaction.
func (v *Vault) prepareUpdate(m *match, row *records.Record) (*update, error) {
	rec := m.record
	prev := rec.Clone() // the update is an amendment: the values it replaces are kept
	changed := rec.Merge(row)
	if _, err := records.Amend(prev, rec, records.DateOf(v.now())); err != nil && !errors.Is(err, records.ErrNoChange) {
		return nil, recordErr(m.entry.ID, err)
	}
	e := m.entry
	e.Updated = v.now().Truncate(1e9)
	e.RetainUntil = retainUntil(v.hdr.Retention, e.Created, rec)
	if err := v.sealAgain(e, rec); err != nil {
		return nil, err
	}
	return &update{entry: e, record: rec, changed: changed}, nil
}
