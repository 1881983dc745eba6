package vault

import (
	"fmt"

	"filippo.io/age"
)

// Rekey replaces the owner's keys: the vault's keys are re-wrapped to owner
// and to the recovery recipients (kept as they are when recovery is nil).
// Records are not touched: they are sealed to the vault's own key. Before
// anything is written, check (the new owner's identities) must open the
// re-wrapped keys, so a rekey can never leave the vault without an identity
// that opens it. Afterwards the old owner key opens nothing in this vault.
func (v *Vault) Rekey(owner, recovery []age.Recipient, check []age.Identity) error {
	if v.keys == nil {
		return ErrLocked
	}
	if len(owner) == 0 || len(check) == 0 {
		return fmt.Errorf("rekey: a new owner key is required: %w", ErrRefused)
	}
	if recovery == nil {
		for _, s := range v.hdr.Recovery {
			r, err := ParseRecipient(s)
			if err != nil {
				return fmt.Errorf("rekey: the recovery key in the header: %w", ErrCorrupt)
			}
			recovery = append(recovery, r)
		}
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
	return slicesClone(v.hdr.Owner), slicesClone(v.hdr.Recovery)
}
