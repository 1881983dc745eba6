package records

import "errors"

// errBeforeBirth is the problem of a dated entry before the client was born.
var errBeforeBirth = errors.New("is before the client's date of birth")

// CheckEntry checks a treatment entry against the record it is added to:
// what Treatment.Validate cannot know alone. A date before the client's
// birth is a *FieldError. An entry that meets contraindication rules (see
// Rules) is a *ContraindicationError unless t.AcceptWarnings was called;
// then the warnings are kept in t.Warnings.
func (r *Record) CheckEntry(t *Treatment) error {
	if !r.DOB.IsZero() && !t.Date.IsZero() && t.Date.Before(r.DOB) {
		return &FieldError{"date", errBeforeBirth.Error()}
	}
	t.Warnings = Contraindications(r, t)
	if len(t.Warnings) > 0 && !t.accepted {
		return &ContraindicationError{Warnings: t.Warnings}
	}
	return nil
}
