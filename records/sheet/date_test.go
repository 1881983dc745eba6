package sheet

import (
	"errors"
	"testing"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in, format string
		want       string // YYYY-MM-DD, or "" for the zero date
		err        error
	}{
		{"", "", "", nil},
		{"  ", DateDMY, "", nil},
		{"2026-03-01", "", "2026-03-01", nil},
		{"2026-03-01", DateDMY, "2026-03-01", nil},
		{"2026-03-01", DateMDY, "2026-03-01", nil},
		{"2026-03-01", DateISO, "2026-03-01", nil},
		{" 1990-04-02 ", "", "1990-04-02", nil},
		{"1990-04-02 00:00:00", "", "1990-04-02", nil},
		{"1990-04-02T00:00:00Z", "", "1990-04-02", nil},
		{"4/2/1990 12:00:00 AM", DateMDY, "1990-04-02", nil},
		{"1990-04-02 13:45", "", "", errNotDate},
		{"01/03/2026", DateDMY, "2026-03-01", nil},
		{"01/03/2026", DateMDY, "2026-01-03", nil},
		{"3/1/2026", DateMDY, "2026-03-01", nil},
		{"3/1/2026", DateDMY, "2026-01-03", nil},
		{"1.3.2026", DateDMY, "2026-03-01", nil},
		{"01-03-2026", DateDMY, "2026-03-01", nil},
		{"13/01/2026", "", "2026-01-13", nil}, // unambiguous: day first
		{"01/13/2026", "", "2026-01-13", nil}, // unambiguous: month first
		{"13.1.2026", "", "2026-01-13", nil},
		{"05/05/2026", "", "2026-05-05", nil}, // the same either way
		{"01/03/2026", "", "", ErrAmbiguousDate},
		{"3/1/2026", "", "", ErrAmbiguousDate},
		{"1.3.2026", "", "", ErrAmbiguousDate},
		{"01/03/2026", DateISO, "", errNotISODate},
		{"13/13/2026", "", "", errImpossible},
		{"31/02/2026", DateDMY, "", errImpossible},
		{"02/31/2026", "", "", errImpossible},
		{"2026-02-30", "", "", errImpossible},
		{"2026-13-01", "", "", errImpossible},
		{"29/02/2024", "", "2024-02-29", nil},
		{"29/02/2023", "", "", errImpossible},
		{"00/01/2026", DateDMY, "", errImpossible},
		{"1/3/90", DateDMY, "", errTwoDigitYear},
		{"1/3/990", DateDMY, "", errNotDate},
		{"March 1, 2026", "", "", errNotDate},
		{"1/3", DateDMY, "", errNotDate},
		{"1/3/2026/4", DateDMY, "", errNotDate},
		{"1/3.2026", DateDMY, "", errNotDate},
		{"x1/3/2026", DateDMY, "", errNotDate},
		{"123/1/2026", DateDMY, "", errNotDate},
		{"yesterday", "", "", errNotDate},
		{"2026-0a-01", "", "", errNotDate},
		{"+026-03-01", "", "", errNotDate},
	}
	for _, tt := range tests {
		got, err := parseDate(tt.in, tt.format)
		if !errors.Is(err, tt.err) {
			t.Errorf("parseDate(%q, %q): error %v, want %v", tt.in, tt.format, err, tt.err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("parseDate(%q, %q) = %s, want %s", tt.in, tt.format, got, tt.want)
		}
	}
}

func TestCheckDateFormat(t *testing.T) {
	for _, f := range []string{"", "DD/MM/YYYY", "mm/dd/yyyy", " YYYY-MM-DD "} {
		if _, err := checkDateFormat(f); err != nil {
			t.Errorf("%q: %v", f, err)
		}
	}
	for _, f := range []string{"DMY", "D/M/Y", "YYYY/MM/DD"} {
		if _, err := checkDateFormat(f); err == nil {
			t.Errorf("%q: no error", f)
		}
	}
}

func TestSerialDate(t *testing.T) {
	tests := []struct {
		v        float64
		date1904 bool
		want     string
		err      error
	}{
		{1, false, "1900-01-01", nil},
		{59, false, "1900-02-28", nil},
		{60, false, "", errImpossible}, // Lotus's 1900-02-29
		{61, false, "1900-03-01", nil},
		{32874, false, "1990-01-01", nil},
		{46082, false, "2026-03-01", nil},
		{46082.75, false, "2026-03-01", nil}, // a time of day is dropped
		{2958465, false, "9999-12-31", nil},
		{0, true, "", errSerial}, // 1904-01-01 is day 0, but 0 is never a birthday
		{1, true, "1904-01-02", nil},
		{44620, true, "2026-03-01", nil},
		{0, false, "", errSerial},
		{-1, false, "", errSerial},
		{2958466, false, "", errSerial},
		{1e300, false, "", errSerial},
	}
	for _, tt := range tests {
		got, err := serialDate(tt.v, tt.date1904)
		if !errors.Is(err, tt.err) {
			t.Errorf("serialDate(%v, %v): error %v, want %v", tt.v, tt.date1904, err, tt.err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("serialDate(%v, %v) = %s, want %s", tt.v, tt.date1904, got, tt.want)
		}
	}
}
