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

// IdentityKind is what kind of identity a file holds, for the unlock
// command to say truly why it cannot hold one.
type IdentityKind int

// The kinds of identity.
const (
	KindOther        IdentityKind = iota
	KindPassphrase                // an age file sealed with a passphrase (EncryptedIdentity)
	KindAgeKey                    // a plain age key: no passphrase
	KindSSHKey                    // an unencrypted SSH key: no passphrase
	KindEncryptedSSH              // an SSH key with its own passphrase
	KindPlugin                    // an age plugin identity (a hardware key)
)

// KindOf returns the kind of id.
func KindOf(id age.Identity) IdentityKind {
	switch id.(type) {
	case *EncryptedIdentity:
		return KindPassphrase
	case *age.X25519Identity, *age.HybridIdentity:
		return KindAgeKey
	case plainSSHIdentity:
		return KindSSHKey
	case sshIdentity:
		return KindEncryptedSSH
	case pluginIdentity:
		return KindPlugin
	}
	return KindOther
}
