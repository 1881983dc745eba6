package vault

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/clientvault/clientvault/vault/store"
	bolt "go.etcd.io/bbolt"
)

// MigrateReport describes a vault copied to another engine and checked.
type MigrateReport struct {
	To      string `json:"to"`
	Records int    `json:"records"`
	Keys    int    `json:"keys"`
	Bytes   int64  `json:"bytes"`
}

// MigrateTo copies the vault, sealed as it is, byte for byte, into the empty
// engine dst (etcd), named to in messages, and checks the copy as verify
// does, with the vault's keys. The copy is written in transactions within
// the engine's limits, the meta bucket last: until it is there, dst holds no
// vault that opens. To copy to a file, use Backup: a backup is a vault file.
// dst stays open; the caller closes it.
func (v *Vault) MigrateTo(dst store.Engine, to string) (*MigrateReport, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	empty, err := engineEmpty(dst)
	if err != nil {
		return nil, fmt.Errorf("migrate to %s: %w", to, err)
	}
	if !empty {
		return nil, fmt.Errorf("migrate to %s: it holds data already (a vault, or another program's keys): %w", to, ErrExists)
	}
	if err := v.noteMigration(to); err != nil {
		return nil, err
	}
	rep := &MigrateReport{To: to}
	err = v.view(func(src *txn) error {
		return copyStore(dst, src.Tx, rep)
	})
	if err != nil {
		return nil, fmt.Errorf("migrate to %s: %w", to, err)
	}
	nv := &Vault{remote: dst, path: to, opts: Options{Now: v.opts.Now, Actor: v.opts.Actor, ReadOnly: true},
		pending: map[uint64]bool{}, rooted: map[string]map[byte]bool{}, keys: v.keys}
	if err := nv.view(nv.readHeader); err != nil {
		return nil, fmt.Errorf("migrate to %s: the copy does not open: %w", to, err)
	}
	vr, err := nv.Verify()
	if err != nil {
		return nil, fmt.Errorf("migrate to %s: the copy does not check: %w", to, err)
	}
	if !vr.OK() {
		return nil, fmt.Errorf("migrate to %s: the copy does not check (%s): %w", to, vr.Problems[0].String(), ErrCorrupt)
	}
	rep.Records = vr.Records
	// On an engine with access control, the coworkers get their users
	// and the grants of their shares, as staff add and share make them.
	if err := nv.regrantAll(nil); err != nil {
		return rep, fmt.Errorf("migrate to %s: the vault is copied and checks, but its coworkers' access on the engine was not made (connect as its administrator and run the migrate into an empty prefix again): %w", to, err)
	}
	return rep, nil
}

// engineEmpty reports whether e holds no bucket at all.
func engineEmpty(e store.Engine) (bool, error) {
	empty := true
	err := e.View(func(tx store.Tx) error {
		return tx.ForEach(func([]byte, store.Bucket) error { empty = false; return nil })
	})
	return empty, err
}

// copyStore copies every bucket of src, with its sequence, into dst, in
// transactions within dst's limits, the meta bucket last.
func copyStore(dst store.Engine, src store.Tx, rep *MigrateReport) error {
	lim := store.LimitsOf(dst)
	var names [][]byte
	err := src.ForEach(func(name []byte, _ store.Bucket) error {
		if !bytes.Equal(name, bucketMeta) {
			names = append(names, clone(name))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range append(names, bucketMeta) {
		b := src.Bucket(name)
		if bb := store.BoltBucketOf(b); bb != nil && hasNested(bb) {
			return fmt.Errorf("bucket %s holds a nested bucket, which a vault never makes: %w", name, ErrCorrupt)
		}
		var lapses func(k []byte) time.Time
		if bytes.Equal(name, bucketShares) {
			lapses = lapsingTimes(src.Bucket(bucketLapsing))
		}
		if err := copyBucketTo(dst, name, b, lim, lapses, rep); err != nil {
			return err
		}
	}
	return nil
}

// lapsingTimes returns when each share of a lapsing bucket (nil: none)
// goes, by its key; the zero time for one that does not lapse. The entries'
// MACs are checked where the vault reads them, not here: a share put to
// lapse at a forged time would be found gone before its time.
func lapsingTimes(lapsing store.Bucket) func(k []byte) time.Time {
	return func(k []byte) time.Time {
		if lapsing == nil {
			return time.Time{}
		}
		if e := lapsing.Get(k); len(e) >= 8 {
			return time.Unix(int64(binary.BigEndian.Uint64(e[:8])), 0)
		}
		return time.Time{}
	}
}

// copyBucketTo copies the bucket src, named name, into dst. The meta bucket
// is copied in one transaction, whatever the limits: it is what makes the
// copy a vault. A key for which lapses (if set) gives a time to come is put
// to expire then, on an engine whose keys expire (a share that lapses by
// itself, lapsing.go).
func copyBucketTo(dst store.Engine, name []byte, src store.Bucket, lim store.Limits, lapses func(k []byte) time.Time, rep *MigrateReport) error {
	c := src.Cursor()
	k, val := c.First()
	first := true
	for first || k != nil {
		start := clone(k)
		var keys int
		var size int64
		err := dst.Update(func(tx store.Tx) error {
			keys, size = 0, 0
			if start != nil {
				k, val = c.Seek(start) // from the same key, if the engine runs fn again
			}
			b, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			if first {
				if err := b.SetSequence(src.Sequence()); err != nil {
					return err
				}
			}
			for ; k != nil; k, val = c.Next() {
				meta := bytes.Equal(name, bucketMeta)
				if !meta && keys > 0 && (lim.Ops > 0 && keys+2 > lim.Ops || lim.Bytes > 0 && int(size)+len(k)+len(val)+4096 > lim.Bytes) {
					break
				}
				put := b.Put
				if e, ok := b.(store.Expirer); ok && lapses != nil {
					if at := lapses(k); at.After(time.Now()) {
						put = func(k, v []byte) error { return e.PutExpiring(k, v, at) }
					}
				}
				if err := put(clone(k), clone(val)); err != nil {
					return err
				}
				keys++
				size += int64(len(k) + len(val))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
		rep.Keys += keys
		rep.Bytes += size
		first = false
	}
	return nil
}

// hasNested reports whether a bbolt bucket holds a nested bucket.
func hasNested(b *bolt.Bucket) bool {
	nested := false
	_ = b.ForEachBucket(func([]byte) error { nested = true; return nil })
	return nested
}

// noteMigration records in the audit log that the vault is copied to to,
// before the copy, so that the copy holds the entry and is at the vault's
// version: the rollback anchor takes either as the newest.
func (v *Vault) noteMigration(to string) error {
	if v.opts.ReadOnly {
		return fmt.Errorf("migrate: opened read-only: %w", ErrRefused)
	}
	return v.update(func(tx *txn) error {
		return v.appendAudit(tx, Event{Action: ActionMigrate, Detail: "a copy to " + to + " begins (verify of the copy follows)"})
	})
}
