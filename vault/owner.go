package vault

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The owner's signing key. A coworker cannot check the vault's MACs (they
// do not have its key), and everything else they could check is in the file,
// which anyone with write access can rewrite: with the coworker's public
// key, which the file holds in the clear, an attacker sealed a share key of
// their own to the coworker, put it in the coworker's staff entry, and
// wrote shares of invented health data that the coworker's view showed.
//
// So the owner signs each staff entry (the coworker's name, registration,
// public key and a hash of their share key) with an Ed25519 key derived
// from the vault's MAC key, and the coworker pins the owner's public
// signing key once, out of band, when they are enrolled (staff add prints
// it; `clientvault trust KEY` keeps it outside the vault file). A
// coworker's unlock refuses a staff entry that the pinned key did not sign,
// and the share key it vouches for authenticates every share they read.

const (
	labelSigning   = "clientvault/v2/owner-signing"
	labelStaffSig  = "clientvault/v2/staff-entry"
	ownerKeyPrefix = "cvowner1"
)

// signingKey derives the owner's Ed25519 key from the MAC key: the holders
// of the vault's keys have it, and it needs no change to the stored keys.
func (k *keySet) signingKey() ed25519.PrivateKey {
	seed, err := hkdf.Key(sha256.New, k.macKey, nil, labelSigning, ed25519.SeedSize)
	if err != nil {
		panic(err) // only for a length HKDF cannot give
	}
	return ed25519.NewKeyFromSeed(seed)
}

// OwnerKey returns the owner's public signing key, to give to a coworker
// who pins it (TrustOwner): "cvowner1" and 43 characters.
func (v *Vault) OwnerKey() (string, error) {
	if v.keys == nil {
		return "", ErrLocked
	}
	pub := v.keys.signingKey().Public().(ed25519.PublicKey)
	return ownerKeyPrefix + base64.RawURLEncoding.EncodeToString(pub), nil
}

// ParseOwnerKey reads a key OwnerKey printed.
func ParseOwnerKey(s string) (ed25519.PublicKey, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), ownerKeyPrefix)
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if !ok || err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("owner key: %w: not a key 'clientvault staff add' prints (cvowner1…)", ErrInvalid)
	}
	return ed25519.PublicKey(b), nil
}

// staffMessage is what the owner signs of a staff entry.
func (v *Vault) staffMessage(st *staffEntry, shareKey []byte) []byte {
	h := sha256.New()
	for _, p := range [][]byte{[]byte(labelStaffSig), []byte(v.hdr.VaultRecipient), []byte(st.Name),
		[]byte(st.UID), []byte(st.Recipient), shareKey} {
		writePart(h, p)
	}
	return h.Sum(nil)
}

// signStaff signs st, whose share key is shareKey.
func (v *Vault) signStaff(st *staffEntry, shareKey []byte) {
	st.Sig = ed25519.Sign(v.keys.signingKey(), v.staffMessage(st, shareKey))
}

// signAllStaff signs the staff entries of a vault made before they were
// signed, once, when the owner unlocks it for writing.
func (v *Vault) signAllStaff() error {
	unsigned := false
	if err := v.view(func(tx *txn) error {
		// Unlocking must not fail on a tampered staff bucket: the commands
		// that use it refuse it, and verify reports it.
		tx.unguarded = true
		for _, st := range v.allStaffRaw(tx) {
			unsigned = unsigned || len(st.Sig) == 0
		}
		return nil
	}); err != nil || !unsigned {
		return err
	}
	err := v.update(func(tx *txn) error {
		for _, raw := range v.allStaffRaw(tx) {
			if len(raw.Sig) > 0 {
				continue
			}
			st, err := v.getStaff(tx, raw.Name)
			if err != nil {
				return err
			}
			sk, err := v.shareKey(st)
			if err != nil {
				return err
			}
			v.signStaff(st, sk)
			if err := v.putStaff(tx, st); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrTampered) {
		return nil // left unsigned; the commands that read staff refuse it
	}
	return err
}

// checkStaffSig checks, for a coworker, that the pinned owner key signed
// their staff entry with this share key.
func (v *Vault) checkStaffSig(st *staffEntry, shareKey []byte) error {
	if v.opts.OwnerKey == nil && v.opts.TrustDir != "" {
		k, err := TrustedOwner(v, v.opts.TrustDir)
		if err != nil {
			return err
		}
		v.opts.OwnerKey = k
	}
	if len(v.opts.OwnerKey) != ed25519.PublicKeySize {
		return ErrOwnerUnknown
	}
	if !ed25519.Verify(v.opts.OwnerKey, v.staffMessage(st, shareKey), st.Sig) {
		return fmt.Errorf("staff %s: the owner's signature: %w", st.Name, ErrTampered)
	}
	return nil
}

// trustPath is where the pinned owner key of the vault v is kept in dir.
func (v *Vault) trustPath(dir string) string {
	return filepath.Join(dir, vaultFileName(v.hdr.VaultRecipient, "clientvault owner key"))
}

// TrustOwner pins key as the owner's signing key of the vault v (opened,
// not unlocked) in dir, for a coworker. A different key already pinned is
// refused (ErrRefused): a key changes only when a person removes the file.
func TrustOwner(v *Vault, dir, key string) error {
	if _, err := ParseOwnerKey(key); err != nil {
		return err
	}
	p := v.trustPath(dir)
	if old, err := os.ReadFile(p); err == nil {
		if strings.TrimSpace(string(old)) == strings.TrimSpace(key) {
			return nil
		}
		return fmt.Errorf("another owner key is already trusted for this vault (%s): %w", p, ErrRefused)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(strings.TrimSpace(key)+"\n"), 0o600)
}

// TrustedOwner reads the owner key pinned for the vault v in dir; nil if
// none is.
func TrustedOwner(v *Vault, dir string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(v.trustPath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseOwnerKey(string(b))
}
