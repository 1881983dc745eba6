package sheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/clientvault/clientvault/records"
)

var today = records.Date{Year: 2026, Month: 3, Day: 1}

// result is what Next returned for one row.
type result struct {
	row  int
	rec  *records.Record
	err  error
	left []Problem // Reader.LeftOut
}

// readAll reads every row, going on after row errors, and returns the rows
// and the error that ended the reading (nil for io.EOF).
func readAll(t *testing.T, r *Reader) ([]result, error) {
	t.Helper()
	var out []result
	for i := 0; ; i++ {
		if i > 1e6 {
			t.Fatal("Next never ends")
		}
		rec, row, err := r.Next(today)
		if err == io.EOF {
			return out, nil
		}
		var re *RowError
		if err != nil && !errors.As(err, &re) {
			if _, _, again := r.Next(today); again != err {
				t.Errorf("after the fatal error %v, Next returned %v", err, again)
			}
			return out, err
		}
		out = append(out, result{row, rec, err, append([]Problem(nil), r.LeftOut()...)})
	}
}

func openCSV(t *testing.T, in string, opts Options) *Reader {
	t.Helper()
	r, err := OpenCSV(strings.NewReader(in), opts)
	if err != nil {
		t.Fatalf("OpenCSV: %v", err)
	}
	return r
}

// noLeak fails if err's message contains any of the values.
func noLeak(t *testing.T, err error, values ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, v := range values {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error %q contains the cell value %q", err, v)
		}
	}
}

func TestCSVRealWorld(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
	}{
		{"utf-8 with BOM, CRLF, semicolons",
			"\xEF\xBB\xBFFirst Name;Last Name;E-mail;Birthday\r\nZoë;Doe;zoe@example.com;1990-04-02\r\n", Options{}},
		{"utf-8, commas, LF",
			"First Name,Last Name,E-mail,Birthday\nZoë,Doe,zoe@example.com,1990-04-02\n", Options{}},
		{"tabs, no final newline",
			"First Name\tLast Name\tE-mail\tBirthday\nZoë\tDoe\tzoe@example.com\t1990-04-02", Options{}},
		{"windows-1252",
			"First Name;Last Name;E-mail;Birthday\r\nZo\xEB;Doe;zoe@example.com;02/04/1990\r\n", Options{Encoding: "windows-1252", DateFormat: DateDMY}},
		{"UTF-16 with BOM, tabs (Excel's Unicode text)",
			utf16le("First Name\tLast Name\tE-mail\tBirthday\r\nZoë\tDoe\tzoe@example.com\t4/2/1990\r\n"), Options{DateFormat: DateMDY}},
		{"quoted header and cells",
			"\"First Name\",\"Last Name\",\"E-mail\",\"Birthday\"\n\"Zoë\",\"Doe\",\"zoe@example.com\",\"1990-04-02\"\n", Options{}},
		{"trailing blank rows",
			"First Name,Last Name,E-mail,Birthday\nZoë,Doe,zoe@example.com,1990-04-02\n,,,\n\n  ,,,\r\n\r\n", Options{}},
		{"blank rows before the header",
			"\n,,,\nFirst Name,Last Name,E-mail,Birthday\nZoë,Doe,zoe@example.com,1990-04-02\n", Options{}},
		{"short row padded",
			"First Name,Last Name,E-mail,Birthday,Notes\nZoë,Doe,zoe@example.com,1990-04-02\n", Options{}},
		{"CR alone at the ends of lines (old Excel for Mac)",
			"First Name,Last Name,E-mail,Birthday\rZo\xEB,Doe,zoe@example.com,1990-04-02\r", Options{Encoding: "windows-1252"}},
		{"long row with empty extra cells",
			"First Name,Last Name,E-mail,Birthday\nZoë,Doe,zoe@example.com,1990-04-02,,\n", Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := openCSV(t, tt.in, tt.opts)
			got, err := readAll(t, rd)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].err != nil {
				t.Fatalf("got %+v", got)
			}
			rec := got[0].rec
			if rec.Name != "Zoë Doe" || rec.Email != "zoe@example.com" || rec.DOB.String() != "1990-04-02" {
				t.Errorf("record = %+v", rec)
			}
			if rd.Format() != "csv" {
				t.Errorf("Format() = %q", rd.Format())
			}
		})
	}
}

func utf16le(s string) string {
	var b []byte
	b = append(b, 0xFF, 0xFE)
	for _, r := range s {
		if r > 0xFFFF {
			panic("no surrogates in tests")
		}
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

func TestCSVDelimiterRespectsQuotes(t *testing.T) {
	for in, want := range map[string]rune{
		"Name,\"Notes; misc; more\",Phone\nA,b,c\n": ',',
		"Name;Email;\"a,b,c,d\"\nA;b;c\n":           ';',
		"Name\tEmail\tPhone\n":                      '\t',
		"Name\n":                                    ',',
		"Name,Email;Phone\n":                        ',', // a tie is a comma
	} {
		r, err := OpenCSV(strings.NewReader(in), Options{IgnoreUnknown: true})
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if r.Delimiter() != want {
			t.Errorf("%q: delimiter %q, want %q", in, r.Delimiter(), want)
		}
	}
}

func TestCSVRowNumbers(t *testing.T) {
	in := "Name,Notes\r\n" + // row 1
		"Ann,\"line one\r\nline two, with a comma\"\r\n" + // row 2, two lines
		"\r\n" + // row 3, blank
		"Bea,\"\"\"quoted\"\"\"\r\n" + // row 4
		",\r\n" + // row 5, blank
		"Cat,x\r\n" + // row 6
		"\n\n" + // rows 7, 8
		"Dee,\"a\nb\nc\"\n" + // row 9
		"Eve,last" // row 10, no newline
	got, err := readAll(t, openCSV(t, in, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		row         int
		name, notes string
	}{
		{2, "Ann", "line one\nline two, with a comma"},
		{4, "Bea", `"quoted"`},
		{6, "Cat", "x"},
		{9, "Dee", "a\nb\nc"},
		{10, "Eve", "last"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.err != nil || g.row != w.row || g.rec.Name != w.name || g.rec.Notes != w.notes {
			t.Errorf("row %d: got row %d %+v %v, want %+v", i, g.row, g.rec, g.err, w)
		}
	}
}

func TestCSVFields(t *testing.T) {
	in := "First Name,Last Name,Preferred Name,Mobile,Address 1,Address 2,City,Zip,Country," +
		"Allergies,Medications,Medical Conditions,Contraindications,Skin Type,Emergency Contact,Pregnant,Notes,Comments\n" +
		"Ann,Fake,Annie,+1 555 0100,1 Test St,,Springfield,12345,Testland," +
		"\"latex; nuts\",\"isotretinoin, warfarin\",\"eczema\nrosacea\",recent sun exposure,type 4,Bob Fake +1 555 0101,Yes,prefers mornings,  \n"
	got, err := readAll(t, openCSV(t, in, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].err != nil {
		t.Fatalf("got %+v", got)
	}
	r := got[0].rec
	check := func(what, got, want string) {
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	check("name", r.Name, "Ann Fake")
	check("preferred", r.PreferredName, "Annie")
	check("phone", r.Phone, "+1 555 0100")
	check("address", r.Address, "1 Test St, Springfield, 12345, Testland")
	check("allergies", strings.Join(r.Allergies, "|"), "latex|nuts")
	check("medications", strings.Join(r.Medications, "|"), "isotretinoin|warfarin")
	check("conditions", strings.Join(r.Conditions, "|"), "eczema|rosacea")
	check("contraindications", strings.Join(r.Contraindications, "|"), "recent sun exposure")
	check("skin type", r.SkinType, "IV")
	check("emergency", r.EmergencyContact, "Bob Fake +1 555 0101")
	check("notes", r.Notes, "prefers mornings")
	if !r.Pregnant {
		t.Error("pregnant = false")
	}
}

func TestCSVMapOverride(t *testing.T) {
	in := "Client,Tel (home),Loyalty,Phone\nAnn Fake,555 0100,12,555 0199\n"
	rd := openCSV(t, in, Options{
		Map:           map[string]string{"Client": "name", "tel (home)": "phone", "Phone": "ignore"},
		IgnoreUnknown: true,
	})
	if u := rd.Unknown(); len(u) != 1 || u[0] != "Loyalty" {
		t.Errorf("Unknown() = %q", u)
	}
	m := rd.Mapping()
	if m[0].By != "map" || m[1].Field != "phone" || m[2].By != "unknown" || m[3].By != "ignore" {
		t.Errorf("Mapping() = %+v", m)
	}
	got, err := readAll(t, rd)
	if err != nil || len(got) != 1 || got[0].rec.Phone != "555 0100" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestCSVBadRows(t *testing.T) {
	// Each value is distinctive, so that a leak into an error shows.
	in := "First Name,Last Name,Email,DOB,Skin Type,Pregnant\n" +
		"Ann,Fake,ann@example.com,1990-04-02,II,no\n" + // 2: good
		",,nobody-at-example.com,1990-04-02,,\n" + // 3: no name, bad email
		"Bea,Fake,,31/02/1990,,\n" + // 4: impossible date
		"Cat,Fake,,1990-04-02,Type Nine,perhaps\n" + // 5: skin type, pregnant
		"Dee,Fake,,01/02/1990,,\n" + // 6: ambiguous date
		"Eve,Fake,,2031-01-01,,\n" + // 7: in the future
		"Fay,Fake,,1990-04-02,,,surplus-cell-value\n" + // 8: longer than the header
		"Gil,Fake\n" + // 9: shorter: fine
		"Hal,Fake,hal-at-example,1990-04-02,VII,\n" // 10: bad email and skin type
	rd := openCSV(t, in, Options{})
	// Rows that are kept out, and cells that are left out of rows that go in.
	wantRow := map[int][]string{
		3: {`column "First Name + Last Name": is required`},
		6: {`column "DOB": is ambiguous`, "--date-format DD/MM/YYYY or MM/DD/YYYY"},
		8: {"row 8: has 7 cells, more than the 6 of the header"},
	}
	wantLeftOut := map[int]string{
		4:  `column "DOB": is not a real date`,
		5:  `column "Skin Type": must be a Fitzpatrick type I to VI; column "Pregnant": must be yes or no`,
		7:  `column "DOB": is in the future`,
		10: `column "Email": is not an email address; column "Skin Type": must be a Fitzpatrick type I to VI`,
	}
	n := 0
	for {
		rec, row, err := rd.Next(today)
		if err == io.EOF {
			break
		}
		n++
		noLeak(t, err, "nobody-at", "31/02", "Nine", "perhaps", "01/02/1990", "2031", "surplus", "hal-at")
		if w, bad := wantRow[row]; bad {
			var re *RowError
			if !errors.As(err, &re) || re.Row != row || rec != nil {
				t.Errorf("row %d: %v", row, err)
				continue
			}
			for _, s := range w {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("row %d: error %q does not say %q", row, err, s)
				}
			}
			if row == 6 && !errors.Is(err, ErrAmbiguousDate) {
				t.Errorf("row 6: %v is not ErrAmbiguousDate", err)
			}
			if row == 3 && re.Problems[0].Field != "name" {
				t.Errorf("problems of row 3: %+v", re.Problems)
			}
			continue
		}
		if err != nil || rec == nil {
			t.Errorf("row %d: %v", row, err)
			continue
		}
		var got []string
		for _, p := range rd.LeftOut() {
			got = append(got, p.String())
		}
		if strings.Join(got, "; ") != wantLeftOut[row] {
			t.Errorf("row %d: left out %q, want %q", row, got, wantLeftOut[row])
		}
		switch row {
		case 4, 7:
			if !rec.DOB.IsZero() {
				t.Errorf("row %d: dob %v kept", row, rec.DOB)
			}
		case 5:
			if rec.SkinType != "" || rec.Pregnant || rec.DOB.IsZero() {
				t.Errorf("row 5: %+v", rec)
			}
		case 10:
			if rec.Email != "" || rec.SkinType != "" || rec.Name != "Hal Fake" || rec.DOB.IsZero() {
				t.Errorf("row 10: %+v", rec)
			}
		}
	}
	if n != 9 {
		t.Errorf("%d rows", n)
	}
}

// Vendors' placeholders are empty cells, an extension stays on its phone,
// and a birthday without a year is kept as a month and a day.
func TestCSVOrdinaryOddCells(t *testing.T) {
	in := "Name,Phone,Email,Birthday,Last Visit,Allergies\n" +
		"Ann Fake,(212) 555-0110 ext. 4,---,07-04,Never,N/A\n" +
		"Bea Fake,-,N/A,12-25,-,none\n" +
		"Cat Fake,+1 212 555 0111 x12,cat@example.com,0000-12-25,2019-01-02,latex\n" +
		"Dee Fake,555 0112 #7,,25/12,,\n" +
		"Eve Fake,,,--02-29,,\n" +
		"Fay Fake,,,25.12.,,\n" +
		"Na Fake,,,,,\n" +
		"---,555 0199,,,,\n"
	rd := openCSV(t, in, Options{})
	var recs []*records.Record
	for {
		rec, row, err := rd.Next(today)
		if err == io.EOF {
			break
		}
		if row == 9 {
			if err == nil || !strings.Contains(err.Error(), `column "Name": is required`) {
				t.Errorf("row 9 (a dash for a name): %v", err)
			}
			continue
		}
		if err != nil || len(rd.LeftOut()) > 0 {
			t.Fatalf("row %d: %v, left out %v", row, err, rd.LeftOut())
		}
		recs = append(recs, rec)
	}
	for i, want := range []records.Record{
		{Name: "Ann Fake", Phone: "(212) 555-0110 ext. 4", Birthday: "--07-04"},
		{Name: "Bea Fake", Birthday: "--12-25"},
		{Name: "Cat Fake", Phone: "+1 212 555 0111 x12", Email: "cat@example.com", Birthday: "--12-25",
			LastVisited: records.Date{Year: 2019, Month: 1, Day: 2}, Allergies: []string{"latex"}},
		{Name: "Dee Fake", Phone: "555 0112 #7", Birthday: "--12-25"},
		{Name: "Eve Fake", Birthday: "--02-29"},
		{Name: "Fay Fake", Birthday: "--12-25"},
		{Name: "Na Fake"},
	} {
		got := recs[i]
		if got.Name != want.Name || got.Phone != want.Phone || got.Email != want.Email || got.Birthday != want.Birthday ||
			got.LastVisited != want.LastVisited || strings.Join(got.Allergies, ",") != strings.Join(want.Allergies, ",") || !got.DOB.IsZero() {
			t.Errorf("record %d = %+v, want %+v", i, got, want)
		}
	}
	// A year-less birthday follows the date format like a full date.
	for _, c := range []struct{ in, format, want string }{
		{"05/04", DateDMY, "--04-05"}, {"05/04", DateMDY, "--05-04"}, {"04-05", DateDMY, "--05-04"},
		{"--04-05", DateDMY, "--04-05"}, {"0000-04-05", DateDMY, "--04-05"},
	} {
		md, ok, err := parseMonthDay(c.in, c.format)
		if !ok || err != nil || md != c.want {
			t.Errorf("parseMonthDay(%q, %s) = %q, %v, %v; want %q", c.in, c.format, md, ok, err, c.want)
		}
	}
	for _, in := range []string{"05/04", "13/13", "02-30"} {
		if _, ok, err := parseMonthDay(in, DateAuto); !ok || err == nil {
			t.Errorf("parseMonthDay(%q) = %v, %v; want an error", in, ok, err)
		}
	}
	for _, in := range []string{"1990-04-05", "5/4/1990", "abc", "1/2/3"} {
		if _, ok, _ := parseMonthDay(in, DateAuto); ok {
			t.Errorf("parseMonthDay(%q) read as a birthday", in)
		}
	}
}

func TestCSVDateFormatOption(t *testing.T) {
	in := "Name,DOB\nAnn Fake,01/02/1990\nBea Fake,13/02/1990\n"
	got, err := readAll(t, openCSV(t, in, Options{DateFormat: "dd/mm/yyyy"}))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].rec.DOB.String() != "1990-02-01" || got[1].rec.DOB.String() != "1990-02-13" {
		t.Errorf("got %+v %+v", got[0].rec, got[1].rec)
	}
	got, _ = readAll(t, openCSV(t, in, Options{DateFormat: DateMDY}))
	if got[0].rec.DOB.String() != "1990-01-02" || got[1].err != nil || !got[1].rec.DOB.IsZero() || len(got[1].left) != 1 {
		t.Errorf("MM/DD: got %+v %v %v", got[0].rec, got[1].err, got[1].left)
	}
}

func TestCSVColumnWithoutHeader(t *testing.T) {
	in := "Name,,Email\nAnn Fake,,\nBea Fake,stray-value,\n"
	got, err := readAll(t, openCSV(t, in, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].err != nil || got[1].err == nil || !strings.Contains(got[1].err.Error(), `column "column B": has a value but no header`) {
		t.Errorf("got %v, %v", got[0].err, got[1].err)
	}
	noLeak(t, got[1].err, "stray")
}

func TestCSVBadInput(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		opts   Options
		openIs error  // from OpenCSV
		nextIs error  // from Next, when OpenCSV succeeds
		says   string // in the message
	}{
		{"empty", "", Options{}, ErrEmpty, nil, "is empty"},
		{"blank lines only", "\n\r\n\n", Options{}, ErrEmpty, nil, "is empty"},
		{"blank cells only", " , ,\n,,\n", Options{}, ErrEmpty, nil, "is empty"},
		{"only a BOM", "\xEF\xBB\xBF", Options{}, ErrEmpty, nil, "is empty"},
		{"header only", "Name,Email\n", Options{}, nil, ErrNoRows, "has a header but no rows"},
		{"header and blank rows", "Name,Email\r\n,\r\n\r\n", Options{}, nil, ErrNoRows, "has a header but no rows"},
		{"duplicate header", "Name,Email,E-Mail\nAnn Fake,a@example.com,b@example.com\n", Options{}, ErrDuplicateHeader, nil, `"Email" (B) and column "E-Mail" (C)`},
		{"unknown header", "Name,Favourite Colour\nAnn Fake,teal\n", Options{}, ErrUnknownColumns, nil, `"Favourite Colour" (B)`},
		{"a letter, not a table", "Dear Ann,\nthank you for your visit.\n", Options{}, ErrUnknownColumns, nil, "is the header row missing?"},
		{"no header row", "Ann Fake,ann@example.com,yes,yes\nBea Fake,bea@example.com,no,no\n", Options{}, ErrUnknownColumns, nil, "is the header row missing?"},
		{"no header row, ignoring unknown columns", "Ann Fake,ann@example.com\n", Options{IgnoreUnknown: true}, ErrUnknownColumns, nil, "is the header row missing?"},
		{"binary: NUL bytes", "Name,Email\nAnn\x00\x01\x02,x\n", Options{}, ErrNotSpreadsheet, nil, "binary"},
		{"binary: PNG", "\x89PNG\r\n\x1a\nabc", Options{}, ErrNotSpreadsheet, nil, "binary"},
		{"binary: PDF", "%PDF-1.7\nName,Email\n", Options{}, ErrNotSpreadsheet, nil, "binary"},
		{"zip on a stream", "PK\x03\x04rest", Options{}, ErrNotSpreadsheet, nil, "zip"},
		{"password-protected", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest", Options{}, ErrEncrypted, nil, "password-protected or an old .xls"},
		{"invalid UTF-8", "Name,Notes\nAnn Fake,ok\nBea Fake,caf\xE9-secret\n", Options{}, nil, ErrInvalidUTF8, `row 3, column "Notes" (B): is not valid UTF-8`},
		{"invalid UTF-8 in the header", "Name,Not\xE9s\nAnn Fake,x\n", Options{}, ErrInvalidUTF8, nil, "row 1, column B"},
		{"bare quote", "Name,Notes\nAnn Fake,say \"hi\"\n", Options{}, nil, csv.ErrBareQuote, "line 2"},
		{"unclosed quote", "Name,Notes\nAnn Fake,\"open-secret\n", Options{}, nil, csv.ErrQuote, "line 2"},
		{"bad encoding option", "Name\nA\n", Options{Encoding: "latin-9"}, nil, nil, "encoding"},
		{"bad format option", "Name\nA\n", Options{Format: "ods"}, nil, nil, "format"},
		{"bad date format option", "Name\nA\n", Options{DateFormat: "D/M/Y"}, nil, nil, "date format"},
		{"xlsx on a stream", "Name\nA\n", Options{Format: "xlsx"}, nil, nil, "stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := OpenCSV(strings.NewReader(tt.in), tt.opts)
			if err == nil {
				_, err = readAll(t, r)
				if tt.nextIs != nil && !errors.Is(err, tt.nextIs) {
					t.Errorf("Next: %v, want %v", err, tt.nextIs)
				}
				if (errors.Is(err, csv.ErrBareQuote) || errors.Is(err, csv.ErrQuote)) && !errors.Is(err, ErrMalformed) {
					t.Errorf("Next: %v is not ErrMalformed", err)
				}
			} else if tt.openIs != nil && !errors.Is(err, tt.openIs) {
				t.Errorf("OpenCSV: %v, want %v", err, tt.openIs)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
			noLeak(t, err, "Ann", "ann@", "yes", "secret", "teal", "thank you")
		})
	}
}

func TestCSVNULAfterTheStart(t *testing.T) {
	var b strings.Builder
	b.WriteString("Name,Notes\n")
	for b.Len() < 3*sniffSize {
		b.WriteString("Ann Fake,some notes\n")
	}
	b.WriteString("Bea Fake,x\x00y\n")
	_, err := readAll(t, openCSV(t, b.String(), Options{}))
	if err == nil || !strings.Contains(err.Error(), `column "Notes" (B): has a NUL byte`) {
		t.Errorf("got %v", err)
	}
}

// repeatReader yields n bytes of b, without holding them.
type repeatReader struct {
	b byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > r.n {
		n = r.n
	}
	for i := range p[:n] {
		p[i] = r.b
	}
	r.n -= n
	return int(n), nil
}

func TestCSVHugeCell(t *testing.T) {
	for _, quoted := range []bool{false, true} {
		q := ""
		if quoted {
			q = `"`
		}
		in := io.MultiReader(
			strings.NewReader("Name,Email,Notes\nAnn Fake,,short\nBea Fake,,"+q),
			&repeatReader{'z', 50 << 20},
			strings.NewReader(q+"\n"))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r, err := OpenCSV(in, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, r)
		runtime.ReadMemStats(&after)
		if len(got) != 1 || !errors.Is(err, ErrCellTooLarge) || !strings.Contains(err.Error(), `row 3, column "Notes" (C): cell is larger than 1 MiB`) {
			t.Errorf("quoted %v: got %d rows, %v", quoted, len(got), err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
			t.Errorf("quoted %v: allocated %d MiB for a 50 MiB cell", quoted, alloc>>20)
		}
	}
}

func TestCSVManyColumns(t *testing.T) {
	in := io.MultiReader(strings.NewReader("Name\nAnn Fake"), &repeatReader{',', 1 << 20})
	r, err := OpenCSV(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, r); err == nil || !strings.Contains(err.Error(), "more than 16384 columns") {
		t.Errorf("got %v", err)
	}
}

func TestOpenSniffsCSV(t *testing.T) {
	in := []byte("Name,Email\nAnn Fake,ann@example.com\n")
	r, err := Open(bytes.NewReader(in), int64(len(in)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if err != nil || len(got) != 1 || got[0].rec.Email != "ann@example.com" {
		t.Errorf("got %+v, %v", got, err)
	}
	if _, err := Open(bytes.NewReader(nil), 0, Options{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	cfb := []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" + strings.Repeat("\x00", 504))
	if _, err := Open(bytes.NewReader(cfb), int64(len(cfb)), Options{}); !errors.Is(err, ErrEncrypted) {
		t.Errorf("CFB: %v", err)
	}
	if _, err := Open(bytes.NewReader(in), int64(len(in)), Options{Format: "xlsx"}); !errors.Is(err, ErrNotSpreadsheet) {
		t.Errorf("CSV as xlsx: %v", err)
	}
}

// The visit dates of a booking system's export are read as dates into
// first_visit and last_visit, under each name the systems give them.
func TestCSVVisitDates(t *testing.T) {
	for _, c := range []struct{ header, first, last string }{
		{"Name,Customer Since,Last Visit", "2015-06-01", "2018-03-09"},
		{"Name,First Visit,Last Visited", "2015-06-01", "2018-03-09"},
		{"Name,Added,LastVisit", "2015-06-01", "2018-03-09"},
		{"Name,Creation Date,Last Appointment", "2015-06-01", "2018-03-09"},
		{"Name,Last Visit", "", "2015-06-01"},
	} {
		in := c.header + "\nAnn Fake,2015-06-01,2018-03-09\n"
		if strings.Count(c.header, ",") == 1 {
			in = c.header + "\nAnn Fake,2015-06-01\n"
		}
		got, err := readAll(t, openCSV(t, in, Options{}))
		if err != nil || len(got) != 1 || got[0].err != nil {
			t.Fatalf("%s: %+v, %v", c.header, got, err)
		}
		r := got[0].rec
		if r.FirstVisit.String() != c.first || r.LastVisited.String() != c.last {
			t.Errorf("%s: first %v, last %v; want %s, %s", c.header, r.FirstVisit, r.LastVisited, c.first, c.last)
		}
	}
}

// Columns without a field of their own land in the notes under their
// headers, a date of birth in three columns is read, and a header's hint
// gives its column's date format.
func TestCSVNotesPartsAndHints(t *testing.T) {
	in := "Prénom,Nom,Téléphone,Téléphone fixe,Tags,Gender,Remarques,Jour de naissance,Mois de naissance,Année de naissance,Dernière visite (JJ/MM/AAAA)\n" +
		"Ann,Fake,06 12 34 56 78,01 23 45 67 89,VIP; Laser,F,allergic to nothing,4,7,1990,03/02/2019\n" +
		"Bea,Fake,,,,,,25,décembre,,\n" +
		"Cat,Fake,,,,,,31,2,1990,\n"
	got, err := readAll(t, openCSV(t, in, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	ann := got[0].rec
	if ann == nil || ann.Name != "Ann Fake" || ann.Phone != "06 12 34 56 78" || ann.DOB.String() != "1990-07-04" ||
		ann.LastVisited.String() != "2019-02-03" ||
		ann.Notes != "Téléphone fixe: 01 23 45 67 89\nTags: VIP; Laser\nGender: F\nallergic to nothing" {
		t.Errorf("row 2: %+v %v", ann, got[0].err)
	}
	if bea := got[1].rec; bea == nil || bea.Birthday != "--12-25" || !bea.DOB.IsZero() {
		t.Errorf("row 3: %+v %v", bea, got[1].err)
	}
	if cat := got[2]; cat.rec == nil || !cat.rec.DOB.IsZero() || len(cat.left) != 1 ||
		cat.left[0].String() != `column "Jour de naissance + Mois de naissance + Année de naissance": is not a real date` {
		t.Errorf("row 4: %+v %v", cat.rec, cat.left)
	}
}

// --ignore-unknown never leaves out a phone or a street that the file had:
// a header with a phone or address word in it is read as one.
func TestIgnoreUnknownKeepsPhonesAndStreets(t *testing.T) {
	in := "Name,Cellular No.,Residence Street,Hobby,Fax Phone\nAnn Fake,555 0100,1 Test St,knitting,555 0199\n"
	r := openCSV(t, in, Options{IgnoreUnknown: true})
	if u := r.Unknown(); len(u) != 1 || u[0] != "Hobby" {
		t.Errorf("unknown %q", u)
	}
	got, err := readAll(t, r)
	if err != nil || len(got) != 1 || got[0].rec == nil {
		t.Fatalf("%+v, %v", got, err)
	}
	if rec := got[0].rec; rec.Phone != "555 0100" || rec.Address != "1 Test St" || rec.Notes != "Fax Phone: 555 0199" {
		t.Errorf("%+v", rec)
	}
}
