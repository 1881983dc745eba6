package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/clientvault/clientvault/vault/store"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// The attacks of this file are made as an attacker with write access to the
// vault file makes them: with bbolt on the closed file, never through the
// vault's API. Each worked before the state root and the anchor.

// snapshot is every object of a vault file, by bucket and key.
type snapshot map[string]map[string][]byte

// readSnapshot reads every bucket of the vault file at path.
func readSnapshot(t *testing.T, path string) snapshot { return snapshotOf(t, path) }

// putBack sets bucket/key in the vault at path to old (deleting it if old is
// nil), as an attacker who kept an older copy would, with the engine alone.
func putBack(t *testing.T, path, bucket, key string, old []byte) {
	t.Helper()
	err := rawEngine(t, path, false, func(tx store.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		if old == nil {
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), old)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// cp copies the vault at from over the one at to, whole.
func cp(t *testing.T, from, to string) { copyVault(t, from, to) }

// TestPutBackAnyObject takes a copy of a vault, makes changes of every kind
// (a note, a consent and its withdrawal, a share and its end, a legal hold
// and its release, a staff removal, a retention change, an erasure), and
// then, for every object of every bucket that differs between the copy and
// the vault, puts that one object back as it was in the copy (or removes
// it, if the copy had none). Verify reports a problem every time.
func TestPutBackAnyObject(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Hold(f.john.String(), HoldOptions{Reason: "claim"}); err != nil {
		t.Fatal(err)
	}
	f.v.Close()
	old := filepath.Join(t.TempDir(), "old.db")
	cp(t, f.path, old)
	before := readSnapshot(t, old)

	f.reopenOwner(t)
	c2 := f.consent(t, f.jane, "Bea")
	if _, err := f.v.ConsentRevoke(c2.ID, "client asked"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Release(f.john.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.StaffRemove("Bea"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Erase(f.john.String(), EraseOptions{Reason: "client asked", Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Add(context.Background(), sliceNext([]*records.Record{{Name: "Ann Other"}}), AddOptions{}); err != nil {
		t.Fatal(err)
	}
	p := f.v.Retention()
	p.Years++
	if _, err := f.v.SetRetention(p); err != nil {
		t.Fatal(err)
	}
	f.v.Close()
	f.v = nil
	now := filepath.Join(t.TempDir(), "now.db")
	cp(t, f.path, now)
	after := readSnapshot(t, now)

	tried := map[string]int{}
	for bucket, objs := range before {
		if bucket == string(bucketStaffAudit) {
			continue // outside the root: checked event by event (staff.go)
		}
		keys := map[string]bool{}
		for k := range objs {
			keys[k] = true
		}
		for k := range after[bucket] {
			keys[k] = true
		}
		for k := range keys {
			was, wasOK := objs[k]
			is, isOK := after[bucket][k]
			if (wasOK == isOK && bytes.Equal(was, is)) || (bucket == string(bucketMeta) && k == string(keyAuditHead)) {
				continue
			}
			if !wasOK {
				was = nil // added since the copy: the attack removes it
			} else if was == nil {
				was = []byte{}
			}
			cp(t, now, f.path)
			putBack(t, f.path, bucket, k, was)
			tried[bucket]++
			v, err := Open(f.path, Options{Now: f.clk.now, ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			err = v.Unlock(f.owner)
			if err == nil {
				var rep *Report
				rep, err = v.Verify()
				if err == nil && rep.OK() {
					t.Errorf("%s/%x put back: verify found nothing", bucket, k)
				}
				// Beyond the bucket's root, verify names the object: the
				// record, entry or staff member it is about.
				named := false
				for _, p := range rep.Problems {
					named = named || !strings.Contains(p.What, "do not match the vault's state root")
				}
				if err == nil && !named {
					t.Errorf("%s/%x put back: verify names no object: %v", bucket, k, rep.Problems)
				}
			} else if !errors.Is(err, ErrTampered) {
				t.Errorf("%s/%x put back: unlock: %v, want ErrTampered or a verify problem", bucket, k, err)
			}
			v.Close()
		}
	}
	for _, b := range []string{"meta", "ids", "records", "index", "audit", "consents", "shares", "staff", "holds", "expiry"} {
		if tried[b] == 0 {
			t.Errorf("no object of bucket %s was put back: the changes do not reach it", b)
		}
	}
	t.Logf("objects put back, by bucket: %v (index %d/%d)", tried, len(before["index"]), len(after["index"]))
}

// TestGuardedObjectsPutBack: a withdrawn consent put back with its share,
// a removed coworker put back with a share, and holds deleted are refused
// by the owner's commands that read them, before anything is decided on
// them.
func TestGuardedObjectsPutBack(t *testing.T) {
	f := newFixture(t)
	c := f.consent(t, f.jane, "Bea")
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	f.v.Close()
	unheld := readSnapshot(t, f.path)
	f.reopenOwner(t)
	if _, err := f.v.Hold(f.jane.String(), HoldOptions{Reason: "claim"}); err != nil {
		t.Fatal(err)
	}
	f.v.Close()
	before := readSnapshot(t, f.path)
	f.reopenOwner(t)
	if _, err := f.v.ConsentRevoke(c.ID, "client asked"); err != nil {
		t.Fatal(err)
	}
	f.v.Close()
	f.v = nil
	// The consent and the share as they were before the withdrawal.
	for k, val := range before[string(bucketConsents)] {
		putBack(t, f.path, string(bucketConsents), k, val)
	}
	for k, val := range before[string(bucketShares)] {
		putBack(t, f.path, string(bucketShares), k, val)
	}
	f.reopenOwner(t)
	if _, err := f.v.Consents(f.jane.String()); !errors.Is(err, ErrTampered) {
		t.Fatalf("consent list over a consent put back: %v, want ErrTampered", err)
	}
	f.reopenOwner(t)
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); !errors.Is(err, ErrTampered) {
		t.Fatalf("share over a consent put back: %v, want ErrTampered", err)
	}
	rep, err := f.v.Verify()
	if err != nil || !problemSays(rep, "consents do not match") || !problemSays(rep, "shares do not match") {
		t.Fatalf("verify: %+v, %v", rep, err)
	}

	// The record's entry and expiry row from before the hold put back,
	// and the hold deleted: erase --force must not run.
	f.v.Close()
	for _, b := range []string{"ids", "records", "expiry"} {
		for k, val := range unheld[b] {
			putBack(t, f.path, b, k, val)
		}
	}
	for k := range before[string(bucketHolds)] {
		putBack(t, f.path, string(bucketHolds), k, nil)
	}
	f.reopenOwner(t)
	if _, err := f.v.Erase(f.jane.String(), EraseOptions{Reason: "x", Force: true}); !errors.Is(err, ErrTampered) {
		t.Fatalf("erase --force with the hold deleted: %v, want ErrTampered", err)
	}
	if _, err := f.v.View(f.jane.String()); !errors.Is(err, ErrTampered) {
		// view shows the record's holds: it reads them, checked.
		t.Fatalf("view with the hold deleted: %v, want ErrTampered", err)
	}
	f.v.Close()
	f.v = nil
	if len(readSnapshot(t, f.path)[string(bucketIDs)]) != 2 {
		t.Fatal("a record was destroyed")
	}
}

// TestWholeFileRollback: an older copy of the whole file put in place of the
// vault is refused (ErrRolledBack) by the next unlock, read-only too; a
// fork of the same version is refused; restore is the way back on purpose,
// and the file it replaced cannot be put back after it.
func TestWholeFileRollback(t *testing.T) {
	f := newFixture(t)
	anchors := t.TempDir()
	open := func(ro bool) (*Vault, error) {
		v, err := Open(f.path, Options{Now: f.clk.now, AnchorDir: anchors, ReadOnly: ro})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Unlock(f.owner); err != nil {
			v.Close()
			return nil, err
		}
		return v, nil
	}
	f.v.Close()
	f.v = nil
	v, err := open(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ConsentAdd(f.jane.String(), validConsent("Bea")); err != nil {
		t.Fatal(err)
	}
	v.Close()

	old := filepath.Join(t.TempDir(), "old.db")
	cp(t, f.path, old)
	v, err = open(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Erase(f.john.String(), EraseOptions{Reason: "client asked", Force: true}); err != nil {
		t.Fatal(err)
	}
	newest := filepath.Join(t.TempDir(), "newest.db")
	v.Close()
	cp(t, f.path, newest)

	cp(t, old, f.path)
	for _, ro := range []bool{true, false} {
		if _, err := open(ro); !errors.Is(err, ErrRolledBack) {
			t.Fatalf("unlock (read-only %v) of an older copy: %v, want ErrRolledBack", ro, err)
		}
	}

	// A fork: the old copy moved on by as many writes as the vault made.
	fork := filepath.Join(t.TempDir(), "fork.db")
	cp(t, old, fork)
	fv, err := Open(fork, Options{Now: f.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := fv.Unlock(f.owner); err != nil {
		t.Fatal(err)
	}
	want, _ := readVersion(t, newest)
	for {
		got, _ := fv.StateVersion()
		if got >= want {
			break
		}
		if _, err := fv.View(f.jane.String()); err != nil {
			t.Fatal(err)
		}
	}
	fv.Close()
	cp(t, fork, f.path)
	if _, err := open(true); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("unlock of a fork at the same version: %v, want ErrRolledBack", err)
	}

	// Restore, on purpose, from the older copy: it is the way back.
	cp(t, newest, f.path)
	v, err = open(false)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	rv, err := Open(f.path, Options{Now: f.clk.now, AnchorDir: anchors, Restoring: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := rv.Unlock(f.owner); err != nil {
		t.Fatal(err)
	}
	if _, err := rv.Restore(asFile(t, old), RestoreOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	rv.Close()
	if v, err = open(false); err != nil {
		t.Fatalf("after restore: %v", err)
	}
	if _, err := v.View(f.john.String()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore brought back an erased record: %v", err)
	}
	v.Close()
	// The file restore replaced is older now.
	cp(t, newest, f.path)
	if _, err := open(true); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("the vault from before the restore put back: %v, want ErrRolledBack", err)
	}
}

// TestAnchorForged: an anchor edited by hand fails its MAC.
func TestAnchorForged(t *testing.T) {
	f := newFixture(t)
	f.v.Close()
	anchors := t.TempDir()
	v, err := Open(f.path, Options{Now: f.clk.now, AnchorDir: anchors})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock(f.owner); err != nil {
		t.Fatal(err)
	}
	p := v.anchorPath()
	v.Close()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(anchorMagic)+7]-- // an older version, to allow a rollback
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	v, err = Open(f.path, Options{Now: f.clk.now, AnchorDir: anchors})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock(f.owner); !errors.Is(err, ErrTampered) {
		t.Fatalf("unlock with a forged anchor: %v, want ErrTampered", err)
	}
}

// readVersion reads a vault file's state version as an attacker can: it is
// in the clear in the audit head (only its MAC needs the key).
func readVersion(t *testing.T, path string) (uint64, bool) {
	t.Helper()
	s := readSnapshot(t, path)
	h := s[string(bucketMeta)][string(keyAuditHead)]
	if len(h) <= headLegacyLen {
		return 0, false
	}
	var n uint64
	for _, c := range h[8+macLen : 8+macLen+8] {
		n = n<<8 | uint64(c)
	}
	return n, true
}

// TestCoworkerForgesOwnerEvent: a coworker appends to their own audit an
// "erase" as the owner, MAC'd with their own share key (they have it). It
// is never folded into the chain: the fold drops it and says so, and the
// record stays.
func TestCoworkerForgesOwnerEvent(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	// Bea's own session gives her her share key, as her client has it.
	bv := f.asStaff(t, f.bea)
	sk := bv.staff.shareKey
	uid := bv.staff.entry.UID
	bv.Close()
	f.v = nil
	err := rawEngine(t, f.path, false, func(tx store.Tx) error {
		b := tx.Bucket(bucketStaffAudit)
		seq, _ := b.NextSequence()
		body, _ := json.Marshal(Event{Action: "erase", Actor: "owner", Staff: "Bea", Record: f.john.String(), Time: f.clk.now()})
		key := seqKey(seq)
		return b.Put(key, append(body, macWith(sk, macStaffAudit, key, []byte(uid), body)...))
	})
	if err != nil {
		t.Fatal(err)
	}
	f.reopenOwner(t)
	if _, err := f.v.Audit(AuditFilter{}); !errors.Is(err, ErrTampered) {
		t.Fatalf("audit with a forged owner event: %v, want ErrTampered", err)
	}
	if _, err := f.v.Expire(ExpireOptions{}); err != nil {
		t.Fatal(err)
	}
	events, err := f.v.Audit(AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	rejected := 0
	for _, e := range events {
		if e.Action == ActionErase {
			t.Fatalf("the forged erasure was folded in: %+v", e)
		}
		if e.Action == ActionRejected && e.Staff == "Bea" {
			rejected++
		}
	}
	if rejected != 1 {
		t.Fatalf("%d rejected events, want 1", rejected)
	}
	if _, err := f.v.View(f.john.String()); err != nil {
		t.Fatalf("the record is gone: %v", err)
	}
	f.v.Close()
	f.v = nil
	// A restore of a backup re-applies no erasure the owner did not make.
	f.reopenOwner(t)
	bk := filepath.Join(t.TempDir(), "b.db")
	if _, err := f.v.Backup(bk, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err := f.v.Restore(bk, RestoreOptions{Force: true})
	if err != nil || len(rep.Reapplied) != 0 {
		t.Fatalf("restore: %+v, %v", rep, err)
	}
}

// TestForgedSharesForCoworker: with the coworker's public key (in the file
// in the clear), an attacker seals a share key of their own to the
// coworker, puts it in the coworker's staff entry, and writes shares of
// invented health data, MAC'd with it, for a record that is shared and for
// one that never was. The coworker's own unlock refuses the staff entry: the
// owner key they pinned did not sign it. Without a pinned owner key, a
// coworker's unlock is refused too (ErrOwnerUnknown).
func TestForgedSharesForCoworker(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	bv := f.asStaff(t, f.bea) // pins the owner key, and sees the true share
	if s, err := bv.View(f.jane.String()); err != nil || len(s.Record.Allergies) != 1 {
		t.Fatalf("the coworker's view of the true share: %v", err)
	}
	bv.Close()
	f.v = nil

	// The attack, from the file alone.
	snap := readSnapshot(t, f.path)
	raw := snap[string(bucketStaff)]["Bea"]
	var st map[string]any
	if err := json.Unmarshal(raw[:len(raw)-macLen], &st); err != nil {
		t.Fatal(err)
	}
	bea, err := ParseStaffKey(st["recipient"].(string))
	if err != nil {
		t.Fatal(err)
	}
	forgedKey := bytes.Repeat([]byte{7}, 32)
	if st["key_staff"], err = encrypt(forgedKey, bea); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(st)
	putBack(t, f.path, string(bucketStaff), "Bea", append(body, raw[len(raw)-macLen:]...))
	for _, id := range []ID{f.jane, f.john} {
		payload, err := records.Encode(id.String(), &records.Record{Name: "Invented", Notes: "no allergies, OK for latex"})
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := encrypt(payload, bea)
		if err != nil {
			t.Fatal(err)
		}
		sb, _ := json.Marshal(shareBody{V: 1, Record: id.String(), Staff: "Bea", UID: st["uid"].(string),
			Scope: []string{"full"}, Created: f.clk.now(), Sealed: sealed})
		k := shareKeyOf(id, "Bea")
		val := append(sb, make([]byte, macLen)...) // the vault's MAC: unknown to the attacker
		val = append(val, macWith(forgedKey, macShare, k, sb)...)
		putBack(t, f.path, string(bucketShares), string(k), val)
	}

	v, err := Open(f.path, Options{Now: f.clk.now, OwnerKey: f.ownerKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.UnlockAsStaff(f.bea); !errors.Is(err, ErrTampered) {
		t.Fatalf("coworker unlock over a forged staff entry: %v, want ErrTampered", err)
	}
	v.Close()
	nv, err := Open(f.path, Options{Now: f.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer nv.Close()
	if err := nv.UnlockAsStaff(f.bea); !errors.Is(err, ErrOwnerUnknown) {
		t.Fatalf("coworker unlock with no owner key pinned: %v, want ErrOwnerUnknown", err)
	}
}

// TestRestoreKeepsRevocationsAndAccounting: a backup taken while a consent,
// two shares and a coworker stood; after it, the consent is withdrawn, a
// share removed, a coworker removed and a disclosure made. A forced restore
// of the backup applies the withdrawal and the removals again, keeps the
// disclosure record, and keeps the replaced log's entries as an archived
// segment that verifies, and whose edit verify reports.
func TestRestoreKeepsRevocationsAndAccounting(t *testing.T) {
	f := newFixture(t)
	cal, _ := age.GenerateX25519Identity()
	if _, err := f.v.StaffAdd("Cal", cal.Recipient()); err != nil {
		t.Fatal(err)
	}
	c := f.consent(t, f.jane, "Bea")
	f.consent(t, f.john, "Bea")
	f.consent(t, f.john, "Cal")
	for _, s := range [][2]string{{f.jane.String(), "Bea"}, {f.john.String(), "Bea"}, {f.john.String(), "Cal"}} {
		if _, err := f.v.Share(s[0], s[1], ShareOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	bk := filepath.Join(t.TempDir(), "backup.db")
	if _, err := f.v.Backup(bk, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.ConsentRevoke(c.ID, "client asked"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Unshare(f.john.String(), "Bea"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.StaffRemove("Cal"); err != nil {
		t.Fatal(err)
	}
	court, _ := age.GenerateX25519Identity()
	if _, err := f.v.Disclose(f.jane.String(), consent.Disclosure{Recipient: "County Court", Basis: "subpoena", Reference: "SUB-1",
		Scope: []string{consent.Contact}}, DiscloseOptions{Recipient: court.Recipient(), WriteFile: func([]byte) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	rep, err := f.v.Restore(bk, RestoreOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Revoked) != 3 || rep.Archived == 0 {
		t.Fatalf("restore report: %+v", rep)
	}
	f.v.Close()
	snap := readSnapshot(t, f.path)
	f.reopenOwner(t)
	if len(snap[string(bucketShares)]) != 0 {
		t.Fatalf("%d shares after the restore, want none", len(snap[string(bucketShares)]))
	}
	if _, ok := snap[string(bucketStaff)]["Cal"]; ok {
		t.Fatal("a removed coworker is back")
	}
	cs, err := f.v.Consents(f.jane.String())
	if err != nil || len(cs) != 1 || cs[0].WithdrawnAt.IsZero() {
		t.Fatalf("jane's consent after the restore: %+v, %v", cs, err)
	}
	ds, err := f.v.Disclosures("")
	if err != nil || len(ds) != 1 || ds[0].Reference != "SUB-1" {
		t.Fatalf("disclosures after the restore: %+v, %v", ds, err)
	}
	if r, err := f.v.Verify(); err != nil || !r.OK() {
		t.Fatalf("verify after the restore: %+v, %v", r, err)
	}
	if _, err := f.v.VerifyAudit(); err != nil {
		t.Fatal(err)
	}
	// An archived entry edited: reported.
	f.v.Close()
	f.v = nil
	for k, val := range snap[string(bucketArchive)] {
		if len(val) > macLen+10 {
			val[macLen+5] ^= 1
			putBack(t, f.path, string(bucketArchive), k, val)
			break
		}
	}
	f.reopenOwner(t)
	if _, err := f.v.VerifyAudit(); !errors.Is(err, ErrTampered) {
		t.Fatalf("audit --verify over an edited archived entry: %v", err)
	}
}

// TestAuditLogRolledBack: the audit log alone, with its head, put back from
// an older copy (hiding a view and an erasure from the log) is refused by
// the anchor, and without an anchor verify reports it: the old head's state
// root does not match the buckets it now sits beside.
func TestAuditLogRolledBack(t *testing.T) {
	f := newFixture(t)
	anchors := t.TempDir()
	f.v.Close()
	f.v = nil
	old := readSnapshot(t, f.path)
	v, err := Open(f.path, Options{Now: f.clk.now, AnchorDir: anchors})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock(f.owner); err != nil {
		t.Fatal(err)
	}
	if _, err := v.View(f.jane.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Erase(f.john.String(), EraseOptions{Reason: "client asked", Force: true}); err != nil {
		t.Fatal(err)
	}
	v.Close()
	now := readSnapshot(t, f.path)
	for k := range now[string(bucketAudit)] {
		putBack(t, f.path, string(bucketAudit), k, old[string(bucketAudit)][k])
	}
	putBack(t, f.path, string(bucketMeta), string(keyAuditHead), old[string(bucketMeta)][string(keyAuditHead)])
	v, err = Open(f.path, Options{Now: f.clk.now, AnchorDir: anchors, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock(f.owner); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("unlock over an older audit log: %v, want ErrRolledBack", err)
	}
	v.Close()
	v, err = Open(f.path, Options{Now: f.clk.now, ReadOnly: true}) // no anchor: another computer
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock(f.owner); err != nil {
		t.Fatal(err)
	}
	rep, err := v.Verify()
	if err != nil || rep.OK() || !problemSays(rep, "do not match the vault's state root") {
		t.Fatalf("verify over an older audit log: %+v, %v", rep, err)
	}
}

// TestSequenceSetBack: the records bucket's sequence set back by hand would
// make the next add write over an existing record's entry; the add is
// refused and nothing is lost.
func TestSequenceSetBack(t *testing.T) {
	f := newFixture(t)
	f.v.Close()
	f.v = nil
	if err := rawEngine(t, f.path, false, func(tx store.Tx) error { return tx.Bucket(bucketRecords).SetSequence(0) }); err != nil {
		t.Fatal(err)
	}
	f.reopenOwner(t)
	if _, err := f.v.Add(context.Background(), sliceNext([]*records.Record{{Name: "Ann Other"}}), AddOptions{}); !errors.Is(err, ErrTampered) {
		t.Fatalf("add over a sequence set back: %v, want ErrTampered", err)
	}
	if _, err := f.v.View(f.jane.String()); err != nil {
		t.Fatalf("the record in slot 1: %v", err)
	}
}

// TestCoworkerNoteOnlyOnSharedRecords: a coworker's pending note folds in
// as their entry on a record shared with them; one written by hand into
// their audit (with their own share key) for a record not shared with them
// is dropped, and the record is unchanged.
func TestCoworkerNoteOnlyOnSharedRecords(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	bv := f.asStaff(t, f.bea)
	if _, err := bv.Note(f.jane.String(), records.Treatment{Date: records.Date{Year: 2026, Month: 3, Day: 9}, Service: "brow tint"}); err != nil {
		t.Fatal(err)
	}
	if _, err := bv.Note(f.john.String(), records.Treatment{Date: records.Date{Year: 2026, Month: 3, Day: 9}, Service: "facial"}); !errors.Is(err, ErrNotShared) {
		t.Fatalf("a note on a record not shared: %v, want ErrNotShared", err)
	}
	// By hand: a pending note for John, MAC'd with Bea's share key.
	sk, uid := bv.staff.shareKey, bv.staff.entry.UID
	bv.Close()
	f.v = nil
	to, _ := age.ParseX25519Recipient(readHeaderRecipient(t, f.path))
	sealed, err := encrypt([]byte(`{"date":"2026-03-09","service":"forged"}`), to)
	if err != nil {
		t.Fatal(err)
	}
	err = rawEngine(t, f.path, false, func(tx store.Tx) error {
		b := tx.Bucket(bucketStaffAudit)
		seq, _ := b.NextSequence()
		body, _ := json.Marshal(Event{Action: ActionNote, Staff: "Bea", Record: f.john.String(), Time: f.clk.now(), Note: sealed})
		key := seqKey(seq)
		return b.Put(key, append(body, macWith(sk, macStaffAudit, key, []byte(uid), body)...))
	})
	if err != nil {
		t.Fatal(err)
	}
	f.reopenOwner(t)
	if _, err := f.v.LapseAndFold(); err != nil {
		t.Fatal(err)
	}
	jane, err := f.v.View(f.jane.String())
	if err != nil {
		t.Fatal(err)
	}
	last := jane.Record.Treatments[len(jane.Record.Treatments)-1]
	if last.Service != "brow tint" || last.Technician != "Bea" {
		t.Fatalf("Bea's note on Jane: %+v", last)
	}
	john, err := f.v.View(f.john.String())
	if err != nil || len(john.Record.Treatments) != 0 {
		t.Fatalf("John after a forged note: %+v, %v", john.Record.Treatments, err)
	}
	if n := countActions(t, f.v, ActionRejected); n != 1 {
		t.Fatalf("%d rejected events, want 1", n)
	}
}

// readHeaderRecipient reads the vault's public key from the file, as anyone
// can (the header is in the clear, under a MAC).
func readHeaderRecipient(t *testing.T, path string) string {
	t.Helper()
	var h header
	if err := json.Unmarshal(readSnapshot(t, path)[string(bucketMeta)][string(keyHeader)], &h); err != nil {
		t.Fatal(err)
	}
	return h.VaultRecipient
}

// TestStaffNamesUniqueWhateverCase: the library, not only the command,
// refuses a second coworker whose name differs only in case.
func TestStaffNamesUniqueWhateverCase(t *testing.T) {
	f := newFixture(t)
	cal, _ := age.GenerateX25519Identity()
	if _, err := f.v.StaffAdd("bea", cal.Recipient()); !errors.Is(err, ErrExists) {
		t.Fatalf("staff add bea beside Bea: %v, want ErrExists", err)
	}
}

// TestAnchorFailureDoesNotFailACommittedChange: when the anchor cannot be
// written (its folder became a file here), a change still commits and reports
// no failure (a caller took a committed rekey for a failed one and deleted
// the new identity); AnchorErr says what happened.
func TestAnchorFailureDoesNotFailACommittedChange(t *testing.T) {
	f := newFixture(t)
	f.v.Close()
	anchors := filepath.Join(t.TempDir(), "anchors")
	v, err := Open(f.path, Options{Now: f.clk.now, AnchorDir: anchors})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	f.v = nil
	if err := v.Unlock(f.owner); err != nil {
		t.Fatal(err)
	}
	// The anchors' folder becomes a file: nothing can be written there.
	if err := os.RemoveAll(anchors); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(anchors, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Note(f.jane.String(), records.Treatment{Date: records.Date{Year: 2026, Month: 3, Day: 9}, Service: "facial"}); err != nil {
		t.Fatalf("note with an unwritable anchor: %v", err)
	}
	if v.AnchorErr() == nil {
		t.Fatal("AnchorErr is nil")
	}
	s, err := v.View(f.jane.String())
	if err != nil || s.Record.Treatments[len(s.Record.Treatments)-1].Service != "facial" {
		t.Fatalf("the note was not committed: %v", err)
	}
}
