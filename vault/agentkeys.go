package vault

import (
	"encoding/json"
	"fmt"

	"filippo.io/age"
)

// ExportKeys returns the unlocked vault's keys, to hand to an agent process
// that keeps them in memory for a while ('clientvault unlock'). The bytes
// are the vault's secrets: they must travel only over a pipe or a socket
// the user alone can reach, and never be written to disk.
func (v *Vault) ExportKeys() ([]byte, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	return json.Marshal(keySetJSON{V: 1, Identity: v.keys.identity.String(), MACKey: v.keys.macKey, IndexKey: v.keys.indexKey})
}

// UnlockWithKeys unlocks the vault with keys from ExportKeys, checking them
// against the vault's authenticated header as Unlock does: keys of another
// vault are ErrWrongKey.
func (v *Vault) UnlockWithKeys(b []byte) error {
	var j keySetJSON
	if err := json.Unmarshal(b, &j); err != nil || j.V != 1 || len(j.MACKey) != 32 || len(j.IndexKey) != 32 {
		return fmt.Errorf("agent keys: %w", ErrWrongKey)
	}
	id, err := age.ParseX25519Identity(j.Identity)
	if err != nil {
		return fmt.Errorf("agent keys: %w", ErrWrongKey)
	}
	if id.Recipient().String() != v.hdr.VaultRecipient {
		return fmt.Errorf("agent keys are for another vault: %w", ErrWrongKey)
	}
	return v.unlockWith(&keySet{identity: id, recipient: id.Recipient(), macKey: j.MACKey, indexKey: j.IndexKey})
}
