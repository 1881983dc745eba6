package vault

import (
	"fmt"
	"slices"

	"filippo.io/age"
)

// Rekey replaces the owner's keys: the vault's keys are re-wrapped to owner
// and to the recovery recipients (each kept as it is when nil, so that
// Rekey(nil, recovery, check) replaces the recovery key alone). Records are
// not touched: they are sealed to the vault's own key. Before anything is
// written, check (the owner's identities afterwards) must open the
// re-wrapped keys, so a rekey can never leave the vault without an identity
// that opens it. Afterwards the old owner key no longer opens this file's
// keys; but the key set itself is the same, so a copy of the file from
// before the rekey, opened with the old key, still gives keys that open
// this file: Rotate replaces the key set itself.
func (v *Vault) Rekey(owner, recovery []age.Recipient, check []age.Identity) error {
	if v.keys == nil {
		return ErrLocked
	}
	if len(check) == 0 {
		return fmt.Errorf("rekey: an identity that opens the re-wrapped keys is required: %w", ErrRefused)
	}
	owner, recovery, err := v.wrapRecipients(owner, recovery)
	if err != nil {
		return fmt.Errorf("rekey: %w", err)
	}
	wrapped, err := v.keys.wrap(append(append([]age.Recipient{}, owner...), recovery...)...)
	if err != nil {
		return err
	}
	got, err := unwrapKeySet(wrapped, check...)
	if err != nil || got.recipient.String() != v.keys.recipient.String() {
		return fmt.Errorf("rekey: the new identity does not open the re-wrapped keys: %w", ErrRefused)
	}
	hdr := v.hdr
	hdr.Owner, hdr.Recovery = nil, nil
	for _, r := range owner {
		hdr.Owner = append(hdr.Owner, RecipientString(r))
	}
	for _, r := range recovery {
		hdr.Recovery = append(hdr.Recovery, RecipientString(r))
	}
	return v.update(func(tx *txn) error {
		if err := tx.Bucket(bucketMeta).Put(keyKeys, wrapped); err != nil {
			return err
		}
		old := v.hdr
		v.hdr = hdr
		if err := v.putHeader(tx); err != nil {
			v.hdr = old
			return err
		}
		return v.appendAudit(tx, Event{Action: ActionRekey, Count: len(owner)})
	})
}

// OwnerKeys returns the owner's and the recovery public keys, as recorded.
func (v *Vault) OwnerKeys() (owner, recovery []string) {
	return slices.Clone(v.hdr.Owner), slices.Clone(v.hdr.Recovery)
}
