package vault

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/clientvault/clientvault/vault/store"
)

// The engine's access control. On an engine that enforces who may read
// which keys (store.AccessControl: etcd's users and roles), each coworker
// is a user of the engine of their own, allowed to read only their staff
// entry, the shares made for them and what every command reads before it
// knows who is asking (the meta bucket: format, header, the owner's
// wrapped keys; the stages of unpublished adds; the bucket markers), and to
// write only their own coworker audit keys (staffAuditPrefix) and the
// engine's commit counter. It is on top of the cryptography, not in its
// place: a share opens only with the coworker's key whatever the engine
// allows, and what the engine returns is checked as ever. What it adds:
// a coworker's certificate does not even fetch another client's
// ciphertext, so a key stolen later opens nothing that was copied.
//
// The vault keeps the grants in step with the shares bucket: every Put or
// Delete of a share in a transaction is noted (noteShare), and applied to
// the engine after the transaction's function and before its commit
// (applyAccess): a grant made for a commit that then fails gives access to
// a key that is not there, and a revocation made for one that fails takes
// away a share that is still there (sharing again grants it back); neither
// exposes anything the coworker was not meant to read.

// access returns the vault's engine's access control, or nil (a file, an
// engine without one).
func (v *Vault) access() store.AccessControl {
	if v.remote == nil {
		return nil
	}
	ac, _ := v.remote.(store.AccessControl)
	return ac
}

// staffAuditPrefix is the start of the keys of the coworker name's own
// audit events in bucketStaffAudit: name || 0 (a name has no NUL), so that
// the engine can grant each coworker their own range and no other.
func staffAuditPrefix(name string) []byte { return append([]byte(name), 0) }

// staffGrants are what a coworker's commands read and write besides their
// shares.
func staffGrants(name string) []store.Grant {
	return []store.Grant{
		{Bucket: bucketMeta, Prefix: true},
		{Bucket: bucketStages, Prefix: true},
		{Bucket: bucketStaff, Key: []byte(name)},
		{Bucket: bucketStaffAudit, Key: staffAuditPrefix(name), Prefix: true, Write: true},
	}
}

// shareGrant is the read of one share.
func shareGrant(k []byte) store.Grant { return store.Grant{Bucket: bucketShares, Key: k} }

// accessChanges are what a transaction changes of who may read what on
// the engine.
type accessChanges struct {
	// shares are the share keys put (true) or deleted (false).
	shares map[string]bool
	// added and removed are coworkers registered and removed.
	added, removed []string
}

// noteShare notes that the share k is there after the transaction, or not.
func (t *txn) noteShare(k []byte, present bool) {
	if _, _, ok := shareOf(k); !ok || t.v.access() == nil {
		return
	}
	if t.access.shares == nil {
		t.access.shares = map[string]bool{}
	}
	t.access.shares[string(k)] = present
}

// applyAccess makes the engine's grants what the transaction t leaves:
// a coworker registered gets their user, one removed loses it, and each
// share put or deleted is granted or revoked. The engine refusing (the
// owner's connection is not its administrator) fails the transaction.
func (v *Vault) applyAccess(t *txn) error {
	ac := v.access()
	if ac == nil {
		return nil
	}
	a := &t.access
	for _, name := range a.removed {
		if err := ac.RemoveMember(name); err != nil {
			return accessErr(ac, name, err)
		}
	}
	for _, name := range a.added {
		if err := ac.AddMember(name, staffGrants(name)...); err != nil {
			return accessErr(ac, name, err)
		}
	}
	keys := make([]string, 0, len(a.shares))
	for k := range a.shares {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		_, name, ok := shareOf([]byte(k))
		if !ok || slices.Contains(a.removed, name) {
			continue
		}
		g := shareGrant([]byte(k))
		var err error
		if a.shares[k] {
			err = ac.GrantMember(name, g)
			if errors.Is(err, store.ErrNoMember) {
				// Registered before the engine made users for
				// coworkers: made now.
				err = ac.AddMember(name, append(staffGrants(name), g)...)
			}
		} else {
			err = ac.RevokeMember(name, g)
		}
		if err != nil {
			return accessErr(ac, name, err)
		}
	}
	return nil
}

// regrantAll makes every coworker's grants on the engine those of the vault
// now on it, after a restore or a rotation put a new content in place: its
// keys are new ones (a new generation of the engine's keys), and its
// coworkers may not be those of the vault it replaced, whose names were
// before. Each coworker's user is made again with what the vault grants
// them; one the vault no longer has is deleted.
func (v *Vault) regrantAll(before []string) error {
	ac := v.access()
	if ac == nil {
		return nil
	}
	grants := map[string][]store.Grant{}
	err := v.view(func(tx *txn) error {
		err := tx.Bucket(bucketStaff).ForEach(func(k, _ []byte) error {
			grants[string(k)] = staffGrants(string(k))
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketShares).ForEach(func(k, _ []byte) error {
			if _, name, ok := shareOf(k); ok && grants[name] != nil {
				grants[name] = append(grants[name], shareGrant(bytes.Clone(k)))
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	names := slices.Clone(before)
	for name := range grants {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if err := ac.RemoveMember(name); err != nil {
			return accessErr(ac, name, err)
		}
		if g, ok := grants[name]; ok {
			if err := ac.AddMember(name, g...); err != nil {
				return accessErr(ac, name, err)
			}
		}
	}
	return nil
}

// staffNames are the names of the vault's coworkers.
func (v *Vault) staffNames() ([]string, error) {
	var names []string
	err := v.view(func(tx *txn) error {
		return tx.Bucket(bucketStaff).ForEach(func(k, _ []byte) error {
			names = append(names, string(k))
			return nil
		})
	})
	return names, err
}

// accessErr says whose grants the engine did not change.
func accessErr(ac store.AccessControl, name string, err error) error {
	return fmt.Errorf("staff %s: the engine's user %s: %w", name, ac.MemberUser(name), err)
}

// ownShareKeys returns the keys of the shares the engine lets this
// coworker read, when it restricts them (staffSession.restricted);
// otherwise ok is false, and the shares bucket is theirs to walk.
func (v *Vault) ownShareKeys() (keys [][]byte, ok bool) {
	s := v.staff
	if s == nil || !s.restricted {
		return nil, false
	}
	for _, g := range s.grants {
		if _, name, ok := shareOf(g.Key); ok && bytes.Equal(g.Bucket, bucketShares) && !g.Prefix && name == s.entry.Name {
			keys = append(keys, g.Key)
		}
	}
	return keys, true
}

// eachOwnShare calls fn with each share of this coworker, key and value:
// those the engine grants them, read one by one (a walk of the bucket is
// refused them), or those of a walk of the bucket.
func (v *Vault) eachOwnShare(tx *txn, fn func(k, raw []byte) error) error {
	shares := tx.Bucket(bucketShares)
	if keys, ok := v.ownShareKeys(); ok {
		for _, k := range keys {
			if raw := shares.Get(k); raw != nil {
				if err := fn(k, raw); err != nil {
					return err
				}
			}
		}
		return nil
	}
	c := shares.Cursor()
	for k, raw := c.First(); k != nil; k, raw = c.Next() {
		if _, name, ok := shareOf(k); !ok || name != v.staff.entry.Name {
			continue
		}
		if err := fn(k, raw); err != nil {
			return err
		}
	}
	return nil
}

// candidates are the candidates of an ambiguous ID prefix.
func candidates(ids []ID) []Candidate {
	out := make([]Candidate, 0, len(ids))
	for _, id := range ids {
		out = append(out, Candidate{ID: id.String()})
	}
	return out
}

// reloadGrants reads this coworker's grants again, before each of their
// commands: a share taken back since they unlocked is not theirs to read
// any more, and reading it would be refused.
func (v *Vault) reloadGrants() error {
	s := v.staff
	if s == nil || !s.restricted {
		return nil
	}
	grants, restricted, err := v.access().OwnGrants()
	if err != nil {
		return err
	}
	s.grants, s.restricted = grants, restricted
	return nil
}
