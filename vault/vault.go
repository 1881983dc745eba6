// Package vault is clientvault's store: one bbolt file holding client records,
// each sealed with age, authenticated with a key only the vault's holders
// have, findable by name through a keyed blind index, with an append-only,
// MAC-chained audit log. It is the only package that imports bbolt; age is
// imported here, by internal/agent (the unlock agent), and by the command,
// which parses identities and recipients for the person at the keyboard.
//
// The package never prints, prompts, reads the clock or exits: the clock is
// Options.Now and prompts are a Prompter, both passed in.
package vault

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/vault/store"
	bolt "go.etcd.io/bbolt"
)

// FormatVersion is the version of the vault file's layout. Open refuses a
// vault with a higher one, so an old clientvault never misreads a new vault.
// Format 2 added the state root to the audit head (state.go); a format 1
// vault is upgraded when its owner first unlocks it for writing.
const FormatVersion = 2

// header is the vault's public description, MAC'd with the vault's key.
type header struct {
	Format         int            `json:"format"`
	Created        time.Time      `json:"created"`
	VaultRecipient string         `json:"vault_recipient"`
	Owner          []string       `json:"owner"`
	Recovery       []string       `json:"recovery"`
	Retention      consent.Policy `json:"retention"`
}

// Options configure how a vault is opened.
type Options struct {
	// Now is the clock; required.
	Now func() time.Time
	// LockTimeout is how long to wait for another process to release the
	// vault before ErrBusy; 0 means one second.
	LockTimeout time.Duration
	// ReadOnly opens the vault for reading only (shared lock); methods that
	// write, including those that append to the audit log, fail.
	ReadOnly bool
	// Actor names who acts in audit entries; "" means "owner".
	Actor string
	// AnchorDir is the directory of the rollback anchors (anchor.go),
	// outside the vault file; "" keeps none.
	AnchorDir string
	// OwnerKey is the owner's signing key that a coworker pinned; if nil,
	// UnlockAsStaff reads the one pinned in TrustDir (TrustOwner). It needs
	// one of them.
	OwnerKey ed25519.PublicKey
	TrustDir string
	// Restoring opens a vault that is older than its anchor, for Restore
	// to replace it: restoring is the one way back on purpose.
	Restoring bool
}

// Vault is an open vault file. It is not safe for concurrent use by several
// goroutines; one command uses one Vault.
type Vault struct {
	// db is the vault file's bbolt database; nil for a vault on another
	// engine (remote), such as etcd.
	db     *bolt.DB
	remote store.Engine
	path   string
	opts   Options
	hdr    header
	keys   *keySet
	// staff is set instead of keys when a coworker unlocked the vault with
	// their own key (UnlockAsStaff): they read only what is shared with them.
	staff *staffSession
	// pending holds the stages of bulk adds that were not published; their
	// entries are invisible.
	pending map[uint64]bool
	// hooks simulate failures during compaction in tests.
	hooks compactHooks
	// anchorErr is the first failure to move the anchor forward after a
	// commit (noteAnchor).
	anchorErr error
	// rooted names the shards of the guarded buckets already checked
	// against their roots in this session (shards.go), by bucket.
	rooted map[string]map[byte]bool
}

// engine returns the store the vault's transactions run on.
func (v *Vault) engine() store.Engine {
	if v.remote != nil {
		return v.remote
	}
	return store.Bolt{DB: v.db}
}

// Path returns the vault file's path.
func (v *Vault) Path() string { return v.path }

// Retention returns the vault's retention policy.
func (v *Vault) Retention() consent.Policy { return v.hdr.Retention }

// CreateOptions configure a new vault.
type CreateOptions struct {
	Owner     []age.Recipient // the owner's public keys: at least one
	Recovery  []age.Recipient // the recovery key, kept offline
	Retention consent.Policy  // zero means consent.DefaultPolicy()
	Now       func() time.Time
	Actor     string
}

// pathEngine, when set, gives the engine that a path names, in place of a
// file: the package's tests set it to run every test that names a path on
// etcd as well (engine_test.go, CLIENTVAULT_TEST_ENGINE=etcd).
var pathEngine func(path string) store.Engine

// Create makes a new vault at path.
// It never replaces an existing file: the vault is built under a temporary
// name and linked into place only when complete.
func Create(path string, o CreateOptions) error {
	if pathEngine != nil {
		return CreateIn(pathEngine(path), path, o)
	}
	return createFile(path, o)
}

// createFile makes a new vault file at path: Create, for a file whatever
// the engine the package's tests put paths on.
func createFile(path string, o CreateOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("vault %s: %w", path, ErrExists)
	}
	dir := filepath.Dir(path)
	if err := ensureDir(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".clientvault-new-*.db")
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second, PageSize: vaultPageSize})
	if err != nil {
		return err
	}
	err = create(&Vault{db: db, path: tmp}, o)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create vault: %w", err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("vault %s: %w", path, ErrExists)
		}
		return err
	}
	return syncDir(dir)
}

// CreateIn makes a new vault on the engine e (etcd), named name in messages.
// It refuses an engine that holds a vault already (ErrExists). The engine
// stays open; the caller closes it.
func CreateIn(e store.Engine, name string, o CreateOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	exists := false
	err := e.View(func(tx store.Tx) error {
		exists = tx.Bucket(bucketMeta) != nil
		return nil
	})
	switch {
	case err != nil:
		return fmt.Errorf("vault %s: %w", name, err)
	case exists:
		return fmt.Errorf("vault %s: %w", name, ErrExists)
	}
	if err := create(&Vault{remote: e, path: name}, o); err != nil {
		return fmt.Errorf("create vault: %w", err)
	}
	return nil
}

// check checks the options of a new vault, filling in the default policy.
func (o *CreateOptions) check() error {
	if len(o.Owner) == 0 {
		return fmt.Errorf("create vault: an owner key is required: %w", ErrRefused)
	}
	if o.Retention == (consent.Policy{}) {
		o.Retention = consent.DefaultPolicy()
	}
	if err := o.Retention.Validate(); err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	if o.Actor == "" {
		o.Actor = "owner"
	}
	return nil
}

// create writes a new vault's buckets, header, wrapped keys and first audit
// entry into v's empty engine, in one transaction.
func create(v *Vault, o CreateOptions) error {
	keys, err := newKeySet()
	if err != nil {
		return err
	}
	now := o.Now().UTC()
	hdr := header{
		Format: FormatVersion, Created: now.Truncate(time.Second),
		VaultRecipient: keys.recipient.String(), Retention: o.Retention,
	}
	for _, r := range o.Owner {
		hdr.Owner = append(hdr.Owner, RecipientString(r))
	}
	for _, r := range o.Recovery {
		hdr.Recovery = append(hdr.Recovery, RecipientString(r))
	}
	wrapped, err := keys.wrap(append(append([]age.Recipient{}, o.Owner...), o.Recovery...)...)
	if err != nil {
		return fmt.Errorf("seal vault keys: %w", err)
	}
	v.hdr, v.keys, v.opts, v.rooted = hdr, keys, Options{Now: o.Now, Actor: o.Actor}, map[string]map[byte]bool{}
	return v.update(func(tx *txn) error {
		for _, b := range append(slices.Clone(allBuckets), bucketExpiry, bucketDirectory) {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyFormat, binary.BigEndian.AppendUint32(nil, FormatVersion)); err != nil {
			return err
		}
		if err := meta.Put(keyKeys, wrapped); err != nil {
			return err
		}
		if err := v.putHeader(tx); err != nil {
			return err
		}
		return v.appendAudit(tx, Event{Action: ActionInit})
	})
}

// putHeader writes the header and its MAC, which also covers the wrapped
// keys, so that neither can be swapped without the vault's key.
func (v *Vault) putHeader(tx *txn) error {
	meta := tx.Bucket(bucketMeta)
	b, err := json.Marshal(v.hdr)
	if err != nil {
		return err
	}
	if err := meta.Put(keyHeader, b); err != nil {
		return err
	}
	return meta.Put(keyHeaderMAC, v.keys.mac(macHeader, b, meta.Get(keyKeys)))
}

// Open opens the vault at path. It checks that the file is a vault of a
// format this version reads, but decrypts nothing: call Unlock for that.
func Open(path string, o Options) (*Vault, error) {
	if pathEngine != nil {
		return OpenEngine(pathEngine(path), path, o)
	}
	return openFile(path, o)
}

// openFile opens the vault file at path: Open, for the files the package
// itself writes (backups, restores, copies), which are files whatever the
// engine of the vault.
func openFile(path string, o Options) (*Vault, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("vault %s: %w", path, ErrNoVault)
	}
	if err != nil {
		return nil, err
	}
	// bbolt would initialise an empty file as a new database; an empty file
	// here is a damaged vault, not a new one.
	if fi.Size() == 0 || fi.IsDir() {
		return nil, fmt.Errorf("vault %s: %w", path, ErrCorrupt)
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = time.Second
	}
	if o.Actor == "" {
		o.Actor = "owner"
	}
	mode := openWrite
	if o.ReadOnly {
		mode = openRead
	}
	db, err := openBolt(path, o.LockTimeout, mode)
	switch {
	case errors.Is(err, ErrBusy):
		return nil, ErrBusy
	case err != nil:
		return nil, fmt.Errorf("vault %s: %w", path, err)
	}
	if replacedSince(path, fi) {
		db.Close()
		return openFile(path, o)
	}
	// The vault is the owner's alone: a file that others could read (a
	// copy made with a permissive umask, a chmod) is made private again by
	// every command that writes to it.
	if !o.ReadOnly && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			db.Close()
			return nil, fmt.Errorf("vault %s: %w", path, err)
		}
	}
	v := &Vault{db: db, path: path, opts: o, pending: map[uint64]bool{}, rooted: map[string]map[byte]bool{}}
	if err := v.view(v.readHeader); err != nil {
		db.Close()
		return nil, fmt.Errorf("vault %s: %w", path, err)
	}
	v.finishCompaction()
	return v, nil
}

// OpenEngine opens the vault on the engine e (etcd), named name in
// messages, as Open opens a file. On closing, the vault closes e.
func OpenEngine(e store.Engine, name string, o Options) (*Vault, error) {
	if o.Actor == "" {
		o.Actor = "owner"
	}
	v := &Vault{remote: e, path: name, opts: o, pending: map[uint64]bool{}, rooted: map[string]map[byte]bool{}}
	none := false
	err := v.view(func(tx *txn) error {
		if none = tx.Bucket(bucketMeta) == nil; none {
			return nil
		}
		return v.readHeader(tx)
	})
	switch {
	case err == nil && none:
		err = ErrNoVault
	case err == nil:
		v.finishCompaction()
		return v, nil
	}
	return nil, fmt.Errorf("vault %s: %w", name, err)
}

func (v *Vault) readHeader(tx *txn) error {
	for _, b := range allBuckets {
		if tx.Bucket(b) == nil {
			return ErrCorrupt
		}
	}
	meta := tx.Bucket(bucketMeta)
	f := meta.Get(keyFormat)
	if len(f) != 4 {
		return ErrCorrupt
	}
	switch n := binary.BigEndian.Uint32(f); {
	case n > FormatVersion:
		return fmt.Errorf("format %d: %w", n, ErrNewerFormat)
	case n < 1:
		return ErrCorrupt
	}
	if err := json.Unmarshal(meta.Get(keyHeader), &v.hdr); err != nil {
		return ErrCorrupt
	}
	pending, err := pendingIn(tx.Tx)
	if err != nil {
		return err
	}
	maps.Copy(v.pending, pending)
	return nil
}

// Close releases the vault, and the engine it was opened on.
func (v *Vault) Close() error { return v.engine().Close() }

// Unlock opens the vault's keys with the caller's identities: the owner's,
// the recovery key, or (for a coworker) their own key, which opens only the
// records shared with them and returns ErrWrongKey here. It checks that the
// header and the keys are authentic.
func (v *Vault) Unlock(ids ...age.Identity) error {
	wrapped, hdrBytes, hdrMAC, err := v.readKeys()
	if err != nil {
		return err
	}
	keys, err := unwrapKeySet(wrapped, ids...)
	if errors.Is(err, ErrTampered) {
		return fmt.Errorf("vault keys: %w", ErrTampered)
	}
	if err != nil {
		return err
	}
	return v.unlockWith(keys, wrapped, hdrBytes, hdrMAC)
}

// readKeys returns the wrapped keys, the header and the header's MAC.
func (v *Vault) readKeys() (wrapped, hdrBytes, hdrMAC []byte, err error) {
	err = v.view(func(tx *txn) error {
		meta := tx.Bucket(bucketMeta)
		wrapped = clone(meta.Get(keyKeys))
		hdrBytes = clone(meta.Get(keyHeader))
		hdrMAC = clone(meta.Get(keyHeaderMAC))
		return nil
	})
	return wrapped, hdrBytes, hdrMAC, err
}

// unlockWith checks that keys, unwrapped from wrapped (here or in the unlock
// agent), are the vault's, and readies the vault for use with them.
func (v *Vault) unlockWith(keys *keySet, wrapped, hdrBytes, hdrMAC []byte) error {
	if !hmacEqual(hdrMAC, keys.mac(macHeader, hdrBytes, wrapped)) || v.hdr.VaultRecipient != keys.recipient.String() {
		if err := keys.failure(); err != nil {
			return err
		}
		return fmt.Errorf("vault header: %w", ErrTampered)
	}
	v.keys = keys
	if err := v.checkAnchor(); err != nil {
		v.keys = nil
		return err
	}
	if !v.opts.ReadOnly {
		if err := v.upgradeState(); err != nil {
			return err
		}
		if err := v.signAllStaff(); err != nil {
			return err
		}
		if v.remote != nil {
			// Shares the engine deleted at their time leave the state
			// root before anything checks it (lapsing.go).
			err := v.update(func(tx *txn) error {
				_, err := v.lapseExpired(tx)
				return err
			})
			if err != nil {
				return err
			}
		}
	}
	if !v.opts.ReadOnly && len(v.pending) > 0 {
		if err := v.discardStages(); err != nil {
			return err
		}
	}
	if err := v.buildExpiry(); err != nil {
		return err
	}
	return v.buildDirectory()
}

// Unlocked reports whether Unlock succeeded.
func (v *Vault) Unlocked() bool { return v.keys != nil }

func (v *Vault) now() time.Time { return v.opts.Now().UTC() }

// clone is bytes.Clone: a copy that outlives the transaction b was read in
// (nil stays nil, and an empty value stays empty, which is "present").
func clone(b []byte) []byte { return bytes.Clone(b) }
