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
// 10% of them due, including the compaction that rewrites the file. It
// reports the time to find what is due (a dry run), the file's size before
// and after, and, for comparison, the time to read the whole file twice.
// Building the vault takes a while: run it once,
//
//	go test ./vault/ -run '^$' -bench BenchmarkExpire100k -benchtime 1x
func BenchmarkExpire100k(b *testing.B) {
	const n, dueEvery = 100_000, 10
	notes := strings.Repeat("prefers afternoons; sensitive skin. ", 22) // a ~1 KB record
	for range b.N {
		b.StopTimer()
		f := newRetainFixture(b, consent.Policy{Years: 3})
		i := 0
		_, err := f.v.Add(context.Background(), func() (*records.Record, error) {
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
		before := fileSize(f.path)

		start := time.Now()
		for range 2 {
			fh, err := os.Open(f.path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, fh); err != nil {
				b.Fatal(err)
			}
			fh.Close()
		}
		read2 := time.Since(start)

		start = time.Now()
		dry, err := f.v.Expire(ExpireOptions{DryRun: true})
		if err != nil {
			b.Fatal(err)
		}
		scan := time.Since(start)
		if len(dry.Expired) != n/dueEvery {
			b.Fatalf("%d due, want %d", len(dry.Expired), n/dueEvery)
		}

		var copyStart, copyEnd time.Time
		f.v.hooks.step = func(step string) error {
			switch step {
			case "copy":
				copyStart = time.Now()
			case "rename":
				copyEnd = time.Now()
			}
			return nil
		}
		b.StartTimer()
		rep, err := f.v.Expire(ExpireOptions{})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Expired) != n/dueEvery {
			b.Fatalf("%d expired, want %d", len(rep.Expired), n/dueEvery)
		}
		b.ReportMetric(float64(before), "bytes-before")
		b.ReportMetric(float64(fileSize(f.path)), "bytes-after")
		b.ReportMetric(read2.Seconds(), "read-file-twice-s")
		b.ReportMetric(scan.Seconds(), "find-due-s")
		b.ReportMetric(copyEnd.Sub(copyStart).Seconds(), "compact-s")
		f.v.Close()
		os.Remove(f.path)
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
