package vault

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// onOwnEtcd puts the test's vaults on an etcd server of its own (whatever
// CLIENTVAULT_TEST_ENGINE says), for a test of what only etcd does.
func onOwnEtcd(t *testing.T) *clientv3.Client {
	t.Helper()
	cli := etcdtest.StartEtcd(t)
	saved := pathEngine
	t.Cleanup(func() { pathEngine = saved })
	pathEngine = func(path string) store.Engine {
		e, err := store.NewEtcd(cli, pathPrefix(path), store.EtcdOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	return cli
}

// TestSharesLapseOnEtcd: on etcd a share with an end is gone from the
// engine at its time, with no command run: the coworker cannot read it any
// more, and the owner's next command takes it out of the state root (the
// vault verifies) and logs the lapse. A share deleted by hand before its
// time is still tampering.
func TestSharesLapseOnEtcd(t *testing.T) {
	onOwnEtcd(t)
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	f.consent(t, f.john, "Bea")
	today := records.DateOf(f.clk.now())
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{Until: today}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Share(f.john.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	janeShare := shareKeyOf(f.jane, "Bea")
	present := func() bool {
		var ok bool
		rawEngine(t, f.path, true, func(tx store.Tx) error {
			ok = tx.Bucket(bucketShares).Get(janeShare) != nil
			return nil
		})
		return ok
	}
	if !present() {
		t.Fatal("the share is not in etcd")
	}
	// The lease is of the vault's clock's end of today, long past in real
	// time: one second. Nobody runs a command meanwhile.
	deadline := time.Now().Add(15 * time.Second)
	for present() {
		if time.Now().After(deadline) {
			t.Fatal("etcd did not delete the share at its time")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The next day: the coworker reads John's share, not Jane's.
	f.clk.t = f.clk.t.Add(24 * time.Hour)
	bv := f.asStaff(t, f.bea)
	if _, err := bv.View(f.john.String()); err != nil {
		t.Fatalf("coworker's view of the share that stands: %v", err)
	}
	if _, err := bv.View(f.jane.String()); err == nil {
		t.Fatal("the coworker read a share that lapsed")
	}
	// The owner's next command folds the lapse in; the vault verifies.
	f.reopenOwner(t)
	rep, err := f.v.Verify()
	if err != nil || !rep.OK() {
		t.Fatalf("verify after a share lapsed on etcd: %+v, %v", rep, err)
	}
	if _, err := f.v.Share(f.john.String(), "Bea", ShareOptions{Until: records.DateOf(f.clk.now().AddDate(0, 0, 30))}); err != nil {
		t.Fatal(err)
	}
	events, err := f.v.Audit(AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	lapses := 0
	for _, e := range events {
		if e.Record == f.jane.String() && e.Action == ActionUnshare {
			lapses++
		}
	}
	if lapses != 1 {
		t.Errorf("%d unshare events for the lapsed share, want 1", lapses)
	}
	// John's share now ends in 30 days: deleted by hand today, it is
	// tampering, not a lapse.
	f.v.Close()
	f.v = nil
	if err := rawEngine(t, f.path, false, func(tx store.Tx) error {
		return tx.Bucket(bucketShares).Delete(shareKeyOf(f.john, "Bea"))
	}); err != nil {
		t.Fatal(err)
	}
	v, err := Open(f.path, Options{Now: f.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock(f.owner); err != nil && !errors.Is(err, ErrTampered) {
		t.Fatal(err)
	}
	if rep, err := v.Verify(); err != nil || rep.OK() {
		t.Fatalf("a share deleted before its time: verify = %+v, %v; want a problem", rep, err)
	}
}

// TestRestoreKeepsSharesLapsing: on etcd, a restore (and so a rotation,
// which puts its vault in place the same way) puts a share that lapses by
// itself back with a lease of its time, as share put it.
func TestRestoreKeepsSharesLapsing(t *testing.T) {
	cli := onOwnEtcd(t)
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	f.consent(t, f.john, "Bea")
	until := records.DateOf(time.Now().AddDate(0, 0, 20))
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{Until: until}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Share(f.john.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	bk := filepath.Join(t.TempDir(), "backup.db")
	if _, err := f.v.Backup(bk, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Restore(bk, RestoreOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	lease := func(id ID) clientv3.LeaseID {
		t.Helper()
		e := pathEngine(f.path).(*store.Etcd)
		if err := e.View(func(store.Tx) error { return nil }); err != nil { // which generation
			t.Fatal(err)
		}
		key, _ := e.KeyRange(bucketShares, shareKeyOf(id, "Bea"))
		resp, err := cli.Get(context.Background(), key)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("the share of %s after the restore: %v, %d keys", id, err, len(resp.Kvs))
		}
		return clientv3.LeaseID(resp.Kvs[0].Lease)
	}
	l := lease(f.jane)
	if l == 0 {
		t.Fatal("a share that lapses has no lease after the restore")
	}
	ttl, err := cli.TimeToLive(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Duration(ttl.TTL) * time.Second; left < 19*24*time.Hour || left > 22*24*time.Hour {
		t.Errorf("the share's lease has %v left, want the time to the end of %v", left, until)
	}
	if lease(f.john) != 0 {
		t.Error("a share without an end has a lease after the restore")
	}
}
