package main

import (
	"errors"
	"fmt"

	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

func newMigrateCmd(a *App) *cobra.Command {
	var to string
	c := &cobra.Command{
		Use:   "migrate --to DEST",
		Short: "Copy the vault to etcd, or from etcd to a file",
		Long: `Copy the vault, still sealed, byte for byte, to DEST and check the copy as
verify does: from a file to an etcd vault (etcd://HOST:2379/PREFIX, which
must hold nothing yet), or from an etcd vault to a new file (the same as
backup). The vault stays as it was; point --vault (or the config file) at
DEST when the copy is checked.`,
		Example: `  clientvault migrate --to etcd://10.0.0.5:2379/salon --ca ca.pem --cert me.pem --key me-key.pem
  clientvault --vault etcd://10.0.0.5:2379/salon migrate --to ~/vault-from-etcd.db`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if to == "" {
				return usagef("--to DEST is required: an etcd://HOST:2379/PREFIX URL, or a file")
			}
			v, err := a.open(openOpts{write: true})
			if err != nil {
				return err
			}
			defer v.Close()
			if !isRemote(to) {
				if err := parentExists(to); err != nil {
					return err
				}
				rep, err := v.Backup(to, vault.BackupOptions{Migrate: true})
				if errors.Is(err, vault.ErrExists) {
					return withHint(err, "migrate never overwrites: choose a new file name")
				}
				if err != nil {
					return err
				}
				if a.jsonOut {
					return printJSON(a.Out, rep)
				}
				fmt.Fprintf(a.Out, "migrated to %s: %s, %d bytes, checked\n", rep.Path, count(rep.Records, "record"), rep.Size)
				return nil
			}
			e, err := a.dialEngine(to)
			if err != nil {
				return err
			}
			defer e.Close()
			rep, err := v.MigrateTo(e, to)
			if errors.Is(err, vault.ErrExists) {
				return withHint(err, "migrate copies only into an empty prefix: choose another PREFIX in the URL")
			}
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, rep)
			}
			fmt.Fprintf(a.Out, "migrated to %s: %s, %s, %d bytes, checked\n", rep.To, count(rep.Records, "record"), count(rep.Keys, "key"), rep.Bytes)
			return nil
		},
	}
	c.Flags().StringVar(&to, "to", "", "where to copy the vault: etcd://HOST:2379/PREFIX, or a new file")
	return c
}
