package vault

import (
	"bytes"
	"fmt"
	"github.com/clientvault/clientvault/vault/store"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestCopyLive copies a database with nested buckets, sequences, empty
// values and the compaction marker, committing after every few keys (also in
// the middle of a nested bucket), and compares the copy key by key.
func TestCopyLive(t *testing.T) {
	dir := t.TempDir()
	src, err := bolt.Open(filepath.Join(dir, "src.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	err = src.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket(bucketMeta)
		meta.Put(keyCompactPending, []byte{1})
		meta.Put([]byte("format"), []byte{0, 0, 0, 1})
		for i, name := range []string{"consents", "records", "index"} {
			b, _ := tx.CreateBucket([]byte(name))
			b.SetSequence(uint64(100 + i))
			for j := range 50 {
				b.Put(fmt.Appendf(nil, "k%03d", j), bytes.Repeat([]byte{byte(j)}, j))
			}
			nb, err := b.CreateBucket([]byte("nested" + name))
			if err != nil {
				return err
			}
			nb.SetSequence(7)
			for j := range 30 {
				nb.Put(fmt.Appendf(nil, "n%03d", j), []byte{})
			}
			deep, _ := nb.CreateBucket([]byte("deep"))
			deep.Put([]byte("x"), []byte("y"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, maxTx := range []int{1, 300, 1 << 20} {
		dst, err := bolt.Open(filepath.Join(dir, fmt.Sprintf("dst-%d.db", maxTx)), 0o600, &bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := src.View(func(tx *bolt.Tx) error { return copyLive(dst, store.BoltTx{Tx: tx}, maxTx, doomed(nil).has) }); err != nil {
			t.Fatal(err)
		}
		got, want := dump(t, dst), dump(t, src)
		if !bytes.Contains([]byte(want), []byte("compact_pending")) || bytes.Contains([]byte(got), []byte("compact_pending")) {
			t.Fatalf("maxTx %d: the marker was copied, or the test is broken", maxTx)
		}
		want = string(bytes.Replace([]byte(want), []byte("meta/compact_pending=01\n"), nil, 1))
		if got != want {
			t.Fatalf("maxTx %d: copy differs:\n%s\nwant:\n%s", maxTx, got, want)
		}
		dst.Close()
	}
}

// dump lists every bucket (with its sequence) and key of db.
func dump(t *testing.T, db *bolt.DB) string {
	var out bytes.Buffer
	var walk func(prefix string, b *bolt.Bucket)
	walk = func(prefix string, b *bolt.Bucket) {
		fmt.Fprintf(&out, "%s seq=%d\n", prefix, b.Sequence())
		b.ForEach(func(k, v []byte) error {
			if v == nil && b.Bucket(k) != nil {
				walk(prefix+"/"+string(k), b.Bucket(k))
				return nil
			}
			fmt.Fprintf(&out, "%s/%s=%x\n", prefix, k, v)
			return nil
		})
	}
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			walk(string(name), b)
			return nil
		})
	})
	return out.String()
}
