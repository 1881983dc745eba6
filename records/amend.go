package records

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// An Amendment is one change made to a record after it was added (edit):
// when, which fields, and the values they had before, so that a correction
// never erases what was recorded. Treatments are not amended here; a
// treatment entry is corrected by a new entry (Amends).
type Amendment struct {
	N    int  `json:"n"`
	Date Date `json:"date"`
	// Fields are the JSON names of the fields that changed, sorted.
	Fields []string `json:"fields"`
	// Previous holds each changed field's value before the change, as the
	// record's JSON has it; a field that was empty is absent.
	Previous map[string]json.RawMessage `json:"previous,omitempty"`
}

// fixedFields may not change in an amendment: the history itself, and the
// treatment entries, which are corrected by entries of their own.
var fixedFields = []string{"amendments", "treatments"}

var (
	// ErrNoChange is returned by Amend when the new record equals the old.
	ErrNoChange = errors.New("nothing to change: the values given are the record's")
	// ErrFixedField is matched by the *FieldError Amend returns for a
	// change to the treatments or to the history itself.
	ErrFixedField = errors.New("cannot be changed by an edit")
)

// Amend records in next, an edited copy of prev, the amendment that turns
// prev into next: the fields that differ and their previous values, dated
// day. It returns the fields, or ErrNoChange, or a *FieldError matching
// ErrFixedField for a change to the treatments or the history. Neither
// record's values are put in an error.
func Amend(prev, next *Record, day Date) ([]string, error) {
	a, err := fieldsOf(prev)
	if err != nil {
		return nil, err
	}
	b, err := fieldsOf(next)
	if err != nil {
		return nil, err
	}
	var changed []string
	for k := range union(a, b) {
		if !bytes.Equal(a[k], b[k]) {
			if slices.Contains(fixedFields, k) {
				return nil, &FieldError{k, ErrFixedField.Error()}
			}
			changed = append(changed, k)
		}
	}
	if len(changed) == 0 {
		return nil, ErrNoChange
	}
	sort.Strings(changed)
	am := Amendment{N: len(prev.Amendments) + 1, Date: day, Fields: changed, Previous: map[string]json.RawMessage{}}
	for _, k := range changed {
		if v, ok := a[k]; ok {
			am.Previous[k] = v
		}
	}
	if len(am.Previous) == 0 {
		am.Previous = nil
	}
	next.Amendments = append(slices.Clone(prev.Amendments), am)
	return changed, nil
}

// fieldsOf is a record's JSON, field by field.
func fieldsOf(r *Record) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return m, nil
}

func union(a, b map[string]json.RawMessage) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// ApplyJSON returns a copy of r with the fields that the JSON object b
// gives set to its values; fields it does not give keep theirs, and a field
// given as null is cleared. Unknown keys, a key given twice and text
// that is not UTF-8 are errors that match ErrJSON, as for Decode.
func ApplyJSON(r *Record, b []byte) (*Record, error) {
	b = bytes.TrimPrefix(b, utf8BOM)
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, ErrEmptyInput
	}
	if !json.Valid(b) {
		return nil, jsonInputError{strictUnmarshal(b, new(Record))}
	}
	if err := checkInput(b); err != nil {
		return nil, jsonInputError{err}
	}
	var given map[string]json.RawMessage
	if err := json.Unmarshal(b, &given); err != nil {
		return nil, jsonInputError{jsonError(err)}
	}
	base, err := fieldsOf(r)
	if err != nil {
		return nil, err
	}
	for k, v := range given {
		if string(bytes.TrimSpace(v)) == "null" {
			delete(base, k)
			continue
		}
		base[k] = v
	}
	merged, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	out := new(Record)
	if err := strictUnmarshal(merged, out); err != nil {
		return nil, jsonInputError{err}
	}
	return out, nil
}
