package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// keyCompactPending, in the meta bucket, marks a vault whose destroyed
// records may still lie in freed pages. It is set in the transaction that
// destroys them and is absent from the compacted file, so a crash between
// the two leaves a marked vault, and the next Open that may write finishes
// the compaction.
var keyCompactPending = []byte("compact_pending")

// compactTxSize is how many bytes bolt.Compact copies per transaction.
const compactTxSize = 64 << 20

// compactPrefix starts the names of a compaction's temporary files, which
// are in the vault's directory so that the rename that publishes one is
// atomic. The vault's own name follows, so that compacting one vault never
// touches another's files in the same directory.
const compactPrefix = ".clientvault-compact-"

// compactHooks let tests simulate a full disk or a crash during compaction.
type compactHooks struct {
	// maxSize, if non-zero, caps the size of the new file (bbolt's
	// Options.MaxSize): a full disk.
	maxSize int
	// step, if set, is called before each step ("copy", "rename"); an
	// error stops the compaction there as a crash would.
	step func(name string) error
}

func (h *compactHooks) at(name string) error {
	if h.step == nil {
		return nil
	}
	return h.step(name)
}

// markCompaction records in tx that freed pages hold destroyed data.
func markCompaction(tx *bolt.Tx) error {
	return tx.Bucket(bucketMeta).Put(keyCompactPending, []byte{1})
}

// compactionPending reports whether a destruction was not yet compacted away.
func (v *Vault) compactionPending() bool {
	pending := false
	_ = v.db.View(func(tx *bolt.Tx) error {
		pending = tx.Bucket(bucketMeta).Get(keyCompactPending) != nil
		return nil
	})
	return pending
}

// finishCompaction compacts a vault whose last destruction was interrupted
// before its compaction ended. A failure (a full disk) leaves the vault as
// it is, correct and marked, and is reported by Verify; the next command that
// writes tries again.
func (v *Vault) finishCompaction() {
	if v.opts.ReadOnly || !v.compactionPending() {
		return
	}
	_ = v.compact()
}

// compact rewrites the vault into a new file that holds only live data, so
// that no byte of a destroyed record remains, and puts it in place of the
// old one: copy, fsync, close, rename over the vault, fsync the directory,
// reopen. The old file stays whole until the rename, and the rename is
// atomic, so a crash or a full disk at any point leaves either the old vault
// or the new one. The vault's lock is held throughout; a process that was
// waiting for it notices the file was replaced and opens the new one (Open).
func (v *Vault) compact() error {
	if v.opts.ReadOnly {
		return fmt.Errorf("compact vault: opened read-only: %w", ErrRefused)
	}
	dir, prefix := filepath.Dir(v.path), compactPrefix+filepath.Base(v.path)+"-"
	removeStale(dir, prefix)
	if err := v.hooks.at("copy"); err != nil {
		return fmt.Errorf("compact vault: %w", err)
	}
	tmp, err := v.compactCopy(dir, prefix+"*")
	if err != nil {
		return fmt.Errorf("compact vault: %w", err)
	}
	published := false
	defer func() {
		if !published {
			os.Remove(tmp)
		}
	}()
	if err := v.hooks.at("rename"); err != nil {
		return fmt.Errorf("compact vault: %w", err)
	}
	if err := os.Rename(tmp, v.path); err != nil {
		return fmt.Errorf("compact vault: %w", err)
	}
	published = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("compact vault: %w", err)
	}
	db, err := bolt.Open(v.path, 0o600, &bolt.Options{Timeout: v.lockTimeout()})
	if err != nil {
		return fmt.Errorf("reopen the compacted vault: %w", err)
	}
	old := v.db
	v.db = db
	return old.Close()
}

// compactCopy writes the live data of the vault, as one read transaction
// sees it, to a new temporary file in dir, without the compaction marker,
// and syncs it. Freed pages are not copied: whatever they held (destroyed
// records, ciphertexts since re-sealed) is not in the copy.
func (v *Vault) compactCopy(dir, pattern string) (string, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	f.Close()
	if err := os.Chmod(tmp, 0o600); err != nil {
		os.Remove(tmp)
		return "", err
	}
	// Mapping the new file at the old one's size up front spares bbolt a
	// remap, which copies every dirty page, each time the file grows. One
	// fsync at the end instead of one per copied transaction: the file
	// means nothing until it is renamed into place.
	mmapSize := int(fileSize(v.path))
	if v.hooks.maxSize > 0 {
		mmapSize = min(mmapSize, v.hooks.maxSize)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second, NoSync: true, MaxSize: v.hooks.maxSize, InitialMmapSize: mmapSize})
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	err = bolt.Compact(dst, v.db, compactTxSize)
	if err == nil {
		err = dst.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Delete(keyCompactPending)
		})
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncFile(tmp)
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

func (v *Vault) lockTimeout() time.Duration {
	if v.opts.LockTimeout == 0 {
		return time.Second
	}
	return v.opts.LockTimeout
}

// removeStale deletes what an interrupted compaction of this vault left in
// dir: the files whose names start with prefix. Only the process holding the
// vault's write lock compacts it, so no other compaction of it is under way.
func removeStale(dir, prefix string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// replacedSince reports whether the file at path is no longer the one fi
// describes: a compaction renamed a new vault over it while this process
// waited for the lock of the old one.
func replacedSince(path string, fi os.FileInfo) bool {
	now, err := os.Stat(path)
	return err == nil && !os.SameFile(fi, now)
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, os.ErrInvalid) {
		return nil
	}
	return err
}
