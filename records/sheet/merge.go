package sheet

import (
	"errors"
	"hash/maphash"
	"io"
	"slices"

	"github.com/clientvault/clientvault/records"
)

// MergedRow is a row whose client an earlier row of the file already gave
// (the same name, as records.FoldName folds it: Ø, Ł and ß too, and date
// of birth, or none when the file gives the name only one; or another
// name and an email or phone that records.SharedContact takes to make
// them one client: see Merger), and which was merged into that row's
// record.
type MergedRow struct {
	Row  int `json:"row"`
	Into int `json:"into_row"`
	// Changed lists the fields the row changed, by their JSON names.
	Changed []string `json:"changed"`
}

// A Merger reads the records of a file with the rows of one client merged
// into one record (records.Record.Merge), as an import with --on-duplicate
// update wants them: two exports pasted into one file, or an old system
// that kept a client twice. The rows of one client are those of one name
// (as records.FoldName folds it) and date of birth, a row without a date
// of birth joining the name's when the file gives it one only; and, by
// records.SharedContact, a row with another name and the email or phone of
// an earlier row's client (a surname changed, with the same email and date
// of birth), never two of different dates of birth. It reads the file
// twice: once to find which clients have more than one row, keeping only
// hashes of each client's name and date of birth and of its email, and its
// phone's key (in memory, never written), then to return the records, each
// client's at its last row, with the number of its first.
type Merger struct {
	r    *Reader
	seed maphash.Seed
	// root gives, for the key of each name and date of birth whose client
	// has several rows, the client's number; count the rows left to read
	// of each such client.
	root    map[uint64]int32
	count   map[int32]int
	held    map[int32]*heldRecord
	merged  []MergedRow
	leftOut []Problem
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

// mergeClient is, in the first reading, the rows of one name and date of
// birth: a client, or part of one (parent, when it joined another).
type mergeClient struct {
	parent      int32 // itself when it is a client of its own
	rows        int32
	dob         records.Date // of the client (its parent's, when it has one)
	name, given uint64       // hashes of its first row's folded name and first word
}

// clients are the mergeClients of a first reading, with a union-find over
// them.
type clients []mergeClient

func (c clients) find(i int32) int32 {
	for c[i].parent != i {
		c[i].parent = c[c[i].parent].parent
		i = c[i].parent
	}
	return i
}

// join makes b part of a, if their dates of birth agree (the same, or
// none on one side): two clients of different dates of birth are never
// merged, whatever they share.
func (c clients) join(a, b int32) {
	a, b = c.find(a), c.find(b)
	da, db := c[a].dob, c[b].dob
	if a == b || !da.IsZero() && !db.IsZero() && da != db {
		return
	}
	if da.IsZero() {
		c[a].dob = db
	}
	c[b].parent = a
	c[a].rows += c[b].rows
}

// NewMerger reads the file that open opens a first time, to find each
// client's rows, and opens it again for Next. open is called twice and
// must return a Reader of the same file from its start each time.
func NewMerger(open func() (*Reader, error), today records.Date) (*Merger, error) {
	m := &Merger{seed: maphash.MakeSeed(), held: map[int32]*heldRecord{}}
	r, err := open()
	if err != nil {
		return nil, err
	}
	index := map[uint64]int32{} // key of a name and date of birth -> its client
	var cs clients
	book := records.NewContactBook()
	var held, buf []int32
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
		folded := records.FoldName(rec.Name)
		nk := maphash.String(m.seed, folded)
		k := m.hash(nk, rec.DOB)
		i, ok := index[k]
		if !ok {
			i = int32(len(cs))
			index[k] = i
			cs = append(cs, mergeClient{parent: i, dob: rec.DOB, name: nk, given: maphash.String(m.seed, records.GivenName(folded))})
		}
		cs[cs.find(i)].rows++
		// The row's email, then its phone, may make it the client of an
		// earlier row of another name, by the rule the vault applies.
		contacts := records.ContactsOf(rec.Phone, rec.Email)
		for _, kind := range [...]string{records.ContactEmail, records.ContactPhone} {
			held, buf = book.Holders(kind, contacts, held[:0]), buf[:0]
			for _, h := range held {
				if h = cs.find(h); !slices.Contains(buf, h) {
					buf = append(buf, h)
				}
			}
			if own := cs.find(i); len(buf) == 1 && buf[0] != own {
				h := cs[buf[0]]
				names := records.OtherNames
				switch {
				case h.name == nk:
					names = records.SameName
				case h.given == cs[i].given:
					names = records.SameGivenName
				}
				if records.SharedContact(kind, names, rec.DOB, h.dob, 1) {
					cs.join(buf[0], own)
				}
			}
		}
		book.Add(i, contacts)
		if !rec.DOB.IsZero() {
			n := names[nk]
			switch {
			case n.dob.IsZero():
				names[nk] = nameDates{dob: rec.DOB}
			case n.dob != rec.DOB && !n.several:
				n.several = true
				names[nk] = n
			}
		}
	}
	r.Close()
	// A row without a date of birth is the client of its name when the
	// file gives that name one date of birth only; with two or more it
	// stays a client of its own (which is which cannot be told).
	for nk, n := range names {
		if n.several {
			continue
		}
		if none, ok := index[m.hash(nk, records.Date{})]; ok {
			cs.join(index[m.hash(nk, n.dob)], none)
		}
	}
	// Only the clients with several rows are kept, in new maps.
	m.root, m.count = map[uint64]int32{}, map[int32]int{}
	for k, i := range index {
		if root := cs.find(i); cs[root].rows > 1 {
			m.root[k] = root
			m.count[root] = int(cs[root].rows)
		}
	}
	if m.r, err = open(); err != nil {
		return nil, err
	}
	return m, nil
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

// client returns the number of the client of a row of the second reading
// and whether it has several rows.
func (m *Merger) client(rec *records.Record) (int32, bool) {
	i, ok := m.root[m.hash(maphash.String(m.seed, records.FoldName(rec.Name)), rec.DOB)]
	return i, ok
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
		k, several := m.client(rec)
		if !several {
			return rec, row, nil
		}
		left := m.count[k]
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
