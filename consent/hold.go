package consent

import (
	"errors"
	"strings"
	"time"

	"github.com/clientvault/clientvault/records"
)

// ErrReleased is returned by Hold.Release for a hold that has already been
// released; the first release stands.
var ErrReleased = errors.New("hold is already released")

// Hold is a legal hold on a record: while it stands, the record is neither
// expired nor erased, whatever its retention date. A released hold is kept
// as proof of when and why the record was held.
type Hold struct {
	// Record is the ID of the record held.
	Record string `json:"record"`
	// Reason says why, such as pending litigation or an investigation.
	Reason string `json:"reason"`
	// By is who placed the hold.
	By string `json:"by"`
	// At is when the hold was placed.
	At time.Time `json:"at"`
	// Review is when the hold should be looked at again. Passing it does
	// not release the hold: only Release does.
	Review records.Date `json:"review"`
	// ReleasedAt is when the hold was released; zero while it stands.
	ReleasedAt time.Time `json:"released_at,omitzero"`
	// ReleasedBy is who released the hold.
	ReleasedBy string `json:"released_by,omitempty"`
}

// Validate checks every field of h against the current time now and
// returns all problems joined, each a *records.FieldError. A hold needs a
// record, a reason, who placed it, when, and a review date not before then.
func (h *Hold) Validate(now time.Time) error {
	var errs fieldErrors
	h.Record = strings.TrimSpace(h.Record)
	errs.add("record", requiredText(h.Record, maxShort, false))
	h.Reason = strings.TrimSpace(h.Reason)
	errs.add("reason", requiredText(h.Reason, maxLong, true))
	h.By = strings.TrimSpace(h.By)
	errs.add("by", ValidatePerson(h.By))
	errs.add("at", checkMoment(h.At, now))
	switch {
	case h.Review.IsZero():
		errs.add("review", errors.New("is required"))
	case !h.At.IsZero() && h.Review.Before(records.DateOf(h.At.UTC())):
		errs.add("review", errors.New("is before the hold was placed"))
	}
	h.ReleasedBy = strings.TrimSpace(h.ReleasedBy)
	if h.ReleasedAt.IsZero() {
		if h.ReleasedBy != "" {
			errs.add("released_by", errors.New("is set but released_at is not"))
		}
	} else {
		errs.add("released_at", checkMoment(h.ReleasedAt, now))
		if h.ReleasedAt.Before(h.At) {
			errs.add("released_at", errors.New("is before the hold was placed"))
		}
		errs.add("released_by", ValidatePerson(h.ReleasedBy))
	}
	return errs.join()
}

// Active reports whether the hold stands: it has not been released. It does
// not depend on the clock or on the review date, so that a hold never lapses
// by itself.
func (h *Hold) Active() bool { return h.ReleasedAt.IsZero() }

// Release records that the hold was released at now by the person named
// by. The hold is kept. Releasing twice returns ErrReleased and leaves the
// first release as it was.
func (h *Hold) Release(now time.Time, by string) error {
	if !h.Active() {
		return ErrReleased
	}
	by = strings.TrimSpace(by)
	if err := ValidatePerson(by); err != nil {
		return &records.FieldError{Field: "released_by", Problem: err.Error()}
	}
	if now.Before(h.At) {
		return &records.FieldError{Field: "released_at", Problem: "is before the hold was placed"}
	}
	h.ReleasedAt = now
	h.ReleasedBy = by
	return nil
}

// Held reports whether any of holds, which are one record's, stands: the
// held argument of Due.
func Held(holds []Hold) bool {
	for i := range holds {
		if holds[i].Active() {
			return true
		}
	}
	return false
}
