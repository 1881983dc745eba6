package vault

import (
	"context"
	"crypto/ed25519"
	"errors"
	"slices"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// salon is a vault on an etcd that authenticates its clients by their
// certificates, with authentication on: the owner is etcd's root user,
// each coworker the user that staff add made for them.
type salon struct {
	s      *etcdtest.Server
	clk    *clock
	owner  *age.X25519Identity
	v      *Vault
	eng    *store.Etcd
	ownerK ed25519.PublicKey
}

const salonPrefix = "/salon/"

// newSalon starts the cluster, turns its authentication on with a root
// user of certificates alone, and makes the owner's vault.
func newSalon(t *testing.T) *salon {
	t.Helper()
	ca := etcdtest.NewCA(t)
	s := etcdtest.Start(t, etcdtest.ClientCertAuth(ca))
	ctx := context.Background()
	if _, err := s.Client.UserAddWithOptions(ctx, "root", "", &clientv3.UserAddOptions{NoPassword: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	sl := &salon{s: s, clk: &clock{time.Now().UTC().Truncate(time.Second)}}
	var err error
	if sl.owner, err = age.GenerateX25519Identity(); err != nil {
		t.Fatal(err)
	}
	if sl.eng, err = store.NewEtcd(s.Client, salonPrefix, store.EtcdOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := CreateIn(sl.eng, "salon", CreateOptions{Owner: []age.Recipient{sl.owner.Recipient()}, Now: sl.clk.now}); err != nil {
		t.Fatal(err)
	}
	if sl.v, err = OpenEngine(sl.eng, "salon", Options{Now: sl.clk.now}); err != nil {
		t.Fatal(err)
	}
	if err := sl.v.Unlock(sl.owner); err != nil {
		t.Fatal(err)
	}
	k, err := sl.v.OwnerKey()
	if err != nil {
		t.Fatal(err)
	}
	if sl.ownerK, err = ParseOwnerKey(k); err != nil {
		t.Fatal(err)
	}
	return sl
}

// coworker connects as the etcd user of the certificate cn, and unlocks the
// vault with id.
func (sl *salon) coworker(t *testing.T, cn string, id age.Identity) (*Vault, *clientv3.Client) {
	t.Helper()
	cli := sl.s.NewCertClient(t, cn)
	e, err := store.NewEtcd(cli, salonPrefix, store.EtcdOptions{User: cn})
	if err != nil {
		t.Fatal(err)
	}
	v, err := OpenEngine(e, "salon", Options{Now: sl.clk.now, OwnerKey: sl.ownerK})
	if err != nil {
		t.Fatalf("a coworker's open: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.Unlock(id); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("a coworker's Unlock: %v, want ErrWrongKey", err)
	}
	if err := v.UnlockAsStaff(id); err != nil {
		t.Fatalf("a coworker's UnlockAsStaff: %v", err)
	}
	return v, cli
}

// key is the etcd key of key in bucket.
func (sl *salon) key(bucket, key []byte) string {
	start, _ := sl.eng.KeyRange(bucket, key)
	return start
}

// slotOf is the records bucket's key of record id's entry.
func (sl *salon) slotOf(t *testing.T, id ID) []byte {
	var slot []byte
	if err := sl.eng.View(func(tx store.Tx) error {
		slot = clone(tx.Bucket(bucketIDs).Get(id[:]))
		return nil
	}); err != nil || slot == nil {
		t.Fatalf("the slot of %s: %v", id, err)
	}
	return slot
}

func denied(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Errorf("%s: %v, want etcd's permission denied", what, err)
	}
}

// TestEtcdCoworkerReadsOnlyTheirShares: on etcd with client certificates
// and authentication on, a coworker's certificate reads, through the vault,
// the records shared with them (view, find, list, note), and etcd itself
// refuses it everything else: another record's entry, a share made for
// another coworker, a record not shared, a walk of the shares, a write
// outside their own audit keys. Unsharing, a withdrawn consent and an
// erasure take the grant back, and staff remove deletes the user.
func TestEtcdCoworkerReadsOnlyTheirShares(t *testing.T) {
	sl := newSalon(t)
	v := sl.v
	recs := []*records.Record{
		{Name: janeName, Phone: janePhone, DOB: records.Date{Year: 1990, Month: 4, Day: 2}},
		{Name: "John Roe", Phone: "+1 555 0199"},
		{Name: "Ann Poe", Phone: "+1 555 0142"},
		{Name: "Ron Moe", Phone: "+1 555 0143"},
	}
	ids, err := v.Add(context.Background(), sliceNext(recs), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jane, john, ann, ron := ids[0], ids[1], ids[2], ids[3]
	bea, _ := age.GenerateX25519Identity()
	cy, _ := age.GenerateX25519Identity()
	beaStaff, err := v.StaffAdd("Bea", bea.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if beaStaff.EngineUser == "" || beaStaff.Unenforced {
		t.Fatalf("staff add on etcd with authentication on: %+v", beaStaff)
	}
	cyStaff, err := v.StaffAdd("Cy", cy.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	consents := map[string]string{}
	for _, s := range []struct {
		id  ID
		who string
	}{{jane, "Bea"}, {ann, "Bea"}, {john, "Cy"}} {
		c, err := v.ConsentAdd(s.id.String(), validConsent(s.who))
		if err != nil {
			t.Fatal(err)
		}
		consents[s.id.String()] = c.ID
		if _, err := v.Share(s.id.String(), s.who, ShareOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	bv, beaCli := sl.coworker(t, beaStaff.EngineUser, bea)
	if got, err := bv.View(jane.String()); err != nil || got.Name != janeName {
		t.Fatalf("Bea's view of Jane by ID: %v", err)
	}
	if got, err := bv.View(jane.String()[:6]); err != nil || got.ID != jane.String() {
		t.Fatalf("Bea's view of Jane by an ID prefix: %v", err)
	}
	if got, err := bv.View("ann poe"); err != nil || got.ID != ann.String() {
		t.Fatalf("Bea's view of Ann by name: %v", err)
	}
	if _, err := bv.View(john.String()); !errors.Is(err, ErrNotShared) {
		t.Errorf("Bea's view of John: %v, want ErrNotShared", err)
	}
	found, err := bv.Find("jane")
	if err != nil || len(found) != 1 || found[0].ID != jane.String() {
		t.Errorf("Bea's find: %+v, %v", found, err)
	}
	list, err := bv.ListClients(ListOptions{})
	if err != nil || list.Len() != 2 {
		t.Errorf("Bea's list: %+v, %v", list, err)
	}
	if _, err := bv.Note(jane.String(), records.Treatment{Date: records.DateOf(sl.clk.now()), Service: "brow tint"}); err != nil {
		t.Errorf("Bea's note: %v", err)
	}

	// etcd's own refusals, of Bea's certificate, on the raw keys.
	ctx := context.Background()
	get := func(key string, opts ...clientv3.OpOption) error {
		_, err := beaCli.Get(ctx, key, opts...)
		return err
	}
	denied(t, "the entry of a record shared with another", get(sl.key(bucketRecords, sl.slotOf(t, john))))
	denied(t, "the entry of a record shared with her", get(sl.key(bucketRecords, sl.slotOf(t, jane))))
	denied(t, "the entry of a record not shared", get(sl.key(bucketRecords, sl.slotOf(t, ron))))
	denied(t, "the ids of a record not shared", get(sl.key(bucketIDs, ron[:])))
	denied(t, "a share made for Cy", get(sl.key(bucketShares, shareKeyOf(john, "Cy"))))
	denied(t, "Cy's staff entry", get(sl.key(bucketStaff, []byte("Cy"))))
	start, end := sl.eng.KeyRange(bucketShares, nil)
	denied(t, "a range over the shares", get(start, clientv3.WithRange(end)))
	start, end = sl.eng.KeyRange(bucketStaffAudit, nil)
	denied(t, "a range over the coworkers' audit", get(start, clientv3.WithRange(end)))
	if err := get(sl.key(bucketShares, shareKeyOf(jane, "Bea"))); err != nil {
		t.Errorf("Bea's Get of her own share: %v", err)
	}
	put := func(key string) error {
		_, err := beaCli.Put(ctx, key, "forged")
		return err
	}
	denied(t, "a write in Cy's audit", put(sl.key(bucketStaffAudit, append(staffAuditPrefix("Cy"), seqKey(9)...))))
	denied(t, "a write of the old audit keys", put(sl.key(bucketStaffAudit, seqKey(9))))
	denied(t, "a write of a share", put(sl.key(bucketShares, shareKeyOf(ron, "Bea"))))
	denied(t, "a write of the audit head", put(sl.key(bucketMeta, keyAuditHead)))
	if err := put(sl.key(bucketStaffAudit, append(staffAuditPrefix("Bea"), seqKey(99)...))); err != nil {
		t.Errorf("Bea's write in her own audit keys: %v", err)
	}

	// Cy reads his share and not Bea's.
	cv, cyCli := sl.coworker(t, cyStaff.EngineUser, cy)
	if _, err := cv.View(john.String()); err != nil {
		t.Errorf("Cy's view of John: %v", err)
	}
	_, err = cyCli.Get(ctx, sl.key(bucketShares, shareKeyOf(jane, "Bea")))
	denied(t, "Cy's Get of Bea's share", err)

	// Taking back: unshare, a withdrawn consent, an erasure.
	if _, err := v.Unshare(jane.String(), "Bea"); err != nil {
		t.Fatal(err)
	}
	denied(t, "Bea's Get of an unshared share", get(sl.key(bucketShares, shareKeyOf(jane, "Bea"))))
	if _, err := bv.View(jane.String()); !errors.Is(err, ErrNotShared) {
		t.Errorf("Bea's view after unshare: %v, want ErrNotShared", err)
	}
	if _, err := v.ConsentRevoke(consents[ann.String()], "Olivia Owner"); err != nil {
		t.Fatal(err)
	}
	denied(t, "Bea's Get of a share whose consent was withdrawn", get(sl.key(bucketShares, shareKeyOf(ann, "Bea"))))
	if _, err := v.Erase(john.String(), EraseOptions{Reason: "the client asked", Force: true}); err != nil {
		t.Fatal(err)
	}
	_, err = cyCli.Get(ctx, sl.key(bucketShares, shareKeyOf(john, "Cy")))
	denied(t, "Cy's Get of the share of an erased record", err)
	grants, restricted, err := cv.access().OwnGrants()
	if err != nil || !restricted || slices.ContainsFunc(grants, func(g store.Grant) bool { return string(g.Bucket) == string(bucketShares) }) {
		t.Errorf("Cy's grants after the erasure: %+v, %v, %v", grants, restricted, err)
	}

	// A share made --until a day lapses after it, and its grant with it.
	if _, err := v.ConsentAdd(ron.String(), validConsent("Bea")); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Share(ron.String(), "Bea", ShareOptions{Until: records.DateOf(sl.clk.now())}); err != nil {
		t.Fatal(err)
	}
	if err := get(sl.key(bucketShares, shareKeyOf(ron, "Bea"))); err != nil {
		t.Errorf("Bea's Get of a share made until today: %v", err)
	}
	sl.clk.t = sl.clk.t.Add(48 * time.Hour)
	if n, err := v.LapseAndFold(); err != nil || n != 1 {
		t.Fatalf("lapse: %d, %v", n, err)
	}
	denied(t, "Bea's Get of a lapsed share", get(sl.key(bucketShares, shareKeyOf(ron, "Bea"))))

	// staff remove deletes the user; her certificate is refused.
	if _, err := v.StaffRemove("Bea"); err != nil {
		t.Fatal(err)
	}
	if _, err := sl.s.Client.UserGet(ctx, beaStaff.EngineUser); !errors.Is(err, rpctypes.ErrUserNotFound) {
		t.Errorf("Bea's etcd user after staff remove: %v", err)
	}
	if err := get(sl.key(bucketMeta, keyHeader)); err == nil {
		t.Errorf("Bea's certificate after staff remove: a Get was answered")
	}
	if _, err := bv.View(ann.String()); err == nil {
		t.Errorf("Bea's view after staff remove: no error")
	}
}

// TestEtcdStaffAddNeedsRoot: an owner whose etcd user may read and write
// the vault's keys but is not etcd's root cannot make a coworker's user:
// staff add fails with ErrAccessAdmin and registers no one. A coworker
// connecting as that user, which staff add did not make, reads their
// shares as on an etcd without roles.
func TestEtcdStaffAddNeedsRoot(t *testing.T) {
	sl := newSalon(t)
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(sl.s.Client.RoleAdd(ctx, "manager"))
	must(sl.s.Client.RoleGrantPermission(ctx, "manager", salonPrefix, clientv3.GetPrefixRangeEnd(salonPrefix), clientv3.PermissionType(clientv3.PermReadWrite)))
	must(sl.s.Client.UserAddWithOptions(ctx, "manager", "", &clientv3.UserAddOptions{NoPassword: true}))
	must(sl.s.Client.UserGrantRole(ctx, "manager", "manager"))
	// A coworker on an etcd user set up by hand, which staff add did not
	// make (it may read the whole prefix): their shares are walked.
	ids, err := sl.v.Add(context.Background(), sliceNext([]*records.Record{{Name: janeName}}), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cy, _ := age.GenerateX25519Identity()
	if _, err := sl.v.StaffAdd("Cy", cy.Recipient()); err != nil {
		t.Fatal(err)
	}
	if _, err := sl.v.ConsentAdd(ids[0].String(), validConsent("Cy")); err != nil {
		t.Fatal(err)
	}
	if _, err := sl.v.Share(ids[0].String(), "Cy", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	cv, _ := sl.coworker(t, "manager", cy)
	if got, err := cv.View(janeName); err != nil || got.ID != ids[0].String() {
		t.Errorf("a coworker on a user set up by hand: %v", err)
	}
	sl.v.Close()
	e, err := store.NewEtcd(sl.s.NewCertClient(t, "manager"), salonPrefix, store.EtcdOptions{User: "manager"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := OpenEngine(e, "salon", Options{Now: sl.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock(sl.owner); err != nil {
		t.Fatal(err)
	}
	bea, _ := age.GenerateX25519Identity()
	_, err = v.StaffAdd("Bea", bea.Recipient())
	if !errors.Is(err, store.ErrAccessAdmin) || !errors.Is(err, store.ErrAccessDenied) {
		t.Fatalf("staff add by a user who is not root: %v, want ErrAccessAdmin", err)
	}
	t.Logf("staff add by a user who is not root: %v", err)
	staff, err := v.StaffList()
	if err != nil || len(staff) != 1 {
		t.Errorf("staff after a refused add: %+v, %v", staff, err)
	}
}

// TestEtcdRestoreRegrants: a restore on etcd puts the vault under new keys
// (a new generation): each coworker of the restored vault is granted its
// keys again and reads what is shared with them, and a coworker removed
// after the backup (the restore applies the removal again) has no etcd
// user left.
func TestEtcdRestoreRegrants(t *testing.T) {
	sl := newSalon(t)
	v := sl.v
	ids, err := v.Add(context.Background(), sliceNext([]*records.Record{
		{Name: janeName, Phone: janePhone}, {Name: "John Roe", Phone: "+1 555 0199"},
	}), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jane, john := ids[0], ids[1]
	bea, _ := age.GenerateX25519Identity()
	cy, _ := age.GenerateX25519Identity()
	beaStaff, err := v.StaffAdd("Bea", bea.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	cyStaff, err := v.StaffAdd("Cy", cy.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		id  ID
		who string
	}{{jane, "Bea"}, {john, "Cy"}} {
		if _, err := v.ConsentAdd(s.id.String(), validConsent(s.who)); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Share(s.id.String(), s.who, ShareOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	bk := t.TempDir() + "/backup.db"
	if _, err := v.Backup(bk, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.StaffRemove("Cy"); err != nil {
		t.Fatal(err)
	}
	before := sl.key(bucketShares, shareKeyOf(jane, "Bea"))
	if _, err := v.Restore(bk, RestoreOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	after := sl.key(bucketShares, shareKeyOf(jane, "Bea"))
	if after == before {
		t.Fatalf("the restored vault's keys are those of the vault it replaced: %q", after)
	}
	bv, beaCli := sl.coworker(t, beaStaff.EngineUser, bea)
	if got, err := bv.View(jane.String()); err != nil || got.Name != janeName {
		t.Errorf("Bea's view of Jane after the restore: %v", err)
	}
	if _, err := beaCli.Get(context.Background(), after); err != nil {
		t.Errorf("Bea's Get of her share after the restore: %v", err)
	}
	_, err = beaCli.Get(context.Background(), sl.key(bucketShares, shareKeyOf(john, "Cy")))
	denied(t, "Bea's Get of a share of Cy's after the restore", err)
	if _, err := sl.s.Client.UserGet(context.Background(), cyStaff.EngineUser); !errors.Is(err, rpctypes.ErrUserNotFound) {
		t.Errorf("the etcd user of a coworker removed after the backup: %v, want not found", err)
	}
}

// TestEtcdMigrateMakesCoworkers: a vault migrated into an etcd prefix with
// access control comes with its coworkers' users and grants, as staff add
// and share would have made them there.
func TestEtcdMigrateMakesCoworkers(t *testing.T) {
	sl := newSalon(t)
	v := sl.v
	ids, err := v.Add(context.Background(), sliceNext([]*records.Record{{Name: janeName, Phone: janePhone}}), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bea, _ := age.GenerateX25519Identity()
	if _, err := v.StaffAdd("Bea", bea.Recipient()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ConsentAdd(ids[0].String(), validConsent("Bea")); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Share(ids[0].String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	dst, err := store.NewEtcd(sl.s.Client, "/salon2/", store.EtcdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.MigrateTo(dst, "etcd:///salon2/"); err != nil {
		t.Fatal(err)
	}
	user := dst.MemberUser("Bea")
	if user == v.access().MemberUser("Bea") {
		t.Fatalf("Bea has one etcd user for two vaults: %s", user)
	}
	e, err := store.NewEtcd(sl.s.NewCertClient(t, user), "/salon2/", store.EtcdOptions{User: user})
	if err != nil {
		t.Fatal(err)
	}
	bv, err := OpenEngine(e, "salon2", Options{Now: sl.clk.now, OwnerKey: sl.ownerK})
	if err != nil {
		t.Fatalf("Bea's open of the copy: %v", err)
	}
	defer bv.Close()
	if err := bv.UnlockAsStaff(bea); err != nil {
		t.Fatal(err)
	}
	if got, err := bv.View(ids[0].String()); err != nil || got.Name != janeName {
		t.Errorf("Bea's view of Jane in the copy: %v", err)
	}
}
