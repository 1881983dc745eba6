package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/clientvault/clientvault/vault"
)

// unlockFirst readies everything a command needs before it runs a form: the
// vault exists (on first use of add it is created, as init would), and the
// owner's identity is loaded and, if passphrase-protected, unlocked now. A
// wrong passphrase is then found before anything is typed into the form, not
// after; the vault itself is opened only once the form is done, so that no
// lock is held while the person types. The identity is kept in a.ids and not
// asked for again by open.
func (a *App) unlockFirst(o openOpts) error {
	if _, err := os.Stat(a.VaultPath()); errors.Is(err, os.ErrNotExist) {
		if !o.autoInit {
			return fmt.Errorf("vault %s: %w", a.VaultPath(), vault.ErrNoVault)
		}
		if err := a.firstUse(); err != nil {
			return err
		}
	}
	ids, err := a.identities()
	if err != nil || a.agentServes() {
		return err // with an unlock agent holding the identity, nothing to ask
	}
	for _, id := range ids {
		if e, ok := id.(*vault.EncryptedIdentity); ok {
			if _, err := e.Recipients(); err != nil {
				return err
			}
		}
	}
	return nil
}
