package vault

import (
	"hash/maphash"
	"slices"

	"github.com/clientvault/clientvault/records"
)

// MatchName is how DuplicateRow.Match says that a row has a client's name
// and no date of birth on one side to tell them apart (or another date of
// birth, and the same phone or email): likely that client.
const MatchName = "name"

// SharedRow is a row imported as a new client that shares a phone number
// or an email address with clients in the vault or rows before it, which
// records.SharedContact does not take to make it one of them (a mother
// and her daughter, a family's landline). It holds IDs and row numbers,
// never client data.
type SharedRow struct {
	Row     int    `json:"row"`
	Contact string `json:"contact"`               // records.ContactPhone or records.ContactEmail
	Record  string `json:"record,omitempty"`      // a client in the vault who has it
	SameAs  int    `json:"same_as_row,omitempty"` // or a row before this one that has it
	Several bool   `json:"several,omitempty"`     // more than one client has it already
}

// contactIndex finds, for an import, the clients that a row shares a phone
// number or an email address with: the vault's (from the client
// directory, read once with the dirIndex) and the rows before it that were
// imported as new clients; and says, by records.SharedContact, whether the
// row is likely one of them. The rows are kept as numbers, hashes of their
// folded names and their dates of birth, their phones by key and their
// emails as hashes (records.ContactBook): some 80 bytes a row with a
// phone and an email, in memory only.
type contactIndex struct {
	seed        maphash.Seed
	vault, file *records.ContactBook // holders numbered by their place in vaultHeld, fileHeld
	vaultHeld   []contactHolder
	vaultIDs    []ID // of each of vaultHeld
	fileHeld    []contactHolder
	// inFile is whether a row can be likely an earlier row of the file.
	// Not with DuplicateUpdate: the rows of one client were merged before
	// (sheet.Merger), and a row is never skipped as another's.
	inFile bool
	buf    []int32
	held   []heldBy
	// the row last compared (of), its name's hashes computed when needed
	last        *records.Record
	contacts    records.Contacts
	named       bool
	name, given uint32
}

// contactHolder is a client that holds a phone number or an email address:
// one in the vault, or a row imported as a new client (row).
type contactHolder struct {
	row         int32
	dob         uint32
	name, given uint32 // hashes of the folded name and of its first word
}

// hash32 is a hash of s, of 32 bits: a row and a client it is compared
// with have one chance in four billion to seem to have one name.
func (x *contactIndex) hash32(s string) uint32 {
	return uint32(maphash.String(x.seed, s))
}

func newContactIndex(inFile bool) *contactIndex {
	return &contactIndex{seed: maphash.MakeSeed(), file: records.NewContactBook(), inFile: inFile}
}

// of makes rec the row compared: its phone and email are worked out once,
// by find, for the lookups and the adding of it (a source may give a row
// in a record it gave an earlier row in: find works them out anew).
func (x *contactIndex) of(rec *records.Record) {
	x.last, x.contacts, x.named = rec, records.ContactsOf(rec.Phone, rec.Email), false
}

// names returns the hashes of the folded name of the row compared (of)
// and of its first word.
func (x *contactIndex) names() (name, given uint32) {
	if !x.named {
		folded := records.FoldName(x.last.Name)
		x.named, x.name, x.given = true, x.hash32(folded), x.hash32(records.GivenName(folded))
	}
	return x.name, x.given
}

// addClient adds a client of the vault, as the directory has it, with its
// name folded.
func (x *contactIndex) addClient(r *clientRow, folded string) {
	if len(r.phone) == 0 && len(r.email) == 0 {
		return
	}
	if x.vault == nil {
		x.vault = records.NewContactBook()
	}
	x.vaultHeld = append(x.vaultHeld, contactHolder{dob: r.dob, name: x.hash32(folded), given: x.hash32(records.GivenName(folded))})
	x.vaultIDs = append(x.vaultIDs, r.id)
	x.vault.Add(int32(len(x.vaultHeld)-1), records.ContactsOf(string(r.phone), string(r.email)))
}

// addRow adds row n, imported as a new client.
func (x *contactIndex) addRow(rec *records.Record, n int) {
	if rec.Phone == "" && rec.Email == "" {
		return
	}
	if x.last != rec {
		x.of(rec)
	}
	name, given := x.names()
	x.fileHeld = append(x.fileHeld, contactHolder{row: int32(n), dob: dateNum(rec.DOB), name: name, given: given})
	x.file.Add(int32(len(x.fileHeld)-1), x.contacts)
}

// contactMatch is what a row's phone and email found.
type contactMatch struct {
	match string // MatchEmail or MatchPhone: what makes the row likely the client below
	// record is the client of the vault that the row is likely to be, or
	// row the earlier row (rows are numbered from 1); candidates how many
	// clients it is likely to be, when more than one (which cannot be
	// told).
	record     *ID
	row        int
	candidates int
	// shared says, for each of the row's phone and email that clients
	// hold, the first of them: reported if the row is imported as a new
	// client.
	shared  [2]SharedRow
	nShared int
}

// heldBy is a holder found by contactIndex.find: a client of the vault
// (id) or a row.
type heldBy struct {
	id      ID
	inVault bool
	contactHolder
}

// find looks up row n, rec: the email first (more a person's own than a
// phone), then the phone.
func (x *contactIndex) find(rec *records.Record, n int) contactMatch {
	var m contactMatch
	var likely []heldBy
	x.of(rec)
	for _, c := range [...]struct{ kind, value, match string }{
		{records.ContactEmail, rec.Email, MatchEmail}, {records.ContactPhone, rec.Phone, MatchPhone},
	} {
		if c.value == "" {
			continue
		}
		held := x.held[:0]
		if x.vault != nil {
			x.buf = x.vault.Holders(c.kind, x.contacts, x.buf[:0])
			for _, i := range x.buf {
				held = append(held, heldBy{x.vaultIDs[i], true, x.vaultHeld[i]})
			}
		}
		x.buf = x.file.Holders(c.kind, x.contacts, x.buf[:0])
		for _, i := range x.buf {
			held = append(held, heldBy{contactHolder: x.fileHeld[i]})
		}
		if x.held = held; len(held) == 0 {
			continue
		}
		s := SharedRow{Row: n, Contact: c.kind, Several: len(held) > 1}
		for _, h := range held {
			switch {
			case !h.inVault && s.SameAs == 0:
				s.SameAs = int(h.row)
			case h.inVault && s.Record == "":
				s.Record = h.id.String()
			}
		}
		m.shared[m.nShared], m.nShared = s, m.nShared+1
		h := held[0]
		if len(held) > 1 || !h.inVault && !x.inFile || slices.Contains(likely, h) {
			continue
		}
		name, given := x.names()
		names := records.OtherNames
		switch {
		case name == h.name:
			names = records.SameName
		case given == h.given:
			names = records.SameGivenName
		}
		if records.SharedContact(c.kind, names, rec.DOB, numDate(uint64(h.dob)), 1) {
			likely = append(likely, h)
			if m.match == "" {
				m.match = c.match
			}
		}
	}
	if len(likely) > 0 {
		if h := likely[0]; h.inVault {
			m.record = &h.id
		} else {
			m.row = int(h.row)
		}
	}
	if len(likely) > 1 {
		m.candidates = len(likely)
	}
	return m
}

// imported notes that row n, rec, whose phone and email found m, is
// imported as a new client: its phone and email are an earlier row's for
// the rows after it, and the clients it shares them with are reported.
func (x *contactIndex) imported(rec *records.Record, n int, m contactMatch, rep *ImportReport) {
	x.addRow(rec, n)
	if m.nShared == 0 {
		return
	}
	rep.SharedRows++
	for _, s := range m.shared[:m.nShared] {
		if len(rep.Shared) < maxReported {
			rep.Shared = append(rep.Shared, s)
		}
	}
}

// nameMatch is DuplicateRow.Match for a row found by its name: with its
// date of birth, or likely.
func nameMatch(likely bool, rec *records.Record) string {
	if likely || rec.DOB.IsZero() {
		return MatchName
	}
	return MatchNameDOB
}

// covers reports whether the record holds all that the row gives
// (records.Record.Covers): the row is then already imported. The name of
// a row found by its email or phone (match) is not compared: an update
// keeps the record's (records.Record.Merge), so a second run of the file
// that found another surname does not stop on it again.
func covers(rec, row *records.Record, match string) bool {
	if match == MatchEmail || match == MatchPhone {
		named := *row
		named.Name = rec.Name
		return rec.Covers(&named)
	}
	return rec.Covers(row)
}
