package vault

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"github.com/clientvault/clientvault/vault/store"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// rotateFixture is the sharing fixture with one of every kind of object a
// rotation rewrites: a consent and a share for Bea, a legal hold, a
// disclosure, an erasure's sealed note, and an archived segment of the
// audit log (from a restore).
func rotateFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	bk := filepath.Join(t.TempDir(), "backup.db")
	if _, err := f.v.Backup(bk, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.View(f.john.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Restore(bk, RestoreOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	f.reopenOwner(t)
	if _, err := f.v.Hold(f.john.String(), HoldOptions{Reason: "insurer's claim about John Roe"}); err != nil {
		t.Fatal(err)
	}
	court, _ := age.GenerateX25519Identity()
	if _, err := f.v.Disclose(f.jane.String(), consent.Disclosure{Recipient: "County Court", Basis: "subpoena", Reference: "SUB-1",
		Scope: []string{consent.Contact}}, DiscloseOptions{Recipient: court.Recipient(), WriteFile: func([]byte) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	gone, err := f.v.Add(context.Background(), sliceNext([]*records.Record{fakeRecord(7)}), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Erase(gone[0].String(), EraseOptions{Reason: "Testclient asked on the phone", Force: true}); err != nil {
		t.Fatal(err)
	}
	return f
}

// oldTags returns every MAC, blind index tag and key-derived value that the
// key set made in the vault file at path, each at least 16 bytes long.
func oldTags(t *testing.T, path string) [][]byte {
	t.Helper()
	var tags [][]byte
	for name, kv := range readSnapshot(t, path) {
		for k, val := range kv {
			switch name {
			case string(bucketIndex):
				tags = append(tags, []byte(k[:tagLen]))
			case string(bucketAudit), string(bucketHolds):
				tags = append(tags, val[:macLen])
			case string(bucketArchive):
				if binary.BigEndian.Uint64([]byte(k[8:])) == math.MaxUint64 {
					tags = append(tags, val[len(val)-macLen:], val[len(val)-2*macLen:len(val)-macLen])
				} else {
					tags = append(tags, val[:macLen])
				}
			case string(bucketExpiry):
				tags = append(tags, val[len(val)-expiryMACLen:])
			case string(bucketDirectory):
				tags = append(tags, val[len(val)-16:]) // the GCM tag
			case string(bucketShares):
				tags = append(tags, val[len(val)-2*macLen:len(val)-macLen])
			case string(bucketMeta):
				if k == string(keyAuditHead) || k == string(keyHeaderMAC) {
					tags = append(tags, val[len(val)-macLen:])
				}
			case string(bucketStaffAudit):
				// MAC'd with the coworker's share key, which stays.
			default:
				if len(val) >= macLen {
					tags = append(tags, val[len(val)-macLen:])
				}
			}
		}
	}
	return tags
}

// TestRotate: after a rotation the old key set opens nothing in the new
// file and none of its MACs is there, records added later included; the
// new keys open and verify everything; the coworker must pin the new owner
// key.
func TestRotate(t *testing.T) {
	f := rotateFixture(t)
	old := f.v.keys
	oldOwnerKey, _ := f.v.OwnerKey()
	f.v.Close()
	f.v = nil
	tags := oldTags(t, f.path)
	f.reopenOwner(t)

	newOwner, _ := age.GenerateX25519Identity()
	wrong, _ := age.GenerateX25519Identity()
	if _, err := f.v.Rotate(RotateOptions{Owner: []age.Recipient{newOwner.Recipient()}, Check: []age.Identity{wrong}}); !errors.Is(err, ErrRefused) {
		t.Fatalf("rotation checked with an identity that cannot open it: %v, want refused", err)
	}
	rot, err := f.v.Rotate(RotateOptions{Owner: []age.Recipient{newOwner.Recipient()}, Check: []age.Identity{newOwner}})
	if err != nil {
		t.Fatal(err)
	}
	if rot.Records != 2 || !slices.Equal(rot.Staff, []string{"Bea"}) || rot.OwnerKey == oldOwnerKey || rot.Objects == 0 {
		t.Errorf("rotation: %+v", rot)
	}
	late, err := f.v.Add(context.Background(), sliceNext([]*records.Record{fakeRecord(8)}), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.v.Close()
	f.v = nil

	// The old key set, and the old owner key, open nothing in the file.
	for _, id := range []age.Identity{old.identity, f.owner} {
		if got := coworkerOpens(t, f.path, id); len(got) != 0 {
			t.Errorf("the old key opens %d ciphertexts of the rotated file", len(got))
		}
	}
	snap := readSnapshot(t, f.path)
	if _, err := unwrapKeySet(snap[string(bucketMeta)][string(keyKeys)], f.owner); !errors.Is(err, ErrWrongKey) {
		t.Errorf("old owner key on the new key set: %v, want ErrWrongKey", err)
	}
	n := 0
	for slot, raw := range snap[string(bucketRecords)] {
		e, err := unmarshalEntry(raw)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if _, _, err := old.open(e.ID, raw); err == nil {
			t.Errorf("record %s (slot %x) opens with the old key set", e.ID, slot)
		}
		if _, err := decrypt(e.Sealed, old.identity); !errors.Is(err, ErrWrongKey) {
			t.Errorf("record %s: the old vault identity: %v, want ErrWrongKey", e.ID, err)
		}
	}
	if n != 3 {
		t.Errorf("%d records in the file, want 3", n)
	}
	file := storedBytes(t, f.path)
	for _, tag := range tags {
		if bytes.Contains(file, tag) {
			t.Fatalf("the rotated file holds a tag %x of the old key set", tag)
		}
	}
	if len(tags) < 20 {
		t.Fatalf("only %d old tags were looked for", len(tags))
	}

	// The old owner key is refused; the new one opens and verifies all.
	v, err := Open(f.path, Options{Now: f.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock(f.owner); !errors.Is(err, ErrWrongKey) {
		t.Errorf("old owner key after the rotation: %v, want ErrWrongKey", err)
	}
	v.Close()
	f.owner = newOwner
	f.reopenOwner(t)
	if rep, err := f.v.Verify(); err != nil || !rep.OK() {
		t.Fatalf("verify after the rotation: %+v, %v", rep, err)
	}
	if _, err := f.v.VerifyAudit(); err != nil {
		t.Fatalf("audit --verify after the rotation: %v", err)
	}
	for _, ref := range []string{f.jane.String(), f.john.String(), late[0].String(), janeName} {
		if _, err := f.v.View(ref); err != nil {
			t.Errorf("view %s after the rotation: %v", ref, err)
		}
	}
	if found, err := f.v.Find("marigold"); err != nil || len(found) != 1 {
		t.Errorf("find after the rotation: %v, %v", found, err)
	}
	if cs, err := f.v.Consents(f.jane.String()); err != nil || len(cs) != 1 || cs[0].Status != ConsentActive {
		t.Errorf("consents after the rotation: %+v, %v", cs, err)
	}
	if hs, err := f.v.Holds(false); err != nil || len(hs) != 1 {
		t.Errorf("holds after the rotation: %+v, %v", hs, err)
	}
	if ds, err := f.v.Disclosures(""); err != nil || len(ds) != 1 {
		t.Errorf("disclosures after the rotation: %+v, %v", ds, err)
	}
	events, err := f.v.Audit(AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	notes, rotated := 0, 0
	for _, e := range events {
		if e.Action == ActionRotate {
			rotated++
		}
		if len(e.Note) > 0 {
			if s, err := f.v.OpenNote(e); err != nil || !strings.Contains(s, "asked") {
				t.Errorf("the erasure's note after the rotation: %q, %v", s, err)
			}
			notes++
		}
	}
	if notes != 1 || rotated != 1 {
		t.Errorf("%d notes and %d rotations in the log, want 1 and 1", notes, rotated)
	}
	if _, err := f.v.Expire(ExpireOptions{DryRun: true}); err != nil {
		t.Errorf("expire --dry-run after the rotation: %v", err)
	}

	// The coworker: the owner key they pinned no longer signs their
	// entry; the new one does, and their share opens.
	f.v.Close()
	f.v = nil
	cv, err := Open(f.path, Options{Now: f.clk.now, OwnerKey: mustOwnerKey(t, oldOwnerKey)})
	if err != nil {
		t.Fatal(err)
	}
	if err := cv.UnlockAsStaff(f.bea); !errors.Is(err, ErrTampered) {
		t.Errorf("the coworker with the old pinned owner key: %v, want ErrTampered", err)
	}
	cv.Close()
	f.ownerKey = mustOwnerKey(t, rot.OwnerKey)
	f.reopenOwner(t)
	if s, err := f.asStaff(t, f.bea).View(f.jane.String()); err != nil || s.Name != janeName {
		t.Errorf("the coworker's share after the rotation: %v", err)
	}
}

func mustOwnerKey(t *testing.T, s string) []byte {
	t.Helper()
	k, err := ParseOwnerKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRotateTamperAfter: a byte flipped in the rotated file is reported by
// verify, and view refuses the record.
func TestRotateTamperAfter(t *testing.T) {
	f := rotateFixture(t)
	if _, err := f.v.Rotate(RotateOptions{Check: []age.Identity{f.owner}}); err != nil {
		t.Fatal(err)
	}
	f.v.Close()
	f.v = nil
	snap := readSnapshot(t, f.path)
	var slot string
	for k, raw := range snap[string(bucketIDs)] {
		if ID([]byte(k)) == f.jane {
			slot = string(raw)
		}
	}
	val := snap[string(bucketRecords)][slot]
	val[len(val)/2] ^= 1
	putBack(t, f.path, string(bucketRecords), slot, val)
	f.reopenOwner(t)
	rep, err := f.v.Verify()
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || !slices.ContainsFunc(rep.Problems, func(p Problem) bool { return p.Record == f.jane.String() && strings.Contains(p.What, "tampered") }) {
		t.Errorf("verify after a flipped byte: %+v", rep.Problems)
	}
	if _, err := f.v.View(f.jane.String()); !errors.Is(err, ErrTampered) {
		t.Errorf("view of the flipped record: %v, want ErrTampered", err)
	}
}

// TestRotateRefusesTamperedVault: a rotation never re-MACs an object that
// does not verify under the old key: it refuses, and the vault is as it
// was.
func TestRotateRefusesTamperedVault(t *testing.T) {
	f := rotateFixture(t)
	f.v.Close()
	f.v = nil
	snap := readSnapshot(t, f.path)
	for k, val := range snap[string(bucketConsents)] {
		val[len(val)-macLen-3] ^= 1
		putBack(t, f.path, string(bucketConsents), k, val)
	}
	before := snapshotOf(t, f.path)
	f.reopenOwner(t)
	if _, err := f.v.Rotate(RotateOptions{Check: []age.Identity{f.owner}}); !errors.Is(err, ErrTampered) {
		t.Fatalf("rotation of a tampered vault: %v, want ErrTampered", err)
	}
	f.v.Close()
	f.v = nil
	if !reflect.DeepEqual(before, snapshotOf(t, f.path)) {
		t.Error("a refused rotation changed the vault file")
	}
}

// TestRotateKilledOrDiskFull: a rotation stopped before its rename (a kill)
// or by a full disk leaves the old vault whole: it opens with the old key
// and verifies; the leftover file of a killed one goes with the next
// rotation, which does the whole rotation again.
func TestRotateKilledOrDiskFull(t *testing.T) {
	f := rotateFixture(t)
	errKilled := errors.New("killed")
	for _, c := range []struct {
		name string
		set  func(h *compactHooks)
	}{
		{"killed before the rename", func(h *compactHooks) {
			h.step = func(s string) error {
				if s == "rename" {
					return errKilled
				}
				return nil
			}
		}},
		{"disk full", func(h *compactHooks) { h.maxSize = int(fileSize(f.path)) / 2 }},
	} {
		if c.name == "disk full" && pathEngine != nil {
			continue // a full disk under the file's copy (fileOnly)
		}
		newOwner, _ := age.GenerateX25519Identity()
		c.set(&f.v.hooks)
		if _, err := f.v.Rotate(RotateOptions{Owner: []age.Recipient{newOwner.Recipient()}, Check: []age.Identity{newOwner}}); err == nil {
			t.Fatalf("%s: the rotation succeeded", c.name)
		}
		f.reopenOwner(t) // with the old owner key
		if rep, err := f.v.Verify(); err != nil || !rep.OK() {
			t.Fatalf("%s: verify: %+v, %v", c.name, rep, err)
		}
		if _, err := f.v.View(f.jane.String()); err != nil {
			t.Fatalf("%s: view: %v", c.name, err)
		}
	}
	// What a kill leaves behind: the new file, never renamed.
	stale := filepath.Join(filepath.Dir(f.path), compactPrefix+filepath.Base(f.path)+"-killed")
	if err := os.WriteFile(stale, []byte("half a vault"), 0o600); err != nil {
		t.Fatal(err)
	}
	newOwner, _ := age.GenerateX25519Identity()
	if _, err := f.v.Rotate(RotateOptions{Owner: []age.Recipient{newOwner.Recipient()}, Check: []age.Identity{newOwner}}); err != nil {
		t.Fatalf("the rotation run again: %v", err)
	}
	if _, err := os.Stat(stale); pathEngine == nil && !os.IsNotExist(err) {
		t.Error("the killed rotation's file is still there")
	}
	f.owner = newOwner
	f.reopenOwner(t)
	if rep, err := f.v.Verify(); err != nil || !rep.OK() {
		t.Fatalf("verify after the rotation run again: %+v, %v", rep, err)
	}
}

// TestRotatePutBackOldFile: the file from before a rotation, put back, is
// refused on this computer as a rollback (the anchor of the old keys moved
// on), even opened with the old owner key.
func TestRotatePutBackOldFile(t *testing.T) {
	f := rotateFixture(t)
	anchors := t.TempDir()
	open := func(id age.Identity) error {
		if f.v != nil {
			f.v.Close()
		}
		f.v = nil
		v, err := Open(f.path, Options{Now: f.clk.now, AnchorDir: anchors})
		if err != nil {
			return err
		}
		if err := v.Unlock(id); err != nil {
			v.Close()
			return err
		}
		f.v = v
		return nil
	}
	if err := open(f.owner); err != nil {
		t.Fatal(err)
	}
	f.v.Close()
	f.v = nil
	saved := filepath.Join(t.TempDir(), "before.db")
	cp(t, f.path, saved)
	if err := open(f.owner); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Rotate(RotateOptions{Check: []age.Identity{f.owner}}); err != nil {
		t.Fatal(err)
	}
	if err := open(f.owner); err != nil {
		t.Fatalf("the rotated vault: %v", err)
	}
	f.v.Close()
	f.v = nil
	cp(t, saved, f.path)
	if err := open(f.owner); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("the file from before the rotation put back: %v, want ErrRolledBack", err)
	}
}

// TestRekeyRecovery: the recovery key alone is replaced (Rekey with a nil
// owner), or with a rotation; the old recovery key opens nothing after.
func TestRekeyRecovery(t *testing.T) {
	for _, rotate := range []bool{false, true} {
		tv := newTestVault(t)
		ids := tv.add(t, fakeRecord(1))
		rec, _ := GenerateIdentity()
		var err error
		if rotate {
			_, err = tv.Rotate(RotateOptions{Recovery: []age.Recipient{rec.Recipient()}, Check: []age.Identity{tv.owner}})
		} else {
			err = tv.Rekey(nil, []age.Recipient{rec.Recipient()}, []age.Identity{tv.owner})
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, recovery := tv.OwnerKeys(); !slices.Equal(recovery, []string{rec.Recipient().String()}) {
			t.Errorf("rotate=%v: recovery keys in the header: %v", rotate, recovery)
		}
		tv.close(t)
		for _, c := range []struct {
			id   age.Identity
			want error
		}{{tv.recovery, ErrWrongKey}, {rec, nil}, {tv.owner, nil}} {
			v, err := Open(tv.path, Options{Now: testClock})
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Unlock(c.id); !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
				t.Errorf("rotate=%v: unlock: %v, want %v", rotate, err, c.want)
			}
			if c.want == nil {
				if _, err := v.View(ids[0].String()); err != nil {
					t.Errorf("rotate=%v: view: %v", rotate, err)
				}
			}
			v.Close()
		}
		tv.reopen(t)
	}
}

// TestRotateLargerVault rotates a vault of many records, several runs of
// the workers, and checks each record's new entry, expiry row and
// directory row, and the index.
func TestRotateLargerVault(t *testing.T) {
	tv := newTestVault(t)
	var recs []*records.Record
	for i := range 300 {
		recs = append(recs, fakeRecord(i))
	}
	ids := tv.add(t, recs...)
	if _, err := tv.Rotate(RotateOptions{Check: []age.Identity{tv.owner}}); err != nil {
		t.Fatal(err)
	}
	tv.reopen(t)
	if rep, err := tv.Verify(); err != nil || !rep.OK() || rep.Records != 300 {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	for _, i := range []int{0, 150, 299} {
		if s, err := tv.View(recs[i].Name); err != nil || s.ID != ids[i].String() {
			t.Errorf("view by name %d: %v", i, err)
		}
	}
	tv.withDB(t, func(tx store.Tx) error {
		if n := keyCount(tx.Bucket(bucketIndex)); n != 600 {
			t.Errorf("%d index keys, want 600", n)
		}
		return nil
	})
}

// TestRotateOldBackup: a backup taken before a rotation is not restored
// over the rotated vault (it holds the old keys, which nothing in the
// vault answers to any more), and the vault stays as it was.
func TestRotateOldBackup(t *testing.T) {
	f := rotateFixture(t)
	bk := filepath.Join(t.TempDir(), "before.db")
	if _, err := f.v.Backup(bk, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Rotate(RotateOptions{Check: []age.Identity{f.owner}}); err != nil {
		t.Fatal(err)
	}
	_, err := f.v.Restore(bk, RestoreOptions{Force: true})
	if err == nil {
		t.Fatal("a backup from before the rotation was restored")
	}
	t.Logf("restore of a backup from before the rotation: %v", err)
	f.reopenOwner(t)
	if rep, err := f.v.Verify(); err != nil || !rep.OK() {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}
