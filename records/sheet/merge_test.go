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
	m, err := NewMerger(func() (*Reader, error) { return OpenCSV(strings.NewReader(in), Options{}) }, today)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		rec, row, err := m.Next(today)
		if err != nil {
			break
		}
		got = append(got, fmt.Sprintf("%d %s %s %s", row, rec.Name, rec.DOB, rec.Email))
	}
	want := "2 Ann Fake 1990-04-02 ann@example.com|4 Bob Fake 1970-01-01 |5 Bob Fake 1971-01-01 |6 Bob Fake  bob@example.com"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %q\nwant %q", strings.Join(got, "|"), want)
	}
	if mr := m.Merged(); len(mr) != 1 || mr[0].Row != 3 || mr[0].Into != 2 || strings.Join(mr[0].Changed, ",") != "dob" {
		t.Errorf("merged %+v", mr)
	}
}
