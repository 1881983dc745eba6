package records

import (
	"encoding/json"
	"errors"
	"fmt"
)

// EncodingVersion is the newest version of the sealed payload that Encode
// writes and DecodeSealed reads; DecodeSealed refuses newer ones.
//
// Version 2 added the record's birthday, first_visit and last_visit. Encode
// writes version 1 for a record that has none of them, so that a vault
// which never used them stays readable by a clientvault that knows only
// version 1 (whose strict decoder would refuse the new keys with a
// confusing "unknown field"); a record that has one is version 2, which
// such a clientvault refuses as ErrNewerEncoding.
const EncodingVersion = 2

// payloadVersion is the version Encode writes for r: the oldest one that
// holds all of its fields.
func payloadVersion(r *Record) int {
	if r != nil && (r.Birthday != "" || !r.FirstVisit.IsZero() || !r.LastVisited.IsZero()) {
		return 2
	}
	return 1
}

// ErrNewerEncoding is returned by DecodeSealed for a payload written by a
// newer clientvault.
var ErrNewerEncoding = errors.New("record was written by a newer clientvault")

// sealedPayload is the plaintext sealed into the vault for one record. The
// record's ID is inside it, so that a ciphertext moved to another record's
// slot is detected after decryption even by a reader without the vault's
// authentication key.
type sealedPayload struct {
	V      int     `json:"v"`
	ID     string  `json:"id"`
	Record *Record `json:"record"`
}

// Encode returns the payload to seal for record id.
// It is the JSON that encoding/json writes for the payload; see
// appendPayload.
func Encode(id string, r *Record) ([]byte, error) {
	return AppendEncode(make([]byte, 0, 1536), id, r)
}

// AppendEncode appends the payload Encode returns for record id to b and
// returns the extended slice. Sealing many records reuses one buffer this
// way instead of allocating a payload per record.
func AppendEncode(b []byte, id string, r *Record) ([]byte, error) {
	if out, ok := appendPayload(b, id, r); ok {
		return out, nil
	}
	p, err := json.Marshal(sealedPayload{V: payloadVersion(r), ID: id, Record: r})
	if err != nil {
		return b, err
	}
	return append(b, p...), nil
}

// DecodeSealed parses a payload written by Encode and returns the record ID
// bound inside it and the record.
func DecodeSealed(b []byte) (id string, r *Record, err error) {
	var p sealedPayload
	if err := strictUnmarshal(b, &p); err != nil {
		return "", nil, fmt.Errorf("sealed record: %w", err)
	}
	switch {
	case p.V > EncodingVersion:
		return "", nil, ErrNewerEncoding
	case p.V < 1 || p.ID == "" || p.Record == nil:
		return "", nil, errors.New("sealed record: missing version, id or record")
	case p.V < payloadVersion(p.Record):
		// Version 1 had no such fields: a payload claiming it with one was
		// not written by Encode.
		return "", nil, fmt.Errorf("sealed record: version %d has no birthday or visit dates", p.V)
	}
	return p.ID, p.Record, nil
}
