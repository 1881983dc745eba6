package consent

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/clientvault/clientvault/records"
)

// Limits on field sizes. maxShort is a record's limit for one-line fields;
// a purpose or a reason is a few sentences, not a document.
const (
	maxShort = 200  // names, references, evidence
	maxLong  = 2000 // purpose, reasons
)

// checkText checks one text field: valid UTF-8, no control characters but
// (when multiline) newlines and tabs, and at most max bytes. It never quotes
// the text, which may be client data.
func checkText(s string, max int, multiline bool) error {
	if len(s) > max {
		return fmt.Errorf("is longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			return errors.New("has a control character")
		}
	}
	return nil
}

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
