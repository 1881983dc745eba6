package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	"github.com/clientvault/clientvault/vault/store/storetest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// prefixes numbers the engines' prefixes, so that engines on one server
// are apart.
var prefixes atomic.Int64

func openEtcd(t testing.TB, cli *clientv3.Client, o store.EtcdOptions) *store.Etcd {
	e, err := store.NewEtcd(cli, fmt.Sprintf("vault%d/", prefixes.Add(1)), o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEtcd(t *testing.T) {
	cli := etcdtest.StartEtcd(t)
	storetest.Run(t, func(t *testing.T) store.Engine { return openEtcd(t, cli, store.EtcdOptions{}) })
}

// TestEtcdSmallPages runs the suite with cursors that read a few keys at a
// time, so that every walk crosses pages.
func TestEtcdSmallPages(t *testing.T) {
	cli := etcdtest.StartEtcd(t)
	storetest.Run(t, func(t *testing.T) store.Engine {
		return openEtcd(t, cli, store.EtcdOptions{PageSize: 3, NoStreams: true})
	})
}

// TestEtcdRaisedLimits: the engine's limits follow the server's when the
// options say what they are.
func TestEtcdRaisedLimits(t *testing.T) {
	cli := etcdtest.StartEtcd(t, etcdtest.MaxTxnOps(1024), etcdtest.MaxRequestBytes(4<<20))
	storetest.Run(t, func(t *testing.T) store.Engine {
		e := openEtcd(t, cli, store.EtcdOptions{MaxTxnOps: 1024, MaxRequestBytes: 4 << 20})
		if l := e.Limits(); l.Ops < 1000 || l.Bytes < 4<<20-400<<10 {
			t.Fatalf("limits %+v", l)
		}
		return e
	})
}

func TestNewEtcdPrefix(t *testing.T) {
	cli := etcdtest.StartEtcd(t)
	for _, p := range []string{"", "vault", "a/b"} {
		if _, err := store.NewEtcd(cli, p, store.EtcdOptions{}); err == nil {
			t.Errorf("NewEtcd took the prefix %q", p)
		}
	}
}

// TestEtcdTwoClients: writers on two computers (two clients, two engines
// on one prefix) lose no increment of a counter they both write.
func TestEtcdTwoClients(t *testing.T) {
	s := etcdtest.Start(t)
	engines := []*store.Etcd{}
	for _, cli := range []*clientv3.Client{s.Client, s.NewClient(t, "", "")} {
		e, err := store.NewEtcd(cli, "salon/", store.EtcdOptions{})
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, e)
	}
	if err := engines[0].Update(func(tx store.Tx) error {
		_, err := tx.CreateBucket([]byte("n"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const each = 20
	var runs atomic.Int64
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := engines[i%2].Update(func(tx store.Tx) error {
					runs.Add(1)
					b := tx.Bucket([]byte("n"))
					_, err := b.NextSequence()
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := engines[1].View(func(tx store.Tx) error {
		if n := tx.Bucket([]byte("n")).Sequence(); n != 4*each {
			t.Errorf("sequence %d, want %d", n, 4*each)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d commits took %d runs of their functions", 4*each, runs.Load())
}

// TestEtcdKeyRange: the range of a bucket's keys with a prefix holds those
// and no other keys, whatever the neighbouring buckets and keys.
func TestEtcdKeyRange(t *testing.T) {
	cli := etcdtest.StartEtcd(t)
	e := openEtcd(t, cli, store.EtcdOptions{})
	keys := map[string][]string{
		"shares":  {"\x00", "a", "a\x00", "ab", "ab\xff", "ab\xff\xff", "ac", "b", "\xff", "\xff\xff"},
		"share":   {"ab", "ab1"},
		"sharesx": {"ab"},
		"t":       {"ab"},
	}
	if err := e.Update(func(tx store.Tx) error {
		for name, ks := range keys {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for _, k := range ks {
				if err := b.Put([]byte(k), []byte(name+"/"+k)); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"", keys["shares"]},
		{"ab", []string{"ab", "ab\xff", "ab\xff\xff"}},
		{"ab\xff", []string{"ab\xff", "ab\xff\xff"}},
		{"\xff", []string{"\xff", "\xff\xff"}},
		{"a", []string{"a", "a\x00", "ab", "ab\xff", "ab\xff\xff", "ac"}},
		{"z", nil},
	} {
		start, end := e.KeyRange([]byte("shares"), []byte(c.prefix))
		resp, err := cli.Get(context.Background(), start, clientv3.WithRange(end))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, kv := range resp.Kvs {
			got = append(got, string(kv.Value))
		}
		var want []string
		for _, k := range c.want {
			want = append(want, "shares/"+k)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("KeyRange(shares, %q): %q, want %q", c.prefix, got, want)
		}
	}
}

// TestEtcdAccessDenied: a user whose role reads one range of a bucket (and
// the engine's own keys) reads it through the engine and is refused the
// rest with ErrAccessDenied, and cannot write.
func TestEtcdAccessDenied(t *testing.T) {
	s := etcdtest.Start(t)
	ctx := context.Background()
	owner, err := store.NewEtcd(s.Client, "salon/", store.EtcdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Update(func(tx store.Tx) error {
		for _, name := range []string{"shares", "records"} {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for _, k := range []string{"ann/1", "ann/2", "bob/1"} {
				if err := b.Put([]byte(k), []byte(name+" "+k)); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	auth := s.Client.Auth
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(auth.UserAdd(ctx, "root", "root"))
	must(auth.UserGrantRole(ctx, "root", "root"))
	must(auth.RoleAdd(ctx, "ann"))
	start, end := owner.KeyRange([]byte("shares"), []byte("ann/"))
	must(auth.RoleGrantPermission(ctx, "ann", start, end, clientv3.PermissionType(clientv3.PermRead)))
	start, end = owner.MetaRange()
	must(auth.RoleGrantPermission(ctx, "ann", start, end, clientv3.PermissionType(clientv3.PermRead)))
	must(auth.UserAdd(ctx, "ann", "ann"))
	must(auth.UserGrantRole(ctx, "ann", "ann"))
	must(auth.AuthEnable(ctx))

	ann, err := store.NewEtcd(s.NewClient(t, "ann", "ann"), "salon/", store.EtcdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = ann.View(func(tx store.Tx) error {
		c := store.PrefixCursor(tx.Bucket([]byte("shares")), []byte("ann/"))
		var got []string
		for k, v := c.First(); k != nil; k, v = c.Next() {
			got = append(got, string(v))
		}
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			got = append(got, string(v))
		}
		if fmt.Sprint(got) != "[shares ann/1 shares ann/2 shares ann/2 shares ann/1]" {
			t.Errorf("ann's shares: %q", got)
		}
		return nil
	})
	if err != nil {
		t.Errorf("ann's walk of her shares: %v", err)
	}
	if err := ann.View(func(tx store.Tx) error {
		if v := tx.Bucket([]byte("shares")).Get([]byte("ann/2")); string(v) != "shares ann/2" {
			t.Errorf("ann/2: %q", v)
		}
		return nil
	}); err != nil {
		t.Errorf("ann's Get of her share: %v", err)
	}
	for what, fn := range map[string]func(tx store.Tx) error{
		"bob's share":      func(tx store.Tx) error { tx.Bucket([]byte("shares")).Get([]byte("bob/1")); return nil },
		"a record":         func(tx store.Tx) error { tx.Bucket([]byte("records")).Get([]byte("ann/1")); return nil },
		"a walk of shares": func(tx store.Tx) error { tx.Bucket([]byte("shares")).Cursor().First(); return nil },
	} {
		err := ann.View(fn)
		if !errors.Is(err, store.ErrAccessDenied) {
			t.Errorf("ann reading %s: %v, want ErrAccessDenied", what, err)
		}
		t.Logf("ann reading %s: %v", what, err)
	}
	err = ann.Update(func(tx store.Tx) error {
		return tx.Bucket([]byte("shares")).Put([]byte("ann/3"), []byte("x"))
	})
	if !errors.Is(err, store.ErrAccessDenied) {
		t.Errorf("ann writing: %v, want ErrAccessDenied", err)
	}
}

// TestEtcdNoSpace: a write to a server out of space fails with ErrNoSpace
// and writes nothing.
func TestEtcdNoSpace(t *testing.T) {
	cli := etcdtest.StartEtcd(t, etcdtest.QuotaBackendBytes(1<<20))
	e := openEtcd(t, cli, store.EtcdOptions{})
	big := bytes.Repeat([]byte("x"), 256<<10)
	var (
		err  error
		key  []byte
		made int
	)
	// The server sees its database grow when its backend commits, every
	// 100 ms.
	for i := 0; i < 100 && err == nil; i++ {
		err = e.Update(func(tx store.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			key = fmt.Appendf(nil, "k%d", i)
			return b.Put(key, big)
		})
		if err == nil {
			made++
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("writing past the quota: %v, want ErrNoSpace", err)
	}
	t.Log(err)
	if err := e.View(func(tx store.Tx) error {
		if v := tx.Bucket([]byte("b")).Get(key); v != nil {
			t.Errorf("the refused transaction's key %s is there", key)
		}
		// etcd applies the transaction that fills its quota and answers
		// it NOSPACE: Update finds it made and says so.
		n := 0
		tx.Bucket([]byte("b")).ForEach(func(k, v []byte) error { n++; return nil })
		if n != made {
			t.Errorf("%d keys for %d transactions made", n, made)
		}
		return nil
	}); err != nil {
		t.Errorf("a View on a server out of space: %v", err)
	}
}

// TestEtcdUnavailable: with the server gone, transactions fail with
// ErrUnavailable in about the request timeout; a commit whose answer is
// lost is reported as such.
func TestEtcdUnavailable(t *testing.T) {
	s := etcdtest.Start(t)
	e := openEtcd(t, s.Client, store.EtcdOptions{RequestTimeout: 300 * time.Millisecond})
	if err := e.Update(func(tx store.Tx) error {
		_, err := tx.CreateBucket([]byte("b"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err := e.Update(func(tx store.Tx) error {
		s.Stop() // between the snapshot and the commit
		return tx.Bucket([]byte("b")).Put([]byte("k"), []byte("v"))
	})
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, store.ErrCommitUnknown) {
		t.Errorf("a commit to a server that stopped: %v, want ErrUnavailable and ErrCommitUnknown", err)
	}
	t.Log(err)
	start := time.Now()
	err = e.View(func(tx store.Tx) error { return nil })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("a View of a server that stopped: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the View failed after %v", d)
	}
	t.Log(err)
}

// TestEtcdCompact: after Compact, a value deleted is in no revision etcd
// serves and not in its database file.
func TestEtcdCompact(t *testing.T) {
	s := etcdtest.Start(t)
	e := openEtcd(t, s.Client, store.EtcdOptions{})
	secret := []byte(fmt.Sprintf("DESTROYED-%d-", time.Now().UnixNano()))
	secret = append(secret, bytes.Repeat([]byte("s"), 4096)...)
	if err := e.Update(func(tx store.Tx) error {
		b, err := tx.CreateBucket([]byte("records"))
		if err != nil {
			return err
		}
		return b.Put([]byte("r1"), secret)
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.Update(func(tx store.Tx) error { return tx.Bucket([]byte("records")).Delete([]byte("r1")) }); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(s.Dir, "member", "snap", "db")
	inDB := func() bool {
		b, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Contains(b, secret[:40])
	}
	// The backend commits its writes every 100 ms.
	for deadline := time.Now().Add(5 * time.Second); !inDB(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the value never reached the database file")
		}
	}
	if err := e.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if inDB() {
		t.Error("the deleted value is in the database file after Compact")
	}
	resp, err := s.Client.Get(context.Background(), "x", clientv3.WithRev(2))
	if err == nil {
		t.Errorf("revision 2 is still served after Compact: %v", resp)
	}
	if err := e.View(func(tx store.Tx) error {
		if tx.Bucket([]byte("records")) == nil {
			t.Error("the bucket is gone after Compact")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestEtcdStreamsEnd: cursors left in the middle of a bucket leave nothing
// running when their transactions end.
func TestEtcdStreamsEnd(t *testing.T) {
	cli := etcdtest.StartEtcd(t)
	e := openEtcd(t, cli, store.EtcdOptions{})
	for start := 0; start < 2000; start += 100 {
		if err := e.Update(func(tx store.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			for i := start; i < start+100; i++ {
				if err := b.Put(fmt.Appendf(nil, "%05d", i), make([]byte, 100)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	walk := func() {
		if err := e.View(func(tx store.Tx) error {
			c := tx.Bucket([]byte("b")).Cursor()
			k, _ := c.First()
			for range 50 {
				k, _ = c.Next()
			}
			if string(k) != "00050" {
				t.Errorf("at %q", k)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	walk()
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	for range 100 {
		walk()
	}
	var after int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if after = runtime.NumGoroutine(); after <= before+5 {
			return
		}
	}
	t.Errorf("%d goroutines before 100 walks left in the middle, %d after", before, after)
}

// countingKV counts the reads the engine asks of etcd.
type countingKV struct {
	clientv3.KV
	n atomic.Int64
	// txns counts etcd transactions (commits and PrefetchKeys' reads).
	txns atomic.Int64
}

func (c *countingKV) Txn(ctx context.Context) clientv3.Txn {
	c.txns.Add(1)
	return c.KV.Txn(ctx)
}

func (c *countingKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	c.n.Add(1)
	return c.KV.Get(ctx, key, opts...)
}

func (c *countingKV) GetStream(ctx context.Context, key string, opts ...clientv3.OpOption) (clientv3.GetStreamChan, error) {
	c.n.Add(1)
	return c.KV.GetStream(ctx, key, opts...)
}

// TestEtcdRequests: a transaction reads the bucket markers once, a key
// once, and a prefetched range once.
func TestEtcdRequests(t *testing.T) {
	cli := etcdtest.Start(t).NewClient(t, "", "")
	kv := &countingKV{KV: cli.KV}
	cli.KV = kv
	e := openEtcd(t, cli, store.EtcdOptions{})
	if err := e.Update(func(tx store.Tx) error {
		for _, name := range []string{"a", "b"} {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for i := range 10 {
				if err := b.Put(fmt.Appendf(nil, "k%d", i*2), []byte("v")); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	asked := func(what string, want int64, fn func()) {
		t.Helper()
		before := kv.n.Load()
		fn()
		if n := kv.n.Load() - before; n != want {
			t.Errorf("%s: %d requests, want %d", what, n, want)
		}
	}
	prefetcher := func(b store.Bucket) interface{ Prefetch(from, to []byte) error } {
		return b.(interface{ Prefetch(from, to []byte) error })
	}
	asked("a View", 5, func() { // the markers, and the reads below
		if err := e.View(func(tx store.Tx) error {
			a, b := tx.Bucket([]byte("a")), tx.Bucket([]byte("b"))
			asked("buckets looked up again", 0, func() { tx.Bucket([]byte("a")); tx.Bucket([]byte("none")) })
			asked("a key read twice", 1, func() { a.Get([]byte("k2")); a.Get([]byte("k2")) })
			asked("a missing key read twice", 1, func() { a.Get([]byte("k1")); a.Get([]byte("k1")) })
			asked("a prefetch", 1, func() {
				if err := prefetcher(b).Prefetch([]byte("k10"), []byte("k16")); err != nil {
					t.Fatal(err)
				}
			})
			asked("keys in the prefetched range", 0, func() {
				for _, k := range []string{"k10", "k11", "k12", "k14", "k15", "k155"} {
					want := k == "k10" || k == "k12" || k == "k14"
					if v := b.Get([]byte(k)); (v != nil) != want {
						t.Errorf("%s = %q after a prefetch", k, v)
					}
				}
			})
			asked("a key past the prefetched range", 1, func() { b.Get([]byte("k16")) })
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	asked("an Update that reads what it wrote", 2, func() { // the markers, and the prefetch
		if err := e.Update(func(tx store.Tx) error {
			b := tx.Bucket([]byte("a"))
			if err := b.Put([]byte("new"), []byte("x")); err != nil {
				return err
			}
			if v := b.Get([]byte("new")); string(v) != "x" {
				t.Errorf("new = %q", v)
			}
			return prefetcher(b).Prefetch([]byte("z"), nil)
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestEtcdPrefetchKeys: PrefetchKeys reads keys spread over a bucket, there
// or not, in one etcd transaction per MaxTxnOps of them (16 here), at the snapshot's
// revision; what it read is not asked again, and a key the transaction
// wrote is not read.
func TestEtcdPrefetchKeys(t *testing.T) {
	cli := etcdtest.Start(t).NewClient(t, "", "")
	kv := &countingKV{KV: cli.KV}
	cli.KV = kv
	e := openEtcd(t, cli, store.EtcdOptions{MaxTxnOps: 16})
	put := func(keys ...string) {
		t.Helper()
		if err := e.Update(func(tx store.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("a"))
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := b.Put([]byte(k), []byte("v"+k)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var keys [][]byte
	var there []string
	for i := range 20 {
		keys = append(keys, fmt.Appendf(nil, "k%02d", i))
		if i%3 == 0 {
			there = append(there, string(keys[i]))
		}
	}
	put(there...)
	err := e.Update(func(tx store.Tx) error {
		b := tx.Bucket([]byte("a"))
		// Written after the snapshot, by another Update: not seen.
		if err := e.Update(func(tx store.Tx) error { return tx.Bucket([]byte("a")).Put([]byte("k01"), []byte("late")) }); err != nil {
			return err
		}
		if err := b.Put([]byte("k02"), []byte("mine")); err != nil {
			return err
		}
		reads, txns := kv.n.Load(), kv.txns.Load()
		if err := b.(store.KeyPrefetcher).PrefetchKeys(keys); err != nil {
			return err
		}
		// 19 keys to read (k02 is written), 16 a request.
		if n := kv.txns.Load() - txns; n != 2 {
			t.Errorf("PrefetchKeys of 19 keys, 16 a transaction: %d transactions", n)
		}
		if err := b.(store.KeyPrefetcher).PrefetchKeys(keys[:5]); err != nil {
			return err
		}
		for i, k := range keys {
			want := ""
			switch {
			case i == 2:
				want = "mine"
			case i%3 == 0:
				want = "v" + string(k)
			}
			if got := b.Get(k); string(got) != want || (got == nil) != (want == "") {
				t.Errorf("%s = %q after PrefetchKeys, want %q", k, got, want)
			}
		}
		if n := kv.n.Load() - reads; n != 0 {
			t.Errorf("%d reads after PrefetchKeys", n)
		}
		if n := kv.txns.Load() - txns; n != 2 {
			t.Errorf("%d transactions in all, want 2", n)
		}
		return errors.New("rolled back")
	})
	if err == nil || err.Error() != "rolled back" {
		t.Fatal(err)
	}
}

// TestEtcdInsert: Insert puts a key without reading it; the commit is
// refused with ErrKeyExists, writing nothing, if the key is there, and
// Insert refuses at once a key the transaction knows is there.
func TestEtcdInsert(t *testing.T) {
	cli := etcdtest.Start(t).NewClient(t, "", "")
	kv := &countingKV{KV: cli.KV}
	cli.KV = kv
	e := openEtcd(t, cli, store.EtcdOptions{})
	if err := e.Update(func(tx store.Tx) error {
		b, err := tx.CreateBucket([]byte("a"))
		if err != nil {
			return err
		}
		return b.Put([]byte("there"), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	insert := func(fn func(b store.Bucket) error) error {
		return e.Update(func(tx store.Tx) error { return fn(tx.Bucket([]byte("a"))) })
	}
	get := func(key string) []byte {
		var v []byte
		if err := e.View(func(tx store.Tx) error { v = bytes.Clone(tx.Bucket([]byte("a")).Get([]byte(key))); return nil }); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := kv.n.Load()
	err := insert(func(b store.Bucket) error {
		for _, k := range []string{"new1", "new2"} {
			if err := b.(store.Inserter).Insert([]byte(k), []byte("n")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := kv.n.Load() - before; n != 1 { // the markers
		t.Errorf("an Update of two inserts read %d times, want 1", n)
	}
	if string(get("new1")) != "n" || string(get("new2")) != "n" {
		t.Errorf("inserted keys: %q, %q", get("new1"), get("new2"))
	}
	err = insert(func(b store.Bucket) error {
		if err := b.Put([]byte("other"), []byte("o")); err != nil {
			return err
		}
		return b.(store.Inserter).Insert([]byte("there"), []byte("x"))
	})
	if !errors.Is(err, store.ErrKeyExists) {
		t.Errorf("insert of a key that is there: %v, want ErrKeyExists", err)
	}
	if get("other") != nil || string(get("there")) != "v" {
		t.Errorf("a refused insert wrote: other = %q, there = %q", get("other"), get("there"))
	}
	err = insert(func(b store.Bucket) error {
		b.Get([]byte("there"))
		return b.(store.Inserter).Insert([]byte("there"), []byte("x"))
	})
	if !errors.Is(err, store.ErrKeyExists) {
		t.Errorf("insert of a key read: %v, want ErrKeyExists", err)
	}
	// Deleted, then inserted again, in one transaction.
	err = insert(func(b store.Bucket) error {
		if err := b.Delete([]byte("there")); err != nil {
			return err
		}
		return b.(store.Inserter).Insert([]byte("there"), []byte("again"))
	})
	if err != nil || string(get("there")) != "again" {
		t.Errorf("delete and insert: %v, there = %q", err, get("there"))
	}
	// Another writer commits first: the function runs again, and the key
	// it wrote in the meantime is seen.
	runs := 0
	err = insert(func(b store.Bucket) error {
		if runs++; runs == 1 {
			if err := insert(func(b store.Bucket) error { return b.Put([]byte("raced"), []byte("r")) }); err != nil {
				return err
			}
		}
		return b.(store.Inserter).Insert([]byte("raced"), []byte("x"))
	})
	if !errors.Is(err, store.ErrKeyExists) || runs != 2 || string(get("raced")) != "r" {
		t.Errorf("insert after a conflict: %v after %d runs, raced = %q", err, runs, get("raced"))
	}
}
