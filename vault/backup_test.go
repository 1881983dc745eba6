package vault

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
)

func TestBackup(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{})
	f.add(client("Jane Doe", day(1980, 1, 1), day(2014, 6, 1)))
	// A backup path inside the vault's directory that exists is refused.
	existing := filepath.Join(filepath.Dir(f.path), "backup.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Backup(existing, BackupOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Fatal("the existing file was changed")
	}
	if _, err := f.v.Backup(f.path, BackupOptions{Force: true}); pathEngine == nil && !errors.Is(err, ErrRefused) {
		t.Fatalf("backup over the vault file itself: %v", err)
	}
	out := filepath.Join(t.TempDir(), "b.db")
	rep, err := f.v.Backup(out, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 1 || rep.Size == 0 {
		t.Fatalf("backup: %+v", rep)
	}
	if _, err := f.v.Backup(out, BackupOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("second backup to the same path: %v", err)
	}
	if _, err := f.v.Backup(existing, BackupOptions{Force: true}); err != nil {
		t.Fatalf("backup --force: %v", err)
	}
	// The copy opens with the owner's key on its own and verifies.
	c, err := openFile(out, Options{Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Unlock(f.id); err != nil {
		t.Fatal(err)
	}
	if vr, err := c.Verify(); err != nil || !vr.OK() || vr.Records != 1 {
		t.Fatalf("verify of the backup: %+v, %v", vr, err)
	}
	if ev := f.lastEvent(); ev.Action != "backup" {
		t.Fatalf("audit: %+v", ev)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".clientvault-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestRestoreReappliesErasures(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{Years: 7})
	ids := f.add(
		client("Jane Doe", day(1980, 1, 1), day(2014, 6, 1)),
		client("John Roe", day(1980, 1, 1), day(2014, 6, 1)),
	)
	slice := f.sealedSlice(ids[0])
	out := filepath.Join(t.TempDir(), "b.db")
	if _, err := f.v.Backup(out, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	// Nothing changed since: a restore needs no force.
	rep, err := f.v.Restore(out, RestoreOptions{})
	if err != nil {
		t.Fatalf("restore of an unchanged vault: %v", err)
	}
	if len(rep.Reapplied) != 0 || rep.Records != 2 {
		t.Fatalf("restore: %+v", rep)
	}
	f.now = f.now.Add(time.Hour)
	if _, err := f.v.Erase(ids[0].String(), EraseOptions{Reason: "client asked", Force: true}); err != nil {
		t.Fatal(err)
	}
	f.add(client("New Client", day(1990, 1, 1), day(2015, 2, 1)))
	if _, err := f.v.Restore(out, RestoreOptions{}); !errors.Is(err, ErrRefused) {
		t.Fatalf("restore over a newer vault: %v", err)
	}
	if _, err := f.v.View("New Client"); err != nil {
		t.Fatalf("a refused restore changed the vault: %v", err)
	}
	rep, err = f.v.Restore(out, RestoreOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Reapplied) != 1 || rep.Reapplied[0] != ids[0].String() || rep.Records != 1 || rep.Changes < 2 {
		t.Fatalf("restore --force: %+v", rep)
	}
	if _, err := f.v.View(ids[0].String()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the erased record came back: %v", err)
	}
	if f.fileHas(slice) {
		t.Fatal("the erased record's ciphertext is in the restored vault file")
	}
	if _, err := f.v.View("New Client"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a record added after the backup survived the restore: %v", err)
	}
	rep2 := f.verifyOK()
	if rep2.Records != 1 {
		t.Fatalf("verify: %+v", rep2)
	}
	ev := f.lastEvent()
	if ev.Action != "restore" || ev.Count != 1 {
		t.Fatalf("audit: %+v", ev)
	}
	evs, _ := f.v.Audit(AuditFilter{Record: ids[0].String()})
	erase := evs[len(evs)-1]
	if erase.Action != "erase" || erase.Detail != ReasonErasureForced+" ("+ReasonReapplied+")" {
		t.Fatalf("re-applied erasure: %+v", erase)
	}
	if note, err := f.v.OpenNote(erase); err != nil || note != "client asked" {
		t.Fatalf("reason carried over: %q, %v", note, err)
	}
	f.reopen()
	f.verifyOK()
}

func TestRestoreRefusesBadInput(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{})
	f.add(client("Jane Doe", day(1980, 1, 1), day(2014, 6, 1)))
	dir := t.TempDir()
	notVault := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notVault, []byte("this is not a vault, just some text\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Restore(notVault, RestoreOptions{Force: true}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("restore of a text file: %v", err)
	}
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	if _, err := f.v.Restore(empty, RestoreOptions{Force: true}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("restore of an empty file: %v", err)
	}
	if _, err := f.v.Restore(filepath.Join(dir, "missing.db"), RestoreOptions{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore of a missing file: %v", err)
	}
	// Another vault, even one the same owner holds.
	other := filepath.Join(dir, "other.db")
	if err := createFile(other, CreateOptions{Owner: []age.Recipient{f.id.Recipient()}, Now: f.clock}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Restore(other, RestoreOptions{Force: true}); !errors.Is(err, ErrRefused) {
		t.Fatalf("restore of another vault: %v", err)
	}
	// A backup with a flipped byte in a record.
	out := filepath.Join(dir, "b.db")
	if _, err := f.v.Backup(out, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	f.add(client("John Roe", day(1980, 1, 1), day(2014, 6, 1)))
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte inside Jane's ciphertext in a copy of the backup.
	i := bytes.Index(data, f.sealedSlice(mustID(t, f, "Jane Doe")))
	if i < 0 {
		t.Fatal("test is broken: ciphertext not found in the backup")
	}
	data[i+10] ^= 1
	tampered := filepath.Join(dir, "t.db")
	os.WriteFile(tampered, data, 0o600)
	if _, err := f.v.Restore(tampered, RestoreOptions{Force: true}); !errors.Is(err, ErrTampered) {
		t.Fatalf("restore of a tampered backup: %v", err)
	}
	if _, err := f.v.View("John Roe"); err != nil {
		t.Fatalf("a refused restore changed the vault: %v", err)
	}
	f.verifyOK()
}

// TestRestoreAfterRekey: the restored vault opens with the owner's current
// key, not the one the backup was wrapped to.
func TestRestoreAfterRekey(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{})
	f.add(client("Jane Doe", day(1980, 1, 1), day(2014, 6, 1)))
	out := filepath.Join(t.TempDir(), "b.db")
	if _, err := f.v.Backup(out, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	newID, _ := age.GenerateX25519Identity()
	if err := f.v.Rekey([]age.Recipient{newID.Recipient()}, nil, []age.Identity{newID}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Restore(out, RestoreOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	f.id = newID
	f.reopen()
	if _, err := f.v.View("Jane Doe"); err != nil {
		t.Fatal(err)
	}
	f.verifyOK()
}

func mustID(t *testing.T, f *retainFixture, name string) ID {
	t.Helper()
	s, err := f.v.View(name)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := ParseID(s.ID)
	return id
}

func TestRestoreNew(t *testing.T) {
	fileOnly(t, "a restore where there is no vault makes a file")
	f := newRetainFixture(t, consent.Policy{})
	f.add(client("Jane Doe", day(1980, 1, 1), day(2014, 6, 1)))
	out := filepath.Join(t.TempDir(), "b.db")
	if _, err := f.v.Backup(out, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := RestoreNew(f.path, out, []age.Identity{f.id}, Options{Now: f.clock}); pathEngine == nil && !errors.Is(err, ErrExists) {
		t.Fatalf("restore-new over a vault: %v", err)
	}
	stranger, _ := age.GenerateX25519Identity()
	lost := filepath.Join(t.TempDir(), "new", "vault.db")
	if _, err := RestoreNew(lost, out, []age.Identity{stranger}, Options{Now: f.clock}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("restore-new with the wrong key: %v", err)
	}
	rep, err := RestoreNew(lost, out, []age.Identity{f.id}, Options{Now: f.clock})
	if err != nil || rep.Records != 1 {
		t.Fatalf("restore-new: %+v, %v", rep, err)
	}
	f.v.Close()
	f.path = lost
	f.open()
	if _, err := f.v.View("Jane Doe"); err != nil {
		t.Fatal(err)
	}
	f.verifyOK()
}

// TestBackupLeavesFreedPages: a backup taken while a compaction is pending
// (the file's freed pages still hold an erased record) does not carry the
// erased ciphertext.
func TestBackupLeavesFreedPages(t *testing.T) {
	fileOnly(t, "the freed pages of a file")
	f := newRetainFixture(t, consent.Policy{})
	ids := f.add(client("Jane Doe", day(1980, 1, 1), day(2014, 6, 1)), client("John Roe", day(1980, 1, 1), day(2014, 6, 1)))
	slice := f.sealedSlice(ids[0])
	f.v.hooks.step = func(step string) error {
		if step == "rename" {
			return errors.New("simulated crash")
		}
		return nil
	}
	if _, err := f.v.Erase(ids[0].String(), EraseOptions{Reason: "asked", Force: true}); err == nil {
		t.Fatal("the simulated crash did not happen")
	}
	f.v.hooks.step = nil
	if !f.fileHas(slice) {
		t.Fatal("test is broken: the vault's freed pages should still hold the ciphertext")
	}
	out := filepath.Join(t.TempDir(), "b.db")
	if _, err := f.v.Backup(out, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, slice) {
		t.Fatal("the backup holds the erased record's ciphertext")
	}
	if !bytes.Contains(data, f.sealedSlice(ids[1])) {
		t.Fatal("the backup lacks a live record")
	}
}

// TestRestoreNewIn: where an etcd prefix holds no vault, a backup restored
// there becomes the vault; a wrong key writes nothing there, and a prefix
// that holds a vault is refused.
func TestRestoreNewIn(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{})
	f.add(client("Jane Doe", day(1980, 1, 1), day(2014, 6, 1)))
	out := filepath.Join(t.TempDir(), "b.db")
	if _, err := f.v.Backup(out, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	e, err := store.NewEtcd(etcdtest.StartEtcd(t), "/restored/", store.EtcdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := age.GenerateX25519Identity()
	if _, err := RestoreNewIn(e, "restored", out, []age.Identity{stranger}, Options{Now: f.clock}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("restore with the wrong key: %v", err)
	}
	if empty, err := engineEmpty(e); err != nil || !empty {
		t.Fatalf("a refused restore wrote to the prefix (empty %v, %v)", empty, err)
	}
	rep, err := RestoreNewIn(e, "restored", out, []age.Identity{f.id}, Options{Now: f.clock})
	if err != nil || rep.Records != 1 {
		t.Fatalf("restore: %+v, %v", rep, err)
	}
	if _, err := RestoreNewIn(e, "restored", out, []age.Identity{f.id}, Options{Now: f.clock}); !errors.Is(err, ErrExists) {
		t.Fatalf("restore over a vault: %v", err)
	}
	v, err := OpenEngine(e, "restored", Options{Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock(f.id); err != nil {
		t.Fatal(err)
	}
	if _, err := v.View("Jane Doe"); err != nil {
		t.Fatal(err)
	}
	if vr, err := v.Verify(); err != nil || !vr.OK() {
		t.Fatalf("verify: %+v, %v", vr, err)
	}
}
