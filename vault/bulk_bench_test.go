package vault

import (
	"crypto/rand"
	"fmt"
	"testing"
)

// BenchmarkBulkWrite measures the bulk writer alone, without sealing: rows
// fake entries of about 1.4 KB (the size of a sealed 1 KB row) with random
// IDs and index tags, staged in batches of the given size and published.
// The ids and index buckets take random keys, so each commit rewrites pages
// all over them: fewer, larger batches rewrite fewer.
func BenchmarkBulkWrite(b *testing.B) {
	const rows = 100000
	for _, batch := range []int{1000, 2000, 5000, 10000} {
		b.Run(fmt.Sprintf("rows=%d/batch=%d", rows, batch), func(b *testing.B) {
			ct := make([]byte, 1400)
			rand.Read(ct)
			var cpu cpuTimer
			for range b.N {
				b.StopTimer()
				tv := newTestVault(b)
				b.StartTimer()
				cpu.start()
				w := tv.newBulk(AddOptions{BatchSize: batch})
				for range rows {
					id, _ := newID()
					tags := [][]byte{make([]byte, tagLen), make([]byte, tagLen)}
					rand.Read(tags[0])
					rand.Read(tags[1])
					if err := w.put(&sealed{entry: &entry{ID: id, Sealed: ct}, tags: tags}); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.finish(nil); err != nil {
					b.Fatal(err)
				}
				cpu.stop()
				b.StopTimer()
				tv.close(b)
				b.StartTimer()
			}
			cpu.report(b)
		})
	}
}
