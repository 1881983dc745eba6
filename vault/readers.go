package vault

import (
	"fmt"

	"filippo.io/age"
)

// readerRecipients returns the public keys of the staff a record is shared
// with, for re-sealing it. Sharing arrives with the staff and consent
// commands; until then a record has no readers but the vault, and a stored
// entry that names some cannot be re-sealed without losing them.
func (v *Vault) readerRecipients(tx *txn, names []string) ([]age.Recipient, error) {
	if len(names) == 0 {
		return nil, nil
	}
	return nil, fmt.Errorf("shared with %d staff this version does not know: %w", len(names), ErrRefused)
}
