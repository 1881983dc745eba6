package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/clientvault/clientvault/vault"
)

// This file holds the checks a command makes before it asks the person at
// the keyboard anything (a form, a confirmation, a passphrase): a step the
// vault would refuse is refused first.

// peek opens the vault read-only without unlocking it, for what its public
// metadata can tell (staff names, a record's retention by ID), and calls do.
func (a *App) peek(do func(v *vault.Vault) error) error {
	v, err := a.openVault(a.VaultPath(), vault.Options{Now: a.Now, ReadOnly: true})
	if err != nil {
		return err
	}
	defer v.Close()
	return do(v)
}

// keeping says, before any question, whether retention keeps the record
// ref names (see vault.Keeping). A record named by ID is checked without
// the passphrase; one named by name needs the vault unlocked, which asks
// for it first.
func (a *App) keeping(ref string) (*vault.RetentionError, error) {
	var rerr *vault.RetentionError
	err := a.peek(func(v *vault.Vault) (err error) {
		rerr, err = v.Keeping(ref)
		return err
	})
	if errors.Is(err, vault.ErrLocked) {
		rerr, err = withVault(a, openOpts{}, func(v *vault.Vault) (*vault.RetentionError, error) { return v.Keeping(ref) })
	}
	return rerr, err
}

// retentionRefusal is the error, with its hint, for a record retention
// keeps; nil when force overrides it or nothing keeps it.
func retentionRefusal(rerr *vault.RetentionError, force bool) error {
	switch {
	case rerr == nil:
		return nil
	case rerr.Held:
		return withHint(rerr, "a legal hold stands; 'clientvault hold list' shows it, 'clientvault release "+rerr.ID+"' ends it")
	case !force:
		return withHint(rerr, fmt.Sprintf("the record must be kept until %s; to erase it before then, add --force", rerr.Until))
	}
	return nil
}

// checkStaffName refuses, before the consent form, a coworker who is not
// registered, and returns the registered names for the form to choose from.
// Names match without regard to case, as the vault keeps them unique.
func (a *App) checkStaffName(name string) ([]string, error) {
	var names []string
	err := a.peek(func(v *vault.Vault) (err error) {
		names, err = v.StaffNames("")
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, withHint(fmt.Errorf("no coworkers are registered yet: a consent names one: %w", vault.ErrNotFound),
			"register them first with 'clientvault staff add NAME KEY'")
	}
	if name = strings.TrimSpace(name); name != "" && staffIndex(names, name) < 0 {
		return nil, fmt.Errorf("staff %s: %w", name, vault.ErrNotFound)
	}
	return names, nil
}

func staffIndex(names []string, name string) int {
	for i, n := range names {
		if strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}
