package sheet

import (
	"fmt"
	"strings"
	"testing"
)

// The rows of one client in a file are merged into one record, returned at
// the last of them with the number of the first; other rows pass as they
// are, and the cells left out of a merged row keep its number.
func TestMerger(t *testing.T) {
	in := "Name,DOB,Phone,Email,Notes,Last Visit\n" +
		"Ann Fake,1990-04-02,555 0100,,prefers mornings,2018-01-01\n" + // 2
		"Bea Fake,1985-01-01,555 0200,,,\n" + // 3
		"ANN FAKE,1990-04-02,+1 555 0100,ann@example.com,Tags: VIP,2019-05-05\n" + // 4
		"Ann Fake,1991-04-02,555 0300,,,\n" + // 5: another Ann
		"Ann  Fake,1990-04-02,,not-an-email,,\n" // 6
	m, err := NewMerger(func() (*Reader, error) { return OpenCSV(strings.NewReader(in), Options{}) }, today)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var ann *result
	for {
		rec, row, err := m.Next(today)
		if err != nil {
			break
		}
		got = append(got, rec.Name)
		if row == 2 {
			ann = &result{row, rec, nil, append([]Problem(nil), m.LeftOut()...)}
		}
	}
	if strings.Join(got, "|") != "Bea Fake|Ann Fake|Ann Fake" {
		t.Fatalf("records %q", got)
	}
	r := ann.rec
	if r.Phone != "+1 555 0100" || r.Email != "ann@example.com" || r.Notes != "prefers mornings\nTags: VIP" ||
		r.LastVisited.String() != "2019-05-05" {
		t.Errorf("merged %+v", r)
	}
	if len(ann.left) != 1 || ann.left[0].Row != 6 || ann.left[0].Column != "Email" {
		t.Errorf("left out %+v", ann.left)
	}
	merged := m.Merged()
	if len(merged) != 2 || merged[0].Row != 4 || merged[0].Into != 2 || strings.Join(merged[0].Changed, ",") != "phone,email,notes,last_visit" ||
		merged[1].Row != 6 || merged[1].Into != 2 || len(merged[1].Changed) != 0 {
		t.Errorf("merged rows %+v", merged)
	}
}

// Within a file, names match without accents, Ø, Ł and ß included.
func TestMergerFoldsNames(t *testing.T) {
	in := "Name,DOB,Phone\nSøren Łukasz-Straße,1980-01-02,555 0100\nSoren Lukasz Strasse,1980-01-02,+45 555 0100\n"
	m, err := NewMerger(func() (*Reader, error) { return OpenCSV(strings.NewReader(in), Options{}) }, today)
	if err != nil {
		t.Fatal(err)
	}
	rec, row, err := m.Next(today)
	if err != nil || row != 2 || rec.Name != "Søren Łukasz-Straße" || rec.Phone != "+45 555 0100" || len(m.Merged()) != 1 {
		t.Errorf("%d %+v %v %+v", row, rec, err, m.Merged())
	}
}

// A row without a date of birth is the client of its name when the file
// gives the name one date of birth only.
func TestMergerRowWithoutDOB(t *testing.T) {
	in := "Name,DOB,Email\n" +
		"Ann Fake,,ann@example.com\n" + // 2: merged into row 3's client
		"Ann Fake,1990-04-02,\n" + // 3
		"Bob Fake,1970-01-01,\n" + // 4
		"Bob Fake,1971-01-01,\n" + // 5
		"Bob Fake,,bob@example.com\n" // 6: which Bob cannot be told
	m, results := readMerged(t, in)
	var got []string
	for _, r := range results {
		got = append(got, fmt.Sprintf("%d %s %s %s", r.row, r.rec.Name, r.rec.DOB, r.rec.Email))
	}
	want := "2 Ann Fake 1990-04-02 ann@example.com|4 Bob Fake 1970-01-01 |5 Bob Fake 1971-01-01 |6 Bob Fake  bob@example.com"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %q\nwant %q", strings.Join(got, "|"), want)
	}
	if mr := m.Merged(); len(mr) != 1 || mr[0].Row != 3 || mr[0].Into != 2 || strings.Join(mr[0].Changed, ",") != "dob" {
		t.Errorf("merged %+v", mr)
	}
}

// Within a file, a row with another surname and the email and date of
// birth of an earlier row's client is that client's (a surname changed
// between two exports pasted together), however the email's case; a
// mother and her daughter who share a phone, twins who share a phone and
// an email, a number that several clients give, and two dates of birth
// are not merged.
func TestMergerByEmailAndPhone(t *testing.T) {
	in := "Name,DOB,Phone,Email,Notes\n" +
		"Ann Testmaiden,1988-06-14,+1 212-555-0142,ann@example.test,\n" + // 2
		"Maria Testmother,1962-03-09,+1 212-555-0110,,\n" + // 3
		"Lucia Testdaughter,1994-07-01,(212) 555 0110,,\n" + // 4
		"Pia Testtwin,2001-11-30,+44 7700 900123,twins@example.test,\n" + // 5
		"Eli Testtwin,2001-11-30,07700 900123,twins@example.test,\n" + // 6
		"Ann Testmarried,1988-06-14,(212) 555 0142,ANN@example.test,prefers mornings\n" + // 7
		"Ann Testmarried,,,,Tags: VIP\n" + // 8: the name now has one date of birth
		"Ann Testother,1970-01-01,,ann@example.test,\n" + // 9: another date of birth
		"Max Testsalon,1990-01-01,+1 415 555 0100,,\n" + // 10
		"Lea Testsalon,1985-01-01,+1 415 555 0100,,\n" + // 11: another client with the number
		"Max Testother,1990-01-01,(415) 555-0100,,\n" + // 12: row 10's, but two clients give the number
		"Cleo Testone,1999-05-05,+1 646 555 0177,,\n" + // 13
		"Cleo Testtwo,1999-05-05,(646) 555-0177,,\n" + // 14: row 13's by phone and birth date
		"Jo Testsame,1980-01-01,,jo@example.test,\n" + // 15
		"Jo Testsame,1981-01-01,,jo@example.test,\n" // 16: one name and email, two dates of birth: not merged
	m, results := readMerged(t, in)
	var got []string
	for _, r := range results {
		got = append(got, fmt.Sprintf("%d %s", r.row, r.rec.Name))
		if r.row == 2 && (r.rec.Notes != "prefers mornings\nTags: VIP" || r.rec.Email != "ann@example.test" || r.rec.Phone != "+1 212-555-0142") {
			t.Errorf("merged record %+v", r.rec)
		}
	}
	want := "3 Maria Testmother|4 Lucia Testdaughter|5 Pia Testtwin|6 Eli Testtwin|2 Ann Testmaiden|9 Ann Testother|" +
		"10 Max Testsalon|11 Lea Testsalon|12 Max Testother|13 Cleo Testone|15 Jo Testsame|16 Jo Testsame"
	if strings.Join(got, "|") != want {
		t.Errorf("records\n got %q\nwant %q", strings.Join(got, "|"), want)
	}
	if merged := fmt.Sprint(m.Merged()); merged != "[{7 2 [notes]} {8 2 [notes]} {14 13 []}]" {
		t.Errorf("merged rows %s", merged)
	}
}

// readMerged reads the CSV file in through a Merger, and returns it and the
// records it gave, each with its row.
func readMerged(t *testing.T, in string) (*Merger, []result) {
	t.Helper()
	m, err := NewMerger(func() (*Reader, error) { return OpenCSV(strings.NewReader(in), Options{}) }, today)
	if err != nil {
		t.Fatal(err)
	}
	var out []result
	for {
		rec, row, err := m.Next(today)
		if err != nil {
			return m, out
		}
		out = append(out, result{row: row, rec: rec})
	}
}
