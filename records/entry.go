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

// StartFrom fills the fields of a correction t that were not given from
// orig, the entry it corrects (date included): a correction states what
// changed, and the rest is the original's.
func (t *Treatment) StartFrom(orig Treatment) {
	if t.Date.IsZero() {
		t.Date = orig.Date
	}
	for _, f := range []struct{ dst, src *string }{
		{&t.Service, &orig.Service}, {&t.Area, &orig.Area}, {&t.Technician, &orig.Technician},
		{&t.Outcome, &orig.Outcome}, {&t.Aftercare, &orig.Aftercare},
	} {
		if *f.dst == "" {
			*f.dst = *f.src
		}
	}
	if t.Products == nil {
		t.Products = append([]string(nil), orig.Products...)
	}
	if t.Settings == nil && orig.Settings != nil {
		t.Settings = Settings{}
		for k, v := range orig.Settings {
			t.Settings[k] = v
		}
	}
}
