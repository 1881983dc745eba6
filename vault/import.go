package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	// Shared lists rows imported as new clients that share a phone number
	// or an email address with other clients (at most maxReported);
	// SharedRows counts them all.
	Shared     []SharedRow `json:"shared,omitempty"`
	SharedRows int         `json:"shared_rows,omitempty"`
}

// DuplicateRow is a row whose client is already in the vault or earlier in
// the file: the same normalised name and date of birth or likely the same
// client (see Likely).
type DuplicateRow struct {
	Row      int    `json:"row"`
	Record   string `json:"record,omitempty"` // the existing record's ID
	SameAs   int    `json:"same_as_row,omitempty"`
	Resolved string `json:"resolved"` // "error", "skipped", "updated" or "already imported"
	// Match says what makes the row that client: MatchNameDOB, MatchName
	// (likely: no date of birth to tell them apart), or MatchEmail or
	// MatchPhone (likely: another name, by records.SharedContact).
	Match string `json:"match,omitempty"`
	// Changed lists the fields an update changed, by their JSON names.
	Changed []string `json:"changed,omitempty"`
	// Likely is set when the record has the row's name but not its date
	// of birth (one of them has none, or they share a phone or an email),
	// or when they share an email or a phone that makes them likely one
	// client whatever the name (Match says which).
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
	im, err := v.newImporter(next, o)
	if err != nil {
		return nil, err
	}
	err = sealAll(ctx, im.read, im.prepare, im.sink, v.keys.primeTags)
	im.seen = nil // some 40 MB for a million rows, not needed to publish them
	return im.finish(err)
}

// importer is one run of Import: the rows' pipeline (read, prepare on the
// sealing workers, sink in row order) and what it has found so far.
type importer struct {
	v    *Vault
	next func() (Row, error)
	o    ImportOptions
	rep  *ImportReport
	w    *bulk
	// adapt is set when the batch size is Import's to choose (bigBatches).
	adapt bool
	today records.Date
	seal  func(*sealed) error
	// rowsRead is written by the reading goroutine and read by the
	// committer's progress reports.
	rowsRead atomic.Int64
	// stopped is set at the first row that makes the import fail: from then
	// on rows are only checked, not sealed or written.
	stopped atomic.Bool
	// seen maps a person tag to the first row that has it; a fixed-size key
	// keeps a million rows in about 40 MB, not twice that with string keys.
	seen map[[tagLen]byte]int
	// updates are the records that rows update, in the order first met;
	// updated finds them by ID.
	updates []*update
	updated map[ID]*update
	// lookup is whether the vault has records to look duplicates up in, and
	// dirx its client directory, read once: names folded further than the
	// blind index folds them (Ø, Ł, ß), phones and emails. Each lookup maps
	// index pages, which dropMapped lets go every 1024 lookups.
	lookup  bool
	dirx    *dirIndex
	lookups int
	// contacts finds the clients of the vault and the rows before that
	// share a row's phone or email.
	contacts *contactIndex
}

// newImporter checks o and sets an import up.
func (v *Vault) newImporter(next func() (Row, error), o ImportOptions) (*importer, error) {
	switch o.OnDuplicate {
	case "":
		o.OnDuplicate = DuplicateError
	case DuplicateError, DuplicateSkip, DuplicateUpdate:
	default:
		return nil, fmt.Errorf("%w: on-duplicate must be error, skip or update", ErrInvalid)
	}
	im := &importer{v: v, next: next, o: o, adapt: o.BatchSize <= 0, today: records.DateOf(v.now()),
		seen: map[[tagLen]byte]int{}, updated: map[ID]*update{}}
	if im.adapt {
		im.o.BatchSize = 5000
	}
	im.rep = &ImportReport{Duplicates: []DuplicateRow{}, Invalid: []string{}, DryRun: o.DryRun}
	im.w = v.newBulk(AddOptions{BatchSize: im.o.BatchSize, Action: ActionImport, Detail: o.Source})
	if o.Progress != nil {
		im.w.o.Progress = func(n int) { o.Progress(int(im.rowsRead.Load()), n) }
	}
	// The sink still needs each record to confirm duplicates; it lets the
	// plaintext go itself.
	im.seal = v.sealNew(false, im.w.stage)
	// A vault without records has no duplicates to look up: rows are only
	// checked against each other.
	var err error
	if im.lookup, err = v.hasRecords(); err == nil && im.lookup {
		im.dirx, err = v.buildDirIndex()
	}
	im.contacts = im.dirx.contactIndex(o.OnDuplicate != DuplicateUpdate)
	return im, err
}

// stop makes the import fail, at the first row that does.
func (im *importer) stop() {
	if !im.stopped.Swap(true) {
		im.w.abort()
		im.w.failed = ErrImport
	}
}

// read is the pipeline's source: the next row, with its record or its
// problem.
func (im *importer) read() (*sealed, error) {
	r, err := im.next()
	if err != nil {
		return nil, err
	}
	if n := im.rowsRead.Add(1); im.o.Progress != nil && n%1000 == 0 {
		im.o.Progress(int(n), -1)
	}
	s := &sealed{row: r.N, problem: r.Problem}
	if r.Problem == nil {
		s.record = r.Record
	}
	return s, nil
}

// prepare validates a row's record and, unless the import only checks,
// seals it; on a sealing worker.
func (im *importer) prepare(s *sealed) error {
	if s.problem != nil {
		return nil
	}
	if err := s.record.Validate(im.today); err != nil {
		// A record that the reader passed but the vault refuses.
		s.problem = fmt.Errorf("row %d: %s", s.row, joinLines(err))
		s.record = nil
		return nil
	}
	if im.o.DryRun || im.stopped.Load() {
		s.tags = im.v.keys.indexTags(s.record)
		return nil
	}
	return im.seal(s) // which computes the tags too
}

// sink takes the rows in the order they were read: it reports an invalid
// row, a duplicate of an earlier row or of a client in the vault, and
// writes the others.
func (im *importer) sink(s *sealed) error {
	if s.problem != nil {
		im.invalid(s.problem)
		return nil
	}
	d := DuplicateRow{Row: s.row}
	person := [tagLen]byte(s.tags[tagPerson])
	if first, ok := im.seen[person]; ok {
		d.SameAs, d.Match = first, MatchNameDOB
		im.resolve(d, im.o.OnDuplicate)
		return nil
	}
	c := im.contacts.find(s.record, s.row)
	if c.row != 0 {
		// Another name, and the phone or email of an earlier row.
		d.SameAs, d.Likely, d.Match, d.Candidates = c.row, true, c.match, c.candidates
		im.resolve(d, im.o.OnDuplicate)
		return nil
	}
	im.seen[person] = s.row
	existing, policy, err := im.existing(s, &d, c)
	if err != nil {
		return err
	}
	if existing == nil {
		im.contacts.imported(s.record, s.row, c, im.rep)
		return im.add(s)
	}
	return im.duplicate(s, d, existing, policy)
}

// invalid reports a row that cannot be imported.
func (im *importer) invalid(problem error) {
	if len(im.rep.Invalid) < maxReported {
		im.rep.Invalid = append(im.rep.Invalid, problem.Error())
	}
	if im.o.SkipInvalid {
		im.rep.Skipped++
	} else {
		im.stop()
	}
}

// existing returns the record in the vault that the row's client is, or is
// likely to be (d says which), or nil; and the duplicate policy for the
// row, which o.Ask may decide. c is what the row's phone and email found.
func (im *importer) existing(s *sealed, d *DuplicateRow, c contactMatch) (*match, string, error) {
	policy := im.o.OnDuplicate
	if !im.lookup {
		return nil, policy, nil
	}
	m, err := im.lookUp(s, d)
	if err == nil && m == nil && c.record != nil {
		// Another name, and the phone or email of a client.
		m, _, err = im.v.firstMatch([]ID{*c.record}, im.w.stage, nil)
		d.Likely, d.Match, d.Candidates = m != nil, c.match, c.candidates
	}
	if err != nil {
		return nil, "", err
	}
	if m != nil && d.Match == "" {
		d.Match = nameMatch(d.Likely, s.record)
	}
	if d.Likely && d.Candidates == 0 && im.o.Ask != nil && policy == DuplicateError && !im.stopped.Load() &&
		!covers(m.record, s.record, d.Match) {
		if m, policy, err = im.ask(d, m); err != nil {
			return nil, "", err
		}
	}
	if im.lookups++; im.lookups%1024 == 0 {
		im.v.dropMapped()
	}
	return m, policy, nil
}

// lookUp finds the record in the vault with the row's name and date of
// birth; failing that, one likely the row's client (d.Likely), and how many
// such records there are when more than one (d.Candidates).
func (im *importer) lookUp(s *sealed, d *DuplicateRow) (*match, error) {
	v, stage := im.v, im.w.stage
	m, _, err := v.findPerson(s.tags[tagPerson], stage, s.record)
	if err != nil || m != nil {
		return m, err
	}
	// The same name without a date of birth on one side, or with the same
	// phone or email: likely the client already in, whom a new record
	// would duplicate.
	m, n, err := v.findPerson(s.tags[tagName], stage, s.record)
	if err != nil {
		return nil, err
	}
	d.Likely = m != nil
	if m == nil && im.dirx != nil {
		var exact bool
		if m, exact, n, err = v.findInDirectory(im.dirx, stage, s.record); err != nil {
			return nil, err
		}
		d.Likely = m != nil && !exact
	}
	if n > 1 {
		d.Candidates = n
	}
	return m, nil
}

// ask has o.Ask decide a row that is likely the client of record m: it
// returns the record the row is a duplicate of (nil: another client, to
// import as a new record) and the policy for the row.
func (im *importer) ask(d *DuplicateRow, m *match) (*match, string, error) {
	d.Record = m.entry.ID.String()
	answer, err := im.o.Ask(*d)
	if err != nil {
		return nil, "", err
	}
	switch answer {
	case DuplicateNew:
		d.Likely, d.Record = false, ""
		return nil, im.o.OnDuplicate, nil
	case DuplicateSkip, DuplicateUpdate, DuplicateError:
		return m, answer, nil
	}
	return nil, "", fmt.Errorf("%w: row %d: no such answer to a likely duplicate", ErrInvalid, d.Row)
}

// add writes a row's sealed record, or only counts it when nothing is
// written.
func (im *importer) add(s *sealed) error {
	if im.o.DryRun || im.stopped.Load() {
		im.rep.Imported++
		return nil
	}
	s.record = nil
	if im.adapt && len(im.w.ids) == bigBatches {
		im.w.o.BatchSize = min(im.w.o.BatchSize, 2000)
	}
	return im.w.put(s)
}

// duplicate resolves a row whose client is the record m.
func (im *importer) duplicate(s *sealed, d DuplicateRow, m *match, policy string) error {
	d.Record = m.entry.ID.String()
	switch {
	case covers(m.record, s.record, d.Match):
		// The record already holds all of this row: a second run of a
		// file (after fixing the rows a --skip-invalid run left out)
		// finds the rows it imported. Not a conflict.
		d.Resolved = DuplicateAlreadyIn
		im.rep.Skipped++
		im.report(d)
		return nil
	case d.Candidates > 1:
		// Which of several clients of that name the row is cannot be
		// told: no policy decides it.
		d.Resolved = "error"
		im.stop()
		im.report(d)
		return nil
	}
	if policy == DuplicateUpdate && !im.o.DryRun && !im.stopped.Load() {
		u, err := im.update(m, s.record)
		if err != nil {
			return err
		}
		d.Changed = u.changed
	}
	im.resolve(d, policy)
	return nil
}

// update merges a row into the record m, as it is after the rows before
// that updated it: two rows may update one record (likely matches), the
// second merging into what the first made of it.
func (im *importer) update(m *match, row *records.Record) (*update, error) {
	id := m.entry.ID
	prior := im.updated[id]
	if prior != nil {
		m = &match{prior.entry, prior.record}
	}
	u, err := im.v.prepareUpdate(m, row)
	if err != nil || prior != nil {
		return u, err
	}
	im.updates = append(im.updates, u)
	im.updated[id] = u
	return u, nil
}

// resolve reports a duplicate row as policy resolves it.
func (im *importer) resolve(d DuplicateRow, policy string) {
	switch {
	case policy == DuplicateSkip || (policy == DuplicateUpdate && d.SameAs != 0):
		d.Resolved = "skipped"
		im.rep.Skipped++
	case policy == DuplicateUpdate:
		d.Resolved = "updated"
		im.rep.Updated++
	default:
		d.Resolved = "error"
		im.stop()
	}
	im.report(d)
}

// report lists a duplicate row, up to maxReported.
func (im *importer) report(d DuplicateRow) {
	if len(im.rep.Duplicates) < maxReported {
		im.rep.Duplicates = append(im.rep.Duplicates, d)
	}
}

// finish ends the import once the pipeline has: it publishes the staged
// records and applies the updates, or leaves the vault as it was.
func (im *importer) finish(err error) (*ImportReport, error) {
	rep, w := im.rep, im.w
	rep.Rows = int(im.rowsRead.Load())
	if err != nil && !errors.Is(err, ErrImport) {
		if !im.stopped.Load() {
			w.abort()
		}
		return rep, err
	}
	if im.stopped.Load() {
		rep.Imported = 0
		return rep, ErrImport
	}
	if im.o.DryRun {
		return rep, nil
	}
	if err := w.finish(im.applyUpdates); err != nil {
		w.abort()
		return rep, err
	}
	rep.Imported = len(w.ids)
	// The audit event's list, built once its transaction is over.
	rep.IDs = idStrings(w.ids)
	return rep, nil
}

// applyUpdates writes the updated records in the import's final
// transaction, with one audit entry that lists them.
func (im *importer) applyUpdates(tx *txn) error {
	var ids []string
	for _, u := range im.updates {
		if err := im.v.applyUpdate(tx, u); err != nil {
			return err
		}
		ids = append(ids, u.entry.ID.String())
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	return im.v.appendAudit(tx, Event{Action: ActionUpdate, Records: ids, Count: len(ids), Detail: "import"})
}

// bigBatches is how many rows an import stages in batches of 5000 before
// it goes on in batches of 2000. Each commit rewrites the index and ID-map
// pages its rows land on, which are random: while those trees are small a
// batch touches most of their pages whatever its size, so fewer, larger
// batches rewrite less; once they are large, a batch touches pages in
// proportion to its size, and smaller batches keep the memory a commit
// maps and allocates small.
const bigBatches = 200000

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
		return v.eachUnderTag(tx, tag, func(id ID, raw []byte) error {
			if e, err := unmarshalEntry(raw); err != nil || (stage != 0 && e.Stage == stage) {
				return nil
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
			return nil
		})
	})
	return found, n, err
}

// update is an existing record re-sealed with a row's details, and the
// fields that changed.
type update struct {
	entry   *entry
	record  *records.Record
	changed []string
	prev    *records.Record // the record as it was, for its index entries
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
	return &update{entry: e, record: rec, changed: changed, prev: prev}, nil
}

// applyUpdate writes an update in the import's final transaction: the
// record's entry, and its index entries when the merge gave it a date of
// birth.
func (v *Vault) applyUpdate(tx *txn, u *update) error {
	if err := v.moveIndexKeys(tx, u.entry.ID, u.prev, u.record); err != nil {
		return err
	}
	return v.rewriteEntry(tx, u.entry)
}
