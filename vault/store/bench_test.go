package store_test

// The engines side by side, each syncing its writes to disk (a bbolt file;
// etcd 3.7.3 as one real member, embedded, on loopback), with 10,000 values
// of 1.5 KB to Get and 100,000 of 256 bytes to walk:
//
//	go test ./vault/store -run '^$' -bench . -benchtime 2s
//
// on 2 cores (AMD EPYC) shared with other work (load average 6.5 during the
// run; walks and Last vary by 2x from run to run):
//
//	                      bolt          etcd
//	ViewGet            1.9 µs        156 µs   a View of one Get
//	Get                0.5 µs         78 µs   a Get of a key not yet read in its View
//	Walk100k           2.9 ms        373 ms   a cursor over 100,000 keys (3.7 µs a key;
//	                                          233 ms in a quieter run)
//	Last100k           0.9 µs         45 ms   Last of those 100,000 (etcd reads every key
//	                                          of the bucket: it has no reverse range)
//	Update100          3.9 ms        6.2 ms   an Update of 100 puts of 1.5 KB

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	bolt "go.etcd.io/bbolt"
)

const (
	benchGetKeys  = 10_000
	benchWalkKeys = 100_000
	benchValue    = 1536 // a sealed record is about 1.5 KB
	benchWalkSize = 256
)

var (
	benchGet    = []byte("get")
	benchWalk   = []byte("walk")
	benchUpdate = []byte("update")
)

func benchKey(i int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(i)) }

// benchEngines returns the engines, each holding benchGetKeys values of
// benchValue bytes and benchWalkKeys of benchWalkSize, in batches within
// its limits.
func benchEngines(b *testing.B) []struct {
	name string
	e    store.Engine
} {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), 0o600, &bolt.Options{InitialMmapSize: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := etcdtest.Start(b, etcdtest.Fsync())
	etcd, err := store.NewEtcd(s.Client, "bench/", store.EtcdOptions{})
	if err != nil {
		b.Fatal(err)
	}
	engines := []struct {
		name string
		e    store.Engine
	}{{"bolt", store.Bolt{DB: db}}, {"etcd", etcd}}
	for _, en := range engines {
		fill(b, en.e, benchGet, benchGetKeys, benchValue)
		fill(b, en.e, benchWalk, benchWalkKeys, benchWalkSize)
	}
	return engines
}

func fill(b *testing.B, e store.Engine, name []byte, n, size int) {
	batch := n
	if l := store.LimitsOf(e); l.Ops > 0 {
		batch = min(l.Ops, l.Bytes/(size+8))
	}
	value := make([]byte, size)
	for start := 0; start < n; start += batch {
		err := e.Update(func(tx store.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			for i := start; i < min(start+batch, n); i++ {
				if err := bk.Put(benchKey(i), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStore(b *testing.B) {
	engines := benchEngines(b)
	each := func(name string, fn func(b *testing.B, e store.Engine)) {
		b.Run(name, func(b *testing.B) {
			for _, en := range engines {
				b.Run(en.name, func(b *testing.B) { fn(b, en.e) })
			}
		})
	}
	// A View that reads one value: the cost of a view of one record.
	each("ViewGet", func(b *testing.B, e store.Engine) {
		for i := 0; b.Loop(); i++ {
			err := e.View(func(tx store.Tx) error {
				if v := tx.Bucket(benchGet).Get(benchKey(i * 7919 % benchGetKeys)); len(v) != benchValue {
					return fmt.Errorf("a value of %d bytes", len(v))
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	// Gets of distinct keys in a View, none read before in it.
	each("Get", func(b *testing.B, e store.Engine) {
		for n := 0; n < b.N; {
			err := e.View(func(tx store.Tx) error {
				bk := tx.Bucket(benchGet)
				for i := 0; i < benchGetKeys && n < b.N; i, n = i+1, n+1 {
					if v := bk.Get(benchKey(i)); len(v) != benchValue {
						return fmt.Errorf("a value of %d bytes", len(v))
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	// A walk of a bucket of 100,000 keys in one View.
	each("Walk100k", func(b *testing.B, e store.Engine) {
		for b.Loop() {
			n := 0
			err := e.View(func(tx store.Tx) error {
				c := tx.Bucket(benchWalk).Cursor()
				for k, _ := c.First(); k != nil; k, _ = c.Next() {
					n++
				}
				return nil
			})
			if err != nil || n != benchWalkKeys {
				b.Fatalf("walked %d keys: %v", n, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchWalkKeys), "ns/key")
	})
	// The last key of a bucket of 100,000 (find reads the directory's).
	each("Last100k", func(b *testing.B, e store.Engine) {
		for b.Loop() {
			err := e.View(func(tx store.Tx) error {
				if k, _ := tx.Bucket(benchWalk).Cursor().Last(); string(k) != string(benchKey(benchWalkKeys-1)) {
					return fmt.Errorf("last key %x", k)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	// An Update of 100 puts of 1.5 KB.
	each("Update100", func(b *testing.B, e store.Engine) {
		value := make([]byte, benchValue)
		for i := 0; b.Loop(); i++ {
			err := e.Update(func(tx store.Tx) error {
				bk, err := tx.CreateBucketIfNotExists(benchUpdate)
				if err != nil {
					return err
				}
				for j := range 100 {
					if err := bk.Put(benchKey(i*100+j), value); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
