package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
)

// sortedIDs returns a sorted copy of ids. Hex keeps the order of bytes, so
// their strings are in the order idStrings gives.
func sortedIDs(ids []ID) []ID {
	s := slices.Clone(ids)
	slices.SortFunc(s, func(a, b ID) int { return bytes.Compare(a[:], b[:]) })
	return s
}

// marshalAuditIDs returns the stored form of an audit event that lists ids
// (sorted) as its Records, with room for the MAC in front: macLen bytes,
// then exactly the JSON that json.Marshal gives for the event with those
// IDs as strings. The list is written straight into the one buffer: for an
// import of a million records, json.Marshal of a million strings would hold
// the strings, its own growing buffer and its result at once (some 100 MB)
// for what is 19 MB of JSON.
func marshalAuditIDs(e Event, ids []ID) ([]byte, error) {
	// A placeholder that json.Marshal writes as it is, and that no other
	// field can hold (hex IDs, words and a base64 note).
	const mark = "\x00"
	e.Records = []string{mark}
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	placeholder := []byte(`["\u0000"]`)
	at := bytes.Index(body, placeholder)
	if at < 0 || bytes.Count(body, placeholder) != 1 {
		return nil, errors.New("audit event: cannot place the record list")
	}
	idLen := 2 * len(ID{})
	out := make([]byte, macLen, macLen+len(body)+len(ids)*(idLen+3))
	out = append(out, body[:at]...)
	out = append(out, '[')
	for i, id := range ids {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = hexAppend(out, id[:])
		out = append(out, '"')
	}
	out = append(out, ']')
	return append(out, body[at+len(placeholder):]...), nil
}

// hexAppend appends the lowercase hex of b to dst, as ID.String does.
func hexAppend(dst, b []byte) []byte {
	const digits = "0123456789abcdef"
	for _, c := range b {
		dst = append(dst, digits[c>>4], digits[c&15])
	}
	return dst
}

// appendAuditIDs is appendAudit for an event whose Records are ids, sorted.
// It stores what appendAudit would store for the event with those IDs as
// its Records.
func (v *Vault) appendAuditIDs(tx *txn, e Event, ids []ID) error {
	return v.appendAuditAs(tx, e, func(e Event) ([]byte, error) { return marshalAuditIDs(e, ids) })
}
