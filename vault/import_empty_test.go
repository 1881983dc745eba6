package vault

import (
	"context"
	"errors"
	"testing"
)

// TestImportDuplicatesInEmptyVault: with no records to look up, rows are
// still checked against each other.
func TestImportDuplicatesInEmptyVault(t *testing.T) {
	tv := newTestVault(t)
	rows := rowsOf(fakeRecord(1), fakeRecord(2), fakeRecord(1))
	rep, err := tv.Import(context.Background(), rowSource(rows), ImportOptions{})
	if !errors.Is(err, ErrImport) || len(rep.Duplicates) != 1 || rep.Duplicates[0].Row != 4 || rep.Duplicates[0].SameAs != 2 {
		t.Fatalf("import: %+v, %v; want row 4 the same as row 2", rep, err)
	}
	rep, err = tv.Import(context.Background(), rowSource(rows), ImportOptions{OnDuplicate: DuplicateSkip})
	if err != nil || rep.Imported != 2 || rep.Skipped != 1 {
		t.Fatalf("skip: %+v, %v", rep, err)
	}
	// Now the vault has records: the same rows are all duplicates of them.
	rep, err = tv.Import(context.Background(), rowSource(rows[:2]), ImportOptions{OnDuplicate: DuplicateSkip})
	if err != nil || rep.Imported != 0 || len(rep.Duplicates) != 2 || rep.Duplicates[0].Record == "" {
		t.Fatalf("second import: %+v, %v", rep, err)
	}
}
