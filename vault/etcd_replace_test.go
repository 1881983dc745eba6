package vault

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestEtcdRestoreInOneStep: on etcd, a restore writes the restored vault
// aside and puts it in place in one commit. Another computer reading while
// it is written sees the vault as it was, whole, and the restored one after;
// a change another computer commits meanwhile makes the restore fail with
// ErrBusy, and is kept, with nothing of the restore left on etcd.
func TestEtcdRestoreInOneStep(t *testing.T) {
	s := etcdtest.Start(t)
	cli := s.Client
	o := store.EtcdOptions{}
	owner := createOnEtcd(t, cli, o)
	v := openOnEtcd(t, cli, owner, o, Options{})
	ctx := context.Background()
	add := func(v *Vault, n int) {
		t.Helper()
		if _, err := v.Add(ctx, sliceSource([]*records.Record{fakeRecord(n)}), AddOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	add(v, 1)
	add(v, 2)
	bk := filepath.Join(t.TempDir(), "backup.db")
	if _, err := v.Backup(bk, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	add(v, 3)

	other := openOnEtcd(t, cli, owner, o, Options{})
	var during int
	v.hooks.step = func(step string) error {
		if step == "publish" {
			during, _ = verified(t, other)
		}
		return nil
	}
	if _, err := v.Restore(bk, RestoreOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if during != 3 {
		t.Errorf("another computer read %d records while the restore was written, want the 3 of the vault as it was", during)
	}
	if n, _ := verified(t, other); n != 2 {
		t.Errorf("another computer reads %d records after the restore, want the backup's 2", n)
	}

	// A change on another computer while the restore is written.
	add(v, 4)
	v.hooks.step = func(step string) error {
		if step == "publish" {
			add(other, 5)
		}
		return nil
	}
	if _, err := v.Restore(bk, RestoreOptions{Force: true}); !errors.Is(err, ErrBusy) {
		t.Fatalf("a restore with a change made meanwhile: %v, want ErrBusy", err)
	}
	v.hooks.step = nil
	if n, _ := verified(t, v); n != 4 {
		t.Errorf("after the refused restore: %d records, want 4 (the change kept)", n)
	}
	// Every key is of one generation, the vault's: "k/" + G + "/...".
	resp, err := cli.Get(ctx, etcdTestPrefix+"k/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	gens := map[string]int{}
	for _, kv := range resp.Kvs {
		rest := strings.TrimPrefix(string(kv.Key), etcdTestPrefix+"k/")
		gens[rest[:strings.IndexByte(rest, '/')]]++
	}
	if len(gens) != 1 || len(resp.Kvs) == 0 {
		t.Errorf("etcd holds the keys of %d generations of the vault (%v): the refused restore's are still there", len(gens), gens)
	}
}
