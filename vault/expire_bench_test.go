package vault

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// BenchmarkExpire100k expires a vault of 100,000 records of about 1 KB,
// 10% of them due, including the compaction that rewrites the file. The
// timed operation (ns/op, cpu-s/op) is Expire with the vault in the page
// cache. It also reports, each in wall seconds and CPU seconds:
//
//   - find-due: a dry run, which finds what is due and changes nothing;
//   - compact: the compaction within the expiry (new file written and
//     synced);
//   - the same expiry of a copy of the vault, and a dry run, after the file
//     was dropped from the page cache (cold; Linux only);
//   - for comparison, the time to read the whole file twice, from the page
//     cache and cold (dropped before each read);
//   - the floor of any compaction (write-once-s): writing and syncing a new
//     file of the compacted vault's size, in the vault's directory;
//
// and the file's size before and after. Building the vault takes a while:
//
//	go test ./vault/ -run '^$' -bench BenchmarkExpire100k -benchtime 1x -count 3
func BenchmarkExpire100k(b *testing.B) {
	const n, dueEvery = 100_000, 10
	var cpu cpuTimer
	for range b.N {
		b.StopTimer()
		f := buildExpireVault(b, n, dueEvery)
		before := fileSize(f.path)
		f.v.Close()
		spare := f.path + ".spare" // expired again, cold
		copyFileAs(b, f.path, spare)
		// Written back now, not by the kernel during the timed expiry,
		// whose syncs would wait for it.
		evict(spare)
		report := func(name string, s float64) { b.ReportMetric(s, name) }
		w, _ := readTwice(b, f.path, false)
		report("read-twice-s", w)
		if w, ok := readTwice(b, f.path, true); ok {
			report("read-twice-cold-s", w)
		}
		f.open()
		w, c := phase(func() { f.dryRun(n / dueEvery) })
		report("find-due-s", w)
		report("find-due-cpu-s", c)

		var compactWall, compactCPU time.Duration
		var wall0 time.Time
		var cpu0 time.Duration
		f.v.hooks.step = func(step string) error {
			switch step {
			case "copy":
				wall0, cpu0 = time.Now(), processCPU()
			case "rename":
				compactWall, compactCPU = time.Since(wall0), processCPU()-cpu0
			}
			return nil
		}
		b.StartTimer()
		cpu.start()
		rep, err := f.v.Expire(ExpireOptions{})
		cpu.stop()
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Expired) != n/dueEvery {
			b.Fatalf("%d expired, want %d", len(rep.Expired), n/dueEvery)
		}
		report("compact-s", compactWall.Seconds())
		report("compact-cpu-s", compactCPU.Seconds())
		report("bytes-before", float64(before))
		after := fileSize(f.path)
		report("bytes-after", float64(after))
		report("write-once-s", writeOnce(b, f.path+".floor", after))
		f.v.Close()

		// The same, cold: the vault file dropped from the page cache before
		// the dry run and before the expiry.
		if err := os.Rename(spare, f.path); err != nil {
			b.Fatal(err)
		}
		if evict(f.path) {
			f.open()
			w, c := phase(func() { f.dryRun(n / dueEvery) })
			f.v.Close()
			report("find-due-cold-s", w)
			report("find-due-cold-cpu-s", c)
			evict(f.path)
			f.open()
			w, c = phase(func() {
				rep, err := f.v.Expire(ExpireOptions{})
				if err != nil || len(rep.Expired) != n/dueEvery {
					b.Fatalf("cold expire: %v", err)
				}
			})
			f.v.Close()
			report("expire-cold-s", w)
			report("expire-cold-cpu-s", c)
		}
		os.Remove(f.path)
	}
	cpu.report(b)
}

// buildExpireVault adds n records of about 1 KB, every dueEvery-th one past
// its retention.
func buildExpireVault(b *testing.B, n, dueEvery int) *retainFixture {
	f := newRetainFixture(b, consent.Policy{Years: 3})
	addExpireRecords(b, f.v, n, dueEvery)
	return f
}

// addExpireRecords adds to v n records of about 1 KB, every dueEvery-th one
// past its retention in a vault whose policy keeps records 3 years and
// whose clock says 1 March 2015 (newRetainFixture's).
func addExpireRecords(b testing.TB, v *Vault, n, dueEvery int) {
	notes := strings.Repeat("prefers afternoons; sensitive skin. ", 22) // a ~1 KB record
	i := 0
	_, err := v.Add(context.Background(), func() (*records.Record, error) {
		if i == n {
			return nil, io.EOF
		}
		i++
		visit := day(2014, 1, 1+i%28)
		if i%dueEvery == 0 {
			visit = day(2010, 1, 1+i%28)
		}
		r := client("Client "+strings.Repeat("x", i%7)+itoa(i), day(1980, 1, 1+i%28), visit)
		r.Notes = notes
		return r, nil
	}, AddOptions{BatchSize: 5000})
	if err != nil {
		b.Fatal(err)
	}
}

func (f *retainFixture) dryRun(want int) {
	f.t.Helper()
	dry, err := f.v.Expire(ExpireOptions{DryRun: true})
	if err != nil {
		f.t.Fatal(err)
	}
	if len(dry.Expired) != want {
		f.t.Fatalf("%d due, want %d", len(dry.Expired), want)
	}
}

// phase returns the wall and CPU seconds fn takes.
func phase(fn func()) (wall, cpu float64) {
	start, c := time.Now(), processCPU()
	fn()
	return time.Since(start).Seconds(), (processCPU() - c).Seconds()
}

// readTwice reads the file at path twice and returns the wall seconds; cold,
// it drops the file from the page cache before each read, and ok says
// whether it could.
func readTwice(b *testing.B, path string, cold bool) (secs float64, ok bool) {
	var total time.Duration
	for range 2 {
		if cold && !evict(path) {
			return 0, false
		}
		start := time.Now()
		fh, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, fh); err != nil {
			b.Fatal(err)
		}
		fh.Close()
		total += time.Since(start)
	}
	return total.Seconds(), true
}

// writeOnce writes size bytes to a new file at path, syncs it, removes it
// and returns the wall seconds the write and sync took: what writing the
// compacted vault costs at the least, without bbolt.
func writeOnce(b *testing.B, path string, size int64) float64 {
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7) // not zeros, which a file system might skip
	}
	out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(path)
	start := time.Now()
	for left := size; left > 0; left -= int64(len(buf)) {
		if _, err := out.Write(buf[:min(left, int64(len(buf)))]); err != nil {
			b.Fatal(err)
		}
	}
	if err := out.Sync(); err != nil {
		b.Fatal(err)
	}
	secs := time.Since(start).Seconds()
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	return secs
}

func copyFileAs(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

func itoa(i int) string {
	const digits = "abcdefghij" // names are letters only
	var s []byte
	for {
		s = append([]byte{digits[i%10]}, s...)
		i /= 10
		if i == 0 {
			return string(s)
		}
	}
}
