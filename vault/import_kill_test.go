package vault

import (
	"bytes"
	"context"
	"fmt"
	"github.com/clientvault/clientvault/vault/store"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clientvault/clientvault/internal/fakesheet"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/records/sheet"
)

// The kill test's child: a process importing killRows rows in batches of
// killBatch, saying after each committed batch how many rows are written.
const (
	killRows  = 30000
	killBatch = 1000
	killAfter = 3 * killBatch // rows committed (staged) before the kill
)

// importKilled is the child of TestImportKilled (the helper's "import"
// mode): it imports killRows rows in batches of killBatch, saying after each
// committed batch how many rows are written.
func importKilled(v *Vault) {
	// The vault is small, so each batch would publish its records at once
	// (eagerPublish; TestAddIsAllOrNothing covers that): here, as in a
	// large vault, they wait.
	eagerPublish = 0
	if os.Getenv("CLIENTVAULT_KILL_PUBLISH") != "" {
		// Publish IDs and index entries (in parts) before the kill.
		publishEvery, publishSpan = 2*killBatch, killBatch
	}
	var csv bytes.Buffer
	fakesheet.Write(&csv, killRows)
	r, err := sheet.OpenCSV(&csv, sheet.Options{})
	if err == nil {
		_, err = v.Import(context.Background(), sheetRows(r, records.DateOf(testClock())), ImportOptions{
			BatchSize: killBatch,
			Progress: func(read, written int) {
				if written >= 0 {
					fmt.Printf("written %d\n", written)
				}
			},
		})
	}
	fmt.Printf("import finished: %v\n", err)
}

// TestImportKilled kills a process in the middle of a large import, after
// some batches were committed, and checks that the vault is as it was
// before: the same records, nothing staged visible, verify clean once the
// next writer removed the staged entries. In "published", the import had
// written the ID map and index entries of its first batches (in parts)
// before it was killed.
func TestImportKilled(t *testing.T) {
	beatsLongStopped(t)
	if testing.Short() {
		t.Skip("seals thousands of records")
	}
	t.Run("staged", func(t *testing.T) { testImportKilled(t, false) })
	t.Run("published", func(t *testing.T) { testImportKilled(t, true) })
}

func testImportKilled(t *testing.T, published bool) {
	tv := newTestVault(t)
	tv.add(t, fakeRecord(1), fakeRecord(2), fakeRecord(3))
	before := listIDs(t, tv.Vault)
	counts := func() map[string]int {
		n := map[string]int{}
		tv.withDB(t, func(tx store.Tx) error {
			for _, b := range allBuckets {
				n[string(b)] = keyCount(tx.Bucket(b))
			}
			return nil
		})
		return n
	}
	was := counts()

	var env []string
	if published {
		env = append(env, "CLIENTVAULT_KILL_PUBLISH=1")
	}
	c := startHelper(t, "import", tv.path, tv.owner, env...)
	for {
		line, ok := c.next(t, time.Minute)
		if !ok {
			t.Fatal("the child never reported enough committed batches")
		}
		if strings.HasPrefix(line, "import finished") {
			t.Fatalf("the import ended before it was killed: %s", line)
		}
		if n, ok := strings.CutPrefix(line, "written "); ok {
			if w, _ := strconv.Atoi(n); w >= killAfter {
				c.kill(t)
				break
			}
		}
	}

	// The kill left staged entries behind, invisible.
	staged := counts()
	if staged["stages"] != 1 || staged["records"] < was["records"]+killAfter {
		t.Fatalf("after the kill: %v; want 1 stage and at least %d more records than %v", staged, killAfter, was)
	}
	if published && (staged["ids"] < was["ids"]+2*killBatch || staged["index"] <= was["index"]) {
		t.Fatalf("after the kill: %v; want at least %d more IDs and more index entries than %v", staged, 2*killBatch, was)
	}
	if !published && (staged["ids"] != was["ids"] || staged["index"] != was["index"]) {
		t.Fatalf("after the kill: %v; want the IDs and index entries of %v", staged, was)
	}
	v, err := Open(tv.path, Options{Now: testClock, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock(tv.owner); err != nil {
		t.Fatal(err)
	}
	// (List writes an audit entry, which a read-only vault cannot.)
	rep, err := v.Verify()
	if err != nil || rep.Records != len(before) || rep.PendingStages != 1 || !rep.OK() {
		t.Errorf("read-only verify after the kill: %d records, %d pending stages, %v; want %d, 1, no error",
			rep.Records, rep.PendingStages, err, len(before))
		for _, p := range rep.Problems[:min(len(rep.Problems), 5)] {
			t.Errorf("  problem: %s", p)
		}
	}
	v.Close()

	// The next writer removes the staged entries.
	tv.reopen(t)
	if got := listIDs(t, tv.Vault); !slices.Equal(got, before) {
		t.Errorf("%d records after cleanup, want the %d from before", len(got), len(before))
	}
	if rep, err := tv.Verify(); err != nil || !rep.OK() || rep.Records != len(before) || rep.PendingStages != 0 {
		t.Errorf("verify after cleanup: %+v, %v", rep, err)
	}
	events, _ := tv.Audit(AuditFilter{})
	for _, e := range events {
		if e.Action == "import" {
			t.Errorf("the killed import is in the audit log: %+v", e)
		}
	}
	now := counts()
	for _, b := range []string{"records", "ids", "index", "stages"} {
		if now[b] != was[b] {
			t.Errorf("bucket %s has %d keys after cleanup, %d before the import", b, now[b], was[b])
		}
	}
}

// listIDs returns the IDs of the visible records, sorted.
func listIDs(t testing.TB, v *Vault) []string {
	t.Helper()
	list, err := v.List()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	slices.Sort(ids)
	return ids
}
