package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	"go.etcd.io/etcd/client/pkg/v3/fileutil"
)

// BenchmarkEtcdWALRetention measures how long a destroyed value stays in an
// etcd member's files after the vault has deleted it, compacted etcd's
// history and defragmented the member (the vault's Compact, run after
// expire and erase): it is gone from the database file at once, but stays
// in the write-ahead log until etcd may remove the WAL file that holds it.
//
//	go test ./vault/store -run '^$' -bench EtcdWALRetention -benchtime=1x
//
// A value of 1.5 KB (a sealed record's size) is put, deleted and compacted
// away; then other writes follow, each a Put of 4 KB (about a vault
// command's transaction), until the WAL file holding the value is
// removable: older than the newest --max-wals files and unlocked, which
// etcd does once a snapshot (every --snapshot-count changes) covers all of
// it. etcd removes such a file within 30 seconds (its purge interval, not
// configurable), without further writes; the benchmark waits for that and
// then reads every file under the member's data directory for the value.
// It reports the writes after the deletion (writes-after, and MB-after, their values' bytes),
// and the wait for the removal (purge-wait-s). Run with etcd's defaults
// and with the shortest settings README suggests.
func BenchmarkEtcdWALRetention(b *testing.B) {
	for _, c := range []struct {
		name     string
		snapshot uint64
		wals     uint
	}{
		{"snapshot-count=10000/max-wals=5", 10_000, 5},
		{"snapshot-count=1000/max-wals=1", 1000, 1},
	} {
		b.Run(c.name, func(b *testing.B) {
			var writes, walBytes int64
			var wait time.Duration
			for range b.N {
				w, n, d := walRetention(b, etcdtest.SnapshotCount(c.snapshot), etcdtest.MaxWALs(c.wals))
				writes, walBytes, wait = writes+w, walBytes+n, wait+d
			}
			b.ReportMetric(float64(writes)/float64(b.N), "writes-after")
			b.ReportMetric(float64(walBytes)/float64(b.N)/1e6, "MB-after")
			b.ReportMetric(wait.Seconds()/float64(b.N), "purge-wait-s")
		})
	}
}

// walRetention is one measure of BenchmarkEtcdWALRetention: the writes
// (and the bytes of WAL they made) after the deletion until the WAL file
// with the value is removable, and how long etcd then took to remove it.
func walRetention(b *testing.B, opts ...etcdtest.Option) (writes, walBytes int64, wait time.Duration) {
	b.StopTimer()
	s := etcdtest.Start(b, opts...)
	e, err := store.NewEtcd(s.Client, "vault/", store.EtcdOptions{})
	if err != nil {
		b.Fatal(err)
	}
	secret := make([]byte, benchValue)
	rand.Read(secret)
	bucket := []byte("records")
	err = e.Update(func(tx store.Tx) error {
		bk, err := tx.CreateBucket(bucket)
		if err != nil {
			return err
		}
		return bk.Put([]byte("r1"), secret)
	})
	if err == nil {
		err = e.Update(func(tx store.Tx) error { return tx.Bucket(bucket).Delete([]byte("r1")) })
	}
	if err == nil {
		err = e.Compact(context.Background())
	}
	if err != nil {
		b.Fatal(err)
	}
	s.Etcd.Server.Backend().ForceCommit()
	walDir := filepath.Join(s.Dir, "member", "wal")
	if holders := filesHolding(b, s.Dir, secret); len(holders) != 1 || filepath.Dir(holders[0]) != walDir {
		b.Fatalf("after the compaction, the value is in %q; want one WAL file", holders)
	}
	segment := filesHolding(b, walDir, secret)[0]
	maxWALs := int(s.Etcd.Config().MaxWalFiles)

	filler := make([]byte, 4096)
	rand.Read(filler)
	var n atomic.Int64
	b.StartTimer()
	for !removable(b, walDir, segment, maxWALs) {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 250 {
					key := fmt.Sprintf("filler/%d/%d", g, i)
					if _, err := s.Client.Put(context.Background(), key, string(filler)); err != nil {
						b.Error(err)
						return
					}
					n.Add(1)
				}
			})
		}
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}
	}
	b.StopTimer()
	writes = n.Load()
	walBytes = writes * int64(len(filler))
	start := time.Now()
	for fileExists(segment) {
		if time.Since(start) > time.Minute {
			b.Fatalf("the WAL file holding the value was not removed a minute after it could be")
		}
		time.Sleep(100 * time.Millisecond)
	}
	wait = time.Since(start)
	if holders := filesHolding(b, s.Dir, secret); len(holders) > 0 {
		b.Fatalf("the value is still in %q", holders)
	}
	s.Stop()
	return writes, walBytes, wait
}

// removable reports whether etcd's purge may remove the WAL file segment:
// it is older than the newest maxWALs files and no longer locked by the
// WAL (a snapshot covers it).
func removable(b *testing.B, walDir, segment string, maxWALs int) bool {
	names, err := filepath.Glob(filepath.Join(walDir, "*.wal"))
	if err != nil {
		b.Fatal(err)
	}
	sort.Strings(names)
	i := sort.SearchStrings(names, segment)
	if i == len(names) || names[i] != segment {
		return true // already removed
	}
	if len(names)-i <= maxWALs {
		return false
	}
	l, err := fileutil.TryLockFile(segment, os.O_WRONLY, fileutil.PrivateFileMode)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// filesHolding lists the files under dir that contain value.
func filesHolding(b *testing.B, dir string, value []byte) []string {
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			if os.IsNotExist(err) { // removed while walking
				return nil
			}
			return err
		}
		if bytes.Contains(data, value) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return found
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
