package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/clientvault/clientvault/records"
)

// What makes two clients the same, as DuplicateClient.Match says it.
const (
	MatchNameDOB = "name and date of birth"
	MatchPhone   = "phone"
	MatchEmail   = "email"
)

// DuplicateClient is a client already in the vault (Record), or earlier in
// the same input (SameAs), that a new record seems to be. It holds IDs and
// row numbers, never client data.
type DuplicateClient struct {
	Row    int    `json:"row,omitempty"` // the new record's position in the input, from 1
	Record string `json:"record,omitempty"`
	SameAs int    `json:"same_as_row,omitempty"`
	Match  string `json:"match"`
}

// DuplicatesError is returned by the source CheckDuplicates wraps when new
// records seem to be clients already in the vault: Add then adds nothing.
// errors.Is(err, ErrRefused) is true for it.
type DuplicatesError struct {
	Duplicates []DuplicateClient
	// Rows is how many input records have a duplicate (Duplicates may list
	// several per record, and at most maxReported in all).
	Rows int
}

func (e *DuplicatesError) Error() string {
	if e.Rows == 1 && len(e.Duplicates) > 0 && e.Duplicates[0].Record != "" {
		ids := []string{}
		for _, d := range e.Duplicates {
			if d.Record != "" && !slices.Contains(ids, d.Record) {
				ids = append(ids, d.Record)
			}
		}
		return fmt.Sprintf("a client with the same %s is already in the vault (%s): nothing was added: %v",
			e.Duplicates[0].Match, strings.Join(ids, ", "), ErrRefused)
	}
	return fmt.Sprintf("%d of the records seem to be clients already in the vault or earlier in the input: nothing was added: %v",
		e.Rows, ErrRefused)
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *DuplicatesError) Is(target error) bool { return target == ErrRefused }

// person is what the duplicate check compares: folded name, date of birth,
// phone digits, email.
type person struct {
	name   string
	dob    uint32
	digits string
	email  string
}

func personOf(rec *records.Record) person {
	return person{
		name: strings.Join(records.SearchTokens(rec.Name), " "), dob: dateNum(rec.DOB),
		digits: records.PhoneDigits(rec.Phone), email: strings.ToLower(strings.TrimSpace(rec.Email)),
	}
}

// minPhoneDigits is how many digits a phone number needs to be compared:
// two numbers are the same if their digits are, or if one's end with the
// other's ("+1 415 555 0142" and "415-555-0142").
const minPhoneDigits = 7

func samePhone(a, b string) bool {
	if len(a) < minPhoneDigits || len(b) < minPhoneDigits {
		return false
	}
	return strings.HasSuffix(a, b) || strings.HasSuffix(b, a)
}

// Duplicates returns the clients in the vault that rec seems to be: the
// same name and date of birth, the same phone number, or the same email
// address. It reads the sealed directory (a coworker: their shares) and
// writes nothing.
func (v *Vault) Duplicates(rec *records.Record) ([]DuplicateClient, error) {
	p := personOf(rec)
	email, digits := []byte(p.email), []byte(p.digits)
	// how says why the row r is rec's client, or "". It uses the row's
	// scratch space, so it runs on each part's goroutine.
	how := func(r *clientRow) string {
		switch {
		case p.dob != 0 && r.dob == p.dob && foldedEqual(r.name, p.name):
			return MatchNameDOB
		case len(digits) >= minPhoneDigits && len(r.phone) >= minPhoneDigits:
			if r.buf = appendDigits(r.buf[:0], r.phone); len(r.buf) < minPhoneDigits {
				break
			}
			if bytes.HasSuffix(r.buf, digits) || bytes.HasSuffix(digits, r.buf) {
				return MatchPhone
			}
		}
		if len(email) > 0 && bytes.Equal(r.email, email) {
			return MatchEmail
		}
		return ""
	}
	parts := runtime.GOMAXPROCS(0)
	outs := make([][]DuplicateClient, parts)
	err := v.eachClient(parts, func(r *clientRow) bool { return how(r) != "" }, func(part int, r *clientRow) error {
		outs[part] = append(outs[part], DuplicateClient{Record: r.id.String(), Match: how(r)})
		return nil
	}, true)
	out := slices.Concat(outs...)
	return out, err
}

// foldedEqual reports whether the name raw folds to folded.
func foldedEqual(raw []byte, folded string) bool {
	return strings.Join(records.SearchTokens(string(raw)), " ") == folded
}

// dupIndex finds, for a bulk add, the clients of the vault and of the
// input so far that a record seems to be, with one read of the directory.
// The vault's clients are kept as they are compared (about 150 bytes
// each); the input's rows only as 8-byte hashes of their folded name and
// date of birth, phone digits and email (about 25 bytes each in the
// maps), so that an add of a million rows does not keep a million names:
// within the input, phones compare by all their digits, not by the
// vault's rule of one number ending the other.
type dupIndex struct {
	byDOB   map[uint32][]dupRef
	byPhone map[string][]dupRef // by the last minPhoneDigits digits
	byEmail map[string][]dupRef
	rows    map[uint64]int32 // hash of a kind and a value -> the first row that had it
}

// dupRef is a client of the vault the index knows.
type dupRef struct {
	id     ID
	name   string // as stored; folded when a date of birth matches
	digits string
}

func (x *dupIndex) add(p person, ref dupRef) {
	if p.dob != 0 {
		x.byDOB[p.dob] = append(x.byDOB[p.dob], ref)
	}
	if len(p.digits) >= minPhoneDigits {
		k := p.digits[len(p.digits)-minPhoneDigits:]
		x.byPhone[k] = append(x.byPhone[k], ref)
	}
	if p.email != "" {
		x.byEmail[p.email] = append(x.byEmail[p.email], ref)
	}
}

// rowKeys returns the hashes under which the input's row p is kept, and
// the match each stands for.
func rowKeys(p person) (keys []uint64, matches []string) {
	add := func(match string, parts ...string) {
		h := sha256.New()
		for _, s := range parts {
			writePart(h, []byte(s))
		}
		keys = append(keys, binary.BigEndian.Uint64(h.Sum(nil)))
		matches = append(matches, match)
	}
	if p.dob != 0 && p.name != "" {
		add(MatchNameDOB, "name+dob", p.name, strconv.Itoa(int(p.dob)))
	}
	if len(p.digits) >= minPhoneDigits {
		add(MatchPhone, "phone", p.digits)
	}
	if p.email != "" {
		add(MatchEmail, "email", p.email)
	}
	return keys, matches
}

// addRow keeps the input's row n, p.
func (x *dupIndex) addRow(p person, n int) {
	keys, _ := rowKeys(p)
	for _, k := range keys {
		if _, ok := x.rows[k]; !ok {
			x.rows[k] = int32(n)
		}
	}
}

func (x *dupIndex) find(p person, row int) []DuplicateClient {
	var out []DuplicateClient
	keys, matches := rowKeys(p)
	for i, k := range keys {
		if first, ok := x.rows[k]; ok && !slices.ContainsFunc(out, func(d DuplicateClient) bool { return d.SameAs == int(first) }) {
			out = append(out, DuplicateClient{Row: row, SameAs: int(first), Match: matches[i]})
		}
	}
	seen := map[ID]bool{}
	report := func(r dupRef, match string) {
		if !seen[r.id] {
			seen[r.id] = true
			out = append(out, DuplicateClient{Row: row, Record: r.id.String(), Match: match})
		}
	}
	if p.dob != 0 {
		for _, r := range x.byDOB[p.dob] {
			if strings.Join(records.SearchTokens(r.name), " ") == p.name {
				report(r, MatchNameDOB)
			}
		}
	}
	if len(p.digits) >= minPhoneDigits {
		for _, r := range x.byPhone[p.digits[len(p.digits)-minPhoneDigits:]] {
			if samePhone(r.digits, p.digits) {
				report(r, MatchPhone)
			}
		}
	}
	if p.email != "" {
		for _, r := range x.byEmail[p.email] {
			report(r, MatchEmail)
		}
	}
	return out
}

// CheckDuplicates wraps a source of new records for Add: each record is
// checked against the clients in the vault (the sealed directory, read
// once) and the records before it. At the first record that seems to be a
// client already there, the rest of the source is read and checked too, so
// that every such record is reported, and the source fails with a
// *DuplicatesError: Add then adds nothing.
func (v *Vault) CheckDuplicates(next func() (*records.Record, error)) func() (*records.Record, error) {
	var x *dupIndex
	n := 0
	return func() (*records.Record, error) {
		if x == nil {
			x = &dupIndex{byDOB: map[uint32][]dupRef{}, byPhone: map[string][]dupRef{}, byEmail: map[string][]dupRef{}, rows: map[uint64]int32{}}
			var digits []byte
			err := v.eachClient(1, func(*clientRow) bool { return true }, func(_ int, r *clientRow) error {
				d := string(appendDigits(digits[:0], r.phone))
				x.add(person{dob: r.dob, digits: d, email: string(r.email)},
					dupRef{id: r.id, name: string(r.name), digits: d})
				return nil
			}, false)
			if err != nil {
				return nil, err
			}
		}
		var dupErr *DuplicatesError
		for {
			rec, err := next()
			if err != nil {
				if dupErr != nil && errors.Is(err, io.EOF) {
					return nil, dupErr
				}
				return rec, err
			}
			n++
			p := personOf(rec)
			found := x.find(p, n)
			x.addRow(p, n)
			if len(found) > 0 {
				if dupErr == nil {
					dupErr = &DuplicatesError{}
				}
				dupErr.Rows++
				for _, d := range found {
					if len(dupErr.Duplicates) < maxReported {
						dupErr.Duplicates = append(dupErr.Duplicates, d)
					}
				}
			}
			if dupErr == nil {
				return rec, nil
			}
		}
	}
}
