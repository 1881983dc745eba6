package consent

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clientvault/clientvault/records"
)

// date parses a YYYY-MM-DD date, or returns the zero Date for "".
func date(t testing.TB, s string) records.Date {
	t.Helper()
	if s == "" {
		return records.Date{}
	}
	d, err := records.ParseDate(s)
	if err != nil {
		t.Fatalf("bad test date %q", s)
	}
	return d
}

func TestRetainUntil(t *testing.T) {
	oregon := Policy{Years: 3, MinorAge: 18, MinorUntilAge: 25}
	nhs := Policy{Years: 8, MinorAge: 18, MinorUntilAge: 25}
	tests := []struct {
		name               string
		policy             Policy
		last, created, dob string
		want               string
	}{
		{"adult", DefaultPolicy(), "2026-02-01", "2020-01-01", "1990-04-02", "2033-02-01"},
		{"adult, no DOB", DefaultPolicy(), "2026-02-01", "2020-01-01", "", "2033-02-01"},
		{"no treatments: from creation", DefaultPolicy(), "", "2025-06-10", "1990-04-02", "2032-06-10"},
		{"no treatments, no creation date", DefaultPolicy(), "", "", "1990-04-02", ""},
		{"minor: 25th birthday is later", DefaultPolicy(), "2026-02-01", "2024-01-01", "2010-05-05", "2035-05-05"},
		{"minor: years are later", Policy{Years: 10, MinorAge: 18, MinorUntilAge: 25}, "2025-06-01", "2024-01-01", "2008-01-01", "2035-06-01"},
		{"minor a day short of 18", DefaultPolicy(), "2026-11-30", "2024-01-01", "2008-12-01", "2033-12-01"},
		{"minor from creation", DefaultPolicy(), "", "2026-01-15", "2012-07-04", "2037-07-04"},
		{"Oregon adult", oregon, "2026-02-01", "2020-01-01", "1980-01-01", "2029-02-01"},
		{"Oregon, no DOB", oregon, "2026-02-01", "2020-01-01", "", "2029-02-01"},
		{"Oregon, the day before 18", oregon, "2026-01-31", "2020-01-01", "2008-02-01", "2033-02-01"},
		{"Oregon, the 18th birthday", oregon, "2026-02-01", "2020-01-01", "2008-02-01", "2029-02-01"},
		{"Oregon, leap-day birth, 28 Feb: still 17", oregon, "2026-02-28", "2020-01-01", "2008-02-29", "2033-03-01"},
		{"Oregon, leap-day birth, 1 Mar: 18", oregon, "2026-03-01", "2020-01-01", "2008-02-29", "2029-03-01"},
		{"leap-day birth, kept to a birthday in a leap year", Policy{Years: 3, MinorAge: 18, MinorUntilAge: 24}, "2023-06-01", "2020-01-01", "2008-02-29", "2032-02-29"},
		{"leap-day treatment", DefaultPolicy(), "2024-02-29", "2020-01-01", "1990-04-02", "2031-03-01"},
		{"leap-day treatment, 8 years to a leap year", nhs, "2024-02-29", "2020-01-01", "", "2032-02-29"},
		{"DOB after the treatment keeps longer", oregon, "2026-02-01", "2020-01-01", "2027-01-01", "2052-01-01"},
		{"zero policy is the default", Policy{}, "2026-02-01", "2024-01-01", "2010-05-05", "2035-05-05"},
		{"zero fields are defaults", Policy{Years: 3}, "2026-02-01", "2024-01-01", "2010-05-05", "2035-05-05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.policy.RetainUntil(date(t, tt.last), date(t, tt.created), date(t, tt.dob))
			if got != date(t, tt.want) {
				t.Errorf("RetainUntil = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		dob, on string
		want    int
	}{
		{"2008-02-01", "2026-01-31", 17},
		{"2008-02-01", "2026-02-01", 18},
		{"2008-02-29", "2026-02-28", 17},
		{"2008-02-29", "2026-03-01", 18},
		{"2008-02-29", "2028-02-29", 20},
		{"2008-02-29", "2028-02-28", 19},
		{"2026-03-01", "2026-02-01", -1},
	}
	for _, tt := range tests {
		if got := age(date(t, tt.dob), date(t, tt.on)); got != tt.want {
			t.Errorf("age(%s on %s) = %d, want %d", tt.dob, tt.on, got, tt.want)
		}
	}
}

func TestKeepAuditUntil(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		name               string
		recordUntil, event string
		want               string
	}{
		{"record kept longer", "2040-01-01", "2026-02-01", "2040-01-01"},
		{"six years after the event", "2029-02-01", "2026-02-01", "2032-02-01"},
		{"the same day", "2032-02-01", "2026-02-01", "2032-02-01"},
		{"leap-day event", "2027-01-01", "2024-02-29", "2030-03-01"},
		{"record's date unknown", "", "2026-02-01", ""},
		{"event's date unknown", "2040-01-01", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.KeepAuditUntil(date(t, tt.recordUntil), date(t, tt.event))
			if got != date(t, tt.want) {
				t.Errorf("KeepAuditUntil = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDue(t *testing.T) {
	tests := []struct {
		name         string
		until, today string
		held         bool
		want         bool
	}{
		{"before", "2033-02-01", "2033-01-31", false, false},
		{"on the last day", "2033-02-01", "2033-02-01", false, false},
		{"the day after", "2033-02-01", "2033-02-02", false, true},
		{"years after", "2033-02-01", "2040-01-01", false, true},
		{"held", "2033-02-01", "2040-01-01", true, false},
		{"unknown retention date", "", "2040-01-01", false, false},
		{"unknown today", "2033-02-01", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Due(date(t, tt.until), date(t, tt.today), tt.held); got != tt.want {
				t.Errorf("Due = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		want   []string
	}{
		{"default", DefaultPolicy(), nil},
		{"zero is the default", Policy{}, nil},
		{"Oregon", Policy{Years: 3}, nil},
		{"100 years", Policy{Years: 100, MinorAge: 21, MinorUntilAge: 100}, nil},
		{"until the age of majority", Policy{Years: 3, MinorAge: 18, MinorUntilAge: 18}, nil},
		{"negative years", Policy{Years: -7}, []string{"years"}},
		{"too many years", Policy{Years: 101}, []string{"years"}},
		{"negative minor age", Policy{MinorAge: -1}, []string{"minor_age"}},
		{"minor age too high", Policy{MinorAge: 101, MinorUntilAge: 101}, []string{"minor_age", "minor_until_age"}},
		{"until before majority", Policy{MinorAge: 18, MinorUntilAge: 16}, []string{"minor_until_age"}},
		{"until too high", Policy{MinorUntilAge: 101}, []string{"minor_until_age"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Validate()
			if got := fields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("Validate: fields %q, want %q (error: %v)", got, tt.want, err)
			}
		})
	}
}

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in   string
		want int // 0 for an error
	}{
		{"7y", 7}, {"7", 7}, {"3y", 3}, {"8Y", 8}, {" 7y ", 7}, {"1", 1}, {"100y", 100}, {"007", 7},
		{"", 0}, {"y", 0}, {"0", 0}, {"0y", 0}, {"101", 0}, {"1000", 0}, {"-7", 0}, {"+7", 0},
		{"7yy", 0}, {"7Yy", 0}, {"7 y", 0}, {"7m", 0}, {"7d", 0}, {"seven", 0}, {"7.5", 0},
		{"7years", 0}, {"٧", 0}, {"0x7", 0}, {"99999999999999999999", 0},
	}
	for _, tt := range tests {
		got, err := ParsePeriod(tt.in)
		if got != tt.want || (err == nil) != (tt.want != 0) {
			t.Errorf("ParsePeriod(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"7y", "7", "3y", "100", "0", "101", "-1", "7yy", " 8Y ", "", "y", "1e2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParsePeriod(s)
		if err != nil {
			if n != 0 {
				t.Errorf("ParsePeriod(%q) = %d with an error", s, n)
			}
			if err.Error() != errPeriod.Error() {
				t.Errorf("ParsePeriod(%q): unexpected error %q", s, err)
			}
			return
		}
		if n < 1 || n > 100 {
			t.Fatalf("ParsePeriod(%q) = %d, outside 1..100", s, n)
		}
		// What it accepts is a number of years, maybe with a y: the
		// canonical forms must read back the same.
		for _, c := range []string{strconv.Itoa(n), strconv.Itoa(n) + "y"} {
			if m, err := ParsePeriod(c); err != nil || m != n {
				t.Errorf("ParsePeriod(%q) = %d, but %q reads as %d, %v", s, n, c, m, err)
			}
		}
		digits := strings.TrimRight(strings.TrimSpace(s), "yY")
		if v, err := strconv.Atoi(digits); err != nil || v != n {
			t.Errorf("ParsePeriod(%q) = %d, not the number written", s, n)
		}
	})
}
