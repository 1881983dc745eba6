package vault

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The rollback anchor. The state root (state.go) makes every object in the
// file answer to the audit head, but a whole older file, or an older head
// with everything it commits to, is authentic too: a copy of last month's
// vault put in place of today's brings back an erased record and a revoked
// share, and hides the views since. So, as TUF clients keep the newest
// metadata version they trusted, the owner's side keeps outside the file
// the newest state it has seen (its version and the head's MAC), MAC'd, in
// Options.AnchorDir (the CLI uses the user's config directory), and refuses
// a vault whose state is older, or as new but different (a fork).
//
// What it cannot see: a rollback on a computer, or in an account, that
// never saw the newer state; and a rollback made after the anchor file
// itself was deleted (the anchor then starts again from what it finds, and
// says so nowhere; keep the config directory in the backups that matter).
// A crash between a commit and the anchor's update leaves the anchor one
// step behind, which is safe: the next command moves it forward.

const (
	macAnchor   = "clientvault/v2/anchor"
	anchorMagic = "clientvault-anchor-1\n"
)

// anchor is the newest state of one vault this user has seen.
type anchor struct {
	version uint64
	head    []byte // the audit head's MAC at that version
}

// anchorPath returns the anchor file of this vault: named by its vault key,
// which is the same for every copy of the vault and differs between vaults.
func (v *Vault) anchorPath() string {
	if v.opts.AnchorDir == "" {
		return ""
	}
	return filepath.Join(v.opts.AnchorDir, vaultFileName(v.hdr.VaultRecipient, "clientvault anchor name"))
}

// vaultFileName names a file kept outside the vault about the vault whose
// key is recipient: the same for every copy of the vault, different between
// vaults, and saying nothing else.
func vaultFileName(recipient, label string) string {
	sum := sha256.Sum256([]byte(label + "\x00" + recipient))
	return hex.EncodeToString(sum[:16])
}

func (v *Vault) anchorMAC(version uint64, head []byte) []byte {
	return v.keys.mac(macAnchor, []byte(v.hdr.VaultRecipient), binary.BigEndian.AppendUint64(nil, version), head)
}

// readAnchor returns the stored anchor, or nil if there is none. An anchor
// that fails its MAC was edited: ErrTampered.
func (v *Vault) readAnchor() (*anchor, error) {
	p := v.anchorPath()
	if p == "" {
		return nil, nil
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rollback anchor: %w", err)
	}
	rest, ok := bytes.CutPrefix(b, []byte(anchorMagic))
	if !ok || len(rest) != 8+2*macLen {
		return nil, fmt.Errorf("rollback anchor %s: %w", p, ErrAnchorTampered)
	}
	a := &anchor{version: binary.BigEndian.Uint64(rest), head: rest[8 : 8+macLen]}
	if !hmac.Equal(rest[8+macLen:], v.anchorMAC(a.version, a.head)) {
		return nil, fmt.Errorf("rollback anchor %s: %w", p, ErrAnchorTampered)
	}
	return a, nil
}

// CheckAnchor reports whether the vault's state is older than the newest
// this user has seen, or forked from it (ErrRolledBack), or the anchor was
// edited (ErrAnchorTampered), as Unlock does unless the vault was opened
// with Options.Restoring. verify uses it to report rather than refuse.
func (v *Vault) CheckAnchor() error {
	restoring := v.opts.Restoring
	v.opts.Restoring = false
	defer func() { v.opts.Restoring = restoring }()
	return v.checkAnchor()
}

// checkAnchor refuses a vault whose state is older than the anchor's, or
// of the same version with another head (ErrRolledBack), and moves the
// anchor forward to a newer one.
func (v *Vault) checkAnchor() error {
	var st *state
	err := v.view(func(tx *txn) (err error) {
		st, err = tx.state()
		return err
	})
	if err != nil {
		return err
	}
	if v.opts.Restoring {
		return nil
	}
	a, err := v.readAnchor()
	if err == nil && a != nil && st.legacy {
		return fmt.Errorf("vault %s is of format 1, older than version %d already seen here: %w", v.path, a.version, ErrRolledBack)
	}
	if err != nil || a == nil || st.legacy {
		if err == nil {
			err = v.advanceAnchor(st)
		}
		return err
	}
	switch {
	case st.version < a.version:
		return fmt.Errorf("vault %s is at version %d, older than version %d already seen here: %w", v.path, st.version, a.version, ErrRolledBack)
	case st.version == a.version && !hmac.Equal(st.mac, a.head):
		return fmt.Errorf("vault %s differs from the version %d already seen here: %w", v.path, st.version, ErrRolledBack)
	case st.version > a.version:
		return v.advanceAnchor(st)
	}
	return nil
}

// anchorCurrent records the vault's state now as the newest seen.
func (v *Vault) anchorCurrent() error {
	var st *state
	if err := v.view(func(tx *txn) (err error) {
		st, err = tx.state()
		return err
	}); err != nil {
		return err
	}
	return v.advanceAnchor(st)
}

// noteAnchor keeps the first failure to move the anchor forward after a
// commit, for AnchorErr. The change is committed whatever the anchor does:
// returning the failure as the command's would tell a caller that a
// committed change failed (a rekey's caller deleted the new identity the
// vault was already wrapped to). An anchor left behind is one step behind,
// which is safe, and the next command that can write it mends it.
func (v *Vault) noteAnchor(err error) {
	if err != nil && v.anchorErr == nil {
		v.anchorErr = err
	}
}

// AnchorErr returns why the rollback anchor could not be moved forward
// after a change this vault committed, or nil. The change stands.
func (v *Vault) AnchorErr() error { return v.anchorErr }

// advanceAnchor records st as the newest state seen, written to a new file
// renamed into place. It is not synced: an anchor lost in a crash is one
// step behind, which the next command mends.
func (v *Vault) advanceAnchor(st *state) error {
	p := v.anchorPath()
	if p == "" || st == nil || st.legacy || v.keys == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("rollback anchor: %w", err)
	}
	b := append([]byte(anchorMagic), binary.BigEndian.AppendUint64(nil, st.version)...)
	b = append(b, st.mac...)
	b = append(b, v.anchorMAC(st.version, st.mac)...)
	f, err := os.CreateTemp(filepath.Dir(p), ".anchor-*")
	if err != nil {
		return fmt.Errorf("rollback anchor: %w", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("rollback anchor: %w", err)
	}
	return nil
}

// StateVersion returns the vault's state version: how many write
// transactions it has committed since it had a state root.
func (v *Vault) StateVersion() (uint64, error) {
	var n uint64
	err := v.view(func(tx *txn) error {
		st, err := tx.state()
		if err == nil {
			n = st.version
		}
		return err
	})
	return n, err
}
