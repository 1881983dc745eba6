package vault

import (
	"strings"
)

// IDs returns the IDs of the visible records that start with prefix (all of
// them for ""), in ID order, for shell completion. It needs no Unlock and
// decrypts nothing: an ID is random and says nothing about the client, and a
// copied vault file shows the same IDs. It is not audited, since nothing of a
// record is read.
func (v *Vault) IDs(prefix string) ([]string, error) {
	prefix = strings.ToLower(prefix)
	var out []string
	err := v.view(func(tx *txn) error {
		return tx.Bucket(bucketIDs).ForEach(func(k, _ []byte) error {
			if len(k) != len(ID{}) {
				return nil
			}
			id := ID(k)
			s := id.String()
			if !strings.HasPrefix(s, prefix) {
				return nil
			}
			if _, err := v.getEntry(tx, id); err == nil {
				out = append(out, s)
			}
			return nil
		})
	})
	return out, err
}

// StaffNames returns the registered coworkers' names that start with
// prefix, for shell completion. Like IDs it needs no Unlock: staff names are
// public metadata of the vault (they key the staff bucket).
func (v *Vault) StaffNames(prefix string) ([]string, error) {
	var out []string
	err := v.view(func(tx *txn) error {
		return tx.Bucket(bucketStaff).ForEach(func(k, _ []byte) error {
			if strings.HasPrefix(strings.ToLower(string(k)), strings.ToLower(prefix)) {
				out = append(out, string(k))
			}
			return nil
		})
	})
	return out, err
}
