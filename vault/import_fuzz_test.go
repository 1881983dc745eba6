package vault

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/records/sheet"
)

// importMarker stands for a client's data in the fuzzed cells.
const importMarker = "Qzxmarker"

// FuzzImportRows imports arbitrary CSV rows, under a fixed header, through
// the sheet reader and a dry-run Import on a vault that holds one client:
// no panic, a report whose counts add up, and no client data (the marker)
// in the error or the report.
func FuzzImportRows(f *testing.F) {
	existing := fakeRecord(1)
	for _, s := range []string{
		existing.Name + ",1981-02-02,+1 555 0001,client1@example.test,,\n",
		"Jane " + importMarker + ",1990-04-02,,jane@example.test,latex,\nJane " + importMarker + ",1990-04-02,,,,\n",
		importMarker + ",2090-01-01," + importMarker + "," + importMarker + ",,\n",
		"\"" + importMarker + "\n" + importMarker + "\",,,,," + importMarker + "\n",
		",,,,,\n" + importMarker + ",,,,,\n",
		"x,\xff,,,,\n",
	} {
		f.Add([]byte(s), false, uint8(0))
	}
	tv := newTestVault(f)
	tv.add(f, existing)
	policies := []string{DuplicateError, DuplicateSkip, DuplicateUpdate}
	today := records.DateOf(testClock())
	const header = "Name,DOB,Phone,Email,Allergies,Notes\n"
	f.Fuzz(func(t *testing.T, body []byte, skipInvalid bool, policy uint8) {
		r, err := sheet.OpenCSV(bytes.NewReader(append([]byte(header), body...)), sheet.Options{})
		if err != nil {
			return
		}
		defer r.Close()
		rep, err := tv.Import(context.Background(), sheetRows(r, today), ImportOptions{
			DryRun: true, SkipInvalid: skipInvalid, OnDuplicate: policies[int(policy)%len(policies)], BatchSize: 2,
		})
		if err != nil {
			if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(importMarker)) {
				t.Fatalf("error carries client data: %q", err)
			}
			if !errors.Is(err, ErrImport) {
				return // the file itself is bad (a fatal reader error)
			}
		}
		if rep == nil {
			t.Fatal("no report")
		}
		for _, p := range rep.Invalid {
			if strings.Contains(strings.ToLower(p), strings.ToLower(importMarker)) {
				t.Fatalf("report carries client data: %q", p)
			}
		}
		if err == nil && rep.Imported+rep.Updated+rep.Skipped != rep.Rows {
			t.Fatalf("%d rows but %d imported, %d updated, %d skipped", rep.Rows, rep.Imported, rep.Updated, rep.Skipped)
		}
		if len(rep.IDs) != 0 {
			t.Fatalf("a dry run reports %d IDs", len(rep.IDs))
		}
	})
}
