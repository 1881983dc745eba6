package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/clientvault/clientvault/records"
)

// rowSource yields rows; a nil record with a problem is a bad row.
func rowSource(rows []Row) func() (Row, error) {
	i := 0
	return func() (Row, error) {
		if i == len(rows) {
			return Row{}, io.EOF
		}
		i++
		return rows[i-1], nil
	}
}

func rowsOf(recs ...*records.Record) []Row {
	rows := make([]Row, len(recs))
	for i, r := range recs {
		rows[i] = Row{N: i + 2, Record: r}
	}
	return rows
}

func TestImportAllOrNothing(t *testing.T) {
	for _, batch := range []int{2000, 2} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			tv := newTestVault(t)
			rows := rowsOf(fakeRecord(1), fakeRecord(2), fakeRecord(3), fakeRecord(4),
				&records.Record{Name: "Zorro Secretname", Email: "not-an-email"}, fakeRecord(6))
			rows = append(rows, Row{N: 9, Problem: errors.New(`row 9: column "DOB": is not a date`)})
			rep, err := tv.Import(context.Background(), rowSource(rows), ImportOptions{BatchSize: batch})
			if !errors.Is(err, ErrImport) {
				t.Fatalf("Import = %v, want ErrImport", err)
			}
			if len(rep.Invalid) != 2 || !strings.HasPrefix(rep.Invalid[0], "row 6: ") || !strings.HasPrefix(rep.Invalid[1], "row 9: ") {
				t.Errorf("invalid rows = %q", rep.Invalid)
			}
			if strings.Contains(strings.Join(rep.Invalid, " "), "Zorro") || strings.Contains(strings.Join(rep.Invalid, " "), "not-an-email") {
				t.Errorf("report carries client data: %q", rep.Invalid)
			}
			if list, _ := tv.List(); len(list) != 0 {
				t.Errorf("%d records after a failed import", len(list))
			}
			if rep, _ := tv.Verify(); !rep.OK() || rep.PendingStages != 0 {
				t.Errorf("verify: %+v", rep)
			}
			// With --skip-invalid the good rows go in.
			rep, err = tv.Import(context.Background(), rowSource(rows), ImportOptions{BatchSize: batch, SkipInvalid: true})
			if err != nil || rep.Imported != 5 || rep.Skipped != 2 {
				t.Fatalf("skip invalid: %+v, %v", rep, err)
			}
			if list, _ := tv.List(); len(list) != 5 {
				t.Errorf("%d records, want 5", len(list))
			}
			events, _ := tv.Audit(AuditFilter{})
			last := events[len(events)-2] // the list above is the last
			if last.Action != "import" || last.Count != 5 || len(last.Records) != 5 {
				t.Errorf("audit entry = %+v, want one import of 5 IDs", last)
			}
		})
	}
}

func TestImportDuplicates(t *testing.T) {
	tv := newTestVault(t)
	existing := tv.add(t, fakeRecord(1))[0]
	newPhone := fakeRecord(1)
	newPhone.Phone = "+1 555 9999"
	newPhone.Allergies = []string{"latex"}
	rows := rowsOf(newPhone, fakeRecord(2), fakeRecord(2), fakeRecord(3))

	rep, err := tv.Import(context.Background(), rowSource(rows), ImportOptions{})
	if !errors.Is(err, ErrImport) || len(rep.Duplicates) != 2 {
		t.Fatalf("default: %+v, %v; want 2 duplicates and failure", rep, err)
	}
	if d := rep.Duplicates[0]; d.Row != 2 || d.Record != existing.String() {
		t.Errorf("vault duplicate = %+v", d)
	}
	if d := rep.Duplicates[1]; d.Row != 4 || d.SameAs != 3 {
		t.Errorf("in-file duplicate = %+v", d)
	}

	rep, err = tv.Import(context.Background(), rowSource(rows), ImportOptions{OnDuplicate: DuplicateSkip, DryRun: true})
	if err != nil || rep.Imported != 2 || rep.Skipped != 2 {
		t.Fatalf("dry run: %+v %v", rep, err)
	}
	if list, _ := tv.List(); len(list) != 1 {
		t.Fatalf("dry run wrote: %d records", len(list))
	}

	rep, err = tv.Import(context.Background(), rowSource(rows), ImportOptions{OnDuplicate: DuplicateUpdate})
	if err != nil || rep.Imported != 2 || rep.Updated != 1 || rep.Skipped != 1 {
		t.Fatalf("update: %+v %v", rep, err)
	}
	s, err := tv.View(existing.String())
	if err != nil || s.Phone != "+1 555 9999" || len(s.Allergies) != 1 || s.Medications[0] != "isotretinoin" {
		t.Errorf("updated record = %+v, %v", s, err)
	}
	if d := rep.Duplicates[0]; d.Resolved != "updated" || strings.Join(d.Changed, ",") != "phone,allergies" {
		t.Errorf("update reported as %+v", d)
	}
	// The update is an amendment: what it replaced is kept.
	if len(s.Amendments) != 1 || !slices.Contains(s.Amendments[0].Fields, "phone") || s.Amendments[0].Previous["phone"] == nil {
		t.Errorf("amendments after an update = %+v", s.Amendments)
	}
	if rep, _ := tv.Verify(); !rep.OK() {
		t.Errorf("verify after update: %v", rep.Problems)
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	tv := newTestVault(t)
	tv.close(t)
	before, _ := os.ReadFile(tv.path)
	v, _ := Open(tv.path, Options{Now: testClock, ReadOnly: true})
	v.Unlock(tv.owner)
	rep, err := v.Import(context.Background(), rowSource(rowsOf(fakeRecord(1), fakeRecord(2))), ImportOptions{DryRun: true})
	v.Close()
	if err != nil || rep.Imported != 2 {
		t.Fatalf("dry run: %+v, %v", rep, err)
	}
	after, _ := os.ReadFile(tv.path)
	if string(before) != string(after) {
		t.Error("a dry run changed the vault file")
	}
}

// Retention counts from the last visit that the imported file gives, not
// from the import: a client last seen eight years ago is due at once under
// the default seven-year rule, and one seen last year is not.
func TestImportLastVisitRetention(t *testing.T) {
	tv := newTestVault(t)
	old := &records.Record{Name: "Olga Testold", LastVisited: records.Date{Year: 2018, Month: 5, Day: 2},
		FirstVisit: records.Date{Year: 2012, Month: 1, Day: 9}}
	recent := &records.Record{Name: "Rita Testrecent", LastVisited: records.Date{Year: 2025, Month: 10, Day: 1}}
	none := &records.Record{Name: "Nina Testnone"}
	rep, err := tv.Import(context.Background(), rowSource(rowsOf(old, recent, none)), ImportOptions{})
	if err != nil || rep.Imported != 3 {
		t.Fatalf("Import = %+v, %v", rep, err)
	}
	ex, err := tv.Expire(ExpireOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Expired) != 1 {
		t.Fatalf("due = %q, want the client last seen in 2018 only", ex.Expired)
	}
	s, err := tv.View(ex.Expired[0])
	if err != nil || s.Name != "Olga Testold" || s.RetainUntil != (records.Date{Year: 2025, Month: 5, Day: 31}) {
		t.Errorf("due record: %+v, %v", s, err)
	}
	list, err := tv.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Name == "Rita Testrecent" && s.LastVisit.String() != "2025-10-01" {
			t.Errorf("list: last visit %v", s.LastVisit)
		}
	}
}

// A second run of a file, after the first skipped rows it could not read,
// says that the rows it imported are already in and imports the rest.
func TestImportSecondRun(t *testing.T) {
	tv := newTestVault(t)
	first := rowsOf(fakeRecord(1), fakeRecord(2), fakeRecord(3))
	first[1] = Row{N: 3, Problem: errors.New(`row 3: column "DOB": is ambiguous`)}
	rep, err := tv.Import(context.Background(), rowSource(first), ImportOptions{SkipInvalid: true})
	if err != nil || rep.Imported != 2 || rep.Skipped != 1 {
		t.Fatalf("first run: %+v, %v", rep, err)
	}
	second := rowsOf(fakeRecord(1), fakeRecord(2), fakeRecord(3))
	rep, err = tv.Import(context.Background(), rowSource(second), ImportOptions{})
	if err != nil || rep.Imported != 1 || rep.Skipped != 2 || len(rep.Duplicates) != 2 {
		t.Fatalf("second run: %+v, %v", rep, err)
	}
	for _, d := range rep.Duplicates {
		if d.Resolved != DuplicateAlreadyIn || d.Record == "" {
			t.Errorf("duplicate %+v", d)
		}
	}
	// A row with something new for a client already in is a conflict still.
	changed := fakeRecord(1)
	changed.Phone = "+1 555 9999"
	rep, err = tv.Import(context.Background(), rowSource(rowsOf(changed)), ImportOptions{})
	if !errors.Is(err, ErrImport) || rep.Duplicates[0].Resolved != "error" {
		t.Errorf("changed row: %+v, %v", rep, err)
	}
	if list, _ := tv.List(); len(list) != 3 {
		t.Errorf("%d records, want 3", len(list))
	}
}

// A row with a client's name but no date of birth, or another date of
// birth and the same phone, is likely that client: a duplicate, said to be
// likely; another date of birth and nothing in common is another client.
func TestImportLikelyDuplicates(t *testing.T) {
	tv := newTestVault(t)
	jane := &records.Record{Name: "Jane Testdoe", DOB: records.Date{Year: 1990, Month: 4, Day: 2}, Phone: "+1 555 0100"}
	existing := tv.add(t, jane)[0]
	noDOB := &records.Record{Name: "jane testdoe", Email: "jane@example.com"}
	samePhone := &records.Record{Name: "Jane Testdoe", DOB: records.Date{Year: 1991, Month: 4, Day: 2}, Phone: "+1 555 0100"}
	other := &records.Record{Name: "Jane Testdoe", DOB: records.Date{Year: 1985, Month: 1, Day: 1}}
	rep, err := tv.Import(context.Background(), rowSource(rowsOf(noDOB, samePhone, other)), ImportOptions{})
	if !errors.Is(err, ErrImport) || len(rep.Duplicates) != 2 {
		t.Fatalf("%+v, %v", rep, err)
	}
	for i, d := range rep.Duplicates {
		if d.Row != i+2 || d.Record != existing.String() || !d.Likely || d.Resolved != "error" {
			t.Errorf("duplicate %d: %+v", i, d)
		}
	}
	rep, err = tv.Import(context.Background(), rowSource(rowsOf(noDOB, samePhone, other)), ImportOptions{OnDuplicate: DuplicateUpdate})
	if err != nil || rep.Imported != 1 || rep.Updated != 2 {
		t.Fatalf("update: %+v, %v", rep, err)
	}
	s, err := tv.View(existing.String())
	if err != nil || s.Email != "jane@example.com" || s.DOB != jane.DOB {
		t.Errorf("merged: %+v, %v", s, err)
	}
}

// A row without a date of birth whose name two clients in the vault have
// cannot be told to be either: it stops the import, even with update.
func TestImportLikelyAmbiguous(t *testing.T) {
	tv := newTestVault(t)
	tv.add(t, &records.Record{Name: "Bob Testsame", DOB: records.Date{Year: 1970, Month: 1, Day: 1}})
	tv.add(t, &records.Record{Name: "Bob Testsame", DOB: records.Date{Year: 1971, Month: 1, Day: 1}})
	row := &records.Record{Name: "Bob Testsame", Email: "bob@example.com"}
	rep, err := tv.Import(context.Background(), rowSource(rowsOf(row)), ImportOptions{OnDuplicate: DuplicateUpdate})
	if !errors.Is(err, ErrImport) || len(rep.Duplicates) != 1 || rep.Duplicates[0].Candidates != 2 || rep.Duplicates[0].Resolved != "error" {
		t.Fatalf("%+v, %v", rep, err)
	}
}

// At a terminal a likely duplicate is asked about, and the answer decides
// the row: another client is imported as a new record.
func TestImportAskLikely(t *testing.T) {
	for _, c := range []struct {
		answer            string
		imported, updated int
		skipped, wantFail bool
	}{
		{DuplicateNew, 1, 0, false, false},
		{DuplicateUpdate, 0, 1, false, false},
		{DuplicateSkip, 0, 0, true, false},
		{DuplicateError, 0, 0, false, true},
	} {
		tv := newTestVault(t)
		existing := tv.add(t, &records.Record{Name: "Kim Testask", DOB: records.Date{Year: 1980, Month: 1, Day: 2}})[0]
		var asked []DuplicateRow
		ask := func(d DuplicateRow) (string, error) { asked = append(asked, d); return c.answer, nil }
		row := &records.Record{Name: "Kim Testask", Phone: "555 0100"}
		rep, err := tv.Import(context.Background(), rowSource(rowsOf(row)), ImportOptions{Ask: ask})
		if len(asked) != 1 || asked[0].Row != 2 || asked[0].Record != existing.String() || !asked[0].Likely {
			t.Errorf("%s: asked %+v", c.answer, asked)
		}
		if c.wantFail != errors.Is(err, ErrImport) || rep.Imported != c.imported || rep.Updated != c.updated || (rep.Skipped == 1) != c.skipped {
			t.Errorf("%s: %+v, %v", c.answer, rep, err)
		}
	}
}

// TestImportFoldedNames: a client already in the vault as "Ingrid Ødegård",
// "Łukasz Nowak" or "Anna Strauß" is the same client as a row that writes
// the name without those letters (an export that lost them), with the same
// date of birth; one without a date of birth on one side is likely her.
func TestImportFoldedNames(t *testing.T) {
	tv := newTestVault(t)
	dob := records.Date{Year: 1980, Month: 2, Day: 3}
	ids := tv.add(t, &records.Record{Name: "Ingrid Ødegård", DOB: dob}, &records.Record{Name: "Łukasz Nowak", DOB: dob},
		&records.Record{Name: "Anna Strauß"})
	rows := rowsOf(&records.Record{Name: "Ingrid Odegard", DOB: dob}, &records.Record{Name: "Lukasz Nowak", DOB: dob},
		&records.Record{Name: "Anna Strauss", DOB: dob}, &records.Record{Name: "Someone New", DOB: dob})
	rep, err := tv.Import(context.Background(), rowSource(rows), ImportOptions{OnDuplicate: DuplicateSkip})
	if err != nil || rep.Imported != 1 || rep.Skipped != 3 || len(rep.Duplicates) != 3 {
		t.Fatalf("import: %+v, %v", rep, err)
	}
	for i, d := range rep.Duplicates {
		if d.Record != ids[i].String() || d.Likely != (i == 2) {
			t.Errorf("duplicate %d = %+v, want record %s, likely %v", i, d, ids[i], i == 2)
		}
	}
}

// An update that gives a record its date of birth moves its index entries:
// verify finds them, and the record is found by its name and date of birth.
func TestImportUpdateGivesDateOfBirth(t *testing.T) {
	tv := newTestVault(t)
	id := tv.add(t, &records.Record{Name: "Kim Testnodob", Email: "kim@example.test"})[0]
	dob := records.Date{Year: 1980, Month: 1, Day: 2}
	rows := rowsOf(&records.Record{Name: "Kim Testnodob", DOB: dob}, &records.Record{Name: "Kim Testnodob", Phone: "555 0100"})
	rep, err := tv.Import(context.Background(), rowSource(rows), ImportOptions{OnDuplicate: DuplicateUpdate})
	if err != nil || rep.Updated != 2 || strings.Join(rep.Duplicates[0].Changed, ",") != "dob" {
		t.Fatalf("update: %+v, %v", rep, err)
	}
	if r, _ := tv.Verify(); !r.OK() {
		t.Errorf("verify: %v", r.Problems)
	}
	rep, err = tv.Import(context.Background(), rowSource(rowsOf(&records.Record{Name: "Kim Testnodob", DOB: dob})), ImportOptions{})
	if err != nil || len(rep.Duplicates) != 1 || rep.Duplicates[0].Record != id.String() || rep.Duplicates[0].Likely {
		t.Errorf("found by name and date of birth: %+v, %v", rep, err)
	}
}
