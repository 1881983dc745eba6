package sheet

import (
	"errors"
	"hash/maphash"
	"io"

	"github.com/clientvault/clientvault/records"
)

// MergedRow is a row whose client an earlier row of the file already gave
// (the same name, as records.FoldName folds it: Ø, Ł and ß too, and date
// of birth),
// and which was merged into that row's record.
type MergedRow struct {
	Row  int `json:"row"`
	Into int `json:"into_row"`
	// Changed lists the fields the row changed, by their JSON names.
	Changed []string `json:"changed"`
}

// A Merger reads the records of a file with the rows of one client merged
// into one record (records.Record.Merge), as an import with --on-duplicate
// update wants them: two exports pasted into one file, or an old system
// that kept a client twice. It reads the file twice: once to find which
// clients have more than one row, keeping only a hash of each client's
// name and date of birth (in memory, never written), then to return the
// records, each client's at its last row, with the number of its first.
type Merger struct {
	r       *Reader
	seed    maphash.Seed
	count   map[uint64]int // rows left to read of each client with several
	held    map[uint64]*heldRecord
	merged  []MergedRow
	leftOut []Problem
}

type heldRecord struct {
	rec     *records.Record
	row     int
	leftOut []Problem
}

// NewMerger reads the file that open opens a first time, to count each
// client's rows, and opens it again for Next. open is called twice and
// must return a Reader of the same file from its start each time.
func NewMerger(open func() (*Reader, error), today records.Date) (*Merger, error) {
	m := &Merger{seed: maphash.MakeSeed(), count: map[uint64]int{}, held: map[uint64]*heldRecord{}}
	r, err := open()
	if err != nil {
		return nil, err
	}
	for {
		rec, _, err := r.Next(today)
		var re *RowError
		if errors.As(err, &re) {
			continue
		}
		if err == io.EOF || errors.Is(err, ErrNoRows) {
			break
		}
		if err != nil {
			r.Close()
			return nil, err
		}
		m.count[m.key(rec)]++
	}
	r.Close()
	// Only the clients with several rows are kept, in a new map: a map
	// does not shrink as its entries are deleted.
	several := map[uint64]int{}
	for k, n := range m.count {
		if n > 1 {
			several[k] = n
		}
	}
	m.count = several
	if m.r, err = open(); err != nil {
		return nil, err
	}
	return m, nil
}

// key hashes a client's name and date of birth.
func (m *Merger) key(rec *records.Record) uint64 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	h.WriteString(records.FoldName(rec.Name))
	h.WriteByte(0)
	h.WriteString(rec.DOB.String())
	return h.Sum64()
}

// Reader returns the Reader of the second pass, for its mapping, sheet and
// the like.
func (m *Merger) Reader() *Reader { return m.r }

// Next is Reader.Next with the rows of one client merged: a client with
// several rows is returned once, at the last of them, numbered as the
// first. LeftOut and Merged then tell what the rows left out and changed.
func (m *Merger) Next(today records.Date) (*records.Record, int, error) {
	for {
		rec, row, err := m.r.Next(today)
		m.leftOut = m.r.LeftOut()
		if err != nil {
			return rec, row, err
		}
		k := m.key(rec)
		left, several := m.count[k]
		if !several {
			return rec, row, nil
		}
		h := m.held[k]
		if h == nil {
			h = &heldRecord{rec: rec, row: row, leftOut: append([]Problem(nil), m.leftOut...)}
			m.held[k] = h
		} else {
			changed := h.rec.Merge(rec)
			if changed == nil {
				changed = []string{}
			}
			m.merged = append(m.merged, MergedRow{Row: row, Into: h.row, Changed: changed})
			for _, p := range m.leftOut {
				p.Row = row
				h.leftOut = append(h.leftOut, p)
			}
		}
		if left--; left > 0 {
			m.count[k] = left
			continue
		}
		delete(m.count, k)
		delete(m.held, k)
		if err := h.rec.Validate(today); err != nil {
			// Merged notes past their size, say: the rows as they were
			// would each have been valid, the merge is not.
			return nil, h.row, &RowError{Row: h.row, Problems: m.r.fieldProblems(err)}
		}
		m.leftOut = h.leftOut
		return h.rec, h.row, nil
	}
}

// LeftOut is Reader.LeftOut for the record Next returned last, with the
// cells left out of the rows merged into it (their Problem.Row set).
func (m *Merger) LeftOut() []Problem { return m.leftOut }

// Merged lists the rows merged into an earlier row so far, in the order
// they were read.
func (m *Merger) Merged() []MergedRow { return m.merged }

// Close closes the Reader of the second pass.
func (m *Merger) Close() error { return m.r.Close() }
