package vault

import (
	"testing"

	"github.com/clientvault/clientvault/records"
)

// TestDropMapped checks that unmapPages finds the vault's memory map, lets
// go of the file pages a read mapped, and that the vault reads the same
// after it.
func TestDropMapped(t *testing.T) {
	fileOnly(t, "bbolt's memory map")
	tv := newTestVault(t)
	recs := make([]*records.Record, 2000)
	for i := range recs {
		recs[i] = fakeRecord(i + 1)
	}
	ids := tv.add(t, recs...)
	var mapped int
	tv.view(func(tx *txn) error {
		mapped = len(mappedData(tx))
		// Every record's page, into this process's memory.
		return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error { return nil })
	})
	before := fileResident()
	if mapped < 1<<20 || before <= 0 {
		t.Fatalf("the vault's memory map is not known (%d bytes), or /proc/self/statm does not read (%d)", mapped, before)
	}
	tv.unmapPages()
	// The program's own code is file pages too, and may grow a little.
	if after := fileResident(); before-after < int64(mapped)/2 {
		t.Errorf("%d bytes of file pages resident before unmapPages, %d after; the map holds %d", before, after, mapped)
	}
	if s, err := tv.View(ids[1].String()); err != nil || s.Name != fakeRecord(2).Name {
		t.Fatalf("view after dropMapped: %v", err)
	}
}
