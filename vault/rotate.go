package vault

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"filippo.io/age"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault/store"
	bolt "go.etcd.io/bbolt"
)

// Rotation. Rekey re-wraps the vault's key set (its own age identity, the
// MAC key and the index key) to a new owner key and leaves everything else
// as it is: quick, and enough when the old owner key is gone for good. It
// is not enough when the old key may be in someone's hands with a copy of
// the file from before the rekey: that copy's wrapped key set opens with
// the old key and gives the vault identity and the MAC key, which still
// open and forge everything in the current file, records added since
// included.
//
// Rotate makes a new key set and rewrites the whole vault under it, as
// compaction does, into a new file: every record is decrypted with the old
// vault identity and sealed again to the new one, with a fresh age file
// key; every other object sealed to the vault key (consents, disclosures,
// legal holds, erasure notes in the audit log, the coworkers' share keys)
// likewise; every MAC is made again with the new MAC key, the audit chain
// and its archived segments in order; the name index, expiry table and
// client directory are rebuilt under the new keys; staff entries are signed
// with the new owner signing key; the state root is recomputed. Nothing in
// the new file opens with, or verifies under, the old key set.
//
// Before it re-MACs anything, it checks every bucket against the committed
// state root and every object against its old MAC: a rotation must not
// turn an object put back or forged under the old key into an authentic
// one under the new.
//
// The new file is written beside the vault, synced, and renamed over it,
// so a crash, a kill or a full disk at any point leaves the old vault
// whole and valid (its key set unchanged); running the rotation again
// starts over, and the leftover temporary file is removed then.

// RotateOptions say to whom a rotated key set is wrapped.
type RotateOptions struct {
	// Owner are the owner's public keys; nil keeps the current ones.
	Owner []age.Recipient
	// Recovery are the recovery keys; nil keeps the current ones.
	Recovery []age.Recipient
	// Check are identities that must open the new wrapped key set (the
	// owner's after rotation), so that a rotation never leaves a vault
	// that nobody at hand can open; required.
	Check []age.Identity
}

// Rotation is what Rotate did.
type Rotation struct {
	// Records is how many records were sealed again.
	Records int `json:"records"`
	// Objects is how many other objects were sealed again or MAC'd again:
	// staff entries, consents, shares, disclosures, holds, audit entries.
	Objects int `json:"objects"`
	// OwnerKey is the owner's new signing key (OwnerKey).
	OwnerKey string `json:"owner_key"`
	// Staff are the coworkers who must pin OwnerKey ('clientvault trust')
	// before they can read what is shared with them again.
	Staff []string `json:"staff"`
}

// Rotate replaces the vault's key set with a new one and rewrites the vault
// under it (see above), wrapped to o.Owner and o.Recovery. If it fails
// with a nil Rotation, the vault is as it was; a Rotation returned with an
// error says that the vault was rotated and something after it failed
// (reopening the file, the rollback anchor).
func (v *Vault) Rotate(o RotateOptions) (*Rotation, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	if v.opts.ReadOnly {
		return nil, fmt.Errorf("rotate: opened read-only: %w", ErrRefused)
	}
	if len(o.Check) == 0 {
		return nil, fmt.Errorf("rotate: an identity that opens the new keys is required: %w", ErrRefused)
	}
	if len(v.pending) > 0 {
		return nil, fmt.Errorf("rotate: an interrupted bulk add is pending; run any command that writes first: %w", ErrRefused)
	}
	owner, recovery, err := v.wrapRecipients(o.Owner, o.Recovery)
	if err != nil {
		return nil, fmt.Errorf("rotate: %w", err)
	}
	nk, err := newKeySet()
	if err != nil {
		return nil, err
	}
	wrapped, err := nk.wrap(append(slices.Clone(owner), recovery...)...)
	if err != nil {
		return nil, fmt.Errorf("rotate: seal the new keys: %w", err)
	}
	if got, err := unwrapKeySet(wrapped, o.Check...); err != nil || got.recipient.String() != nk.recipient.String() {
		return nil, fmt.Errorf("rotate: the new identity does not open the new keys: %w", ErrRefused)
	}
	hdr := v.hdr
	hdr.VaultRecipient = nk.recipient.String()
	hdr.Owner, hdr.Recovery = recipientStrings(owner), recipientStrings(recovery)
	nv := &Vault{path: v.path, opts: v.opts, hdr: hdr, keys: nk, pending: map[uint64]bool{}, rooted: map[string]map[byte]bool{}}

	dir, prefix := v.scratchDir(), compactPrefix+filepath.Base(v.path)+"-"
	if v.remote == nil {
		removeStale(dir, prefix)
	}
	if err := v.hooks.at("copy"); err != nil {
		return nil, fmt.Errorf("rotate: %w", err)
	}
	// On a shared engine the rotated vault is written aside and put in
	// place only if nothing was committed since this point.
	aside, err := v.beginReplace()
	if err != nil {
		return nil, fmt.Errorf("rotate: %w", err)
	}
	defer aside.abort()
	tmp, st, out, err := v.rotateCopy(dir, prefix+"*", nv, wrapped)
	if err != nil {
		return nil, fmt.Errorf("rotate: %w", err)
	}
	published := false
	defer func() {
		if !published {
			os.Remove(tmp)
		}
	}()
	if err := v.hooks.at("rename"); err != nil {
		return nil, fmt.Errorf("rotate: %w", err)
	}
	oldVault := &Vault{opts: v.opts, hdr: v.hdr, keys: v.keys}
	if v.remote != nil {
		// On etcd the rotated copy replaces the engine's keys, and the
		// old ciphertexts leave its history (replaceRemote).
		v.hdr, v.keys = hdr, nk
		if err = v.replaceRemote(aside, tmp); err != nil && !aside.done {
			v.hdr, v.keys = oldVault.hdr, oldVault.keys
			return nil, fmt.Errorf("rotate: %w", err)
		}
		if err != nil && errors.Is(err, store.ErrCommitUnknown) {
			// Either vault may be on the engine: the rotated one is
			// kept in its file, and its identity with the caller.
			published = true
			return out, fmt.Errorf("rotate: %w; the rotated vault is also in %s", err, tmp)
		}
		published = true
	} else {
		published, err = v.putInPlace(dir, tmp)
	}
	if published {
		v.hdr, v.keys, v.rooted = hdr, nk, map[string]map[byte]bool{}
	}
	if err != nil {
		if published {
			return out, fmt.Errorf("rotate: the vault was rotated, but: %w", err)
		}
		return nil, fmt.Errorf("rotate: %w", err)
	}
	// From here on the vault is rotated: what fails is returned with out,
	// so that the caller keeps the identity the new keys are wrapped to.
	if out.OwnerKey, err = v.OwnerKey(); err != nil {
		return out, err
	}
	// The anchor kept for the old key set moves to the rotated version
	// too, so that the file from before the rotation, put back and opened
	// with the old keys on this computer, is refused as a rollback.
	if err := oldVault.advanceAnchor(st); err != nil {
		return out, fmt.Errorf("the vault was rotated, but: %w", err)
	}
	if err := v.advanceAnchor(st); err != nil {
		return out, fmt.Errorf("the vault was rotated, but: %w", err)
	}
	return out, nil
}

// wrapRecipients returns owner and recovery, each replaced by the keys the
// header records when nil.
func (v *Vault) wrapRecipients(owner, recovery []age.Recipient) ([]age.Recipient, []age.Recipient, error) {
	parse := func(list []string) ([]age.Recipient, error) {
		var out []age.Recipient
		for _, s := range list {
			r, err := ParseRecipient(s)
			if err != nil {
				return nil, fmt.Errorf("a key in the vault header: %w", ErrCorrupt)
			}
			out = append(out, r)
		}
		return out, nil
	}
	var err error
	if owner == nil {
		if owner, err = parse(v.hdr.Owner); err != nil {
			return nil, nil, err
		}
	}
	if recovery == nil {
		if recovery, err = parse(v.hdr.Recovery); err != nil {
			return nil, nil, err
		}
	}
	if len(owner) == 0 {
		return nil, nil, fmt.Errorf("an owner key is required: %w", ErrRefused)
	}
	return owner, recovery, nil
}

func recipientStrings(rs []age.Recipient) []string {
	var out []string
	for _, r := range rs {
		out = append(out, RecipientString(r))
	}
	return out
}

// rotator is the state of one rotation's copy: the vault with the old keys
// (v), the vault as it will be (nv: the new keys and header), the new file,
// and the state root as it is built.
type rotator struct {
	v, nv *Vault
	dst   *bolt.DB
	st    *state
	old   *state // the source's
	out   *Rotation
	// t is the open write transaction of dst (tx, bbolt's), n the keys
	// it holds.
	t  *txn
	tx *bolt.Tx
	n  int
	// slots maps each slot of the source's ID map to its record's ID.
	slots map[string]ID
	// index collects the new index keys, written in order at the end.
	index [][]byte
	// tags maps each audit entry's sequence number to its new MAC, for
	// the bases of the archived segments.
	tags map[uint64][]byte
}

// rotateCopy writes the vault, re-keyed for nv, to a new temporary file in
// dir and syncs it; it returns the file and the state it commits.
func (v *Vault) rotateCopy(dir, pattern string, nv *Vault, wrapped []byte) (string, *state, *Rotation, error) {
	tmp, dst, err := v.createCopy(dir, pattern)
	if err != nil {
		return "", nil, nil, err
	}
	r := &rotator{v: v, nv: nv, dst: dst, st: newState(), out: &Rotation{Staff: []string{}},
		slots: map[string]ID{}, tags: map[uint64][]byte{}}
	err = v.view(func(src *txn) error {
		defer readAround(src)() // every page, once
		src.unguarded = true
		return r.run(src, wrapped)
	})
	if err == nil {
		err = r.flush()
	}
	if r.tx != nil {
		r.tx.Rollback()
	}
	if err := closeCopy(dst, tmp, err); err != nil {
		return "", nil, nil, err
	}
	return tmp, r.st, r.out, nil
}

// run copies every bucket of the source transaction src.
func (r *rotator) run(src *txn, wrapped []byte) error {
	old, err := src.state()
	if err != nil {
		return err
	}
	if old.legacy {
		return fmt.Errorf("the vault has no state root yet (format 1): %w", ErrRefused)
	}
	for i, name := range stateBuckets {
		if r.v.keys.bucketRoot(name, src.Tx.Bucket(name)) != old.roots[i] {
			return fmt.Errorf("%s (run 'clientvault verify'): %w", stateMismatch(name), ErrTampered)
		}
	}
	r.st.version, r.old = old.version, old
	var names [][]byte
	err = src.Tx.ForEach(func(name []byte, b store.Bucket) error {
		names = append(names, clone(name))
		return nil
	})
	if err != nil {
		return err
	}
	// The buckets the rebuilt tables go to, even if the source predates
	// them, and every bucket of the source with its sequence.
	err = r.dst.Update(func(tx *bolt.Tx) error {
		for _, name := range append([][]byte{bucketIndex, bucketExpiry, bucketDirectory}, names...) {
			b, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			if sb := src.Tx.Bucket(name); sb != nil {
				if err := b.SetSequence(sb.Sequence()); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The ID map and the staff first: the records need both. The audit log
	// before its archive, whose segments start from its entries.
	order := [][]byte{bucketMeta, bucketIDs, bucketStaff, bucketRecords, bucketAudit}
	for _, name := range names {
		if !slices.ContainsFunc(order, func(o []byte) bool { return bytes.Equal(o, name) }) {
			order = append(order, name)
		}
	}
	for _, name := range order {
		if sb := src.Tx.Bucket(name); sb != nil {
			if err := r.copyBucket(name, sb); err != nil {
				return err
			}
		}
	}
	slices.SortFunc(r.index, bytes.Compare)
	for _, k := range slices.CompactFunc(r.index, bytes.Equal) {
		if err := r.put(bucketIndex, k, []byte{}); err != nil {
			return err
		}
	}
	return r.finish(wrapped)
}

// copyBucket copies one bucket, each object sealed or MAC'd again as its
// kind needs.
func (r *rotator) copyBucket(name []byte, b store.Bucket) error {
	old := r.v.keys
	switch string(name) {
	case string(bucketMeta):
		return r.each(b, func(k, val []byte) error {
			switch string(k) {
			case string(keyHeader), string(keyHeaderMAC), string(keyKeys), string(keyAuditHead), string(keyCompactPending):
				return nil // written anew (finish), or left behind
			}
			return r.put(name, k, val)
		})
	case string(bucketIDs):
		return r.each(b, func(k, slot []byte) error {
			if len(k) != len(ID{}) {
				return fmt.Errorf("the ID map holds a malformed key: %w", ErrTampered)
			}
			r.slots[string(slot)] = ID(k)
			return r.put(name, k, slot)
		})
	case string(bucketRecords):
		return r.copyRecords(b)
	case string(bucketIndex), string(bucketExpiry), string(bucketDirectory):
		return nil // rebuilt from the records
	case string(bucketAudit):
		return r.copyAudit(b)
	case string(bucketArchive):
		return r.copyArchive(b)
	case string(bucketStaff):
		return r.reseal(name, b, r.staffEntry)
	case string(bucketConsents):
		return r.reseal(name, b, func(k, val []byte) ([]byte, error) { return r.object(macConsent, k, val) })
	case string(bucketDisclosures):
		return r.reseal(name, b, func(k, val []byte) ([]byte, error) { return r.object(macDisclosure, k, val) })
	case string(bucketHolds):
		return r.reseal(name, b, r.hold)
	case string(bucketShares):
		return r.reseal(name, b, func(k, raw []byte) ([]byte, error) {
			sb, body, err := splitShare(k, raw)
			if err != nil {
				return nil, err
			}
			if !hmac.Equal(raw[len(body):len(body)+macLen], old.mac(macShare, k, body)) {
				return nil, fmt.Errorf("share for %s: %w", sb.Staff, ErrTampered)
			}
			// The coworker's MAC, under their share key, stays: the
			// share key does not change.
			out := append(slices.Clip(body), r.nv.keys.mac(macShare, k, body)...)
			return append(out, raw[len(body)+macLen:]...), nil
		})
	case string(bucketObjects), string(bucketShardRoots):
		// The object index and the shard roots hold elements under the old
		// key: the puts of the guarded objects (txn.track) make them anew.
		return nil
	case string(bucketStages):
		return r.reseal(name, b, func(k, val []byte) ([]byte, error) {
			if len(k) != 8 || len(val) != 8+macLen || !hmac.Equal(val[8:], old.mac(macObject, []byte("stage"), k, val[:8])) {
				return nil, fmt.Errorf("staged add: %w", ErrTampered)
			}
			return append(clone(val[:8]), r.nv.keys.mac(macObject, []byte("stage"), k, val[:8])...), nil
		})
	}
	// The coworkers' audit events are MAC'd with their share keys, which
	// stay; anything else is copied as it is.
	return r.each(b, func(k, val []byte) error {
		if val == nil {
			return fmt.Errorf("bucket %s: a nested bucket: %w", name, ErrCorrupt)
		}
		return r.put(name, k, val)
	})
}

// each calls fn for every key of b, in order.
func (r *rotator) each(b store.Bucket, fn func(k, val []byte) error) error {
	c := b.Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		if err := fn(k, val); err != nil {
			return err
		}
	}
	return nil
}

// put stores key=val in the bucket name of the new file, in transactions of
// at most compactTxKeys keys. Keys arrive in order, so pages are filled
// completely. The state root follows (txn.Put).
func (r *rotator) put(name, key, val []byte) error {
	if r.t == nil {
		tx, err := r.dst.Begin(true)
		if err != nil {
			return err
		}
		r.t, r.tx = &txn{Tx: store.BoltTx{Tx: tx}, v: r.nv, st: r.st, unguarded: true}, tx
	}
	b := r.t.Bucket(name)
	if b == nil {
		return fmt.Errorf("copy: bucket %s vanished", name)
	}
	b.appendInOrder()
	if err := b.Put(key, val); err != nil {
		return err
	}
	if r.n++; r.n >= compactTxKeys {
		return r.flush()
	}
	return nil
}

// flush commits the open transaction of the new file.
func (r *rotator) flush() error {
	if r.t == nil {
		return nil
	}
	err := r.tx.Commit()
	r.t, r.tx, r.n = nil, nil, 0
	return err
}

// reseal copies the small bucket b, each value transformed by fn on all
// cores, then written in key order.
func (r *rotator) reseal(name []byte, b store.Bucket, fn func(k, val []byte) ([]byte, error)) error {
	var keys, vals [][]byte
	c := b.Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		keys, vals = append(keys, k), append(vals, val)
	}
	outs := make([][]byte, len(keys))
	errs := make([]error, len(keys))
	parallel(len(keys), func(i int) {
		if vals[i] == nil {
			errs[i] = fmt.Errorf("bucket %s: a nested bucket: %w", name, ErrCorrupt)
			return
		}
		outs[i], errs[i] = fn(keys[i], vals[i])
	})
	for i, k := range keys {
		if errs[i] != nil {
			return errs[i]
		}
		if err := r.put(name, k, outs[i]); err != nil {
			return err
		}
		r.out.Objects++
	}
	return nil
}

// resealBytes decrypts ct with the old vault identity and seals the
// plaintext to the new one.
func (r *rotator) resealBytes(ct []byte) ([]byte, error) {
	plain, err := decrypt(ct, r.v.keys.identity)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	return encrypt(plain, r.nv.keys.recipient)
}

// object seals again a stored object of putObject's form (consents,
// disclosures), MAC'd with label.
func (r *rotator) object(label string, k, raw []byte) ([]byte, error) {
	meta, sealed, err := splitObject(raw)
	if err != nil || !hmac.Equal(raw[len(raw)-macLen:], r.v.keys.mac(label, k, raw[:len(raw)-macLen])) {
		return nil, fmt.Errorf("%s %x: %w", objectNoun(label), k, ErrTampered)
	}
	ct, err := r.resealBytes(sealed)
	if err != nil {
		return nil, fmt.Errorf("%s %x: %w", objectNoun(label), k, err)
	}
	out := appendBytes(nil, meta)
	out = appendBytes(out, ct)
	return append(out, r.nv.keys.mac(label, k, out)...), nil
}

func objectNoun(label string) string {
	if label == macDisclosure {
		return "disclosure"
	}
	return "consent"
}

// hold seals again a stored legal hold (putHold).
func (r *rotator) hold(k, val []byte) ([]byte, error) {
	if len(k) != 16 || len(val) < macLen || !hmac.Equal(val[:macLen], r.v.keys.mac(macObject, []byte("hold"), k, val[macLen:])) {
		return nil, fmt.Errorf("legal hold %x: %w", k, ErrTampered)
	}
	ct, err := r.resealBytes(val[macLen:])
	if err != nil {
		return nil, fmt.Errorf("legal hold %x: %w", k, err)
	}
	return append(r.nv.keys.mac(macObject, []byte("hold"), k, ct), ct...), nil
}

// staffEntry seals a coworker's share key again to the new vault key and
// signs the entry with the new owner signing key. The share key itself,
// and the copy sealed to the coworker, stay: the coworker's shares and
// audit events keep their MACs under it.
func (r *rotator) staffEntry(k, raw []byte) ([]byte, error) {
	st, tag, err := parseStaff(k, raw)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(tag, r.v.keys.mac(macStaff, k, raw[:len(raw)-macLen])) {
		return nil, fmt.Errorf("staff %s: %w", k, ErrTampered)
	}
	sk, err := r.v.shareKey(st)
	if err != nil {
		return nil, err
	}
	defer clear(sk)
	if st.KeyVault, err = encrypt(sk, r.nv.keys.recipient); err != nil {
		return nil, err
	}
	r.nv.signStaff(st, sk)
	body, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return append(body, r.nv.keys.mac(macStaff, k, body)...), nil
}

// rotateRun is how many records one job of the rotation's workers holds.
const rotateRun = 64

// rotItem is one record of a rotation: its slot and stored entry in the
// source, and what the workers make of it.
type rotItem struct {
	slot, raw []byte
	id        ID
	entry     []byte // the entry sealed to the new key, MAC'd
	expiry    []byte // its expiry row
	dir       []byte // its directory row
	tags      [][]byte
	err       error
}

// copyRecords seals every record again, on all cores, and writes the
// entries with their expiry and directory rows in slot order, as sealAll
// does for a bulk add: a reader hands out runs of records, the workers
// seal them, and this goroutine writes them in order.
func (r *rotator) copyRecords(b store.Bucket) error {
	workers := runtime.GOMAXPROCS(0)
	type job struct {
		items []rotItem
		done  chan struct{}
	}
	jobs := make(chan *job, workers*2)
	results := make(chan *job, workers*4)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	wg.Go(func() {
		defer close(jobs)
		defer close(results)
		c := b.Cursor()
		k, val := c.First()
		for k != nil {
			j := &job{items: make([]rotItem, 0, rotateRun), done: make(chan struct{})}
			for ; k != nil && len(j.items) < rotateRun; k, val = c.Next() {
				j.items = append(j.items, rotItem{slot: clone(k), raw: val})
			}
			select {
			case results <- j:
			case <-stop:
				return
			}
			select {
			case jobs <- j:
			case <-stop:
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				for i := range j.items {
					select {
					case <-stop:
						j.items[i].err = errStopped
					default:
						j.items[i].err = r.record(&j.items[i])
					}
				}
				close(j.done)
			}
		})
	}
	for j := range results {
		<-j.done
		for i := range j.items {
			it := &j.items[i]
			if it.err != nil {
				return it.err
			}
			for _, kv := range [][3][]byte{{bucketRecords, it.slot, it.entry}, {bucketExpiry, it.slot, it.expiry}, {bucketDirectory, it.slot, it.dir}} {
				if err := r.put(kv[0], kv[1], kv[2]); err != nil {
					return err
				}
			}
			r.index = append(r.index, it.tags...)
			r.out.Records++
		}
	}
	return nil
}

// errStopped marks the records a rotation that failed did not seal.
var errStopped = fmt.Errorf("rotation stopped")

// record seals one record again: it authenticates the stored entry under
// the old MAC key, decrypts it with the old vault identity, checks the ID
// bound inside, and seals the same payload to the new vault key with a new
// file key; then it makes the entry's MAC, expiry row, directory row and
// index keys under the new keys.
func (r *rotator) record(it *rotItem) error {
	id, ok := r.slots[string(it.slot)]
	if !ok {
		return fmt.Errorf("an entry in slot %d belongs to no record ID: %w", binary.BigEndian.Uint64(it.slot), ErrTampered)
	}
	it.id = id
	old, nk := r.v.keys, r.nv.keys
	if !authentic(old, id, it.raw) {
		return recordErr(id, ErrTampered)
	}
	e, err := unmarshalEntry(it.raw)
	if err != nil {
		return recordErr(id, err)
	}
	plain, err := decrypt(e.Sealed, old.identity)
	if err != nil {
		return recordErr(id, err)
	}
	defer clear(plain)
	inner, rec, err := records.DecodeSealed(plain)
	if err != nil || inner != id.String() {
		return recordErr(id, ErrTampered)
	}
	if len(e.Readers) > 0 {
		// No clientvault writes an entry sealed to coworkers (shares are
		// sealed to them instead): it is refused, as sealAgain does.
		return recordErr(id, fmt.Errorf("an entry that names readers: %w", ErrTampered))
	}
	if e.Sealed, err = encrypt(plain, nk.recipient); err != nil {
		return err
	}
	it.entry = e.marshal(nk)
	if it.expiry, err = nk.expiryValue(id, it.slot, e, entryTag(it.entry)); err != nil {
		return err
	}
	f := directoryFields(rec)
	f.retainUntil, f.held = e.RetainUntil, e.Held
	if it.dir, err = nk.sealDirectory(id, e.Stage, it.slot, f); err != nil {
		return err
	}
	for _, t := range nk.sealTags(rec) {
		it.tags = append(it.tags, append(t, id[:]...))
	}
	return nil
}

// copyAudit MACs the audit chain again, in order, under the new key,
// checking each link under the old one; an erasure's sealed note is sealed
// again to the new vault key. The head is written by finish.
func (r *rotator) copyAudit(b store.Bucket) error {
	var prevOld, prevNew []byte
	var want uint64 = 1
	err := r.each(b, func(k, val []byte) error {
		if len(k) != 8 || binary.BigEndian.Uint64(k) != want || len(val) < macLen ||
			!hmac.Equal(val[:macLen], r.v.keys.mac(macAudit, prevOld, val[macLen:])) {
			return fmt.Errorf("audit entry %d: %w", want, ErrTampered)
		}
		body, err := r.auditBody(want, val[macLen:])
		if err != nil {
			return err
		}
		tag := r.nv.keys.mac(macAudit, prevNew, body)
		if err := r.put(bucketAudit, k, append(slices.Clip(tag), body...)); err != nil {
			return err
		}
		r.tags[want] = tag
		prevOld, prevNew = val[:macLen], tag
		r.st.seq, r.st.tag = want, tag
		want++
		r.out.Objects++
		return nil
	})
	if err != nil {
		return err
	}
	if r.old.seq != want-1 || (want > 1 && !hmac.Equal(r.old.tag, prevOld)) {
		return fmt.Errorf("audit log: entries after %d are missing: %w", want-1, ErrTampered)
	}
	return nil
}

// auditBody returns the stored JSON of audit entry seq for the new file:
// the same bytes, or, for an event with a sealed note, the event with the
// note sealed again to the new vault key.
func (r *rotator) auditBody(seq uint64, body []byte) ([]byte, error) {
	if !bytes.Contains(body, []byte(`"note":`)) {
		return body, nil
	}
	var e Event
	if err := json.Unmarshal(body, &e); err != nil || e.Seq != seq {
		return nil, fmt.Errorf("audit entry %d: %w", seq, ErrTampered)
	}
	if len(e.Note) == 0 {
		return body, nil
	}
	var err error
	if e.Note, err = r.resealBytes(e.Note); err != nil {
		return nil, fmt.Errorf("audit entry %d: its note: %w", seq, err)
	}
	return json.Marshal(e)
}

// copyArchive MACs every archived segment of the audit log again: its
// entries in order, chained from the new MAC of the entry it starts after,
// and its head.
func (r *rotator) copyArchive(b store.Bucket) error {
	var seg, base, prevOld, prevNew, lastKey []byte
	var want uint64
	return r.each(b, func(k, val []byte) error {
		if len(k) != 16 {
			return fmt.Errorf("archived audit log: a malformed key: %w", ErrTampered)
		}
		bad := fmt.Errorf("archived audit log segment %d: %w", binary.BigEndian.Uint64(k), ErrTampered)
		if !bytes.Equal(k[:8], seg) {
			// A new segment: its head, under the segment's last key,
			// says where its chain starts.
			seg = clone(k[:8])
			head := b.Get(append(clone(seg), seqKey(math.MaxUint64)...))
			if len(head) != 8+macLen+8+macLen+macLen || !hmac.Equal(head[len(head)-macLen:], r.v.keys.mac(macArchive, seg, head[:len(head)-macLen])) {
				return bad
			}
			n := binary.BigEndian.Uint64(head)
			prevOld, base, want, lastKey = head[8:8+macLen], nil, n+1, nil
			switch {
			case n == 0:
				prevOld = nil
			case r.tags[n] != nil:
				base = r.tags[n]
			default:
				// The entry it starts after is no longer in the log: a
				// new base that only the new key makes.
				base = r.nv.keys.mac(macArchive, seg, []byte("base"), prevOld)
			}
			prevNew = base
		}
		if s := binary.BigEndian.Uint64(k[8:]); s != math.MaxUint64 {
			if s != want || len(val) < macLen || !hmac.Equal(val[:macLen], r.v.keys.mac(macAudit, prevOld, val[macLen:])) {
				return bad
			}
			body, err := r.auditBody(s, val[macLen:])
			if err != nil {
				return err
			}
			tag := r.nv.keys.mac(macAudit, prevNew, body)
			prevOld, prevNew, want, lastKey = val[:macLen], tag, want+1, clone(k[8:])
			r.out.Objects++
			return r.put(bucketArchive, k, append(slices.Clip(tag), body...))
		}
		if lastKey == nil || !bytes.Equal(val[8+macLen:8+macLen+8], lastKey) {
			return bad
		}
		head := append(clone(val[:8]), padTag(base)...)
		head = append(head, lastKey...)
		head = append(head, prevNew...)
		head = append(head, r.nv.keys.mac(macArchive, seg, head)...)
		return r.put(bucketArchive, k, head)
	})
}

// finish writes the new file's meta: the new wrapped keys, the header MAC'd
// with the new key, an audit entry for the rotation, and the audit head
// with the state root, at the version after the source's.
func (r *rotator) finish(wrapped []byte) error {
	if err := r.flush(); err != nil {
		return err
	}
	return r.dst.Update(func(tx *bolt.Tx) error {
		t := &txn{Tx: store.BoltTx{Tx: tx}, v: r.nv, st: r.st, unguarded: true}
		if err := t.Bucket(bucketMeta).Put(keyKeys, wrapped); err != nil {
			return err
		}
		if err := r.nv.putHeader(t); err != nil {
			return err
		}
		err := tx.Bucket(bucketStaff).ForEach(func(k, _ []byte) error {
			r.out.Staff = append(r.out.Staff, string(k))
			return nil
		})
		if err != nil {
			return err
		}
		err = r.nv.appendAudit(t, Event{Action: ActionRotate, Count: r.out.Records,
			Detail: fmt.Sprintf("vault keys rotated: %s and %s sealed or MAC'd again", plural(r.out.Records, "record"), plural(r.out.Objects, "other object"))})
		if err != nil {
			return err
		}
		return t.commit()
	})
}
