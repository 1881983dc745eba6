package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/vault/store"
)

// BackupOptions tune Backup.
type BackupOptions struct {
	// Force replaces an existing file (never the vault itself).
	Force bool
	// Migrate makes the copy the vault's next home (migrate --to FILE):
	// the audit entry that records it is written before the copy, which
	// holds it, so that the copy is at the vault's own version, not one
	// behind it (which the rollback anchor would refuse).
	Migrate bool
}

// BackupReport describes a backup that was written and checked.
type BackupReport struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	Records int    `json:"records"`
	// AuditSeq is the last audit entry the backup holds.
	AuditSeq uint64 `json:"audit_seq"`
}

// Backup writes a consistent copy of the vault to path, still sealed: the
// live data of one bbolt read transaction, compacted into a temporary file
// beside path (so that freed pages, which may hold destroyed records or
// ciphertexts since re-sealed without a coworker, are not copied), synced,
// then checked (bbolt's consistency, the header, every entry's
// MAC, the audit chain) before it is linked into place. An existing file is
// refused (ErrExists) unless o.Force; the vault itself, always.
func (v *Vault) Backup(path string, o BackupOptions) (*BackupReport, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	if fi, err := os.Stat(path); err == nil {
		if vi, verr := os.Stat(v.path); verr == nil && os.SameFile(fi, vi) {
			return nil, fmt.Errorf("backup %s: that is the vault itself: %w", path, ErrRefused)
		}
		if !o.Force {
			return nil, fmt.Errorf("backup %s: %w", path, ErrExists)
		}
	}
	dir := filepath.Dir(path)
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	if o.Migrate {
		if err := v.noteMigration(path); err != nil {
			return nil, err
		}
	}
	tmp, _, err := v.compactCopy(dir, ".clientvault-backup-*.db", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp)
	n, seq, err := v.checkCopy(tmp)
	if err != nil {
		return nil, fmt.Errorf("backup: the copy does not check: %w", err)
	}
	if o.Force {
		err = os.Rename(tmp, path)
	} else if err = os.Link(tmp, path); errors.Is(err, os.ErrExist) {
		err = fmt.Errorf("backup %s: %w", path, ErrExists)
	}
	if err != nil {
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	rep := &BackupReport{Path: path, Size: fileSize(path), Records: n, AuditSeq: seq}
	if v.opts.ReadOnly || o.Migrate {
		return rep, nil
	}
	err = v.update(func(tx *txn) error {
		return v.appendAudit(tx, Event{Action: ActionBackup, Count: n, Detail: fmt.Sprintf("up to audit entry %d", seq)})
	})
	return rep, err
}

// checkCopy opens the vault file at path with this vault's keys and checks
// it without decrypting records: it is a vault of this vault's format, of
// the same vault (same vault key), with an authentic header, bbolt-consistent,
// every entry's MAC valid, and an intact audit chain. It returns the number
// of records and the last audit sequence number.
func (v *Vault) checkCopy(path string) (records int, seq uint64, err error) {
	c, err := openFile(path, Options{Now: v.opts.Now, ReadOnly: true, Actor: v.opts.Actor})
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	if c.hdr.VaultRecipient != v.hdr.VaultRecipient {
		return 0, 0, fmt.Errorf("%s is a backup of another vault: %w", path, ErrRefused)
	}
	c.keys = v.keys
	err = c.view(func(tx *txn) error {
		var bad error
		for err := range tx.file().Check() { // drained: Check's goroutine reads tx
			if bad == nil {
				bad = fmt.Errorf("file structure: %v: %w", err, ErrCorrupt)
			}
		}
		if bad != nil {
			return bad
		}
		meta := tx.Bucket(bucketMeta)
		if !hmacEqual(meta.Get(keyHeaderMAC), c.keys.mac(macHeader, meta.Get(keyHeader), meta.Get(keyKeys))) {
			return fmt.Errorf("vault header: %w", ErrTampered)
		}
		idb := tx.Bucket(bucketIDs)
		err := tx.Bucket(bucketRecords).ForEach(func(k, raw []byte) error {
			e, err := unmarshalEntry(raw)
			if err != nil {
				return fmt.Errorf("slot %x: %w", k, err)
			}
			if !authentic(c.keys, e.ID, raw) {
				return recordErr(e.ID, ErrTampered)
			}
			if c.visible(e) && bytes.Equal(idb.Get(e.ID[:]), k) {
				records++
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := c.walkAudit(tx, func(Event) error { return nil }); err != nil {
			return err
		}
		seq, _, err = c.auditHead(tx)
		return err
	})
	return records, seq, err
}

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Force replaces a vault that changed after the backup was taken.
	Force bool
}

// RestoreReport says what Restore put in place.
type RestoreReport struct {
	From    string `json:"from"`
	Records int    `json:"records"`
	// BackupSeq and VaultSeq are the last audit entries of the backup and
	// of the vault it replaced.
	BackupSeq uint64 `json:"backup_seq"`
	VaultSeq  uint64 `json:"vault_seq"`
	// Changes is how many changes the replaced vault had after the backup.
	Changes int `json:"changes"`
	// Reapplied lists the records the backup still held that had been
	// erased or expired in the replaced vault, destroyed again.
	Reapplied []string `json:"reapplied"`
	// Revoked says what withdrawals of consent, removals of shares and of
	// coworkers recorded in the replaced vault were applied again.
	Revoked []string `json:"revoked"`
	// Archived is how many audit entries of the replaced vault, which the
	// backup does not have, are kept as an archived segment of the log.
	Archived int `json:"archived"`
}

// readOnlyActions are the audit actions that change no record: a vault
// whose log has only these after a backup's last entry has not changed.
var readOnlyActions = map[string]bool{ActionView: true, ActionList: true, ActionBackup: true, ActionMigrate: true, ActionExport: true, ActionVerify: true, ActionAudit: true}

// Restore replaces the vault with the backup at from. The backup must be a
// clientvault vault (ErrCorrupt), of this same vault (ErrRefused) and pass
// the checks of Backup (ErrTampered). A vault that changed after the backup
// was taken is replaced only with o.Force (ErrRefused). The restored vault
// keeps the current owner keys and retention policy, and every erasure and
// expiry recorded in the vault it replaces is applied again, with its audit
// event (reason code and sealed reason), so that a restore never brings back
// a destroyed record; then it is compacted and put in place atomically.
func (v *Vault) Restore(from string, o RestoreOptions) (*RestoreReport, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	if v.opts.ReadOnly {
		return nil, fmt.Errorf("restore: the vault is open read-only: %w", ErrRefused)
	}

	if fi, err := os.Stat(from); err == nil {
		if vi, verr := os.Stat(v.path); verr == nil && os.SameFile(fi, vi) {
			return nil, fmt.Errorf("restore %s: that is the vault itself: %w", from, ErrRefused)
		}
	}
	r := &restoring{v: v, from: from}
	defer func() {
		if r.tmp != "" {
			os.Remove(r.tmp)
		}
	}()
	if err := r.checkBackup(); err != nil {
		return nil, err
	}
	// On a shared engine, the restored vault is written aside and put in
	// place only if nothing was committed since this point, before the
	// vault's history is read: a change made meanwhile on another computer
	// is never undone by the restore.
	var err error
	if r.aside, err = v.beginReplace(); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer r.aside.abort()
	// What happened in the vault since the backup, and every destruction.
	if err := v.view(r.readHistory); err != nil {
		return nil, err
	}
	if err := r.refuse(o); err != nil {
		return nil, err
	}
	// The restored state's version goes past the replaced vault's and the
	// anchor's, so that the anchor accepts it and refuses the old file.
	floor, err := v.StateVersion()
	if err != nil {
		return nil, err
	}
	if a, err := v.readAnchor(); err == nil && a != nil {
		floor = max(floor, a.version)
	}
	if err := r.build(floor); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := r.install(); err != nil {
		return nil, err
	}
	r.rep.Records -= len(r.rep.Reapplied)
	return r.rep, nil
}

// restoring is one run of Restore.
type restoring struct {
	v    *Vault
	from string
	// tmp is the private copy of the backup that is checked, rebuilt and
	// put in place.
	tmp string
	// aside is where it is written on a shared engine (beginReplace).
	aside *replacement
	rep   *RestoreReport
	// backupHead is the MAC of the backup's last audit entry.
	backupHead []byte
	// destroyed are the destructions the vault's log records; kept is what
	// of the vault's log the restored vault keeps; diverged is set when the
	// backup is of another history; wrapped is the vault's current owner
	// keys.
	destroyed []Event
	kept      *replaced
	diverged  bool
	wrapped   []byte
}

// checkBackup copies the backup beside the vault, so that what is checked
// is what is restored, and checks the copy.
func (r *restoring) checkBackup() error {
	var err error
	r.tmp, err = copyFileTo(r.from, r.v.scratchDir(), ".clientvault-restore-*.db")
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup %s: %w", r.from, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	n, backupSeq, err := r.v.checkCopy(r.tmp)
	if err != nil {
		return fmt.Errorf("backup %s: %w", r.from, err)
	}
	r.rep = &RestoreReport{From: r.from, Records: n, BackupSeq: backupSeq, Reapplied: []string{}, Revoked: []string{}}
	err = readVault(r.tmp, r.v, func(c *Vault, tx *txn) error {
		_, r.backupHead, err = c.auditHead(tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("backup %s: %w", r.from, err)
	}
	return nil
}

// readHistory reads the vault's log: the changes since the backup, every
// destruction, whether the backup shares the vault's history, and what of
// the log the restored vault keeps.
func (r *restoring) readHistory(tx *txn) error {
	v, rep := r.v, r.rep
	r.wrapped = clone(tx.Bucket(bucketMeta).Get(keyKeys))
	err := v.walkAudit(tx, func(e Event) error {
		if e.Seq > rep.BackupSeq && !readOnlyActions[e.Action] {
			rep.Changes++
		}
		if live, ok := liveEffect[e.Action]; ok && !live {
			r.destroyed = append(r.destroyed, e)
		}
		rep.VaultSeq = e.Seq
		return nil
	})
	if err != nil {
		return err
	}
	// The chain is intact, so the backup shares the vault's history if its
	// last entry's MAC is the vault's entry of the same number.
	at := tx.Bucket(bucketAudit).Get(seqKey(rep.BackupSeq))
	r.diverged = len(at) < macLen || !bytes.Equal(at[:macLen], r.backupHead)
	// A backup of another history shares none of the log: all of it is
	// kept, and all its revocations are applied again.
	base := rep.BackupSeq
	if r.diverged {
		base = 0
	}
	r.kept, err = v.readReplaced(tx, base)
	return err
}

// refuse refuses, without o.Force, a backup of another history or of a
// vault that changed since.
func (r *restoring) refuse(o RestoreOptions) error {
	switch {
	case o.Force:
		return nil
	case r.diverged:
		return fmt.Errorf("backup %s: its history differs from the vault's at audit entry %d: %w", r.from, r.rep.BackupSeq, ErrRefused)
	case r.rep.Changes > 0:
		return fmt.Errorf("backup %s: the vault has %s made after it: %w", r.from, plural(r.rep.Changes, "change"), ErrRefused)
	}
	return nil
}

// build makes the restored vault of the copy, beside the current one, with
// its state version raised to floor, and syncs it.
func (r *restoring) build(floor uint64) error {
	v := r.v
	nv, err := openFile(r.tmp, Options{Now: v.opts.Now, Actor: v.opts.Actor, LockTimeout: v.opts.LockTimeout})
	if err != nil {
		return err
	}
	nv.keys = v.keys
	nv.hooks = v.hooks
	if err := nv.upgradeState(); err != nil {
		nv.Close()
		return err
	}
	err = nv.update(func(tx *txn) error { return r.rewrite(nv, tx, floor) })
	// Always compacted: the backup file's freed pages, if it has any, may
	// hold what was destroyed before it was taken.
	if err == nil {
		err = nv.compact()
		r.tmp = nv.path // compact renamed a new file over the same name
	}
	if cerr := nv.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncFile(r.tmp)
	}
	return err
}

// rewrite makes nv, the backup's copy, the restored vault, in tx.
func (r *restoring) rewrite(nv *Vault, tx *txn, floor uint64) error {
	rep := r.rep
	if err := tx.raiseVersion(floor); err != nil {
		return err
	}
	// The current owner keys and policy: the backup's may be those of an
	// owner key since replaced.
	if err := tx.Bucket(bucketMeta).Put(keyKeys, r.wrapped); err != nil {
		return err
	}
	nv.hdr = r.v.hdr
	if err := nv.putHeader(tx); err != nil {
		return err
	}
	if err := r.destroyAgain(nv, tx); err != nil {
		return err
	}
	var err error
	if rep.Revoked, err = nv.reapply(tx, r.kept); err != nil {
		return err
	}
	seg, err := nv.archiveTail(tx, r.kept)
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("backup up to audit entry %d replaced the vault at entry %d", rep.BackupSeq, rep.VaultSeq)
	if seg > 0 {
		rep.Archived = len(r.kept.tail)
		detail += fmt.Sprintf("; its entries %d to %d are kept as archived segment %d", r.kept.base+1, rep.VaultSeq, seg)
	}
	return nv.appendAudit(tx, Event{Action: ActionRestore, Count: len(rep.Reapplied), Detail: detail})
}

// destroyAgain destroys in nv the records the backup holds that the
// replaced vault's log says were destroyed, each with its event.
func (r *restoring) destroyAgain(nv *Vault, tx *txn) error {
	idb := tx.Bucket(bucketIDs)
	done := map[ID]bool{}
	for _, e := range r.destroyed {
		var present []ID
		for _, s := range append(slices.Clone(e.Records), e.Record) {
			id, err := ParseID(s)
			if err != nil || done[id] || idb.Get(id[:]) == nil {
				continue
			}
			done[id] = true
			present = append(present, id)
		}
		if len(present) == 0 {
			continue
		}
		ev := Event{Action: e.Action, Detail: e.Detail + " (" + ReasonReapplied + ")", Note: e.Note}
		if err := nv.destroy(tx, present, ev); err != nil {
			return err
		}
		r.rep.Reapplied = append(r.rep.Reapplied, idStrings(present)...)
	}
	return nil
}

// install puts the restored vault in place of the current one and opens
// it; its state is the newest now, whatever the anchor said.
func (r *restoring) install() error {
	v := r.v
	if v.remote != nil {
		if err := v.replaceRemote(r.aside, r.tmp); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		return v.anchorCurrent()
	}
	if err := os.Rename(r.tmp, v.path); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	r.tmp = "" // nothing left to remove
	if err := syncDir(filepath.Dir(v.path)); err != nil {
		return err
	}
	if err := v.reopen(); err != nil {
		return err
	}
	return v.anchorCurrent()
}

// replacement is a vault written aside on a shared engine, which replaces
// the vault on it in one step (store.Replacer); nil on a file.
type replacement struct {
	store.Replacement
	done bool
	// staff are the coworkers of the vault it replaces, whose access on
	// the engine is renewed or taken away once it is published.
	staff []string
}

// beginReplace begins a replacement of the vault on a shared engine; it is
// nil on a file, which is replaced by renaming a new file over it.
func (v *Vault) beginReplace() (*replacement, error) {
	if v.remote == nil {
		return nil, nil
	}
	r, ok := v.remote.(store.Replacer)
	if !ok {
		return nil, fmt.Errorf("the engine cannot replace the vault in one step: %w", ErrRefused)
	}
	rep, err := r.Replace()
	if err != nil {
		return nil, err
	}
	aside := &replacement{Replacement: rep}
	if v.access() != nil {
		if aside.staff, err = v.staffNames(); err != nil {
			aside.abort()
			return nil, err
		}
	}
	return aside, nil
}

// abort deletes what was written aside, unless it was published.
func (r *replacement) abort() {
	if r != nil && !r.done {
		r.Abort()
	}
}

// replaceRemote copies the vault file tmp into the replacement r and
// publishes it: the engine's readers see the old vault until then, and the
// new one whole after. A commit made to the engine since the replacement
// began, on any computer, makes it fail with ErrBusy and changes nothing.
// The replaced vault's ciphertexts then leave the engine's history.
func (v *Vault) replaceRemote(r *replacement, tmp string) error {
	src, err := openFile(tmp, Options{Now: v.opts.Now, ReadOnly: true})
	if err != nil {
		return err
	}
	defer src.Close()
	if err := src.view(func(tx *txn) error { return copyStore(r.Engine(), tx.Tx, &MigrateReport{}) }); err != nil {
		return fmt.Errorf("the engine did not take the new vault, and holds the old one as it was: %w", err)
	}
	if err := v.hooks.at("publish"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	err = r.Publish(ctx)
	if errors.Is(err, store.ErrReplaced) {
		return fmt.Errorf("another computer changed the vault while it was replaced, so nothing was replaced (%w)", ErrBusy)
	}
	published := err == nil || errors.Is(err, store.ErrOldContentLeft)
	r.done = published || errors.Is(err, store.ErrCommitUnknown)
	switch {
	case errors.Is(err, store.ErrCommitUnknown):
		return fmt.Errorf("the engine did not say whether it took the new vault; run 'clientvault verify' to see which it holds: %w", err)
	case !published:
		return fmt.Errorf("the engine holds the old vault as it was: %w", err)
	}
	v.pending, v.rooted = map[uint64]bool{}, map[string]map[byte]bool{}
	if rerr := v.view(v.readHeader); rerr != nil {
		return rerr
	}
	if err != nil {
		return fmt.Errorf("the new vault is in place: %w", err)
	}
	if err := v.regrantAll(r.staff); err != nil {
		return fmt.Errorf("the new vault is in place, but its coworkers' access on the engine was not renewed (connect as its administrator and share again): %w", err)
	}
	if c, ok := v.remote.(Compacter); ok {
		// What the replaced vault held, destroyed since the backup
		// or not, leaves the engine's history too.
		return c.Compact(ctx)
	}
	return nil
}

// scratchDir is where the vault writes its temporary copies: beside the
// file, or for a vault on another engine, the system's temporary directory
// (they are sealed, as the vault is).
func (v *Vault) scratchDir() string {
	if v.remote != nil {
		return os.TempDir()
	}
	return filepath.Dir(v.path)
}

// reopen opens the file now at the vault's path, which a restore replaced,
// and releases the old one.
func (v *Vault) reopen() error {
	db, err := openBolt(v.path, v.lockTimeout(), openWrite)
	if err != nil {
		return fmt.Errorf("reopen the restored vault: %w", err)
	}
	old := v.db
	v.db = db
	old.Close()
	v.pending = map[uint64]bool{}
	v.rooted = map[string]map[byte]bool{}
	if err := v.view(v.readHeader); err != nil {
		return fmt.Errorf("reopen the restored vault: %w", err)
	}
	if len(v.pending) > 0 {
		return v.discardStages()
	}
	return nil
}

// readVault opens the vault file at path read-only with v's keys and runs fn
// in a read transaction.
func readVault(path string, v *Vault, fn func(c *Vault, tx *txn) error) error {
	c, err := openFile(path, Options{Now: v.opts.Now, ReadOnly: true})
	if err != nil {
		return err
	}
	defer c.Close()
	c.keys = v.keys
	return c.view(func(tx *txn) error { return fn(c, tx) })
}

// copyFileTo copies the file at src to a new synced temporary file in dir.
func copyFileTo(src, dir, pattern string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.ReadFrom(in)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// RestoreNew puts the backup at from in place as a new vault at path, where
// there is none (a lost laptop): the backup must open with ids and pass the
// checks of Backup. It never replaces a file (ErrExists); with a vault at
// path, use Restore, which re-applies that vault's erasures.
func RestoreNew(path, from string, ids []age.Identity, o Options) (*RestoreReport, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("vault %s: %w", path, ErrExists)
	}
	dir := filepath.Dir(path)
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	tmp, n, seq, err := checkedBackup(from, dir, ids, o, nil)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("vault %s: %w", path, ErrExists)
		}
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	o.Restoring = true
	v, err := openFile(path, o)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	return restoredNew(v, ids, from, n, seq)
}

// RestoreNewIn is RestoreNew for a vault on an engine (etcd) that holds
// nothing yet, named name in messages: the backup, checked as RestoreNew
// checks it, is copied into dst as MigrateTo copies a vault, the meta
// bucket last, so that dst holds no vault that opens until the copy is
// whole, and the coworkers get their access on it as migrate gives it.
// dst stays open; the caller closes it.
func RestoreNewIn(dst store.Engine, name, from string, ids []age.Identity, o Options) (*RestoreReport, error) {
	if empty, err := engineEmpty(dst); err != nil {
		return nil, fmt.Errorf("vault %s: %w", name, err)
	} else if !empty {
		return nil, fmt.Errorf("vault %s: it holds data already (a vault, or another program's keys): %w", name, ErrExists)
	}
	tmp, n, seq, err := checkedBackup(from, os.TempDir(), ids, o, func(c *Vault) error {
		err := c.view(func(src *txn) error { return copyStore(dst, src.Tx, &MigrateReport{}) })
		if err != nil {
			return fmt.Errorf("restore to %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	os.Remove(tmp)
	o.Restoring = true
	v, err := OpenEngine(dst, name, o)
	if err != nil {
		return nil, err
	}
	rep, err := restoredNew(v, ids, from, n, seq)
	if err != nil {
		return nil, err
	}
	// On an engine with access control, the coworkers get their users and
	// the grants of their shares, as migrate makes them.
	if err := v.regrantAll(nil); err != nil {
		return rep, fmt.Errorf("restore to %s: the vault is in place and checks, but its coworkers' access on the engine was not made (connect as its administrator and share again): %w", name, err)
	}
	return rep, nil
}

// checkedBackup copies the backup at from into a new file in dir and
// checks the copy: it opens with ids and passes the checks of Backup. Then
// use, if not nil, reads the copy, still open. It returns the copy's path,
// which the caller removes, and the backup's records and last audit entry.
func checkedBackup(from, dir string, ids []age.Identity, o Options, use func(*Vault) error) (string, int, uint64, error) {
	tmp, err := copyFileTo(from, dir, ".clientvault-restore-*.db")
	if errors.Is(err, os.ErrNotExist) {
		return "", 0, 0, fmt.Errorf("backup %s: %w", from, ErrNotFound)
	}
	if err != nil {
		return "", 0, 0, fmt.Errorf("restore: %w", err)
	}
	o.ReadOnly, o.Restoring = true, true
	c, err := openFile(tmp, o)
	if err != nil {
		os.Remove(tmp)
		return "", 0, 0, fmt.Errorf("backup %s: %w", from, err)
	}
	err = c.Unlock(ids...)
	var n int
	var seq uint64
	if err == nil {
		n, seq, err = c.checkCopy(tmp)
	}
	if err != nil {
		err = fmt.Errorf("backup %s: %w", from, err)
	} else if use != nil {
		err = use(c)
	}
	c.Close()
	if err != nil {
		os.Remove(tmp)
		return "", 0, 0, err
	}
	return tmp, n, seq, nil
}

// restoredNew records in v, a backup just put in place where there was no
// vault, that it was restored, past any version of the vault seen here.
func restoredNew(v *Vault, ids []age.Identity, from string, n int, seq uint64) (*RestoreReport, error) {
	err := v.Unlock(ids...)
	if err == nil {
		err = v.update(func(tx *txn) error {
			// Past any version of this vault seen here, which the anchor
			// would otherwise hold against the backup.
			if a, err := v.readAnchor(); err != nil {
				return err
			} else if a != nil {
				if err := tx.raiseVersion(a.version); err != nil {
					return err
				}
			}
			return v.appendAudit(tx, Event{Action: ActionRestore, Detail: fmt.Sprintf("backup up to audit entry %d, where there was no vault", seq)})
		})
	}
	if err != nil {
		return nil, err
	}
	return &RestoreReport{From: from, Records: n, BackupSeq: seq, Reapplied: []string{}}, nil
}
