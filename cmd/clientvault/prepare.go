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
	exists, err := a.vaultExists(a.VaultPath())
	if err != nil {
		return err
	}
	if !exists {
		// Only a file vault is created on first use, as open does: a vault
		// on etcd is the salon's, made once by its owner with init.
		if !o.autoInit || isRemote(a.VaultPath()) {
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

// vaultExists reports whether there is a vault at loc: a file that exists,
// or an etcd prefix that holds a vault (which takes asking the cluster; the
// URL is not a file).
func (a *App) vaultExists(loc string) (bool, error) {
	if !isRemote(loc) {
		_, err := os.Stat(loc)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	}
	o := a.vaultOptions()
	o.ReadOnly = true
	v, err := a.openVault(loc, o)
	if errors.Is(err, vault.ErrNoVault) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, v.Close()
}
