package vault

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clientvault/clientvault/records"
)

// The benchmarks of issue 14: find, list and add with the duplicate check
// in vaults of 1,000, 10,000 and 100,000 records (the shared fixtures of
// bench_test.go: fake clients of about 1 KB of JSON, a plain X25519 owner
// key), and find in vaults whose records carry small and large notes, to
// show that its cost does not grow with them.
//
//	go test ./vault -run '^$' -bench 'Find|List|AddDuplicateCheck' -count=3 | tee bench/find.txt
var findSizes = []int{1000, 10000, 100000}

// benchQueries are what a front desk types: part of a name, two words in
// the other order, phone digits, an email.
func benchQueries(n int) []string {
	j := (n * 7) / 11
	r := benchRecord(j)
	words := strings.Fields(r.Name)
	return []string{
		strings.ToLower(words[len(words)-1][:4]),
		words[len(words)-1] + " " + words[0],
		records.PhoneDigits(r.Phone)[4:],
		r.Email,
	}
}

func BenchmarkFind(b *testing.B) {
	for _, n := range findSizes {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			f := benchVault(b, n)
			qs := benchQueries(n)
			b.ResetTimer()
			cpu := processCPU()
			hits := 0
			for i := 0; i < b.N; i++ {
				found, err := f.v.Find(qs[i%len(qs)])
				if err != nil {
					b.Fatal(err)
				}
				hits += len(found)
			}
			if hits == 0 {
				b.Fatal("nothing found")
			}
			if used := processCPU() - cpu; used > 0 {
				b.ReportMetric(used.Seconds()*1e3/float64(b.N), "cpu-ms/op")
			}
		})
	}
}

func BenchmarkList(b *testing.B) {
	for _, sort := range []string{SortName, SortLastVisit} {
		for _, n := range findSizes {
			b.Run(fmt.Sprintf("sort=%s/records=%d", sort, n), func(b *testing.B) {
				f := benchVault(b, n)
				b.ResetTimer()
				cpu := processCPU()
				for i := 0; i < b.N; i++ {
					got := 0
					err := f.v.Clients(ListOptions{Sort: sort}, func(Client) error { got++; return nil })
					if err != nil {
						b.Fatal(err)
					}
					if got < n {
						b.Fatalf("listed %d of %d", got, n)
					}
				}
				if used := processCPU() - cpu; used > 0 {
					b.ReportMetric(used.Seconds()*1e3/float64(b.N), "cpu-ms/op")
				}
			})
		}
	}
}

// BenchmarkAddDuplicateCheck measures what `add --name ... --dob ...` does
// after its form: the duplicate check (a read of the directory), then the
// add of one new client (sealing, one write transaction and its fsync).
// check-ms/op is the check alone. Each op adds a record to the shared
// fixture, a few hundred at most.
func BenchmarkAddDuplicateCheck(b *testing.B) {
	for _, n := range findSizes {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			f := benchVault(b, n)
			b.ResetTimer()
			var check time.Duration
			for range b.N {
				benchNewcomers++
				i := benchNewcomers
				rec := benchRecord(2_000_000 + i)
				rec.DOB.Year = 2005 + i%15 // the fixture's are 1950-2004: a new person
				rec.Email = fmt.Sprintf("new%07d@example.com", i)
				rec.Phone = fmt.Sprintf("+44 20 %04d %04d", i/10000, i%10000)
				start := time.Now()
				dups, err := f.v.Duplicates(rec)
				check += time.Since(start)
				if err != nil || len(dups) != 0 {
					b.Fatal(dups, err)
				}
				if _, err := f.v.Add(context.Background(), source([]*records.Record{rec}), AddOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(check.Seconds()*1e3/float64(b.N), "check-ms/op")
		})
	}
}

// benchNewcomers counts the clients BenchmarkAddDuplicateCheck added, so
// that each run adds new people (b.N grows over several runs).
var benchNewcomers int

// BenchmarkFindNoteSize finds in two vaults of 10,000 records, one with the
// fixture's short notes and one with 16 KB of notes a record: find reads
// only the directory, so the two should take the same time.
func BenchmarkFindNoteSize(b *testing.B) {
	for _, note := range []int{0, 16 << 10} {
		b.Run(fmt.Sprintf("records=10000/notes=%d", note), func(b *testing.B) {
			b.StopTimer()
			v, _ := benchCreate(b, b.TempDir())
			defer v.Close()
			recs, _ := benchRecords(0, 10000)
			for _, r := range recs {
				r.Notes += strings.Repeat("Reacted to numbing cream. ", note/26)
			}
			if _, err := v.Add(context.Background(), source(recs), AddOptions{}); err != nil {
				b.Fatal(err)
			}
			qs := benchQueries(10000)
			b.StartTimer()
			for i := 0; i < b.N; i++ {
				if _, err := v.Find(qs[i%len(qs)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(fileSize(v.Path()))/1e6, "vault-MB")
		})
	}
}
