package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/records"
)

// The benchmarks of issue 2's "Speed" section. Each states its input size in
// its name, so that benchstat compares like with like:
//
//	go test ./vault -run '^$' -bench . -benchtime=3x -count=3 | tee bench/issue2.txt
//
// The vaults are sealed to a plain X25519 owner identity, so no scrypt work
// is measured, and hold fake clients of about 1 KB of JSON each.

// benchNow is the fixed clock of the benchmark vaults.
func benchNow() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }

var (
	benchFirst = []string{"Amelia", "Noah", "Olivia", "Liam", "Sofia", "Mateo", "Chloe", "Arjun", "Freya", "Kenji"}
	benchLast  = []string{"Garcia", "Okafor", "Lindqvist", "Moreau", "Nakamura", "Kowalski", "Haddad", "Fitzgerald", "Rossi", "Ivanova"}
	benchMeds  = []string{"isotretinoin", "warfarin", "doxycycline", "tretinoin cream", "levothyroxine", "sertraline"}
	benchAller = []string{"latex", "lidocaine", "fragrance", "nickel", "benzoyl peroxide"}
)

// benchName is a unique client name for i < 1,000,000: a first name and a
// double-barrelled surname, so that name lookups hit exactly one record.
func benchName(i int) string {
	return fmt.Sprintf("%s %s-%s %s", benchFirst[i%10], benchLast[i/10%10], benchLast[i/100%10], benchSurname(i/1000))
}

// benchSurname spells n (< 1000) as a pronounceable word.
func benchSurname(n int) string {
	const c, v = "bdfgklmnprstvz", "aeiou"
	return fmt.Sprintf("%c%c%c%c%cson", c[n%14]-32, v[n/14%5], c[n/70%14], v[n/980%5], c[n%13])
}

// benchRecord is a realistic fake client of about 1 KB of JSON: contact
// details, health history, a patch test and two laser treatments.
func benchRecord(i int) *records.Record {
	year := 1950 + i%55
	return &records.Record{
		Name:              benchName(i),
		PreferredName:     benchFirst[(i+3)%10],
		DOB:               records.Date{Year: year, Month: time.Month(1 + i%12), Day: 1 + i%28},
		Phone:             fmt.Sprintf("+1 555 %04d %03d", i%10000, i%1000),
		Email:             fmt.Sprintf("client%07d@example.com", i),
		Address:           fmt.Sprintf("%d Harbour View Rd, Apt %d, Springfield", 1+i%900, 1+i%40),
		EmergencyContact:  fmt.Sprintf("%s %s +1 555 %04d", benchFirst[(i+5)%10], benchLast[i/10%10], (i*7)%10000),
		SkinType:          records.SkinTypes[i%6],
		Conditions:        []string{"eczema"},
		Medications:       []string{benchMeds[i%6], benchMeds[(i+2)%6]},
		Allergies:         []string{benchAller[i%5]},
		Contraindications: []string{"recent sun exposure"},
		Notes:             "Prefers afternoon appointments; reacted to a numbing cream in 2024.",
		PatchTests: []records.PatchTest{{
			Date: records.Date{Year: 2026, Month: 1, Day: 10}, Product: "lash tint", Area: "behind ear",
			Result: "negative", ReadAt: records.Date{Year: 2026, Month: 1, Day: 12},
		}},
		Treatments: []records.Treatment{
			{
				Date: records.Date{Year: 2026, Month: 2, Day: 1 + i%28}, Service: "laser hair removal", Area: "underarm",
				Products:   []string{"cooling gel"},
				Settings:   records.Settings{"wavelength_nm": json.Number("755"), "fluence_j_cm2": json.Number("18"), "spot_mm": json.Number("12"), "pulse_ms": json.Number("3")},
				Technician: "owner", Outcome: "mild erythema", Aftercare: "SPF 50",
			},
			{
				Date: records.Date{Year: 2026, Month: 3, Day: 1 + i%28}, Service: "chemical peel", Area: "face",
				Products:   []string{"glycolic acid 30%", "neutraliser"},
				Technician: "owner", Outcome: "even frosting", Aftercare: "no retinoids for a week",
			},
		},
	}
}

// benchRecords returns records first..first+n-1 and their JSON size, the
// plaintext a script would feed to `add --from -` (one object per line).
func benchRecords(first, n int) ([]*records.Record, int64) {
	recs := make([]*records.Record, n)
	var size int64
	for i := range recs {
		recs[i] = benchRecord(first + i)
		b, err := json.Marshal(recs[i])
		if err != nil {
			panic(err)
		}
		size += int64(len(b)) + 1
	}
	return recs, size
}

// source yields recs one by one, as a JSON decoder would.
func source(recs []*records.Record) func() (*records.Record, error) {
	i := 0
	return func() (*records.Record, error) {
		if i == len(recs) {
			return nil, io.EOF
		}
		i++
		return recs[i-1], nil
	}
}

// benchCreate makes a vault in dir sealed to a fresh plain X25519 owner and
// returns it open and unlocked, with the owner's identity.
func benchCreate(tb testing.TB, dir string) (*Vault, *age.X25519Identity) {
	tb.Helper()
	owner, err := GenerateIdentity()
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "vault.db")
	if err := Create(path, CreateOptions{Owner: []age.Recipient{owner.Recipient()}, Now: benchNow}); err != nil {
		tb.Fatal(err)
	}
	v, err := Open(path, Options{Now: benchNow})
	if err != nil {
		tb.Fatal(err)
	}
	if err := v.Unlock(owner); err != nil {
		tb.Fatal(err)
	}
	return v, owner
}

// benchFixture is a vault of a given number of records, built once per
// process and shared by the benchmarks that read it.
type benchFixture struct {
	v         *Vault
	ids       []ID
	names     []string
	fileSize  int64 // the vault file's size right after the add
	plainSize int64 // the records' JSON, one object per line
}

var (
	benchFixtureMu sync.Mutex
	benchFixtures  = map[int]*benchFixture{}
)

// fixture returns the shared vault of n records, building it on first use.
// The file is unlinked as soon as it is built: the open vault keeps it alive
// until the process exits, and nothing is left behind in the temp dir.
func benchVault(b *testing.B, n int) *benchFixture {
	b.Helper()
	benchFixtureMu.Lock()
	defer benchFixtureMu.Unlock()
	if f := benchFixtures[n]; f != nil {
		return f
	}
	b.StopTimer()
	defer b.StartTimer()
	dir, err := os.MkdirTemp("", "clientvault-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	v, _ := benchCreate(b, dir)
	recs, plain := benchRecords(0, n)
	f := &benchFixture{v: v, plainSize: plain}
	for _, r := range recs {
		f.names = append(f.names, r.Name)
	}
	f.ids, err = v.Add(context.Background(), source(recs), AddOptions{})
	if err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(v.Path())
	if err != nil {
		b.Fatal(err)
	}
	f.fileSize = fi.Size()
	benchFixtures[n] = f
	return f
}

// BenchmarkView measures View by full ID and by client name in vaults of
// 1,000 and 100,000 records. Each View is a write transaction (the audit
// entry), so it includes the commit's fsync, whose time varies with the
// disk's other users; cpu-µs/op is the CPU time the process spent per View.
func BenchmarkView(b *testing.B) {
	for _, by := range []string{"ID", "Name"} {
		b.Run(by, func(b *testing.B) {
			for _, n := range []int{1000, 100000} {
				b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
					f := benchVault(b, n)
					// Look up records spread over the whole vault.
					refs := make([]string, 0, 64)
					for i := range 64 {
						j := (i*7919 + 13) % n
						if by == "ID" {
							refs = append(refs, f.ids[j].String())
						} else {
							refs = append(refs, f.names[j])
						}
					}
					b.ResetTimer()
					cpu := processCPU()
					for i := 0; i < b.N; i++ {
						s, err := f.v.View(refs[i%len(refs)])
						if err != nil {
							b.Fatal(err)
						}
						if s.Record == nil {
							b.Fatal("no record")
						}
					}
					if used := processCPU() - cpu; used > 0 {
						b.ReportMetric(used.Seconds()*1e6/float64(b.N), "cpu-µs/op")
					}
				})
			}
		})
	}
}

// BenchmarkVaultSize reports the size of the vault file holding 100,000
// records of about 1 KB of JSON each, divided by the size of that JSON
// (issue 2: at most 1.6). Its time per op means nothing; the fixture's
// build is not timed.
func BenchmarkVaultSize(b *testing.B) {
	b.Run("records=100000", func(b *testing.B) {
		f := benchVault(b, 100000)
		for i := 0; i < b.N; i++ {
		}
		b.ReportMetric(float64(f.fileSize)/float64(f.plainSize), "size/plaintext")
		b.ReportMetric(float64(f.fileSize)/1e6, "vault-MB")
		b.ReportMetric(float64(f.plainSize)/float64(len(f.ids)), "json-B/record")
	})
}

// benchAddN is the input size of BenchmarkAdd and BenchmarkAgeSeal.
const benchAddN = 10000

// BenchmarkAdd measures adding 10,000 records in one Add (validated, sealed
// on all cores, committed in batches, published) to an empty vault, and
// reports records/s. Issue 2 requires at least 0.8 of the age library's
// rate (BenchmarkAgeSeal). Because the machine is shared, each iteration
// also seals the same payloads with age alone right before the add (bound
// to other IDs of the same length) and the very payloads the vault sealed
// right after it, and reports the mean of the two (age-records/s) and the
// ratio of the vault's rate to it (vault/age): a paired comparison that
// brackets the add, so that the neighbours' load skews it less.
// Only the Add is in ns/op. The records stream in and are let go once
// handed over, as `add --from` decodes them, so the collector does not
// trace all 10,000 of them through the add (nor the payloads through age's
// run: they are byte slices).
//
// records=10000/gogc=400 runs both the add and age's runs with the
// collector set as `add --from` sets it (BulkGCPercent).
func BenchmarkAdd(b *testing.B) {
	b.Run(fmt.Sprintf("records=%d", benchAddN), func(b *testing.B) { benchAdd(b) })
	b.Run(fmt.Sprintf("records=%d/gogc=%d", benchAddN, BulkGCPercent), func(b *testing.B) {
		defer debug.SetGCPercent(debug.SetGCPercent(BulkGCPercent))
		benchAdd(b)
	})
}

// benchAdd is BenchmarkAdd for one setting of the collector.
func benchAdd(b *testing.B) {
	b.StopTimer()
	var vaultTime, ageTime, vaultCPU, ageCPU time.Duration
	for i := 0; i < b.N; i++ {
		v, _ := benchCreate(b, b.TempDir())
		// age alone, before: the same records bound to other IDs.
		other := make([]ID, benchAddN)
		for j := range other {
			other[j], _ = newID()
		}
		wall, cpu := ageSealAll(b, benchPayloads(b, i*benchAddN, other), false)
		ageTime += wall / 2
		ageCPU += cpu / 2
		recs, _ := benchRecords(i*benchAddN, benchAddN)
		runtime.GC()
		start, cpu := time.Now(), processCPU()
		b.StartTimer()
		ids, err := v.Add(context.Background(), streamSource(recs), AddOptions{})
		b.StopTimer()
		vaultTime += time.Since(start)
		vaultCPU += processCPU() - cpu
		if err != nil {
			b.Fatal(err)
		}
		if len(ids) != benchAddN {
			b.Fatalf("added %d records, want %d", len(ids), benchAddN)
		}
		// The payloads the vault sealed: the same records, validated
		// (normalised) as Add does, each bound to its new ID; a few
		// are checked against what the vault opens.
		payloads := benchPayloads(b, i*benchAddN, ids)
		for _, j := range []int{0, benchAddN / 2, benchAddN - 1} {
			s, err := v.View(ids[j].String())
			if err != nil {
				b.Fatal(err)
			}
			if p, err := records.Encode(ids[j].String(), s.Record); err != nil || !bytes.Equal(p, payloads[j]) {
				b.Fatalf("record %d: age would seal another payload than the vault did", j)
			}
		}
		v.Close()
		// age alone, after: the very payloads the vault sealed.
		wall, cpu = ageSealAll(b, payloads, false)
		ageTime += wall / 2
		ageCPU += cpu / 2
	}
	vaultRate := float64(b.N*benchAddN) / vaultTime.Seconds()
	ageRate := float64(b.N*benchAddN) / ageTime.Seconds()
	b.ReportMetric(vaultRate, "records/s")
	b.ReportMetric(ageRate, "age-records/s")
	b.ReportMetric(vaultRate/ageRate, "vault/age")
	n := float64(b.N * benchAddN)
	if vaultCPU > 0 && ageCPU > 0 {
		b.ReportMetric(vaultCPU.Seconds()*1e6/n, "cpu-µs/record")
		b.ReportMetric(ageCPU.Seconds()*1e6/n, "age-cpu-µs/record")
		b.ReportMetric(ageCPU.Seconds()/vaultCPU.Seconds(), "age-cpu/vault-cpu")
		b.ReportMetric(vaultCPU.Seconds()/float64(b.N), "cpu-s/op")
		b.ReportMetric(ageCPU.Seconds()/float64(b.N), "age-cpu-s/op")
	}
}

// BenchmarkAgeSeal is the yardstick for BenchmarkAdd: the age library alone
// sealing the same payloads (records.Encode of the same records, each bound
// to a fresh ID) to the same kind of recipient (one X25519 key), on
// GOMAXPROCS goroutines. Encoding the payloads is not timed.
func BenchmarkAgeSeal(b *testing.B) {
	b.Run(fmt.Sprintf("records=%d", benchAddN), func(b *testing.B) {
		b.StopTimer()
		var elapsed, used time.Duration
		for i := 0; i < b.N; i++ {
			ids := make([]ID, benchAddN)
			for j := range ids {
				ids[j], _ = newID()
			}
			payloads := benchPayloads(b, i*benchAddN, ids)
			wall, cpu := ageSealAll(b, payloads, true)
			elapsed += wall
			used += cpu
		}
		n := float64(b.N * benchAddN)
		b.ReportMetric(n/elapsed.Seconds(), "records/s")
		if used > 0 {
			b.ReportMetric(used.Seconds()*1e6/n, "cpu-µs/record")
			b.ReportMetric(used.Seconds()/float64(b.N), "cpu-s/op")
		}
	})
}

// streamSource yields recs one by one and lets go of each as it hands it
// over, as a decoder reading `add --from FILE` does.
func streamSource(recs []*records.Record) func() (*records.Record, error) {
	i := 0
	return func() (*records.Record, error) {
		if i == len(recs) {
			return nil, io.EOF
		}
		r := recs[i]
		recs[i] = nil
		i++
		return r, nil
	}
}

// benchPayloads returns the payloads that Add seals for records
// first..first+len(ids)-1 when it gives them ids: each record validated
// (normalised), its treatments numbered, encoded with its ID.
func benchPayloads(b *testing.B, first int, ids []ID) [][]byte {
	today := records.DateOf(benchNow())
	recs, _ := benchRecords(first, len(ids))
	payloads := make([][]byte, len(recs))
	for j, r := range recs {
		if err := r.Validate(today); err != nil {
			b.Fatal(err)
		}
		for k := range r.Treatments {
			r.Treatments[k].N = k + 1
		}
		var err error
		if payloads[j], err = records.Encode(ids[j].String(), r); err != nil {
			b.Fatal(err)
		}
	}
	return payloads
}

// ageSealAll seals every payload with age to one fresh X25519 recipient on
// GOMAXPROCS goroutines and returns how long that took and the CPU time the
// process used meanwhile; timed says whether b's timer runs during it.
func ageSealAll(b *testing.B, payloads [][]byte, timed bool) (wall, cpu time.Duration) {
	id, err := GenerateIdentity()
	if err != nil {
		b.Fatal(err)
	}
	to := id.Recipient()
	out := make([][]byte, len(payloads))
	workers := runtime.GOMAXPROCS(0)
	runtime.GC()
	if timed {
		b.StartTimer()
		defer b.StopTimer()
	}
	start, cpu0 := time.Now(), processCPU()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := w; j < len(payloads); j += workers {
				out[j] = ageSeal(payloads[j], to)
			}
		}()
	}
	wg.Wait()
	return time.Since(start), processCPU() - cpu0
}

// ageSeal is plain age: one payload sealed to one recipient, in memory,
// into a buffer sized for the ciphertext up front, as a careful caller of
// the library would (and as the vault does): a buffer that grows as age
// writes would make the yardstick slower than age is.
func ageSeal(payload []byte, to age.Recipient) []byte {
	var buf bytes.Buffer
	buf.Grow(len(payload) + 256)
	w, err := age.Encrypt(&buf, to)
	if err != nil {
		panic(err)
	}
	if _, err := w.Write(payload); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// BenchmarkOpen measures opening and closing a vault of 100,000 records
// from the page cache, read only (verify, audit) and for writing (every
// command that audits): what each command pays before its work, which for
// writing includes the check of every page header and of the freelist
// (checkPages). It also measures Verify of the same vault.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	v, owner := benchCreate(b, dir)
	recs, _ := benchRecords(0, 100000)
	if _, err := v.Add(context.Background(), source(recs), AddOptions{}); err != nil {
		b.Fatal(err)
	}
	path := v.Path()
	v.Close()
	b.Run("verify/records=100000", func(b *testing.B) {
		v, err := Open(path, Options{ReadOnly: true, Now: time.Now})
		if err != nil {
			b.Fatal(err)
		}
		defer v.Close()
		if err := v.Unlock(owner); err != nil {
			b.Fatal(err)
		}
		for range b.N {
			if rep, err := v.Verify(); err != nil || !rep.OK() {
				b.Fatal(rep, err)
			}
		}
	})
	for _, ro := range []bool{true, false} {
		b.Run(fmt.Sprintf("records=100000/readonly=%v", ro), func(b *testing.B) {
			for range b.N {
				v, err := Open(path, Options{ReadOnly: ro})
				if err != nil {
					b.Fatal(err)
				}
				v.Close()
			}
		})
	}
}
