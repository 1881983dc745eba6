package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Date is a calendar date with no time of day or zone, written YYYY-MM-DD.
// The zero Date means "not given".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// errDateForm is the one message for a malformed date; it never echoes the
// input, which may be client data.
var errDateForm = errors.New("not a date in YYYY-MM-DD form")

// ParseDate parses a YYYY-MM-DD date and rejects impossible ones (2026-02-30).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, errDateForm
	}
	return DateOf(t), nil
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether the date was not given.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight UTC at the start of the date.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// String formats the date as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	if d.Year < 0 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 0 || d.Day > 99 {
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
	}
	// By hand: a list of 100,000 clients formats 300,000 dates, and
	// fmt.Sprintf was a fifth of its time.
	b := [10]byte{
		byte('0' + d.Year/1000), byte('0' + d.Year/100%10), byte('0' + d.Year/10%10), byte('0' + d.Year%10), '-',
		byte('0' + int(d.Month)/10), byte('0' + int(d.Month)%10), '-', byte('0' + d.Day/10), byte('0' + d.Day%10),
	}
	return string(b[:])
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.Time().Before(e.Time()) }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d.Time().After(e.Time()) }

// AddYears returns the date n years later; 29 February becomes 1 March in a
// year that has no 29 February, as time.AddDate normalises it.
func (d Date) AddYears(n int) Date { return DateOf(d.Time().AddDate(n, 0, 0)) }

// MarshalJSON writes the date as a YYYY-MM-DD string. It builds the bytes
// itself: every record holds several dates, and going through fmt and
// json.Marshal for each was a visible share of sealing a record.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte(`""`), nil
	}
	if d.Year < 0 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 99 {
		return json.Marshal(d.String())
	}
	y, m, n := d.Year, int(d.Month), d.Day
	return []byte{'"',
		byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-',
		byte('0' + n/10), byte('0' + n%10), '"'}, nil
}

// UnmarshalJSON reads a YYYY-MM-DD string; "" is the zero Date.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errDateForm
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
