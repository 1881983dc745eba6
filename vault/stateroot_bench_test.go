package vault

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/records/sheet"
)

// BenchmarkStateRoot measures what the state root costs, against the same
// work with the root turned off (hooks.noStateRoot), in the same run:
//   - import of benchRows rows (issue 12: at most 5% more);
//   - single-record commands in a vault of 100,000 records: a note (a
//     write of one record's entry, index and expiry row, and its audit
//     event) and a view (its audit event, and the read of the record's
//     holds, checked against their root), at most 1 ms more each.
//
// The root's cost is one HMAC of each value written and of each value it
// replaces, and the check of the guarded buckets the first time a command
// reads them; it does not grow with the number of records.
func BenchmarkStateRoot(b *testing.B) {
	// Both imports run in each iteration, in alternating order, so that
	// their ratio is taken under the same load; root/no-root is the issue's
	// number (at most 1.05).
	b.Run(fmt.Sprintf("import/rows=%d", benchRows), func(b *testing.B) {
		data := benchCSV()
		var wall, cpu [2]time.Duration
		for i := range b.N {
			for j := range 2 {
				root := (i+j)%2 == 0
				tv := newTestVault(b)
				tv.hooks.noStateRoot = !root
				runtime.GC()
				start, c := time.Now(), processCPU()
				r, err := sheet.Open(bytes.NewReader(data), int64(len(data)), sheet.Options{})
				if err != nil {
					b.Fatal(err)
				}
				rep, err := tv.Import(context.Background(), sheetRows(r, records.DateOf(testClock())), ImportOptions{Source: "csv"})
				if err != nil || rep.Imported != benchRows {
					b.Fatalf("import: %v, %d imported", err, rep.Imported)
				}
				k := 1
				if root {
					k = 0
				}
				wall[k] += time.Since(start)
				cpu[k] += processCPU() - c
				tv.close(b)
			}
		}
		b.ReportMetric(wall[0].Seconds()/float64(b.N), "root-s/op")
		b.ReportMetric(wall[1].Seconds()/float64(b.N), "no-root-s/op")
		b.ReportMetric(wall[0].Seconds()/wall[1].Seconds(), "root/no-root")
		if cpu[1] > 0 {
			b.ReportMetric(cpu[0].Seconds()/cpu[1].Seconds(), "root-cpu/no-root-cpu")
		}
	})
	const n = 100000
	for _, cmd := range []string{"note", "view"} {
		for _, root := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/records=%d/root=%v", cmd, n, root), func(b *testing.B) {
				f := benchVault(b, n)
				f.v.hooks.noStateRoot = !root
				defer func() { f.v.hooks.noStateRoot = false }()
				b.ResetTimer()
				cpu := processCPU()
				for i := 0; i < b.N; i++ {
					// Each command of the CLI opens the vault anew, so the
					// guarded buckets are checked again each time.
					clear(f.v.rooted)
					id := f.ids[(i*7919+13)%n].String()
					var err error
					if cmd == "note" {
						_, err = f.v.Note(id, records.Treatment{Date: records.DateOf(benchNow().Add(-time.Hour)), Service: "brow tint"})
					} else {
						_, err = f.v.View(id)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if used := processCPU() - cpu; used > 0 {
					b.ReportMetric(used.Seconds()*1e6/float64(b.N), "cpu-µs/op")
				}
			})
		}
	}
}

// BenchmarkGuardedCheck10k measures the check of the guarded buckets that a
// command makes as it reads them, in a vault whose coworker holds 10,000
// shares and 10,000 consents (BenchmarkStaffRemove10k's vault): a consent
// list of one record reads one shard of the consents and one of the shares;
// staff list reads every share, so it checks every shard. root=false is the
// same command without the root, to subtract.
func BenchmarkGuardedCheck10k(b *testing.B) {
	tmpl, owner := staffRemoveTemplate(b)
	path := filepath.Join(b.TempDir(), "v.db")
	if err := copyFile(path, tmpl); err != nil {
		b.Fatal(err)
	}
	v, err := Open(path, Options{Now: time.Now, ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock(owner); err != nil {
		b.Fatal(err)
	}
	var id ID
	v.view(func(tx *txn) error {
		k, _ := tx.Bucket(bucketIDs).Cursor().First()
		copy(id[:], k)
		return nil
	})
	cmds := map[string]func() error{
		"consent-list": func() error { _, err := v.Consents(id.String()); return err },
		"staff-list":   func() error { _, err := v.StaffList(); return err },
	}
	for _, name := range []string{"consent-list", "staff-list"} {
		for _, root := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/shares=%d/root=%v", name, benchShares, root), func(b *testing.B) {
				v.hooks.noStateRoot = !root
				for range b.N {
					clear(v.rooted) // as a new command would
					if err := cmds[name](); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
