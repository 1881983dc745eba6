package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clientvault/clientvault/vault/store"

	bolt "go.etcd.io/bbolt"
)

// keyCompactPending, in the meta bucket, marks a vault whose destroyed
// records may still lie in freed pages. It is set in the transaction that
// destroys them and is absent from the compacted file, so a crash between
// the two leaves a marked vault, and the next Open that may write finishes
// the compaction.
var keyCompactPending = []byte("compact_pending")

// compactTxSize is about how many bytes of memory the copy of a
// compaction lets one write transaction hold before committing it: the
// keys and values, and bbolt's 64-byte inode for each.
const compactTxSize = 16 << 20

// compactTxKeys is the most keys one transaction of a compaction's copy
// takes. bbolt appends every key a transaction puts in order to one node,
// whose slice of 64-byte entries grows by copying: with only the byte
// budget, a transaction of 24-byte index keys held 190,000 of them, and
// growing those slices was a third of the copy's CPU. With 2,048 keys a
// transaction, copying a 100,000-record vault took 0.50-0.55 s instead of
// 0.68-0.74 (CPU 0.50 s instead of 0.85), and the file came out 2% smaller.
const compactTxKeys = 2048

// inodeSize is the memory bbolt's node holds per key besides the key.
const inodeSize = 64

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
	// step, if set, is called before each step ("copy", "rename", and
	// "publish" of a vault replaced on a shared engine); an
	// error stops the compaction there as a crash would.
	step func(name string) error
	// noStateRoot, set only by benchmarks, keeps no state root, so that
	// the root's cost is measured against the same work without it.
	noStateRoot bool
}

func (h *compactHooks) at(name string) error {
	if h.step == nil {
		return nil
	}
	return h.step(name)
}

// markCompaction records in tx that freed pages hold destroyed data.
func markCompaction(tx *txn) error {
	return tx.Bucket(bucketMeta).Put(keyCompactPending, []byte{1})
}

// compactionPending reports whether a destruction was not yet compacted away.
func (v *Vault) compactionPending() bool {
	pending := false
	_ = v.view(func(tx *txn) error {
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
// old one (rewrite).
func (v *Vault) compact() error {
	return v.rewrite(nil, nil)
}

// Compacter is an engine that can purge what was deleted from its own
// storage (etcd: compact the history, defragment every member).
type Compacter interface {
	Compact(ctx context.Context) error
}

// rewriteRemote is rewrite on a shared engine, which has no file to copy:
// what drop names is deleted in transactions the engine's limits allow, the
// first of which runs after (the audit entry: a destruction is logged
// before it is carried out, so an interrupted one is never unlogged, and the
// next run finishes it), and the engine is then asked to purge its history
// of them (Compacter). The marker of a pending compaction goes last.
func (v *Vault) rewriteRemote(drop doomed, after func(tx *txn) error) error {
	keys := drop.sorted()
	per := len(keys)
	// A delete of a guarded object moves its index entry and shard root
	// too.
	if n := v.perTxn(3, 64); n > 0 {
		per = n
	}
	for first := true; first || len(keys) > 0; first = false {
		n := min(per, len(keys))
		err := v.update(func(tx *txn) error {
			if first && after != nil {
				if err := after(tx); err != nil {
					return err
				}
			}
			// Each delete reads the old value (the state root): on etcd,
			// each bucket's keys in a few requests, not one each.
			if err := prefetchDoomed(tx, keys[:n]); err != nil {
				return err
			}
			for _, k := range keys[:n] {
				if b := tx.Bucket(k.bucket); b != nil {
					if err := b.Delete(k.key); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("destroy: %w", err)
		}
		keys = keys[n:]
	}
	if c, ok := v.remote.(Compacter); ok {
		if err := c.Compact(context.Background()); err != nil {
			return fmt.Errorf("purge the engine's history (the records are deleted; run the command again to purge): %w", err)
		}
	}
	return v.update(func(tx *txn) error { return tx.Bucket(bucketMeta).Delete(keyCompactPending) })
}

// prefetchDoomed reads into tx the keys that go, which are sorted by
// bucket, bucket by bucket (bucket.prefetchKeys).
func prefetchDoomed(tx *txn, keys []doomedKey) error {
	for len(keys) > 0 {
		n := 1
		for n < len(keys) && bytes.Equal(keys[n].bucket, keys[0].bucket) {
			n++
		}
		if b := tx.Bucket(keys[0].bucket); b != nil {
			ks := make([][]byte, n)
			for i := range n {
				ks[i] = keys[i].key
			}
			if err := b.prefetchKeys(ks); err != nil {
				return err
			}
		}
		keys = keys[n:]
	}
	return nil
}

// rewrite writes the vault's live data into a new file, without what drop
// names (which may be nil), runs after (if set) in one more transaction of
// the new file, and puts it in place of the old one: copy, fsync, close,
// rename over the vault, fsync the directory, reopen. The old file stays
// whole until the rename, and the rename is atomic, so a crash or a full
// disk at any point leaves either the old vault or the new one. The vault's
// lock is held throughout; a process that was waiting for it notices the
// file was replaced and opens the new one (Open).
func (v *Vault) rewrite(drop doomed, after func(tx *txn) error) error {
	if v.opts.ReadOnly {
		return fmt.Errorf("compact vault: opened read-only: %w", ErrRefused)
	}
	if v.remote != nil {
		return v.rewriteRemote(drop, after)
	}
	dir, prefix := filepath.Dir(v.path), compactPrefix+filepath.Base(v.path)+"-"
	removeStale(dir, prefix)
	if err := v.hooks.at("copy"); err != nil {
		return fmt.Errorf("compact vault: %w", err)
	}
	tmp, st, err := v.compactCopy(dir, prefix+"*", drop, after)
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
	published, err = v.putInPlace(dir, tmp)
	if err != nil {
		return fmt.Errorf("compact vault: %w", err)
	}
	v.noteAnchor(v.advanceAnchor(st))
	return nil
}

// putInPlace renames the synced file tmp over the vault, syncs the
// directory dir, and reopens the vault from the new file. published reports
// whether the rename was made: from then on the new file is the vault.
func (v *Vault) putInPlace(dir, tmp string) (published bool, err error) {
	if err := os.Rename(tmp, v.path); err != nil {
		return false, err
	}
	if err := syncDir(dir); err != nil {
		return true, err
	}
	db, err := openBolt(v.path, v.lockTimeout(), openWritten)
	if err != nil {
		return true, fmt.Errorf("reopen the new vault file: %w", err)
	}
	old := v.db
	v.db = db
	return true, old.Close()
}

// compactCopy writes the live data of the vault, as one read transaction
// sees it, to a new temporary file in dir, without the compaction marker
// and what drop names, runs after in it, and syncs it. Freed pages are not
// copied: whatever they held (destroyed records, ciphertexts since
// re-sealed) is not in the copy. The copy keeps the vault's page size and
// fills every page (copyLive).
func (v *Vault) compactCopy(dir, pattern string, drop doomed, after func(tx *txn) error) (string, *state, error) {
	tmp, dst, err := v.createCopy(dir, pattern)
	if err != nil {
		return "", nil, err
	}
	// A copy that leaves out no object and adds none keeps the state (the
	// marker it drops is outside the root): no keys are needed, and a
	// compaction interrupted before is finished on opening, locked.
	changes := len(drop) > 0 || after != nil
	drop = drop.withObjects()
	var st *state
	err = v.view(func(src *txn) error {
		defer readAround(src)() // the copy reads every live page
		if changes {
			if st, err = v.stateWithout(src, drop); err != nil {
				return err
			}
		}
		return copyLive(dst, src.Tx, compactTxSize, drop.has)
	})
	if err == nil && changes {
		// The copy's head is the old file's: its root still counts what
		// was left out. This transaction commits the state without it, at
		// the next version, with what after writes.
		err = dst.Update(func(tx *bolt.Tx) error {
			t := &txn{Tx: store.BoltTx{Tx: tx}, v: v, st: st, changed: true}
			if after != nil {
				if err := after(t); err != nil {
					return err
				}
			}
			if t.err != nil {
				return t.err
			}
			return t.commit()
		})
	}
	if err := closeCopy(dst, tmp, err); err != nil {
		return "", nil, err
	}
	return tmp, st, nil
}

// createCopy creates a new, empty database in a temporary file in dir
// named by pattern, readable by the user only, for a copy of the vault.
func (v *Vault) createCopy(dir, pattern string) (string, *bolt.DB, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", nil, err
	}
	tmp := f.Name()
	f.Close()
	if err := os.Chmod(tmp, 0o600); err != nil {
		os.Remove(tmp)
		return "", nil, err
	}
	// Mapping the new file at the old one's size up front spares bbolt a
	// remap, which copies every dirty page, each time the file grows. One
	// fsync at the end instead of one per copied transaction: the file
	// means nothing until it is renamed into place.
	mmapSize, pageSize := 0, vaultPageSize
	if v.db != nil {
		mmapSize, pageSize = int(fileSize(v.path)), v.db.Info().PageSize
	}
	if v.hooks.maxSize > 0 {
		mmapSize = min(mmapSize, v.hooks.maxSize)
	}
	// The copy keeps the vault's page size: bbolt would give a new file the
	// system's (4 KB), which holds two 1.4 KB entries a page, so the
	// "compacted" vault grew by a tenth and took twice the CPU to write.
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second, NoSync: true, MaxSize: v.hooks.maxSize,
		InitialMmapSize: mmapSize, PageSize: pageSize})
	if err != nil {
		os.Remove(tmp)
		return "", nil, err
	}
	// Grown in the vault's steps, not bbolt's 16 MB; what bbolt grows the
	// file by beyond its last page is cut off below.
	dst.AllocSize = vaultAllocSize
	return tmp, dst, nil
}

// closeCopy closes the copy dst in the file tmp, cuts the file after its
// last page and syncs it; if err (how the copy went) or any of that fails,
// it removes the file and returns the error.
func closeCopy(dst *bolt.DB, tmp string, err error) error {
	var size int64 // up to the end of the last page
	if err == nil {
		err = dst.View(func(tx *bolt.Tx) error {
			size = tx.Size()
			return nil
		})
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// bbolt grows a file in steps and zero-fills the rest of the last
		// one: up to 4 MB of nothing, which made the "compacted" copy of a
		// small vault bigger than the vault (6.1 MB to 8.8 MB). A file that
		// ends with its last page is what bbolt's own Tx.WriteTo writes.
		err = os.Truncate(tmp, size)
	}
	if err == nil {
		err = syncFile(tmp)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
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

// copyLive copies every bucket of src, nested ones too, with their
// sequences, into the empty database dst, in key order with pages filled
// completely, except the compaction marker. It does what bolt.Compact does,
// but commits by the memory a transaction holds (maxTx bytes, counting
// bbolt's entry for each key) and by its number of keys (compactTxKeys)
// rather than by the bytes of keys and values: bbolt appends each key of a
// transaction to one node, and a bucket of small keys (the blind index)
// grew that node to hundreds of thousands of entries, reallocated as it
// grew. The keys (and nested buckets) for which skip
// returns true, given the path of their bucket, are left out.
func copyLive(dst *bolt.DB, src store.Tx, maxTx int, skip func(path [][]byte, k []byte) bool) error {
	c := &copier{dst: dst, max: maxTx, skip: skip}
	var err error
	if c.tx, err = dst.Begin(true); err != nil {
		return err
	}
	defer func() {
		if c.tx != nil {
			c.tx.Rollback()
		}
	}()
	err = src.ForEach(func(name []byte, b store.Bucket) error {
		if bb := store.BoltBucketOf(b); bb != nil {
			return c.copyBucket(bb, nil, name)
		}
		return c.copyStore(b, name)
	})
	if err != nil {
		return err
	}
	err = c.tx.Commit()
	c.tx = nil
	return err
}

// copier is the state of copyLive: the write transaction and the bucket it
// writes to.
type copier struct {
	dst  *bolt.DB
	tx   *bolt.Tx
	max  int
	size int
	keys int
	skip func(path [][]byte, k []byte) bool
	// path names the bucket b, which is nil when it must be looked up
	// again (after a commit).
	path [][]byte
	b    *bolt.Bucket
}

// copyBucket creates the bucket name in the bucket at parent (the root if
// parent is empty) and copies src into it.
func (c *copier) copyBucket(src *bolt.Bucket, parent [][]byte, name []byte) error {
	if err := c.account(len(name) + inodeSize); err != nil {
		return err
	}
	var nb *bolt.Bucket
	var err error
	if len(parent) == 0 {
		nb, err = c.tx.CreateBucket(name)
	} else {
		var pb *bolt.Bucket
		if pb, err = c.bucket(parent); err == nil {
			nb, err = pb.CreateBucket(name)
		}
	}
	if err != nil {
		return err
	}
	if err := nb.SetSequence(src.Sequence()); err != nil {
		return err
	}
	path := append(parent[:len(parent):len(parent)], name)
	marker := len(path) == 1 && bytes.Equal(name, bucketMeta)
	cur := src.Cursor()
	for k, val := cur.First(); k != nil; k, val = cur.Next() {
		if c.skip(path, k) {
			continue
		}
		if val == nil {
			if sub := src.Bucket(k); sub != nil {
				if err := c.copyBucket(sub, path, k); err != nil {
					return err
				}
				continue
			}
			val = []byte{}
		}
		if marker && bytes.Equal(k, keyCompactPending) {
			continue
		}
		if err := c.put(path, k, val); err != nil {
			return err
		}
	}
	return nil
}

// put copies one key into the bucket at path, committing first if the
// transaction is full.
func (c *copier) put(path [][]byte, k, val []byte) error {
	if err := c.account(len(k) + len(val) + inodeSize); err != nil {
		return err
	}
	b, err := c.bucket(path)
	if err != nil {
		return err
	}
	return b.Put(k, val)
}

// copyStore copies the bucket name of another engine, which has no nested
// buckets, into a bucket of that name.
func (c *copier) copyStore(src store.Bucket, name []byte) error {
	if err := c.account(len(name) + inodeSize); err != nil {
		return err
	}
	nb, err := c.tx.CreateBucket(name)
	if err == nil {
		err = nb.SetSequence(src.Sequence())
	}
	if err != nil {
		return err
	}
	path := [][]byte{name}
	marker := bytes.Equal(name, bucketMeta)
	cur := src.Cursor()
	for k, val := cur.First(); k != nil; k, val = cur.Next() {
		if c.skip(path, k) || marker && bytes.Equal(k, keyCompactPending) {
			continue
		}
		if err := c.put(path, k, val); err != nil {
			return err
		}
	}
	return nil
}

// account adds n bytes to the transaction, first committing it and
// beginning another if it would exceed its budget.
func (c *copier) account(n int) error {
	if c.size > 0 && (c.size+n > c.max || c.keys >= compactTxKeys) {
		if err := c.tx.Commit(); err != nil {
			c.tx = nil
			return err
		}
		var err error
		if c.tx, err = c.dst.Begin(true); err != nil {
			return err
		}
		c.size, c.keys, c.b = 0, 0, nil
	}
	c.size += n
	c.keys++
	return nil
}

// bucket returns the bucket at path in the current transaction, set to fill
// its pages completely: keys arrive in order.
func (c *copier) bucket(path [][]byte) (*bolt.Bucket, error) {
	if c.b != nil && slices.EqualFunc(path, c.path, bytes.Equal) {
		return c.b, nil
	}
	b := c.tx.Bucket(path[0])
	for _, name := range path[1:] {
		if b == nil {
			break
		}
		b = b.Bucket(name)
	}
	if b == nil {
		return nil, fmt.Errorf("copy: bucket %q vanished", path)
	}
	b.FillPercent = 1.0
	c.path, c.b = path, b
	return b, nil
}
