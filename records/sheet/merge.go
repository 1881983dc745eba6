package sheet

import (
	"errors"
	"hash/maphash"
	"io"

	"github.com/clientvault/clientvault/records"
)

// MergedRow is a row whose client an earlier row of the file already gave
// (the same name, as records.FoldName folds it: Ø, Ł and ß too, and date
// of birth, or none when the file gives the name only one),
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
	// dobOf gives, for a name that the file gives with one date of birth
	// only, that date: a row of the name without one is that client.
	dobOf map[uint64]records.Date
}

// nameDates is what the first reading learns of the dates of birth that go
// with a name.
type nameDates struct {
	dob     records.Date // the first one seen
	several bool         // more than one
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
	names := map[uint64]nameDates{}
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
		m.count[m.key(rec, rec.DOB)]++
		if !rec.DOB.IsZero() {
			n, k := names[m.nameKey(rec)], m.nameKey(rec)
			switch {
			case n.dob.IsZero():
				names[k] = nameDates{dob: rec.DOB}
			case n.dob != rec.DOB && !n.several:
				n.several = true
				names[k] = n
			}
		}
	}
	r.Close()
	// A row without a date of birth is the client of its name when the
	// file gives that name one date of birth only; with two or more it
	// stays a client of its own (which is which cannot be told).
	m.dobOf = map[uint64]records.Date{}
	for k, n := range names {
		if n.several {
			continue
		}
		none := m.hash(k, records.Date{})
		if c := m.count[none]; c > 0 {
			m.dobOf[k] = n.dob
			m.count[m.hash(k, n.dob)] += c
			delete(m.count, none)
		}
	}
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

// nameKey hashes a client's name, folded.
func (m *Merger) nameKey(rec *records.Record) uint64 {
	return maphash.String(m.seed, records.FoldName(rec.Name))
}

// key hashes a client's name and a date of birth.
func (m *Merger) key(rec *records.Record, dob records.Date) uint64 {
	return m.hash(m.nameKey(rec), dob)
}

func (m *Merger) hash(name uint64, dob records.Date) uint64 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	var b [8]byte
	for i := range b {
		b[i] = byte(name >> (8 * i))
	}
	h.Write(b[:])
	h.WriteString(dob.String())
	return h.Sum64()
}

// clientKey is the key of the client a row of the second reading is.
func (m *Merger) clientKey(rec *records.Record) uint64 {
	if rec.DOB.IsZero() {
		if d, ok := m.dobOf[m.nameKey(rec)]; ok {
			return m.key(rec, d)
		}
	}
	return m.key(rec, rec.DOB)
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
		k := m.clientKey(rec)
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
