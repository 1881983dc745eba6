package sheet

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// fuzzMarker stands for a client's data: it may be in any cell under the
// header, and must never be in an error.
const fuzzMarker = "Qzxmarker"

// FuzzCSVReader reads arbitrary bytes under a fixed header as CSV: no panic,
// no endless loop, row numbers that only grow, valid records, and no error
// that carries a cell's value.
func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{
		"Jane " + fuzzMarker + ",1990-04-02,+1 555 0100,jane@example.test,latex;nuts\n",
		"\"" + fuzzMarker + ", with a comma\",02/04/1990,,not-an-email" + fuzzMarker + ",\n",
		"a,b,c,d,e,f,g\n\n\n\"multi\nline\",,,,\n",
		"\"unterminated " + fuzzMarker,
		fuzzMarker + ",13/13/2020," + fuzzMarker + "," + fuzzMarker + "@x," + fuzzMarker + "\r\n",
		"x,\xff\xfe,,\n",
		"x,2026-02-30,,,\n",
	} {
		f.Add([]byte(s))
	}
	const header = "Name,DOB,Phone,Email,Allergies\n"
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := OpenCSV(bytes.NewReader(append([]byte(header), body...)), Options{})
		if err != nil {
			leak(t, err)
			return
		}
		defer r.Close()
		last := r.HeaderRow()
		for i := 0; ; i++ {
			if i > len(body)+1 {
				t.Fatal("more rows than bytes")
			}
			rec, row, err := r.Next(today)
			var re *RowError
			switch {
			case errors.Is(err, io.EOF), errors.Is(err, ErrNoRows):
				return
			case errors.As(err, &re):
				leak(t, err)
				row = re.Row
			case err != nil:
				leak(t, err)
				if _, _, again := r.Next(today); again != err {
					t.Fatalf("after the fatal error %v, Next returned %v", err, again)
				}
				return
			default:
				if verr := rec.Validate(today); verr != nil {
					t.Fatalf("row %d: Next returned a record that does not validate: %v", row, verr)
				}
			}
			if row <= last {
				t.Fatalf("row %d after row %d", row, last)
			}
			last = row
		}
	})
}

func leak(t *testing.T, err error) {
	t.Helper()
	if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(fuzzMarker)) {
		t.Fatalf("error carries a cell's value: %q", err)
	}
}

// FuzzMapping maps arbitrary headers (separated by '|') with an arbitrary
// --map override: no panic, one mapping per column, every mapped column
// feeding a known field, and a name column whenever the mapping succeeds.
func FuzzMapping(f *testing.F) {
	f.Add("First Name|Last Name|Mobile|E-mail|Birthday", "", "", false)
	f.Add("Client Name|Notes|Notes 2|Address 1|City|Zip", "Notes 2", "notes", false)
	f.Add("Name|name|NAME", "", "", true)
	f.Add("Cell Phone|Full Name|Loyalty", "Cell Phone", "phone", true)
	f.Add("|  |Name|", "", "ignore", false)
	f.Add("First|Middle Name|Surname", "Middle Name", "middle_name", false)
	f.Fuzz(func(t *testing.T, headers, mapHeader, mapField string, ignoreUnknown bool) {
		header := strings.Split(headers, "|")
		if len(header) > maxColumns {
			return
		}
		var overrides map[string]string
		if mapHeader != "" || mapField != "" {
			overrides = map[string]string{mapHeader: mapField}
		}
		m, err := newMapping(header, overrides, ignoreUnknown)
		if err != nil {
			return
		}
		cols := m.columns()
		if len(cols) != len(header) {
			t.Fatalf("%d mappings for %d columns", len(cols), len(header))
		}
		known := map[string]bool{}
		for _, tg := range targets {
			known[tg.field] = true
		}
		name := false
		for _, c := range cols {
			if c.Field != "" && !known[c.Field] {
				t.Fatalf("column %s maps to unknown field %q", c.Column, c.Field)
			}
			name = name || c.Field == "name"
		}
		if !name {
			t.Fatalf("mapping %q succeeded without a name column", headers)
		}
		if !ignoreUnknown && len(m.unknown()) > 0 {
			t.Fatalf("unknown columns %q accepted without IgnoreUnknown", m.unknown())
		}
	})
}
