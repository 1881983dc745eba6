// Package storetest is the conformance suite of the vault's storage engines:
// every engine of package store passes Run, so that the vault, written once
// against store.Engine, behaves the same on each.
package storetest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clientvault/clientvault/vault/store"
)

// Run runs the suite, each subtest on a new, empty engine from open. The
// suite closes the engines it opened.
func Run(t *testing.T, open func(t *testing.T) store.Engine) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Engine)
	}{
		{"Buckets", testBuckets},
		{"BucketDeleteRecreate", testBucketDeleteRecreate},
		{"BucketForEach", testBucketForEach},
		{"Keys", testKeys},
		{"KeyOrder", testKeyOrder},
		{"Cursor", testCursor},
		{"CursorReadYourWrites", testCursorReadYourWrites},
		{"CursorRecreatedBucket", testCursorRecreatedBucket},
		{"RandomWalks", testRandomWalks},
		{"PrefixCursor", testPrefixCursor},
		{"RangeCursor", testRangeCursor},
		{"Sequences", testSequences},
		{"Atomicity", testAtomicity},
		{"Isolation", testIsolation},
		{"ViewDuringUpdate", testViewDuringUpdate},
		{"ReadOnly", testReadOnly},
		{"LargeValue", testLargeValue},
		{"ManyKeys", testManyKeys},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Limits", testLimits},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := open(t)
			t.Cleanup(func() {
				if err := e.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, e)
		})
	}
}

var (
	bucketA = []byte("alpha")
	bucketB = []byte("bravo")
	bucketC = []byte("charlie")
)

func update(t *testing.T, e store.Engine, fn func(store.Tx) error) {
	t.Helper()
	if err := e.Update(fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, e store.Engine, fn func(store.Tx) error) {
	t.Helper()
	if err := e.View(fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// must fails the test at err, from inside a transaction's function.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Put is put, for an engine's own tests beside the suite.
func Put(t *testing.T, e store.Engine, name string, kv ...string) {
	t.Helper()
	put(t, e, []byte(name), kv...)
}

// put puts the keys and values kv (key, value, key, value...) in bucket name,
// made if need be, in one transaction.
func put(t *testing.T, e store.Engine, name []byte, kv ...string) {
	t.Helper()
	update(t, e, func(tx store.Tx) error {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		for i := 0; i < len(kv); i += 2 {
			if err := b.Put([]byte(kv[i]), []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
}

// contents returns bucket name's keys and values as "k=v" in the order ForEach
// gives them, or noBucket if there is no such bucket.
func contents(t *testing.T, tx store.Tx, name []byte) []string {
	t.Helper()
	b := tx.Bucket(name)
	if b == nil {
		return []string{noBucket}
	}
	out := []string{}
	must(t, b.ForEach(func(k, v []byte) error {
		out = append(out, string(k)+"="+string(v))
		return nil
	}))
	return out
}

func committed(t *testing.T, e store.Engine, name []byte) []string {
	t.Helper()
	var out []string
	view(t, e, func(tx store.Tx) error { out = contents(t, tx, name); return nil })
	return out
}

const noBucket = "<no bucket>"

func wantStrings(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, short(got), short(want))
	}
}

// short cuts long strings down for a message.
func short(s []string) []string {
	out := make([]string, len(s))
	for i, e := range s {
		if out[i] = e; len(e) > 40 {
			out[i] = fmt.Sprintf("%s...(%d bytes)", e[:40], len(e))
		}
	}
	return out
}

// walk returns what a cursor meets going forward from First and backward from
// Last, as "k=v".
func walk(c store.Cursor) (fwd, back []string) {
	fwd, back = []string{}, []string{}
	for k, v := c.First(); k != nil; k, v = c.Next() {
		fwd = append(fwd, string(k)+"="+string(v))
	}
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		back = append(back, string(k)+"="+string(v))
	}
	return fwd, back
}

// seeks checks where c's Seek lands: pairs are a key and "k=v" (or "<nil>").
func seeks(t *testing.T, what string, c store.Cursor, pairs ...string) {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		if got := kv(c.Seek([]byte(pairs[i]))); got != pairs[i+1] {
			t.Errorf("Seek(%q) %s: %s, want %s", pairs[i], what, got, pairs[i+1])
		}
	}
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

func kv(k, v []byte) string {
	if k == nil {
		return "<nil>"
	}
	return string(k) + "=" + string(v)
}

func testBuckets(t *testing.T, e store.Engine) {
	view(t, e, func(tx store.Tx) error {
		if b := tx.Bucket(bucketA); b != nil {
			t.Error("Bucket of an empty engine is not nil")
		}
		return nil
	})
	update(t, e, func(tx store.Tx) error {
		if tx.Bucket(bucketA) != nil {
			t.Error("Bucket before CreateBucket is not nil")
		}
		b, err := tx.CreateBucket(bucketA)
		must(t, err)
		must(t, b.Put([]byte("k"), []byte("v")))
		if tx.Bucket(bucketA) == nil {
			t.Error("Bucket after CreateBucket in the same transaction is nil")
		}
		if _, err := tx.CreateBucket(bucketA); !errors.Is(err, store.ErrBucketExists) {
			t.Errorf("CreateBucket of a bucket made in the same transaction: %v, want ErrBucketExists", err)
		}
		return nil
	})
	update(t, e, func(tx store.Tx) error {
		if _, err := tx.CreateBucket(bucketA); !errors.Is(err, store.ErrBucketExists) {
			t.Errorf("CreateBucket of a committed bucket: %v, want ErrBucketExists", err)
		}
		b, err := tx.CreateBucketIfNotExists(bucketA)
		must(t, err)
		if got := b.Get([]byte("k")); string(got) != "v" {
			t.Errorf("CreateBucketIfNotExists of an existing bucket: k = %q, want v", got)
		}
		b, err = tx.CreateBucketIfNotExists(bucketB)
		must(t, err)
		if got := b.Get([]byte("k")); got != nil {
			t.Errorf("new bucket: k = %q, want nil", got)
		}
		if err := tx.DeleteBucket(bucketC); !errors.Is(err, store.ErrBucketNotFound) {
			t.Errorf("DeleteBucket of a missing bucket: %v, want ErrBucketNotFound", err)
		}
		return nil
	})
	view(t, e, func(tx store.Tx) error {
		if tx.Bucket(bucketB) == nil {
			t.Error("bucket made by CreateBucketIfNotExists is not there")
		}
		return nil
	})
	update(t, e, func(tx store.Tx) error {
		must(t, tx.DeleteBucket(bucketA))
		if tx.Bucket(bucketA) != nil {
			t.Error("Bucket after DeleteBucket in the same transaction is not nil")
		}
		if err := tx.DeleteBucket(bucketA); !errors.Is(err, store.ErrBucketNotFound) {
			t.Errorf("DeleteBucket twice: %v, want ErrBucketNotFound", err)
		}
		return nil
	})
	view(t, e, func(tx store.Tx) error {
		if tx.Bucket(bucketA) != nil {
			t.Error("deleted bucket is there after commit")
		}
		return nil
	})
	// A bucket made again after its deletion has none of its old keys.
	update(t, e, func(tx store.Tx) error {
		b, err := tx.CreateBucket(bucketA)
		must(t, err)
		if got := b.Get([]byte("k")); got != nil {
			t.Errorf("bucket made again: old key k = %q, want nil", got)
		}
		return nil
	})
	wantStrings(t, "bucket made again, committed", committed(t, e, bucketA))
}

func testBucketDeleteRecreate(t *testing.T, e store.Engine) {
	put(t, e, bucketA, "a", "1", "b", "2", "c", "3", "d", "4")
	update(t, e, func(tx store.Tx) error {
		b := tx.Bucket(bucketA)
		_, err := b.NextSequence()
		must(t, err)
		must(t, tx.DeleteBucket(bucketA))
		b, err = tx.CreateBucket(bucketA)
		must(t, err)
		if s := b.Sequence(); s != 0 {
			t.Errorf("sequence of a bucket made again: %d, want 0", s)
		}
		must(t, b.Put([]byte("b"), []byte("new")))
		must(t, b.Put([]byte("e"), []byte("5")))
		if got := b.Get([]byte("a")); got != nil {
			t.Errorf("a = %q after the bucket was made again, want nil", got)
		}
		wantStrings(t, "bucket made again, in its transaction", contents(t, tx, bucketA), "b=new", "e=5")
		return nil
	})
	wantStrings(t, "bucket made again, committed", committed(t, e, bucketA), "b=new", "e=5")
	view(t, e, func(tx store.Tx) error {
		if s := tx.Bucket(bucketA).Sequence(); s != 0 {
			t.Errorf("sequence of a bucket made again, committed: %d, want 0", s)
		}
		return nil
	})
	// Made and deleted in one transaction: nothing.
	update(t, e, func(tx store.Tx) error {
		b, err := tx.CreateBucket(bucketC)
		must(t, err)
		must(t, b.Put([]byte("x"), []byte("y")))
		return tx.DeleteBucket(bucketC)
	})
	view(t, e, func(tx store.Tx) error {
		if tx.Bucket(bucketC) != nil {
			t.Error("a bucket made and deleted in one transaction is there")
		}
		return nil
	})
	// Deleted keys of one bucket leave the next one alone.
	put(t, e, bucketB, "a", "1")
	update(t, e, func(tx store.Tx) error { return tx.DeleteBucket(bucketA) })
	wantStrings(t, "the bucket after a deleted one", committed(t, e, bucketB), "a=1")
}

func testBucketForEach(t *testing.T, e store.Engine) {
	names := func(tx store.Tx) []string {
		out := []string{}
		must(t, tx.ForEach(func(name []byte, b store.Bucket) error {
			if b == nil {
				t.Errorf("ForEach: bucket %q is nil", name)
			}
			out = append(out, string(name))
			return nil
		}))
		return out
	}
	view(t, e, func(tx store.Tx) error {
		wantStrings(t, "buckets of an empty engine", names(tx))
		return nil
	})
	for _, n := range []string{"delta", "alpha", "charlie", "a", "b0", "bravo"} {
		put(t, e, []byte(n), "k", n)
	}
	view(t, e, func(tx store.Tx) error {
		wantStrings(t, "buckets", names(tx), "a", "alpha", "b0", "bravo", "charlie", "delta")
		return nil
	})
	update(t, e, func(tx store.Tx) error {
		must(t, tx.DeleteBucket([]byte("b0")))
		_, err := tx.CreateBucket([]byte("beta"))
		must(t, err)
		wantStrings(t, "buckets in a transaction that made and deleted some", names(tx), "a", "alpha", "beta", "bravo", "charlie", "delta")
		// ForEach hands out buckets that can be read.
		return tx.ForEach(func(name []byte, b store.Bucket) error {
			if got := b.Get([]byte("k")); string(name) != "beta" && string(got) != string(name) {
				t.Errorf("ForEach: bucket %s: k = %q", name, got)
			}
			return nil
		})
	})
	view(t, e, func(tx store.Tx) error {
		wantStrings(t, "buckets, committed", names(tx), "a", "alpha", "beta", "bravo", "charlie", "delta")
		stop := errors.New("stop")
		n := 0
		if err := tx.ForEach(func([]byte, store.Bucket) error { n++; return stop }); err != stop || n != 1 {
			t.Errorf("ForEach stopped by an error: %v after %d, want stop after 1", err, n)
		}
		return nil
	})
}

func testKeys(t *testing.T, e store.Engine) {
	update(t, e, func(tx store.Tx) error {
		b, err := tx.CreateBucket(bucketA)
		must(t, err)
		must(t, b.Put([]byte("k"), []byte("v")))
		must(t, b.Put([]byte("empty"), []byte{}))
		must(t, b.Put([]byte("nil"), nil))
		must(t, b.Put([]byte("gone"), []byte("x")))
		must(t, b.Delete([]byte("gone")))
		must(t, b.Delete([]byte("never there")))
		if err := b.Put(nil, []byte("v")); !errors.Is(err, store.ErrKeyRequired) {
			t.Errorf("Put of an empty key: %v, want ErrKeyRequired", err)
		}
		if err := b.Put([]byte{}, []byte("v")); !errors.Is(err, store.ErrKeyRequired) {
			t.Errorf("Put of an empty key: %v, want ErrKeyRequired", err)
		}
		checkKeys(t, "in the transaction that put them", b)
		return nil
	})
	view(t, e, func(tx store.Tx) error {
		checkKeys(t, "committed", tx.Bucket(bucketA))
		return nil
	})
	update(t, e, func(tx store.Tx) error {
		b := tx.Bucket(bucketA)
		must(t, b.Put([]byte("k"), []byte("overwritten")))
		if got := b.Get([]byte("k")); string(got) != "overwritten" {
			t.Errorf("k after an overwrite in the transaction: %q", got)
		}
		must(t, b.Delete([]byte("empty")))
		if got := b.Get([]byte("empty")); got != nil {
			t.Errorf("a deleted key in the transaction: %q, want nil", got)
		}
		must(t, b.Put([]byte("gone"), []byte("back")))
		return nil
	})
	wantStrings(t, "after an overwrite and a delete", committed(t, e, bucketA), "gone=back", "k=overwritten", "nil=")
	// A deleted key put again in the same transaction is there.
	update(t, e, func(tx store.Tx) error {
		b := tx.Bucket(bucketA)
		must(t, b.Delete([]byte("k")))
		must(t, b.Put([]byte("k"), []byte("again")))
		must(t, b.Put([]byte("nil"), []byte("x")))
		return b.Delete([]byte("nil"))
	})
	wantStrings(t, "after delete then put, put then delete", committed(t, e, bucketA), "gone=back", "k=again")
}

func checkKeys(t *testing.T, when string, b store.Bucket) {
	t.Helper()
	if got := b.Get([]byte("k")); string(got) != "v" {
		t.Errorf("%s: k = %q, want v", when, got)
	}
	for _, k := range []string{"empty", "nil"} {
		if got := b.Get([]byte(k)); got == nil || len(got) != 0 {
			t.Errorf("%s: %s = %#v, want a non-nil empty value", when, k, got)
		}
	}
	for _, k := range []string{"gone", "never there", "missing"} {
		if got := b.Get([]byte(k)); got != nil {
			t.Errorf("%s: %s = %q, want nil", when, k, got)
		}
	}
	// A cursor hands out the empty values non-nil too.
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			t.Errorf("%s: the cursor's value of %q is nil", when, k)
		}
	}
}

// binaryKeys are keys in byte order, with the bytes a text order gets wrong.
var binaryKeys = [][]byte{
	{0x00},
	{0x00, 0x00},
	{0x00, 0x01},
	{0x00, 0xff},
	{0x01},
	[]byte("A"),
	[]byte("a"),
	[]byte("a\x00"),
	[]byte("a\x00\x00"),
	[]byte("a\x01"),
	[]byte("ab"),
	{0x7f},
	{0x80},
	{0xfe, 0xff},
	{0xff},
	{0xff, 0x00},
	{0xff, 0xff},
	{0xff, 0xff, 0xff},
}

func testKeyOrder(t *testing.T, e store.Engine) {
	// Put in an order that is not theirs, half in one transaction and half
	// in another, so that the second's cursor merges its own writes.
	perm := []int{7, 2, 16, 0, 11, 5, 14, 9, 1, 17, 3, 12, 6, 15, 10, 4, 13, 8}
	for _, half := range [][]int{perm[:9], perm[9:]} {
		update(t, e, func(tx store.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucketA)
			must(t, err)
			for _, i := range half {
				must(t, b.Put(binaryKeys[i], []byte{byte(i)}))
			}
			checkOrder(t, "in the transaction", b, len(half) == 9)
			return nil
		})
	}
	// Keys sharing a bucket name's bytes in another bucket stay apart.
	put(t, e, []byte("alph"), "aa", "x")
	put(t, e, []byte("alpha0"), "z", "y")
	view(t, e, func(tx store.Tx) error {
		checkOrder(t, "committed", tx.Bucket(bucketA), false)
		return nil
	})
}

func checkOrder(t *testing.T, when string, b store.Bucket, partial bool) {
	t.Helper()
	var got [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		got = append(got, slices.Clone(k))
		if len(v) != 1 || !bytes.Equal(binaryKeys[v[0]], k) {
			t.Errorf("%s: key %x has value %x", when, k, v)
		}
	}
	if !slices.IsSortedFunc(got, bytes.Compare) {
		t.Errorf("%s: keys out of order: %x", when, got)
	}
	if !partial && len(got) != len(binaryKeys) {
		t.Errorf("%s: %d keys, want %d", when, len(got), len(binaryKeys))
	}
	for _, k := range got {
		if g := b.Get(k); len(g) != 1 || !bytes.Equal(binaryKeys[g[0]], k) {
			t.Errorf("%s: Get(%x) = %x", when, k, g)
		}
	}
	// Seek to a key between two lands on the next.
	if k, _ := c.Seek([]byte{0x00, 0x02}); !bytes.Equal(k, []byte{0x00, 0xff}) && !partial {
		t.Errorf("%s: Seek(00 02) = %x, want 00ff", when, k)
	}
	if k, _ := c.Seek([]byte{0xff, 0xff, 0xff, 0x00}); k != nil {
		t.Errorf("%s: Seek past the last key = %x, want nil", when, k)
	}
}

func testCursor(t *testing.T, e store.Engine) {
	update(t, e, func(tx store.Tx) error {
		_, err := tx.CreateBucket(bucketA)
		return err
	})
	view(t, e, func(tx store.Tx) error {
		c := tx.Bucket(bucketA).Cursor()
		for what, got := range map[string]string{
			"First": kv(c.First()), "Last": kv(c.Last()), "Seek": kv(c.Seek([]byte("a"))),
		} {
			if got != "<nil>" {
				t.Errorf("%s of an empty bucket: %s, want nil", what, got)
			}
		}
		return nil
	})
	put(t, e, bucketA, "b", "1", "d", "2", "f", "3", "h", "4")
	// Neighbouring buckets on either side must not leak into the walk.
	put(t, e, []byte("alph"), "z", "before")
	put(t, e, []byte("alpha0"), "a", "after")
	put(t, e, []byte("alphb"), "a", "after")
	view(t, e, func(tx store.Tx) error {
		c := tx.Bucket(bucketA).Cursor()
		fwd, back := walk(c)
		wantStrings(t, "forward", fwd, "b=1", "d=2", "f=3", "h=4")
		wantStrings(t, "backward", back, "h=4", "f=3", "d=2", "b=1")
		steps := []struct {
			what string
			got  func() (k, v []byte)
			want string
		}{
			{"Seek(a)", func() ([]byte, []byte) { return c.Seek([]byte("a")) }, "b=1"},
			{"Seek(d)", func() ([]byte, []byte) { return c.Seek([]byte("d")) }, "d=2"},
			{"Next", c.Next, "f=3"},
			{"Prev", c.Prev, "d=2"},
			{"Prev", c.Prev, "b=1"},
			{"Prev before the first", c.Prev, "<nil>"},
			{"Seek(e)", func() ([]byte, []byte) { return c.Seek([]byte("e")) }, "f=3"},
			{"Prev after Seek", c.Prev, "d=2"},
			{"Seek(h)", func() ([]byte, []byte) { return c.Seek([]byte("h")) }, "h=4"},
			{"Next after the last", c.Next, "<nil>"},
			{"Seek past the end", func() ([]byte, []byte) { return c.Seek([]byte("i")) }, "<nil>"},
			{"Last", c.Last, "h=4"},
			{"Prev", c.Prev, "f=3"},
			{"First", c.First, "b=1"},
			{"Next", c.Next, "d=2"},
			{"Seek(h\\x00)", func() ([]byte, []byte) { return c.Seek([]byte("h\x00")) }, "<nil>"},
			{"Seek(empty)", func() ([]byte, []byte) { return c.Seek(nil) }, "b=1"},
		}
		for _, s := range steps {
			if got := kv(s.got()); got != s.want {
				t.Errorf("%s: %s, want %s", s.what, got, s.want)
			}
		}
		// Two cursors over one bucket move apart.
		c1, c2 := tx.Bucket(bucketA).Cursor(), tx.Bucket(bucketA).Cursor()
		c1.First()
		c2.Last()
		if got1, got2 := kv(c1.Next()), kv(c2.Prev()); got1 != "d=2" || got2 != "f=3" {
			t.Errorf("two cursors: %s and %s, want d=2 and f=3", got1, got2)
		}
		return nil
	})
}

func testCursorReadYourWrites(t *testing.T, e store.Engine) {
	put(t, e, bucketA, "a", "1", "c", "3", "e", "5", "g", "7", "i", "9")
	rollback := errors.New("roll back")
	err := e.Update(func(tx store.Tx) error {
		b := tx.Bucket(bucketA)
		must(t, b.Put([]byte("b"), []byte("2")))
		must(t, b.Put([]byte("e"), []byte("five")))
		must(t, b.Delete([]byte("c")))
		must(t, b.Delete([]byte("i")))
		must(t, b.Put([]byte("j"), []byte("10")))
		must(t, b.Put([]byte("0"), []byte("0")))
		must(t, b.Delete([]byte("nothing")))
		want := []string{"0=0", "a=1", "b=2", "e=five", "g=7", "j=10"}
		fwd, back := walk(b.Cursor())
		wantStrings(t, "forward over the transaction's writes", fwd, want...)
		wantStrings(t, "backward over the transaction's writes", back, reversed(want)...)
		wantStrings(t, "ForEach over the transaction's writes", contents(t, tx, bucketA), want...)
		c := b.Cursor()
		seeks(t, "over the transaction's writes", c,
			"c", "e=five", "b", "b=2", "h", "j=10", "", "0=0", "k", "<nil>", "i", "j=10")
		c.Seek([]byte("e"))
		if got := kv(c.Prev()); got != "b=2" {
			t.Errorf("Prev from e over a deleted c: %s, want b=2", got)
		}
		// Writes made while a cursor is out are seen by its next move.
		c.Seek([]byte("e"))
		must(t, b.Put([]byte("f"), []byte("6")))
		must(t, b.Delete([]byte("g")))
		if got := kv(c.Next()); got != "f=6" {
			t.Errorf("Next after a put ahead of the cursor: %s, want f=6", got)
		}
		if got := kv(c.Next()); got != "j=10" {
			t.Errorf("Next after a delete ahead of the cursor: %s, want j=10", got)
		}
		// Every key deleted: nothing.
		for _, k := range []string{"0", "a", "b", "e", "f", "j"} {
			must(t, b.Delete([]byte(k)))
		}
		fwd, back = walk(b.Cursor())
		wantStrings(t, "forward, everything deleted", fwd)
		wantStrings(t, "backward, everything deleted", back)
		return rollback
	})
	if err != rollback {
		t.Errorf("Update: %v, want the function's error", err)
	}
	wantStrings(t, "after a rollback", committed(t, e, bucketA), "a=1", "c=3", "e=5", "g=7", "i=9")
	// In a new bucket: only the transaction's writes.
	update(t, e, func(tx store.Tx) error {
		b, err := tx.CreateBucket(bucketB)
		must(t, err)
		must(t, b.Put([]byte("y"), []byte("2")))
		must(t, b.Put([]byte("x"), []byte("1")))
		fwd, back := walk(b.Cursor())
		wantStrings(t, "forward in a new bucket", fwd, "x=1", "y=2")
		wantStrings(t, "backward in a new bucket", back, "y=2", "x=1")
		return nil
	})
}

func testCursorRecreatedBucket(t *testing.T, e store.Engine) {
	put(t, e, bucketA, "a", "1", "c", "3", "e", "5")
	update(t, e, func(tx store.Tx) error {
		must(t, tx.DeleteBucket(bucketA))
		b, err := tx.CreateBucket(bucketA)
		must(t, err)
		must(t, b.Put([]byte("d"), []byte("4")))
		fwd, back := walk(b.Cursor())
		wantStrings(t, "forward over a bucket made again", fwd, "d=4")
		wantStrings(t, "backward over a bucket made again", back, "d=4")
		if got := kv(b.Cursor().Seek([]byte("a"))); got != "d=4" {
			t.Errorf("Seek(a) in a bucket made again: %s, want d=4", got)
		}
		return nil
	})
	wantStrings(t, "a bucket made again, committed", committed(t, e, bucketA), "d=4")
}

func testSequences(t *testing.T, e store.Engine) {
	update(t, e, func(tx store.Tx) error {
		a, err := tx.CreateBucket(bucketA)
		must(t, err)
		b, err := tx.CreateBucket(bucketB)
		must(t, err)
		if s := a.Sequence(); s != 0 {
			t.Errorf("a new bucket's sequence: %d, want 0", s)
		}
		for want := uint64(1); want <= 3; want++ {
			n, err := a.NextSequence()
			must(t, err)
			if n != want || a.Sequence() != want {
				t.Errorf("NextSequence: %d (Sequence %d), want %d", n, a.Sequence(), want)
			}
		}
		must(t, b.SetSequence(41))
		n, err := b.NextSequence()
		must(t, err)
		if n != 42 {
			t.Errorf("NextSequence after SetSequence(41): %d", n)
		}
		if s := a.Sequence(); s != 3 {
			t.Errorf("a bucket's sequence moved with another's: %d, want 3", s)
		}
		// Through another handle to the same bucket.
		if s := tx.Bucket(bucketA).Sequence(); s != 3 {
			t.Errorf("the sequence through another handle: %d, want 3", s)
		}
		return nil
	})
	seqs := func() (uint64, uint64) {
		var a, b uint64
		view(t, e, func(tx store.Tx) error {
			a, b = tx.Bucket(bucketA).Sequence(), tx.Bucket(bucketB).Sequence()
			return nil
		})
		return a, b
	}
	if a, b := seqs(); a != 3 || b != 42 {
		t.Errorf("committed sequences: %d and %d, want 3 and 42", a, b)
	}
	err := e.Update(func(tx store.Tx) error {
		_, err := tx.Bucket(bucketA).NextSequence()
		must(t, err)
		must(t, tx.Bucket(bucketB).SetSequence(7))
		return errors.New("roll back")
	})
	if err == nil || err.Error() != "roll back" {
		t.Errorf("Update: %v, want the function's error", err)
	}
	if a, b := seqs(); a != 3 || b != 42 {
		t.Errorf("sequences after a rollback: %d and %d, want 3 and 42", a, b)
	}
	update(t, e, func(tx store.Tx) error {
		n, err := tx.Bucket(bucketA).NextSequence()
		must(t, err)
		if n != 4 {
			t.Errorf("NextSequence after a rollback: %d, want 4", n)
		}
		// A sequence changed alone, with no key written, is committed.
		return nil
	})
	if a, _ := seqs(); a != 4 {
		t.Errorf("a sequence changed alone: %d, want 4", a)
	}
	update(t, e, func(tx store.Tx) error { return tx.Bucket(bucketB).SetSequence(1 << 63) })
	if _, b := seqs(); b != 1<<63 {
		t.Errorf("a large sequence: %d", b)
	}
}

func testAtomicity(t *testing.T, e store.Engine) {
	put(t, e, bucketA, "a", "1", "b", "2")
	put(t, e, bucketB, "x", "1")
	fail := errors.New("the function failed")
	err := e.Update(func(tx store.Tx) error {
		a := tx.Bucket(bucketA)
		must(t, a.Put([]byte("a"), []byte("changed")))
		must(t, a.Delete([]byte("b")))
		must(t, a.Put([]byte("c"), []byte("3")))
		_, err := a.NextSequence()
		must(t, err)
		must(t, tx.DeleteBucket(bucketB))
		c, err := tx.CreateBucket(bucketC)
		must(t, err)
		must(t, c.Put([]byte("k"), []byte("v")))
		return fail
	})
	if !errors.Is(err, fail) {
		t.Errorf("Update: %v, want the function's error", err)
	}
	wantStrings(t, "bucket a after a failed update", committed(t, e, bucketA), "a=1", "b=2")
	wantStrings(t, "bucket b after a failed update", committed(t, e, bucketB), "x=1")
	view(t, e, func(tx store.Tx) error {
		if tx.Bucket(bucketC) != nil {
			t.Error("a bucket made by a failed update is there")
		}
		if s := tx.Bucket(bucketA).Sequence(); s != 0 {
			t.Errorf("a sequence moved by a failed update: %d", s)
		}
		return nil
	})
	// A write refused inside the function fails the function, which fails
	// the transaction: nothing of it is written either.
	err = e.Update(func(tx store.Tx) error {
		must(t, tx.Bucket(bucketA).Put([]byte("a"), []byte("changed")))
		if err := tx.Bucket(bucketA).Put(nil, []byte("x")); err != nil {
			return err
		}
		return nil
	})
	if !errors.Is(err, store.ErrKeyRequired) {
		t.Errorf("Update with a refused write: %v, want ErrKeyRequired", err)
	}
	wantStrings(t, "bucket a after a refused write", committed(t, e, bucketA), "a=1", "b=2")
}

// testIsolation: a View that began before an Update committed reads what was
// there before it, to its end.
func testIsolation(t *testing.T, e store.Engine) {
	put(t, e, bucketA, "a", "1", "b", "2", "c", "3")
	var seq uint64
	view(t, e, func(tx store.Tx) error {
		done := make(chan error, 1)
		go func() {
			done <- e.Update(func(tx store.Tx) error {
				b := tx.Bucket(bucketA)
				_, seqErr := b.NextSequence()
				_, createErr := tx.CreateBucket(bucketB)
				return errors.Join(b.Put([]byte("a"), []byte("changed")), b.Delete([]byte("b")),
					b.Put([]byte("d"), []byte("4")), seqErr, createErr)
			})
		}()
		select {
		case err := <-done:
			must(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("an Update did not commit while a View was open")
		}
		b := tx.Bucket(bucketA)
		if b == nil {
			t.Fatal("the bucket is gone from the view")
		}
		if got := b.Get([]byte("a")); string(got) != "1" {
			t.Errorf("a view sees a = %q from an update that committed after it began, want 1", got)
		}
		wantStrings(t, "a view's bucket after an update committed", contents(t, tx, bucketA), "a=1", "b=2", "c=3")
		if tx.Bucket(bucketB) != nil {
			t.Error("a view sees a bucket made after it began")
		}
		seq = b.Sequence()
		return nil
	})
	if seq != 0 {
		t.Errorf("a view sees a sequence changed after it began: %d", seq)
	}
	wantStrings(t, "a new view", committed(t, e, bucketA), "a=changed", "c=3", "d=4")
}

// testViewDuringUpdate: an Update in progress blocks no View, and a View
// does not see what the Update has written but not committed.
func testViewDuringUpdate(t *testing.T, e store.Engine) {
	put(t, e, bucketA, "a", "1")
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		first := true
		done <- e.Update(func(tx store.Tx) error {
			if err := tx.Bucket(bucketA).Put([]byte("a"), []byte("changed")); err != nil {
				return err
			}
			if first { // an engine may run the function again
				first = false
				close(inside)
				<-release
			}
			return nil
		})
	}()
	<-inside
	viewed := make(chan error, 1)
	go func() {
		viewed <- e.View(func(tx store.Tx) error {
			if got := tx.Bucket(bucketA).Get([]byte("a")); string(got) != "1" {
				return fmt.Errorf("a view sees a = %q from an update not committed", got)
			}
			return nil
		})
	}()
	select {
	case err := <-viewed:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Error("a View waited for an Update in progress")
	}
	close(release)
	must(t, <-done)
	wantStrings(t, "after the update", committed(t, e, bucketA), "a=changed")
}

func testReadOnly(t *testing.T, e store.Engine) {
	put(t, e, bucketA, "a", "1")
	update(t, e, func(tx store.Tx) error {
		if !tx.Writable() {
			t.Error("an Update's transaction is not writable")
		}
		return nil
	})
	view(t, e, func(tx store.Tx) error {
		if tx.Writable() {
			t.Error("a View's transaction is writable")
		}
		b := tx.Bucket(bucketA)
		for what, err := range map[string]error{
			"Put":                               b.Put([]byte("a"), []byte("2")),
			"Delete":                            b.Delete([]byte("a")),
			"SetSequence":                       b.SetSequence(5),
			"CreateBucket":                      second(tx.CreateBucket(bucketB)),
			"CreateBucketIfNotExists":           second(tx.CreateBucketIfNotExists(bucketB)),
			"CreateBucketIfNotExists(existing)": second(tx.CreateBucketIfNotExists(bucketA)),
			"DeleteBucket":                      tx.DeleteBucket(bucketA),
			"NextSequence":                      second(b.NextSequence()),
		} {
			if !errors.Is(err, store.ErrTxNotWritable) {
				t.Errorf("%s in a View: %v, want ErrTxNotWritable", what, err)
			}
		}
		return nil
	})
	wantStrings(t, "after refused writes", committed(t, e, bucketA), "a=1")
	view(t, e, func(tx store.Tx) error {
		if s := tx.Bucket(bucketA).Sequence(); s != 0 {
			t.Errorf("sequence after refused writes: %d", s)
		}
		if tx.Bucket(bucketB) != nil {
			t.Error("a bucket made in a View is there")
		}
		return nil
	})
}

func second[T any](_ T, err error) error { return err }

func testLargeValue(t *testing.T, e store.Engine) {
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>8)
	}
	update(t, e, func(tx store.Tx) error {
		b, err := tx.CreateBucket(bucketA)
		must(t, err)
		must(t, b.Put([]byte("big"), big))
		must(t, b.Put([]byte("small"), []byte("s")))
		if !bytes.Equal(b.Get([]byte("big")), big) {
			t.Error("a 1 MiB value differs in its own transaction")
		}
		return nil
	})
	view(t, e, func(tx store.Tx) error {
		b := tx.Bucket(bucketA)
		if !bytes.Equal(b.Get([]byte("big")), big) {
			t.Error("a 1 MiB value differs after commit")
		}
		k, v := b.Cursor().First()
		if string(k) != "big" || !bytes.Equal(v, big) {
			t.Errorf("the cursor's 1 MiB value differs (key %q, %d bytes)", k, len(v))
		}
		return nil
	})
}

func testManyKeys(t *testing.T, e store.Engine) {
	const n = 10000
	batch := 500
	if l := store.LimitsOf(e); l.Ops > 0 && l.Ops < batch {
		batch = l.Ops
	}
	key := func(i int) []byte { return binary.BigEndian.AppendUint32([]byte("key"), uint32(i)) }
	// Odd keys first, then even ones, so that every page of the second
	// pass's cursors interleaves with what is there.
	for _, parity := range []int{1, 0} {
		for start := parity; start < n; start += 2 * batch {
			update(t, e, func(tx store.Tx) error {
				b, err := tx.CreateBucketIfNotExists(bucketA)
				must(t, err)
				for i := start; i < min(start+2*batch, n); i += 2 {
					must(t, b.Put(key(i), fmt.Appendf(nil, "value %d", i)))
				}
				return nil
			})
		}
	}
	put(t, e, bucketB, "after", "x")
	view(t, e, func(tx store.Tx) error {
		b := tx.Bucket(bucketA)
		c := b.Cursor()
		i := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !bytes.Equal(k, key(i)) || string(v) != fmt.Sprintf("value %d", i) {
				t.Fatalf("forward, at %d: %q = %q", i, k, v)
			}
			i++
		}
		if i != n {
			t.Errorf("forward: %d keys, want %d", i, n)
		}
		i = n - 1
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if !bytes.Equal(k, key(i)) || string(v) != fmt.Sprintf("value %d", i) {
				t.Fatalf("backward, at %d: %q = %q", i, k, v)
			}
			i--
		}
		if i != -1 {
			t.Errorf("backward: stopped at %d", i)
		}
		if k, _ := c.Seek(key(n / 2)); !bytes.Equal(k, key(n/2)) {
			t.Errorf("Seek into the middle: %q", k)
		}
		if k, _ := c.Prev(); !bytes.Equal(k, key(n/2-1)) {
			t.Errorf("Prev from the middle: %q", k)
		}
		if v := b.Get(key(n - 1)); string(v) != fmt.Sprintf("value %d", n-1) {
			t.Errorf("Get of the last: %q", v)
		}
		return nil
	})
	// A walk that deletes what it passes, in batches: the vault's expiry.
	deleted := 0
	for {
		var left bool
		update(t, e, func(tx store.Tx) error {
			b := tx.Bucket(bucketA)
			c := b.Cursor()
			var ks [][]byte
			for k, _ := c.First(); k != nil && len(ks) < batch; k, _ = c.Next() {
				ks = append(ks, slices.Clone(k))
			}
			for _, k := range ks {
				must(t, b.Delete(k))
			}
			left = len(ks) == batch
			deleted += len(ks)
			return nil
		})
		if !left {
			break
		}
	}
	if deleted != n {
		t.Errorf("deleted %d keys, want %d", deleted, n)
	}
	wantStrings(t, "after every key was deleted", committed(t, e, bucketA))
}

// testConcurrentWriters: writers that each read a counter and write it plus
// one lose no increment.
func testConcurrentWriters(t *testing.T, e store.Engine) {
	const writers, each = 4, 25
	update(t, e, func(tx store.Tx) error {
		_, err := tx.CreateBucket(bucketA)
		return err
	})
	key := []byte("counter")
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := e.Update(func(tx store.Tx) error {
					b := tx.Bucket(bucketA)
					var n uint64
					if v := b.Get(key); v != nil {
						n = binary.BigEndian.Uint64(v)
					}
					if err := b.Put(key, binary.BigEndian.AppendUint64(nil, n+1)); err != nil {
						return err
					}
					// A key of its own too, to see every commit whole.
					if err := b.Put(fmt.Appendf(nil, "w%d-%08d", w, n), nil); err != nil {
						return err
					}
					_, err := b.NextSequence()
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a writer's Update: %v", err)
	}
	view(t, e, func(tx store.Tx) error {
		b := tx.Bucket(bucketA)
		v := b.Get(key)
		if v == nil || binary.BigEndian.Uint64(v) != writers*each {
			t.Errorf("counter %x, want %d", v, writers*each)
		}
		if s := b.Sequence(); s != writers*each {
			t.Errorf("sequence %d, want %d", s, writers*each)
		}
		n := 0
		must(t, b.ForEach(func(k, _ []byte) error { n++; return nil }))
		if n != writers*each+1 {
			t.Errorf("%d keys, want %d", n, writers*each+1)
		}
		return nil
	})
}

// testLimits: an engine with limits takes a transaction at its limits and
// refuses one over them with ErrTooLarge, writing nothing of it.
func testLimits(t *testing.T, e store.Engine) {
	l := store.LimitsOf(e)
	if l.Ops == 0 && l.Bytes == 0 {
		t.Skip("the engine has no limits")
	}
	update(t, e, func(tx store.Tx) error {
		_, err := tx.CreateBucket(bucketA)
		return err
	})
	key := func(i int) []byte { return binary.BigEndian.AppendUint32([]byte("k"), uint32(i)) }
	// fill writes total bytes of keys and values in ops keys, and a
	// bucket's sequence beside them.
	fill := func(ops, total int) error {
		return e.Update(func(tx store.Tx) error {
			b := tx.Bucket(bucketA)
			left := total
			for i := range ops {
				k := key(i)
				v := make([]byte, max(left/(ops-i)-len(k), 0))
				left -= len(k) + len(v)
				if err := b.Put(k, v); err != nil {
					return err
				}
			}
			_, err := b.NextSequence()
			return err
		})
	}
	ops := l.Ops
	if ops == 0 {
		ops = 100
	}
	bytes := l.Bytes
	if bytes == 0 {
		bytes = ops * 10
	}
	must(t, fill(ops, bytes))
	update(t, e, func(tx store.Tx) error { return tx.DeleteBucket(bucketA) })
	update(t, e, func(tx store.Tx) error {
		_, err := tx.CreateBucket(bucketA)
		return err
	})
	if l.Ops > 0 {
		if err := fill(l.Ops+1, 0); !errors.Is(err, store.ErrTooLarge) {
			t.Errorf("a transaction of %d keys: %v, want ErrTooLarge", l.Ops+1, err)
		}
	}
	if l.Bytes > 0 {
		if err := fill(ops, l.Bytes+1); !errors.Is(err, store.ErrTooLarge) {
			t.Errorf("a transaction of %d bytes: %v, want ErrTooLarge", l.Bytes+1, err)
		}
	}
	wantStrings(t, "after refused transactions", committed(t, e, bucketA))
}

// testRandomWalks writes random keys in random transactions, some rolled
// back, some deleting and making the bucket again, and checks every cursor
// move and Get, in the transactions and after them, against a model.
func testRandomWalks(t *testing.T, e store.Engine) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0x00, 'a', 'b', 0xff}
	randomKey := func() []byte {
		k := make([]byte, 1+rng.IntN(3))
		for i := range k {
			k[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return k
	}
	committedState := map[string]string{}
	update(t, e, func(tx store.Tx) error {
		_, err := tx.CreateBucket(bucketA)
		return err
	})
	for round := range 40 {
		state := maps.Clone(committedState)
		rollback := round%5 == 4
		err := e.Update(func(tx store.Tx) error {
			b := tx.Bucket(bucketA)
			for range 1 + rng.IntN(12) {
				switch r := rng.IntN(20); {
				case r < 10:
					k, v := randomKey(), fmt.Sprintf("r%d-%d", round, rng.IntN(100))
					must(t, b.Put(k, []byte(v)))
					state[string(k)] = v
				case r < 16:
					k := randomKey()
					must(t, b.Delete(k))
					delete(state, string(k))
				case r < 17 && round%3 == 0:
					must(t, tx.DeleteBucket(bucketA))
					var err error
					b, err = tx.CreateBucket(bucketA)
					must(t, err)
					clear(state)
				default:
					checkWalk(t, rng, b, state, randomKey, fmt.Sprintf("round %d, in the transaction", round))
				}
			}
			checkWalk(t, rng, b, state, randomKey, fmt.Sprintf("round %d, before commit", round))
			if rollback {
				return errors.New("roll back")
			}
			return nil
		})
		if rollback != (err != nil) {
			t.Fatalf("round %d: Update: %v", round, err)
		}
		if !rollback {
			committedState = state
		}
		view(t, e, func(tx store.Tx) error {
			checkWalk(t, rng, tx.Bucket(bucketA), committedState, randomKey, fmt.Sprintf("round %d, committed", round))
			return nil
		})
	}
}

// checkWalk makes random cursor moves over b and Gets, and checks each
// against state.
func checkWalk(t *testing.T, rng *rand.Rand, b store.Bucket, state map[string]string, randomKey func() []byte, when string) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(state))
	at := func(i int) string {
		if i < 0 || i >= len(keys) {
			return "<nil>"
		}
		return keys[i] + "=" + state[keys[i]]
	}
	c := b.Cursor()
	pos := -1 // the model's place; -1: not on a key
	var moves []string
	for range 30 {
		var got, want, what string
		switch r := rng.IntN(6); {
		case r == 0 || pos < 0 && r >= 4:
			what, got, pos = "First", kv(c.First()), 0
		case r == 1:
			what, got, pos = "Last", kv(c.Last()), len(keys)-1
		case r == 2:
			k := randomKey()
			what, got = fmt.Sprintf("Seek(%x)", k), kv(c.Seek(k))
			pos, _ = slices.BinarySearch(keys, string(k))
		case r == 3:
			k := randomKey()
			what, got = fmt.Sprintf("Get(%x)", k), string(b.Get(k))
			want = state[string(k)]
			if v, ok := state[string(k)]; !ok || v == "" {
				// An absent key and an empty value differ only in nil.
				if g := b.Get(k); (g == nil) == ok {
					t.Errorf("%s: Get(%x) = %#v, present %v", when, k, g, ok)
				}
			}
		case r == 4:
			what, got = "Next", kv(c.Next())
			pos++
		default:
			what, got = "Prev", kv(c.Prev())
			pos--
		}
		if what[0] != 'G' {
			want = at(pos)
			if pos >= len(keys) {
				pos = -1
			}
		}
		moves = append(moves, what)
		if got != want {
			t.Fatalf("%s: after %v: got %q, want %q", when, moves, got, want)
		}
	}
}

// testPrefixCursor: store.PrefixCursor sees the keys with its prefix and no
// other, committed or written in the transaction.
func testPrefixCursor(t *testing.T, e store.Engine) {
	put(t, e, bucketA, "a", "1", "ab", "2", "ab\x00", "3", "ab\xff", "4", "abc", "5", "ac", "6", "b", "7",
		"\xff", "8", "\xff\xff", "9")
	check := func(tx store.Tx, prefix string, want ...string) {
		t.Helper()
		c := store.PrefixCursor(tx.Bucket(bucketA), []byte(prefix))
		fwd, back := walk(c)
		wantStrings(t, fmt.Sprintf("forward over %q", prefix), fwd, want...)
		wantStrings(t, fmt.Sprintf("backward over %q", prefix), back, reversed(want)...)
	}
	view(t, e, func(tx store.Tx) error {
		check(tx, "ab", "ab=2", "ab\x00=3", "abc=5", "ab\xff=4")
		check(tx, "ab\xff", "ab\xff=4")
		check(tx, "\xff", "\xff=8", "\xff\xff=9")
		check(tx, "abd")
		check(tx, "", "a=1", "ab=2", "ab\x00=3", "abc=5", "ab\xff=4", "ac=6", "b=7", "\xff=8", "\xff\xff=9")
		c := store.PrefixCursor(tx.Bucket(bucketA), []byte("ab"))
		seeks(t, `over "ab"`, c, "a", "ab=2", "ab\x01", "abc=5", "abd", "ab\xff=4", "", "ab=2", "ac", "<nil>", "b", "<nil>")
		c.Seek([]byte("ab"))
		if got := kv(c.Prev()); got != "<nil>" {
			t.Errorf("Prev before the prefix: %s", got)
		}
		return nil
	})
	update(t, e, func(tx store.Tx) error {
		b := tx.Bucket(bucketA)
		must(t, b.Put([]byte("ab1"), []byte("new")))
		must(t, b.Put([]byte("aa"), []byte("outside")))
		must(t, b.Put([]byte("ad"), []byte("outside")))
		must(t, b.Delete([]byte("abc")))
		check(tx, "ab", "ab=2", "ab\x00=3", "ab1=new", "ab\xff=4")
		return nil
	})
}

// testRangeCursor: store.RangeCursor sees the keys of its range and no
// other, committed or written in the transaction.
func testRangeCursor(t *testing.T, e store.Engine) {
	put(t, e, bucketA, "a", "1", "ab", "2", "ab\x00", "3", "abc", "5", "ac", "6", "b", "7", "\xff", "8")
	check := func(tx store.Tx, from, to string, want ...string) {
		t.Helper()
		var f, tt []byte
		if from != "" {
			f = []byte(from)
		}
		if to != "" {
			tt = []byte(to)
		}
		c := store.RangeCursor(tx.Bucket(bucketA), f, tt)
		fwd, back := walk(c)
		wantStrings(t, fmt.Sprintf("forward over [%q, %q)", from, to), fwd, want...)
		wantStrings(t, fmt.Sprintf("backward over [%q, %q)", from, to), back, reversed(want)...)
	}
	view(t, e, func(tx store.Tx) error {
		check(tx, "ab", "ac", "ab=2", "ab\x00=3", "abc=5")
		check(tx, "ab\x01", "b", "abc=5", "ac=6")
		check(tx, "", "ab", "a=1")
		check(tx, "ac", "", "ac=6", "b=7", "\xff=8")
		check(tx, "", "", "a=1", "ab=2", "ab\x00=3", "abc=5", "ac=6", "b=7", "\xff=8")
		check(tx, "ad", "b")
		c := store.RangeCursor(tx.Bucket(bucketA), []byte("ab"), []byte("b"))
		seeks(t, `over ["ab", "b")`, c, "a", "ab=2", "abd", "ac=6", "b", "<nil>", "\xff", "<nil>")
		c.Seek([]byte("ab"))
		if got := kv(c.Prev()); got != "<nil>" {
			t.Errorf("Prev before the range: %s", got)
		}
		return nil
	})
	update(t, e, func(tx store.Tx) error {
		b := tx.Bucket(bucketA)
		must(t, b.Put([]byte("ab1"), []byte("new")))
		must(t, b.Put([]byte("aa"), []byte("outside")))
		must(t, b.Put([]byte("ac"), []byte("outside")))
		must(t, b.Delete([]byte("abc")))
		check(tx, "ab", "ac", "ab=2", "ab\x00=3", "ab1=new")
		return nil
	})
}
