package consent

import (
	"errors"
	"strings"
	"time"

	"github.com/clientvault/clientvault/records"
)

// Limits on field sizes. maxShort is a record's limit for one-line fields;
// a purpose or a reason is a few sentences, not a document.
const (
	maxShort = 200  // names, references, evidence
	maxLong  = 2000 // purpose, reasons
)

// checkText is records.CheckText: one rule for every text field.
func checkText(s string, max int, multiline bool) error { return records.CheckText(s, max, multiline) }

// requiredText checks a text field that must not be blank.
func requiredText(s string, max int, multiline bool) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("is required")
	}
	return checkText(s, max, multiline)
}

// fieldErrors collects *records.FieldError values for one object.
type fieldErrors []error

// add records err against field, if err is not nil.
func (e *fieldErrors) add(field string, err error) {
	if err != nil {
		*e = append(*e, &records.FieldError{Field: field, Problem: err.Error()})
	}
}

// join returns all collected errors joined, or nil.
func (e fieldErrors) join() error { return errors.Join(e...) }

// checkMoment checks a timestamp that is required and not after now.
func checkMoment(t, now time.Time) error {
	if t.IsZero() {
		return errors.New("is required")
	}
	if t.After(now) {
		return errors.New("is in the future")
	}
	return nil
}
