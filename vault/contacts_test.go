package vault

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/clientvault/clientvault/records"
)

// A client who changed her surname but kept her email and date of birth
// is likely the client already in: the import stops and says so by email
// (a terminal asks), and --on-duplicate update merges the row into her
// record, which keeps its name.
func TestImportSurnameChangedSameEmail(t *testing.T) {
	tv := newTestVault(t)
	dob := records.Date{Year: 1988, Month: 6, Day: 14}
	ann := tv.add(t, &records.Record{Name: "Annika Testmaiden", DOB: dob, Email: "annika@example.test",
		Phone: "+1 212-555-0142"})[0]
	row := &records.Record{Name: "Annika Testmarried", DOB: dob, Email: "Annika@Example.test",
		Address: "12 Fake Lane", Allergies: []string{"latex"}}
	noDOB := &records.Record{Name: "Annika Testmarried-Maiden", Email: "annika@example.test", Notes: "prefers mornings"}

	rep, err := tv.Import(context.Background(), rowSource(rowsOf(row)), ImportOptions{})
	if !errors.Is(err, ErrImport) || len(rep.Duplicates) != 1 {
		t.Fatalf("default: %+v, %v", rep, err)
	}
	if d := rep.Duplicates[0]; d.Record != ann.String() || !d.Likely || d.Match != MatchEmail || d.Resolved != "error" {
		t.Errorf("duplicate %+v", d)
	}
	var asked []DuplicateRow
	ask := func(d DuplicateRow) (string, error) { asked = append(asked, d); return DuplicateError, nil }
	tv.Import(context.Background(), rowSource(rowsOf(row)), ImportOptions{Ask: ask})
	if len(asked) != 1 || asked[0].Record != ann.String() || asked[0].Match != MatchEmail {
		t.Errorf("asked %+v", asked)
	}

	rep, err = tv.Import(context.Background(), rowSource(rowsOf(row, noDOB)), ImportOptions{OnDuplicate: DuplicateUpdate})
	if err != nil || rep.Imported != 0 || rep.Updated != 2 || len(rep.Shared) != 0 {
		t.Fatalf("update: %+v, %v", rep, err)
	}
	if d := rep.Duplicates[0]; d.Resolved != "updated" || d.Match != MatchEmail || strings.Join(d.Changed, ",") != "address,allergies" {
		t.Errorf("update reported as %+v", d)
	}
	if d := rep.Duplicates[1]; d.Record != ann.String() || d.Match != MatchEmail || strings.Join(d.Changed, ",") != "notes" {
		t.Errorf("the row without a date of birth: %+v", d)
	}
	s, err := tv.View(ann.String())
	if err != nil || s.Name != "Annika Testmaiden" || s.Email != "annika@example.test" || s.Address != "12 Fake Lane" ||
		s.Notes != "prefers mornings" || s.Phone != "+1 212-555-0142" {
		t.Errorf("merged record %+v, %v", s, err)
	}
	if list, _ := tv.List(); len(list) != 1 {
		t.Errorf("%d records, want 1", len(list))
	}
	if rep, _ := tv.Verify(); !rep.OK() {
		t.Errorf("verify: %v", rep.Problems)
	}
}

// A mother and her daughter share a phone, written differently, with other
// names and dates of birth: both are clients, imported without a stop, and
// the report names the row that shares the phone, by row and record ID.
// Within the file too, and with twins (one birthday, other given names).
func TestImportSharedPhoneFamily(t *testing.T) {
	tv := newTestVault(t)
	mother := tv.add(t, &records.Record{Name: "Maria Testfamily", DOB: records.Date{Year: 1962, Month: 3, Day: 9},
		Phone: "+1 212-555-0110", Email: "maria@example.test"})[0]
	twin := records.Date{Year: 2001, Month: 11, Day: 30}
	rows := rowsOf(
		&records.Record{Name: "Lucia Testother", DOB: records.Date{Year: 1994, Month: 7, Day: 1}, Phone: "(212) 555 0110"}, // 2
		&records.Record{Name: "Pia Testtwin", DOB: twin, Phone: "+44 7700 900123", Email: "twins@example.test"},            // 3
		&records.Record{Name: "Eli Testtwin", DOB: twin, Phone: "07700 900123", Email: "twins@example.test"},               // 4
		&records.Record{Name: "Tom Testfamily", Phone: "212.555.0110", Email: "maria@example.test"},                        // 5
		&records.Record{Name: "Ada Testalone", Phone: "+1 415 555 0199"},                                                   // 6
	)
	rep, err := tv.Import(context.Background(), rowSource(rows), ImportOptions{})
	if err != nil || rep.Imported != 5 || len(rep.Duplicates) != 0 {
		t.Fatalf("import: %+v, %v", rep, err)
	}
	want := []SharedRow{
		{Row: 2, Contact: records.ContactPhone, Record: mother.String()},
		{Row: 4, Contact: records.ContactEmail, SameAs: 3},
		{Row: 4, Contact: records.ContactPhone, SameAs: 3},
		{Row: 5, Contact: records.ContactEmail, Record: mother.String()},
		{Row: 5, Contact: records.ContactPhone, Record: mother.String(), SameAs: 2, Several: true},
	}
	if !slices.Equal(rep.Shared, want) || rep.SharedRows != 3 {
		t.Errorf("shared %+v (%d rows), want %+v", rep.Shared, rep.SharedRows, want)
	}
	if list, _ := tv.List(); len(list) != 6 {
		t.Errorf("%d records, want 6", len(list))
	}
}

// The salon's own number typed in for every client who gave none, in the
// vault and in the file: shared by all, it stops nothing and merges
// nothing, even between rows with one birth date.
func TestImportNumberOfMany(t *testing.T) {
	tv := newTestVault(t)
	dob := records.Date{Year: 1990, Month: 1, Day: 1}
	tv.add(t, &records.Record{Name: "Old Testclient", DOB: dob, Phone: "+1 415 555 0100"},
		&records.Record{Name: "Older Testclient", Phone: "+1 415 555 0100"})
	var recs []*records.Record
	for _, name := range []string{"Ann", "Bea", "Cai", "Dov", "Eda", "Fay", "Gus", "Hal", "Ivo", "Joy", "Kai", "Lea"} {
		recs = append(recs, &records.Record{Name: "Old Test" + name, DOB: dob, Phone: "(415) 555-0100"})
	}
	for _, policy := range []string{DuplicateError, DuplicateUpdate} {
		rep, err := tv.Import(context.Background(), rowSource(rowsOf(recs...)), ImportOptions{OnDuplicate: policy, DryRun: true})
		if err != nil || rep.Imported != len(recs) || len(rep.Duplicates) != 0 || rep.SharedRows != len(recs) {
			t.Errorf("%s: %+v, %v", policy, rep, err)
		}
	}
}

// Within one file, a row with another surname and the email and date of
// birth of an earlier row is likely that row's client: it stops the
// import, or is skipped with skip; with update, which merged the rows of
// one client before (sheet.Merger), it is never skipped as another's.
func TestImportSurnameChangedWithinFile(t *testing.T) {
	dob := records.Date{Year: 1979, Month: 2, Day: 3}
	rows := rowsOf(
		&records.Record{Name: "Nora Testbefore", DOB: dob, Email: "nora@example.test"},
		&records.Record{Name: "Nora Testafter", DOB: dob, Email: "NORA@example.test", Phone: "555 0123"},
		&records.Record{Name: "Nils Testbefore", DOB: dob, Email: "nora@example.test"}, // her husband: another given name
	)
	for _, c := range []struct {
		policy             string
		imported, skipped  int
		fail               bool
		wantDup, wantShare bool
	}{
		{DuplicateError, 0, 0, true, true, true},
		{DuplicateSkip, 2, 1, false, true, true},
		{DuplicateUpdate, 3, 0, false, false, true},
	} {
		tv := newTestVault(t)
		rep, err := tv.Import(context.Background(), rowSource(rows), ImportOptions{OnDuplicate: c.policy})
		if c.fail != errors.Is(err, ErrImport) || (!c.fail && rep.Imported != c.imported) || rep.Skipped != c.skipped {
			t.Errorf("%s: %+v, %v", c.policy, rep, err)
			continue
		}
		if c.wantDup != (len(rep.Duplicates) == 1) {
			t.Errorf("%s: duplicates %+v", c.policy, rep.Duplicates)
		} else if c.wantDup {
			if d := rep.Duplicates[0]; d.Row != 3 || d.SameAs != 2 || !d.Likely || d.Match != MatchEmail {
				t.Errorf("%s: duplicate %+v", c.policy, d)
			}
		}
		if c.wantShare && (len(rep.Shared) == 0 || rep.Shared[len(rep.Shared)-1].Row != 4) {
			t.Errorf("%s: shared %+v", c.policy, rep.Shared)
		}
	}
}

// A second export of the same clients writes their phones another way, and
// their names without accents: the rows are the clients already in, and a
// row that adds nothing is already imported, not a conflict. A row of the
// same name and phone with another date of birth (a typo in one export) is
// likely the client.
func TestImportSecondExportOtherFormats(t *testing.T) {
	tv := newTestVault(t)
	first := rowsOf(
		&records.Record{Name: "Zoë Testformat", DOB: records.Date{Year: 1975, Month: 7, Day: 4}, Phone: "+1 212-555-0110",
			Email: "zoe@example.test"},
		&records.Record{Name: "Bjørn Testformat", DOB: records.Date{Year: 1969, Month: 12, Day: 1}, Phone: "+44 7700 900123"},
		&records.Record{Name: "Cleo Testformat", DOB: records.Date{Year: 1999, Month: 5, Day: 5}, Phone: "(646) 555-0177"},
	)
	rep, err := tv.Import(context.Background(), rowSource(first), ImportOptions{})
	if err != nil || rep.Imported != 3 {
		t.Fatalf("first export: %+v, %v", rep, err)
	}
	ids := rep.IDs
	second := rowsOf(
		&records.Record{Name: "Zoe Testformat", DOB: records.Date{Year: 1975, Month: 7, Day: 4}, Phone: "(212) 555 0110",
			Email: "ZOE@example.test"},
		&records.Record{Name: "Bjorn Testformat", DOB: records.Date{Year: 1969, Month: 12, Day: 1}, Phone: "07700 900123"},
		&records.Record{Name: "Cleo Testformat", DOB: records.Date{Year: 1999, Month: 5, Day: 15}, Phone: "+1 646 555 0177"},
	)
	rep, err = tv.Import(context.Background(), rowSource(second), ImportOptions{OnDuplicate: DuplicateUpdate})
	if err != nil || rep.Imported != 0 || rep.Skipped != 2 || rep.Updated != 1 || len(rep.Duplicates) != 3 {
		t.Fatalf("second export: %+v, %v", rep, err)
	}
	for i, d := range rep.Duplicates {
		if !slices.Contains(ids, d.Record) {
			t.Errorf("row %d: record %s is not of the first export %v", d.Row, d.Record, ids)
		}
		if i < 2 && d.Resolved != DuplicateAlreadyIn {
			t.Errorf("row %d: %+v, want already imported", d.Row, d)
		}
	}
	if d := rep.Duplicates[2]; !d.Likely || d.Match != MatchName || strings.Join(d.Changed, ",") != "phone" {
		t.Errorf("the birth date typo: %+v", d)
	}
	if list, _ := tv.List(); len(list) != 3 {
		t.Errorf("%d records, want 3", len(list))
	}
}
