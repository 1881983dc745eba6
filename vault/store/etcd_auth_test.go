package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestEtcdMembers: a member made by AddMember, connecting with a client
// certificate whose CN is their user name, reads what they were granted
// and nothing else, writes only where they may, lists their own grants,
// loses a revoked key, and is refused once removed; managing members takes
// etcd's root role.
func TestEtcdMembers(t *testing.T) {
	ca := etcdtest.NewCA(t)
	s := etcdtest.Start(t, etcdtest.ClientCertAuth(ca))
	ctx := context.Background()
	owner, err := store.NewEtcd(s.Client, "salon/", store.EtcdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Update(func(tx store.Tx) error {
		for _, name := range []string{"shares", "records", "audit"} {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for _, k := range []string{"1ann", "2ann", "1bob"} {
				if err := b.Put([]byte(k), []byte(name+" "+k)); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.UserAddWithOptions(ctx, "root", "", &clientv3.UserAddOptions{NoPassword: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if on, err := owner.Enforced(); err != nil || on {
		t.Fatalf("Enforced before auth enable: %v, %v", on, err)
	}
	if _, err := s.Client.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	if on, err := owner.Enforced(); err != nil || !on {
		t.Fatalf("Enforced: %v, %v", on, err)
	}
	share := func(k string) store.Grant { return store.Grant{Bucket: []byte("shares"), Key: []byte(k)} }
	audit := store.Grant{Bucket: []byte("audit"), Key: []byte("ann/"), Prefix: true, Write: true}
	if err := owner.AddMember("Ann Lee", share("1ann"), share("2ann"), audit); err != nil {
		t.Fatal(err)
	}
	user := owner.MemberUser("Ann Lee")
	if user == owner.MemberUser("Bob") || user == owner.MemberUser("ann-lee") {
		t.Fatalf("member users collide: %s", user)
	}
	t.Logf("Ann Lee's etcd user: %s", user)
	annCli := s.NewCertClient(t, user)
	ann, err := store.NewEtcd(annCli, "salon/", store.EtcdOptions{User: user})
	if err != nil {
		t.Fatal(err)
	}
	grants, restricted, err := ann.OwnGrants()
	if err != nil || !restricted || len(grants) != 3 {
		t.Fatalf("Ann's grants: %+v, %v, %v", grants, restricted, err)
	}
	if g := grants[0]; string(g.Bucket) != "audit" || string(g.Key) != "ann/" || !g.Prefix || !g.Write {
		t.Errorf("Ann's first grant: %+v", g)
	}
	if err := ann.View(func(tx store.Tx) error {
		if v := tx.Bucket([]byte("shares")).Get([]byte("2ann")); string(v) != "shares 2ann" {
			t.Errorf("2ann: %q", v)
		}
		return nil
	}); err != nil {
		t.Errorf("Ann's Get of her share: %v", err)
	}
	if err := ann.Update(func(tx store.Tx) error {
		return tx.Bucket([]byte("audit")).Put([]byte("ann/9"), []byte("viewed"))
	}); err != nil {
		t.Errorf("Ann's audit: %v", err)
	}
	// etcd's own refusals, on the raw keys.
	for what, key := range map[string]string{
		"Bob's share": "1bob", "a record": "\x07records1ann",
	} {
		if what == "Bob's share" {
			start, _ := owner.KeyRange([]byte("shares"), []byte(key))
			key = start
		} else {
			key = "salon/k/" + key
		}
		_, err := annCli.Get(ctx, key)
		if !errors.Is(err, rpctypes.ErrPermissionDenied) {
			t.Errorf("Ann's Get of %s: %v, want etcd's permission denied", what, err)
		}
	}
	start, end := owner.KeyRange([]byte("shares"), nil)
	if _, err := annCli.Get(ctx, start, clientv3.WithRange(end)); !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Errorf("Ann's range over the shares: %v", err)
	}
	if err := ann.Update(func(tx store.Tx) error {
		return tx.Bucket([]byte("audit")).Put([]byte("bob/1"), []byte("forged"))
	}); !errors.Is(err, store.ErrAccessDenied) {
		t.Errorf("Ann's write in Bob's audit: %v", err)
	}
	if err := ann.AddMember("Eve"); !errors.Is(err, store.ErrAccessAdmin) || !errors.Is(err, store.ErrAccessDenied) {
		t.Errorf("Ann making a member: %v, want ErrAccessAdmin", err)
	}
	if err := owner.RevokeMember("Ann Lee", share("2ann"), share("1bob")); err != nil {
		t.Fatal(err)
	}
	start, _ = owner.KeyRange([]byte("shares"), []byte("2ann"))
	if _, err := annCli.Get(ctx, start); !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Errorf("Ann's Get of a revoked share: %v", err)
	}
	if err := owner.RemoveMember("Ann Lee"); err != nil {
		t.Fatal(err)
	}
	if err := owner.RemoveMember("Ann Lee"); err != nil {
		t.Errorf("removing again: %v", err)
	}
	if err := owner.GrantMember("Ann Lee", share("1ann")); !errors.Is(err, store.ErrNoMember) {
		t.Errorf("granting to a removed member: %v", err)
	}
	start, _ = owner.KeyRange([]byte("shares"), []byte("1ann"))
	_, err = annCli.Get(ctx, start)
	if err == nil {
		t.Errorf("a removed member's Get: no error")
	}
	t.Logf("a removed member's Get: %v", err)
	if _, err := s.Client.UserGet(ctx, user); !errors.Is(err, rpctypes.ErrUserNotFound) {
		t.Errorf("the removed member's user: %v", err)
	}
}
