package vault

import (
	"fmt"
	"strings"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// This file holds the checks a command makes before it asks anything of
// the person at the keyboard (a reason, a confirmation, a passphrase), so
// that a step the vault would refuse is refused first. They change nothing
// and are not audited; the step itself checks again, authenticated.

// Keeping reports what retention says of destroying the record ref names
// today: the *RetentionError that Erase without Force would return, or nil
// when the record is past retention and not held. With ref an ID or a
// unique ID prefix it reads the record's public metadata and needs no
// Unlock (so it can run before the passphrase is asked); a name needs
// Unlock. Metadata read without Unlock is not authenticated: Erase checks
// it again before it destroys anything.
func (v *Vault) Keeping(ref string) (*RetentionError, error) {
	var e *entry
	err := v.view(func(tx *txn) error {
		ref := strings.TrimSpace(ref)
		if v.keys == nil || looksLikeIDPrefix(ref) {
			if !looksLikeIDPrefix(ref) {
				return ErrLocked
			}
			ids, err := v.idsWithPrefix(tx, strings.ToLower(ref))
			if err != nil {
				return err
			}
			if len(ids) == 1 {
				raw, err := v.getEntry(tx, ids[0])
				if err != nil {
					return err
				}
				e, err = unmarshalEntry(raw)
				return err
			}
			if v.keys == nil {
				return ErrLocked // ambiguous or a name: only resolve can tell
			}
		}
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		e = m.entry
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case e.Held:
		return &RetentionError{ID: e.ID.String(), Held: true, Until: e.RetainUntil}, nil
	case !consent.Due(e.RetainUntil, records.DateOf(v.now()), false):
		return &RetentionError{ID: e.ID.String(), Until: e.RetainUntil}, nil
	}
	return nil, nil
}

// RetentionPreview says what SetRetention(p) would do without doing it:
// how many records would get a new date, and how many would be due for
// expiry today that are not due now (Due) under p. It decrypts every record.
func (v *Vault) RetentionPreview(p consent.Policy) (*RetentionReport, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("retention: %w: %s", ErrInvalid, joinLines(err))
	}
	today := records.DateOf(v.now())
	rep := &RetentionReport{Policy: p}
	err := v.view(func(tx *txn) error {
		return tx.Bucket(bucketIDs).ForEach(func(k, _ []byte) error {
			raw, err := v.getEntry(tx, ID(k))
			if err != nil {
				return nil
			}
			e, rec, err := v.keys.open(ID(k), raw)
			if err != nil {
				return err
			}
			rep.Records++
			until := retainUntil(p, e.Created, rec)
			if until != e.RetainUntil {
				rep.Changed++
			}
			if e.Held {
				rep.Held++
			} else if consent.Due(until, today, false) && !consent.Due(e.RetainUntil, today, false) {
				rep.Due++
			}
			return nil
		})
	})
	return rep, err
}

// RecordID returns the full ID of the record ref names: an ID, a unique
// prefix of 4 or more digits, or the client's name, as every command that
// takes a record reads it. It is for a command that takes a record only to
// filter by it (audit --record), so it writes no audit entry; a full ID is
// returned as it is, even for a record since destroyed.
func (v *Vault) RecordID(ref string) (string, error) {
	if id, err := ParseID(strings.TrimSpace(ref)); err == nil {
		return id.String(), nil
	}
	if v.keys == nil {
		return "", ErrLocked
	}
	var out string
	err := v.view(func(tx *txn) error {
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		out = m.entry.ID.String()
		return nil
	})
	return out, err
}
