package consent

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/clientvault/clientvault/records"
)

// MinAuditYears is how long, at least, audit entries and consents are kept
// after the event they record; never less than the record they belong to.
const MinAuditYears = 6

// Bounds of a retention period in years.
const (
	minYears = 1
	maxYears = 100
)

// Policy is a retention rule: how long a record is kept after the client's
// last treatment, and longer for a client who was a minor then. Rules
// differ by place and insurer (3 years for Oregon estheticians, 7 in Texas
// and for UK insurers, 8 for NHS adult records), so each number is a
// setting. A zero field means the default of DefaultPolicy, so that the
// zero Policy never lets a record go early.
type Policy struct {
	// Years is how long a record is kept after the last treatment.
	Years int `json:"years"`
	// MinorAge is the age of majority: a client younger than this at the
	// last treatment was a minor.
	MinorAge int `json:"minor_age"`
	// MinorUntilAge is the birthday until which a minor's record is kept
	// at least.
	MinorUntilAge int `json:"minor_until_age"`
}

// DefaultPolicy returns the default rule: 7 years after the last
// treatment and, for a client who was under 18 then, at least until their
// 25th birthday.
func DefaultPolicy() Policy { return Policy{Years: 7, MinorAge: 18, MinorUntilAge: 25} }

// withDefaults fills the zero fields of p from DefaultPolicy.
func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.Years == 0 {
		p.Years = d.Years
	}
	if p.MinorAge == 0 {
		p.MinorAge = d.MinorAge
	}
	if p.MinorUntilAge == 0 {
		p.MinorUntilAge = d.MinorUntilAge
	}
	return p
}

var errPeriod = fmt.Errorf("retention period must be a whole number of years from %d to %d, such as 7y", minYears, maxYears)

// ParsePeriod parses a retention period in years: a whole number from 1 to
// 100, optionally followed by "y" ("7y", "7", "3y").
func ParsePeriod(s string) (years int, err error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "y") || strings.HasSuffix(s, "Y") {
		s = s[:len(s)-1]
	}
	if s == "" || len(s) > 3 || strings.Trim(s, "0123456789") != "" {
		return 0, errPeriod
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < minYears || n > maxYears {
		return 0, errPeriod
	}
	return n, nil
}

// Validate checks the policy, after filling its zero fields with the
// defaults: Years from 1 to 100, MinorAge from 1 to 100, and MinorUntilAge
// from MinorAge to 100. Problems are *records.FieldError values.
func (p Policy) Validate() error {
	p = p.withDefaults()
	var errs fieldErrors
	if p.Years < minYears || p.Years > maxYears {
		errs.add("years", fmt.Errorf("must be from %d to %d", minYears, maxYears))
	}
	if p.MinorAge < 1 || p.MinorAge > 100 {
		errs.add("minor_age", errors.New("must be from 1 to 100"))
	}
	if p.MinorUntilAge < p.MinorAge || p.MinorUntilAge > 100 {
		errs.add("minor_until_age", errors.New("must be from minor_age to 100"))
	}
	return errs.join()
}

// RetainUntil returns the last day a record must be kept. The period is
// counted from the last treatment, or from the record's creation when there
// is no treatment. If the client was a minor (younger than MinorAge) on that
// date, the record is kept until the later of that date plus Years and
// their MinorUntilAge-th birthday. Without a date of birth the client is
// not treated as a minor; a date of birth after the counted date (a data
// error) is, which keeps the record longer rather than shorter. A birthday
// on 29 February falls on 1 March in other years, as records.Date.AddYears
// has it.
//
// RetainUntil returns the zero Date when both lastTreatment and created are
// zero: the retention date is unknown, and Due never lets such a record go.
func (p Policy) RetainUntil(lastTreatment, created, dob records.Date) records.Date {
	p = p.withDefaults()
	from := lastTreatment
	if from.IsZero() {
		from = created
	}
	if from.IsZero() {
		return records.Date{}
	}
	until := from.AddYears(p.Years)
	if !dob.IsZero() && age(dob, from) < p.MinorAge {
		if b := dob.AddYears(p.MinorUntilAge); b.After(until) {
			until = b
		}
	}
	return until
}

// age returns the age in whole years, on day on, of someone born on dob.
// Someone born on 29 February comes of age on 1 March in other years.
func age(dob, on records.Date) int {
	n := on.Year - dob.Year
	if dob.AddYears(n).After(on) {
		n--
	}
	return n
}

// KeepAuditUntil returns the last day an audit entry or a consent must be
// kept: the later of recordUntil, the record's retention date, and
// MinAuditYears after eventDate, the date of the entry's event. It returns
// the zero Date, which Due never lets go, when either date is unknown.
func (p Policy) KeepAuditUntil(recordUntil, eventDate records.Date) records.Date {
	if recordUntil.IsZero() || eventDate.IsZero() {
		return records.Date{}
	}
	if until := eventDate.AddYears(MinAuditYears); until.After(recordUntil) {
		return until
	}
	return recordUntil
}

// Due reports whether something kept until retainUntil may be destroyed on
// today: today is after retainUntil and no legal hold stands (held). It is
// never due when either date is zero.
func Due(retainUntil, today records.Date, held bool) bool {
	if held || retainUntil.IsZero() || today.IsZero() {
		return false
	}
	return today.After(retainUntil)
}
