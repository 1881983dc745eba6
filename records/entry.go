package records

import "errors"

// errBeforeBirth is the problem of a dated entry before the client was born.
var errBeforeBirth = errors.New("is before the client's date of birth")

// CheckEntry checks a treatment entry against the record it is added to:
// what Treatment.Validate cannot know alone, such as a date before the
// client's birth.
func (r *Record) CheckEntry(t *Treatment) *FieldError {
	if !r.DOB.IsZero() && !t.Date.IsZero() && t.Date.Before(r.DOB) {
		return &FieldError{"date", errBeforeBirth.Error()}
	}
	return nil
}
