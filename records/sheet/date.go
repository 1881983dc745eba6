package sheet

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/clientvault/clientvault/records"
)

// Date formats that Options.DateFormat accepts.
const (
	// DateAuto reads YYYY-MM-DD, and day and month separated by / or . in
	// the order that the numbers make certain (13/01/2026 is a day first);
	// a date that could be read both ways is an error.
	DateAuto = ""
	// DateDMY reads 01/03/2026 as the 1st of March (also with . or -).
	DateDMY = "DD/MM/YYYY"
	// DateMDY reads 01/03/2026 as the 3rd of January (also with . or -).
	DateMDY = "MM/DD/YYYY"
	// DateISO reads only YYYY-MM-DD.
	DateISO = "YYYY-MM-DD"
)

// ErrAmbiguousDate is the Problem.Err of a date whose day and month could be
// either way round (01/03/2026) when no date format was given.
var ErrAmbiguousDate = errors.New("is ambiguous (day and month could be either way round): pass --date-format DD/MM/YYYY or MM/DD/YYYY")

var (
	errNotDate      = errors.New("is not a date (write YYYY-MM-DD, DD/MM/YYYY or MM/DD/YYYY)")
	errNotISODate   = errors.New("is not a date in the form YYYY-MM-DD")
	errImpossible   = errors.New("is not a real date")
	errTwoDigitYear = errors.New("has a two-digit year: write the year in full")
	errSerial       = errors.New("is a number that is not a date")
)

// checkDateFormat returns the canonical spelling of a DateFormat option.
func checkDateFormat(f string) (string, error) {
	switch u := strings.ToUpper(strings.TrimSpace(f)); u {
	case DateAuto, DateDMY, DateMDY, DateISO:
		return u, nil
	}
	return "", fmt.Errorf("date format %q: must be %s, %s or %s", f, DateDMY, DateMDY, DateISO)
}

// parseDate reads a date written as text in one of the forms that format
// allows. An empty cell is the zero Date. Errors never echo the text.
func parseDate(s, format string) (records.Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return records.Date{}, nil
	}
	s = trimMidnight(s)
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		return isoDate(s)
	}
	if format == DateISO {
		return records.Date{}, errNotISODate
	}
	a, b, y, yearDigits, ok := splitDate(s)
	if !ok {
		return records.Date{}, errNotDate
	}
	if yearDigits == 2 {
		return records.Date{}, errTwoDigitYear
	}
	day, month, err := dayMonth(a, b, format, false)
	if err != nil {
		return records.Date{}, err
	}
	if month < 1 || month > 12 || day < 1 || day > 31 {
		return records.Date{}, errImpossible
	}
	return isoDate(fmt.Sprintf("%04d-%02d-%02d", y, month, day))
}

// dayMonth tells the day and the month in the two numbers a and b of a
// date written day and month first (DMY) or month first (MDY, or
// monthFirst whatever the format but DMY); with DateAuto, by the one order
// that makes a date: a number over 12 is the day, and equal numbers are
// both.
func dayMonth(a, b int, format string, monthFirst bool) (day, month int, err error) {
	switch {
	case format == DateDMY:
		return a, b, nil
	case format == DateMDY || monthFirst:
		return b, a, nil
	case a > 12 && b <= 12, a == b:
		return a, b, nil
	case b > 12 && a <= 12:
		return b, a, nil
	case a > 12 && b > 12:
		return 0, 0, errImpossible
	}
	return 0, 0, ErrAmbiguousDate
}

// isoDate reads YYYY-MM-DD with records.ParseDate, which refuses impossible
// dates such as 2026-02-30.
func isoDate(s string) (records.Date, error) {
	if s[0] < '0' || s[0] > '9' {
		return records.Date{}, errNotDate
	}
	d, err := records.ParseDate(s)
	if err != nil {
		if strings.Trim(s[:4]+s[5:7]+s[8:], "0123456789") == "" {
			return records.Date{}, errImpossible
		}
		return records.Date{}, errNotDate
	}
	return d, nil
}

// trimMidnight drops a time of day of midnight after a date, as exports
// write a date column holding date-times ("1990-04-02 00:00:00",
// "4/2/1990 12:00:00 AM", "2026-03-01T00:00:00Z").
func trimMidnight(s string) string {
	i := strings.IndexAny(s, " T")
	if i < 0 {
		return s
	}
	switch strings.ToUpper(strings.TrimSpace(s[i+1:])) {
	case "00:00", "00:00:00", "00:00:00.000", "00:00:00Z", "00:00Z", "0:00", "12:00 AM", "12:00:00 AM", "0:00:00":
		return strings.TrimSpace(s[:i])
	}
	return s
}

// splitDate splits "a/b/y" (or with . or -) into numbers: a and b of one or
// two digits, y of two or four (yearDigits says which).
func splitDate(s string) (a, b, y, yearDigits int, ok bool) {
	sep := strings.IndexAny(s, "/.-")
	if sep < 0 {
		return 0, 0, 0, 0, false
	}
	parts := strings.Split(s, s[sep:sep+1])
	if len(parts) != 3 {
		return 0, 0, 0, 0, false
	}
	nums := [3]int{}
	for i, p := range parts {
		if n := len(p); n == 0 || (i < 2 && n > 2) || (i == 2 && n != 2 && n != 4) {
			return 0, 0, 0, 0, false
		}
		for _, r := range p {
			if r < '0' || r > '9' {
				return 0, 0, 0, 0, false
			}
			nums[i] = nums[i]*10 + int(r-'0')
		}
	}
	return nums[0], nums[1], nums[2], len(parts[2]), true
}

// Excel's epochs. The 1900 date system counts 1900-01-01 as day 1 and, to
// match Lotus 1-2-3, has a day 60 for 1900-02-29, which never was; from day
// 61 on, day n is n days after 1899-12-30. The 1904 system counts from
// 1904-01-01 as day 0.
var (
	epoch1900 = time.Date(1899, time.December, 30, 0, 0, 0, 0, time.UTC)
	epoch1904 = time.Date(1904, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// maxSerial is 9999-12-31 in the 1900 system, the last date Excel has.
const maxSerial = 2958465

// serialDate converts an XLSX date serial (days since the epoch of the
// workbook's date system; a fraction is the time of day, dropped) to a date.
func serialDate(v float64, date1904 bool) (records.Date, error) {
	if math.IsNaN(v) || v < 1 || v >= maxSerial+1 {
		return records.Date{}, errSerial
	}
	days := int(math.Floor(v))
	if date1904 {
		return records.DateOf(epoch1904.AddDate(0, 0, days)), nil
	}
	switch {
	case days == 60:
		return records.Date{}, errImpossible // 1900-02-29
	case days < 60:
		days++ // before the phantom day, day n is n days after 1899-12-31
	}
	return records.DateOf(epoch1900.AddDate(0, 0, days)), nil
}

// parseMonthDay reads a birthday written without a year, as booking
// systems keep it when the client gave only the day: "--12-25" (ISO 8601),
// Square's "0000-12-25", "12-25" (month first, in ISO 8601's order, unless
// format is DateDMY), and "25/12", "25.12." or "12/25" (the order as for
// full dates: format, or what the numbers make certain). ok is false when
// s is not in one of these forms (it may be a full date); err is set when
// it is but the day is impossible or the order ambiguous. The result is in
// the form records.ParseBirthday reads, "--MM-DD".
func parseMonthDay(s, format string) (md string, ok bool, err error) {
	s = strings.TrimSpace(s)
	switch {
	case len(s) == 7 && strings.HasPrefix(s, "--"):
		s = s[2:]
		if format == DateDMY {
			format = DateMDY // ISO 8601's order, whatever the file's
		}
	case len(s) == 10 && strings.HasPrefix(s, "0000-"):
		s = s[5:]
		format = DateMDY
	case strings.HasSuffix(s, ".") && strings.Count(s, ".") == 2:
		s = s[:len(s)-1] // German "25.12."
	}
	sep := strings.IndexAny(s, "/.-")
	if sep < 1 || sep > 2 || len(s)-sep-1 < 1 || len(s)-sep-1 > 2 || strings.ContainsAny(s[sep+1:], "/.-") {
		return "", false, nil
	}
	a, b := 0, 0
	for i, c := range []byte(s) {
		switch {
		case i == sep:
		case c < '0' || c > '9':
			return "", false, nil
		case i < sep:
			a = a*10 + int(c-'0')
		default:
			b = b*10 + int(c-'0')
		}
	}
	// With a dash, month first: ISO 8601's order (--MM-DD), which is what
	// exports that write a dash use.
	day, month, err := dayMonth(a, b, format, format == DateISO || s[sep] == '-')
	if err != nil {
		return "", true, err
	}
	md = records.MonthDay(time.Month(month), day)
	if _, err := records.ParseBirthday(md); err != nil {
		return "", true, errImpossible
	}
	return md, true, nil
}
