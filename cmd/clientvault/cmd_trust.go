package main

import (
	"errors"
	"fmt"

	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

func newTrustCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use:   "trust OWNER-KEY",
		Short: "Pin the vault owner's key, once, on a coworker's computer",
		Long: `A coworker runs this once, with the key the owner's 'clientvault staff add'
printed for them (given in person, or by a channel both trust). It is kept
under the user's config directory, outside the vault file, and every later
command checks with it that the records shared with the coworker were shared
by the vault's owner: anyone who can write the vault file could otherwise
put forged records there. A different key already trusted for the vault is
refused.`,
		Example: `  clientvault trust cvowner1Xx2Yy…
  clientvault trust cvowner1Xx2Yy… --vault /mnt/salon/vault.db`,
		Args: exactArgs(1, "OWNER-KEY"),
		RunE: func(c *cobra.Command, args []string) error {
			key, err := vault.ParseOwnerKey(args[0])
			if err != nil {
				return withHint(err, "copy the whole key 'clientvault staff add' printed, starting with cvowner1")
			}
			opts := a.vaultOptions()
			opts.ReadOnly, opts.OwnerKey = true, key
			v, err := a.openVault(a.VaultPath(), opts)
			if err != nil {
				return err
			}
			defer v.Close()
			// The key must be the one that signed this coworker's own
			// staff entry: a key copied wrong, or another vault's, is
			// refused now rather than at every later command.
			if ids, err := a.identities(); err == nil {
				if err := v.UnlockAsStaff(ids...); errors.Is(err, vault.ErrTampered) {
					return withHint(fmt.Errorf("this key did not sign your staff entry in this vault: %w", err),
						"check that you copied the whole key the owner gave you, for this vault (--vault)")
				}
			}
			if err := vault.TrustOwner(v, trustDir(a), args[0]); err != nil {
				return withHint(err, "if the owner's key truly changed, remove the file named above and run this again")
			}
			fmt.Fprintf(a.Err, "clientvault: trusting this owner key for %s\n", a.VaultPath())
			return nil
		},
	}
}
