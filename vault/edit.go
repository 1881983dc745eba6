package vault

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clientvault/clientvault/records"
)

// Edited says what Edit changed.
type Edited struct {
	ID string `json:"id"`
	// Amendment is the number of the amendment in the record's history.
	Amendment int `json:"amendment"`
	// Fields are the JSON names of the fields that changed.
	Fields []string `json:"fields"`
}

// Edit changes the record ref names, as an amendment: change gets a copy
// of the record to modify, the result is validated as add validates, and
// the fields that differ are recorded with their previous values in the
// record's history (records.Amend). The record is sealed again for its
// readers (a coworker's shared copy too), its index entries follow a new
// name or date of birth, its retention date is recomputed, and an "edit"
// audit event names the fields (never their values), all in one
// transaction. Treatments and patch tests are not changed by an edit.
// Nothing to change is ErrInvalid wrapping records.ErrNoChange.
func (v *Vault) Edit(ref string, change func(*records.Record) error) (*Edited, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	now := v.now()
	today := records.DateOf(now)
	var out *Edited
	err := v.update(func(tx *txn) error {
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		id, prev := m.entry.ID, m.record
		next := prev.Clone()
		if err := change(next); err != nil {
			return err
		}
		if err := next.Validate(today); err != nil {
			return recordErr(id, fmt.Errorf("%w: %s", ErrInvalid, joinLines(err)))
		}
		fields, err := records.Amend(prev, next, today)
		var fe *records.FieldError
		switch {
		case errors.Is(err, records.ErrNoChange), errors.As(err, &fe):
			return recordErr(id, fmt.Errorf("%w: %w", ErrInvalid, err))
		case err != nil:
			return err
		}
		if err := v.moveIndexKeys(tx, id, prev, next); err != nil {
			return err
		}
		e := m.entry
		e.Updated = now.Truncate(time.Second)
		e.RetainUntil = retainUntil(v.hdr.Retention, e.Created, next)
		if err := v.reseal(tx, e, next); err != nil {
			return err
		}
		out = &Edited{ID: id.String(), Amendment: len(next.Amendments), Fields: fields}
		return v.appendAudit(tx, Event{Action: ActionEdit, Record: id.String(),
			Detail: fmt.Sprintf("amendment %d: %s", out.Amendment, strings.Join(fields, ", "))})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// moveIndexKeys replaces the blind index entries of record id made from
// prev by those of next, when its name or date of birth changed.
func (v *Vault) moveIndexKeys(tx *txn, id ID, prev, next *records.Record) error {
	idx := tx.Bucket(bucketIndex)
	old, cur := v.keys.indexTags(prev), v.keys.indexTags(next)
	for i := range old {
		if i < len(cur) && bytes.Equal(old[i], cur[i]) {
			continue
		}
		var tag [tagLen]byte
		copy(tag[:], old[i])
		if err := idx.Delete(indexKey(tag, id)); err != nil {
			return err
		}
	}
	for i := range cur {
		if i < len(old) && bytes.Equal(old[i], cur[i]) {
			continue
		}
		var tag [tagLen]byte
		copy(tag[:], cur[i])
		if err := idx.Put(indexKey(tag, id), []byte{}); err != nil {
			return err
		}
	}
	return nil
}
