package vault

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestEtcdRequests: on etcd, where each read is a request, a bulk add into
// a new vault reads the ranges it publishes whole, not one or two keys a
// record (prefetchPublish), and a View asks a handful of things, not one
// for each shard of the shares after the record's (prefixCursor). It runs
// on a server of its own, whatever the engine of the other tests.
func TestEtcdRequests(t *testing.T) {
	v, kv := countedEtcdVault(t, consent.Policy{}, testClock)
	const n = 2000
	recs, _ := benchRecords(0, n)
	before := kv.all()
	ids, err := v.Add(context.Background(), source(recs), AddOptions{BatchSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	// Four batches of 500: the stage, the markers, the state, the slots'
	// ranges of three buckets and the published ranges of two, each.
	if got := kv.all() - before; got > 60 {
		t.Errorf("an add of %d records: %d requests, want at most 60", n, got)
	}
	for _, ref := range []string{ids[n/2].String(), recs[n/2].Name} {
		before := kv.all()
		if _, err := v.View(ref); err != nil {
			t.Fatal(err)
		}
		if got := kv.all() - before; got > 12 {
			t.Errorf("a view by %q: %d requests, want at most 12", ref, got)
		}
	}
}

// TestEtcdExpireRequests: on etcd, Expire reads the due entries, their ID
// mappings and the old values of what it deletes a few requests at a time
// (store.KeyPrefetcher), and walks each bucket of what records keep under
// their IDs once, not two prefixes a record.
func TestEtcdExpireRequests(t *testing.T) {
	now := func() time.Time { return time.Date(2015, 3, 1, 10, 0, 0, 0, time.UTC) }
	v, kv := countedEtcdVault(t, consent.Policy{Years: 3}, now)
	const n, dueEvery = 2000, 10
	addExpireRecords(t, v, n, dueEvery)
	before := kv.all()
	rep, err := v.Expire(ExpireOptions{})
	if err != nil || len(rep.Expired) != n/dueEvery {
		t.Fatalf("expire: %v, %d expired", err, len(rep.Expired))
	}
	// About 15 requests a due record before (3,068 here); 29 now: the
	// scan, the reads of the due entries, their mappings and of what goes,
	// one walk of each bucket kept under IDs (its shards checked from it),
	// the deletes' transactions and the purge.
	if got := kv.all() - before; got > 60 {
		t.Errorf("an expire of %d of %d records: %d requests, want at most 60", n/dueEvery, n, got)
	}
}

// TestEtcdStagedAddDefaultLimits: a staged add on a server with etcd's
// default limits (128 operations a request) writes its batches, larger once
// the vault is past eagerPublish, and publishes the rest in parts cut to
// the limits (publishEnds): every record is there and found, and the vault
// verifies.
func TestEtcdStagedAddDefaultLimits(t *testing.T) {
	defer func(n uint64) { eagerPublish = n }(eagerPublish)
	eagerPublish = 100
	s := etcdtest.Start(t)
	cli := s.NewClient(t, "", "")
	e, err := store.NewEtcd(cli, "v/", store.EtcdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := age.GenerateX25519Identity()
	if err := CreateIn(e, "etcd", CreateOptions{Owner: []age.Recipient{owner.Recipient()}, Now: testClock}); err != nil {
		t.Fatal(err)
	}
	v, err := OpenEngine(e, "etcd", Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock(owner); err != nil {
		t.Fatal(err)
	}
	const n = 700
	recs, _ := benchRecords(0, n)
	ids, err := v.Add(context.Background(), source(recs), AddOptions{})
	if err != nil || len(ids) != n {
		t.Fatalf("add: %v, %d records", err, len(ids))
	}
	for _, i := range []int{0, n / 2, n - 1} {
		for _, ref := range []string{ids[i].String(), recs[i].Name} {
			if s, err := v.View(ref); err != nil || s.Record == nil {
				t.Errorf("view of record %d by %s: %v", i, ref[:2], err)
			}
		}
	}
	rep, err := v.Verify()
	if err != nil || !rep.OK() || rep.Records != n {
		t.Fatalf("verify: %v, %d records, problems %v", err, rep.Records, rep.Problems)
	}
}

// countedEtcdVault returns a new vault, unlocked, on an etcd server of its
// own, whose requests kv counts.
func countedEtcdVault(t *testing.T, retention consent.Policy, now func() time.Time) (*Vault, *countKV) {
	t.Helper()
	s := etcdtest.Start(t, etcdtest.MaxTxnOps(testMaxOps), etcdtest.MaxRequestBytes(testMaxBytes))
	cli := s.NewClient(t, "", "")
	kv := &countKV{KV: cli.KV}
	cli.KV = kv
	e, err := store.NewEtcd(cli, "v/", store.EtcdOptions{MaxTxnOps: testMaxOps, MaxRequestBytes: testMaxBytes})
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := age.GenerateX25519Identity()
	if err := CreateIn(e, "etcd", CreateOptions{Owner: []age.Recipient{owner.Recipient()}, Retention: retention, Now: now}); err != nil {
		t.Fatal(err)
	}
	v, err := OpenEngine(e, "etcd", Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.Unlock(owner); err != nil {
		t.Fatal(err)
	}
	return v, kv
}

// countKV counts the requests the etcd engine makes of its client: reads
// (Get, GetStream) and transactions (its commits).
type countKV struct {
	clientv3.KV
	reads, txns atomic.Int64
}

func (c *countKV) all() int64 { return c.reads.Load() + c.txns.Load() }

func (c *countKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	c.reads.Add(1)
	return c.KV.Get(ctx, key, opts...)
}

func (c *countKV) GetStream(ctx context.Context, key string, opts ...clientv3.OpOption) (clientv3.GetStreamChan, error) {
	c.reads.Add(1)
	return c.KV.GetStream(ctx, key, opts...)
}

func (c *countKV) Txn(ctx context.Context) clientv3.Txn {
	c.txns.Add(1)
	return c.KV.Txn(ctx)
}
