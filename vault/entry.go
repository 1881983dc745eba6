package vault

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clientvault/clientvault/records"
)

// ID is a record's identifier: 64 random bits, written as 16 hex digits. It
// says nothing about the client; a unique prefix of 4 or more digits is
// accepted wherever an ID is.
type ID [8]byte

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// newID returns a random ID.
func newID() (ID, error) {
	var id ID
	_, err := rand.Read(id[:])
	return id, err
}

// ParseID reads a full 16-digit ID.
func ParseID(s string) (ID, error) {
	var id ID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, errors.New("not a record ID (16 hex digits)")
	}
	copy(id[:], b)
	return id, nil
}

// looksLikeIDPrefix reports whether s could be (a prefix of) an ID.
func looksLikeIDPrefix(s string) bool {
	if len(s) < 4 || len(s) > 16 {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// entryVersion is the version of the stored entry encoding.
const entryVersion = 1

// entry is one record as stored in the records bucket: public metadata that
// the vault needs without the owner's key (for expiry and sharing), the age
// ciphertext, and a MAC over all of it under the vault's MAC key. What is
// here in the clear is what a copied vault file reveals: dates, sizes and
// which staff can read the record, never client data.
type entry struct {
	ID          ID
	Created     time.Time    // when the record was added (second precision)
	Updated     time.Time    // when it was last re-sealed
	RetainUntil records.Date // the record may be destroyed after this date
	Held        bool         // a legal hold stands
	Stage       uint64       // non-zero: written by a staged bulk add; visible once the stage is published
	Readers     []string     // staff names the record is sealed to, besides the vault key
	Sealed      []byte       // age ciphertext of records.Encode

	// dir, not stored here, is the record's directory fields when it was
	// just sealed, for putDirectory to write with the entry.
	dir *dirFields
	// dirRow is e's directory row sealed ahead, in a batch through the unlock
	// agent, for the slot dirSlot (primeDirectory); never stored.
	dirRow, dirSlot []byte
}

const macLen = 32

// marshal encodes e and appends its MAC.
func (e *entry) marshal(k *keySet) []byte {
	b := e.appendBody(make([]byte, 0, 64+len(e.Sealed)+macLen))
	return append(b, k.mac(macEntry, b)...)
}

// appendBody appends the encoding of e without its MAC.
func (e *entry) appendBody(b []byte) []byte {
	b = append(b, entryVersion)
	b = append(b, e.ID[:]...)
	b = binary.AppendVarint(b, e.Created.Unix())
	b = binary.AppendVarint(b, e.Updated.Unix())
	b = binary.AppendUvarint(b, uint64(dateNum(e.RetainUntil)))
	var flags byte
	if e.Held {
		flags |= 1
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, e.Stage)
	b = binary.AppendUvarint(b, uint64(len(e.Readers)))
	for _, r := range e.Readers {
		b = binary.AppendUvarint(b, uint64(len(r)))
		b = append(b, r...)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Sealed)))
	return append(b, e.Sealed...)
}

// errEntry is the parse error for a stored entry; it is tampering as far as
// the user is concerned.
var errEntry = fmt.Errorf("stored entry is malformed: %w", ErrTampered)

// unmarshalEntry parses a stored entry without checking its MAC; authentic
// checks it.
func unmarshalEntry(b []byte) (*entry, error) {
	if len(b) < 1+8+macLen {
		return nil, errEntry
	}
	if b[0] > entryVersion {
		return nil, fmt.Errorf("stored entry: %w", ErrNewerFormat)
	}
	if b[0] != entryVersion {
		return nil, errEntry
	}
	body := b[:len(b)-macLen]
	r := reader{b: body[9:]}
	e := &entry{}
	copy(e.ID[:], body[1:9])
	e.Created = time.Unix(r.varint(), 0).UTC()
	e.Updated = time.Unix(r.varint(), 0).UTC()
	e.RetainUntil = numDate(r.uvarint())
	flags := r.byte()
	e.Held = flags&1 != 0
	e.Stage = r.uvarint()
	n := r.uvarint()
	if n > 1<<16 {
		return nil, errEntry
	}
	for range n {
		e.Readers = append(e.Readers, string(r.bytes(r.uvarint())))
	}
	e.Sealed = r.bytes(r.uvarint())
	if r.err || len(r.b) != 0 {
		return nil, errEntry
	}
	// One entry has one encoding: reject padded varints and unknown flags,
	// so that what is parsed is exactly what was MAC'd.
	if string(e.appendBody(make([]byte, 0, len(body)))) != string(body) {
		return nil, errEntry
	}
	return e, nil
}

// authentic reports whether stored bytes b carry a valid MAC for the record
// stored under id. The ID is inside the MAC'd bytes, so an entry moved under
// another ID fails here.
func authentic(k *keySet, id ID, b []byte) bool {
	if len(b) < 1+8+macLen {
		return false
	}
	body, tag := b[:len(b)-macLen], b[len(b)-macLen:]
	return hmac.Equal(tag, k.mac(macEntry, body)) && ID(body[1:9]) == id
}

// reader decodes the varint fields of an entry, remembering the first error.
type reader struct {
	b   []byte
	err bool
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.err = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) bytes(n uint64) []byte {
	if uint64(len(r.b)) < n {
		r.err = true
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// dateNum packs a date as YYYYMMDD; 0 is the zero Date.
func dateNum(d records.Date) uint32 {
	if d.IsZero() {
		return 0
	}
	return uint32(d.Year*10000 + int(d.Month)*100 + d.Day)
}

func numDate(n uint64) records.Date {
	if n == 0 {
		return records.Date{}
	}
	return records.Date{Year: int(n / 10000), Month: time.Month(n / 100 % 100), Day: int(n % 100)}
}
