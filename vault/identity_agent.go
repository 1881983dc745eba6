package vault

import "filippo.io/age"

// Identities unlocks the file (asking for the passphrase if it was not yet
// given) and returns the identities it holds. It is for the unlock agent,
// which keeps them in memory so that later commands need not ask again;
// nothing else should need the keys themselves.
func (e *EncryptedIdentity) Identities() ([]age.Identity, error) {
	if err := e.unlock(); err != nil {
		return nil, err
	}
	return append([]age.Identity(nil), e.ids...), nil
}
