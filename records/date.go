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

// Date errors never echo the input, which may be client data.
var (
	// ErrDateForm is returned for text that is not written YYYY-MM-DD.
	ErrDateForm = errors.New("not a date in YYYY-MM-DD form")
	// ErrNotRealDate is returned for a date written YYYY-MM-DD that the
	// calendar does not have, such as 2026-02-30 or 2026-13-01.
	ErrNotRealDate = errors.New("not a real date")
)

// ParseDate parses a YYYY-MM-DD date and rejects impossible ones (2026-02-30)
// with ErrNotRealDate, other text with ErrDateForm.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		if dateShaped(s) {
			return Date{}, ErrNotRealDate
		}
		return Date{}, ErrDateForm
	}
	return DateOf(t), nil
}

// dateShaped reports whether s is four digits, a dash, two digits, a dash
// and two digits.
func dateShaped(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i != 4 && i != 7 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
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
		return ErrDateForm
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

// errBirthdayForm is the one message for a malformed year-less birthday.
var errBirthdayForm = errors.New("not a birthday in --MM-DD form")

// ParseBirthday reads a birthday without a year, "--MM-DD", and returns it
// in that form. The form is ISO 8601's for a month and day with the year
// left out (also vCard's BDAY, RFC 6350): a year-less birthday is kept as
// what it is rather than as a date in a made-up year, which retention would
// read as an age (a client "born" in year 0 or 1900 is never a minor, and
// one "born" this year always is). 29 February is allowed.
func ParseBirthday(s string) (string, error) {
	if len(s) != 7 || s[0] != '-' || s[1] != '-' || s[4] != '-' {
		return "", errBirthdayForm
	}
	m, d := 0, 0
	for i, c := range []byte(s[2:4] + s[5:7]) {
		if c < '0' || c > '9' {
			return "", errBirthdayForm
		}
		if i < 2 {
			m = m*10 + int(c-'0')
		} else {
			d = d*10 + int(c-'0')
		}
	}
	// 2000 is a leap year, so 29 February passes and 30 February does not.
	if m < 1 || m > 12 || d < 1 || time.Date(2000, time.Month(m), d, 0, 0, 0, 0, time.UTC).Day() != d {
		return "", errBirthdayForm
	}
	return s, nil
}

// MonthDay returns a birthday without a year in the form ParseBirthday
// reads, "--MM-DD".
func MonthDay(m time.Month, d int) string { return fmt.Sprintf("--%02d-%02d", int(m), d) }
