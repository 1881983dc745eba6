package main

import (
	"errors"
	"fmt"

	"filippo.io/age"

	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

func newBackupCmd(a *App) *cobra.Command {
	var o vault.BackupOptions
	c := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the vault, still sealed, and check it",
		Long: `Write a consistent copy of the vault to FILE: still sealed, taken in one read
transaction, written to a temporary file, synced, and checked (structure,
header, every record's authentication, audit chain) before it appears under
FILE. An existing FILE is replaced only with --force.`,
		Example: `  clientvault backup /media/usb/clientvault-2026-11-23.db
  clientvault backup ~/backups/vault-$(date +%F).db --force`,
		Args: exactArgs(1, "FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := parentExists(args[0]); err != nil {
				return err
			}
			v, err := a.open(openOpts{write: true})
			if err != nil {
				return err
			}
			defer v.Close()
			rep, err := v.Backup(args[0], o)
			if errors.Is(err, vault.ErrExists) {
				return withHint(err, "choose a new file name, or pass --force to replace it")
			}
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, rep)
			}
			fmt.Fprintf(a.Out, "backup %s: %s, %d bytes, checked\n", rep.Path, count(rep.Records, "record"), rep.Size)
			return nil
		},
	}
	c.Flags().BoolVar(&o.Force, "force", false, "replace FILE if it exists")
	return c
}

func newRestoreCmd(a *App) *cobra.Command {
	var o vault.RestoreOptions
	c := &cobra.Command{
		Use:   "restore FILE",
		Short: "Put a backup in place of the vault",
		Long: `Check the backup FILE (a vault, of this same vault, authentic) and put it in
place of the vault atomically. A vault that changed after the backup was
taken is replaced only with --force: those changes are lost, except that
every erasure and expiry recorded in the vault being replaced is applied
again, so a restore never brings back a destroyed record. With no vault at
--vault, the backup becomes the vault.`,
		Example: `  clientvault restore /media/usb/clientvault-2026-11-23.db
  clientvault restore old-laptop-vault.db --force`,
		Args: exactArgs(1, "FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			v, err := a.open(openOpts{write: true, restoring: true})
			var rep *vault.RestoreReport
			switch {
			case errors.Is(err, vault.ErrNoVault):
				ids, ierr := a.identities()
				if ierr != nil {
					return ierr
				}
				rep, err = a.restoreNew(args[0], ids)
			case err != nil:
				return err
			default:
				defer v.Close()
				rep, err = v.Restore(args[0], o)
			}
			if errors.Is(err, vault.ErrCorrupt) {
				// The backup, not the vault: the vault opened above.
				return withHint(fmt.Errorf("backup %s: %w", args[0], vault.ErrCorrupt),
					"check the path names a backup made by 'clientvault backup FILE'; try an older backup if this one is damaged")
			}
			if errors.Is(err, vault.ErrRefused) && !o.Force {
				return withHint(err, "to replace the vault anyway, pass --force; erasures are applied again")
			}
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, rep)
			}
			fmt.Fprintf(a.Out, "restored %s: %s (backup up to audit entry %d)\n", rep.From, count(rep.Records, "record"), rep.BackupSeq)
			if rep.Changes > 0 {
				fmt.Fprintf(a.Err, "clientvault: replaced %s made after the backup\n", count(rep.Changes, "change"))
			}
			for _, r := range rep.Revoked {
				fmt.Fprintf(a.Out, "  re-applied: %s\n", r)
			}
			if rep.Archived > 0 {
				entries := fmt.Sprintf("%d entries", rep.Archived)
				if rep.Archived == 1 {
					entries = "1 entry"
				}
				fmt.Fprintf(a.Out, "kept %s of the replaced vault's log as an archived segment ('clientvault audit --verify' checks it)\n", entries)
			}
			if len(rep.Reapplied) > 0 {
				fmt.Fprintf(a.Out, "re-applied %s recorded in the replaced vault (erasure or expiry):\n", count(len(rep.Reapplied), "destruction"))
				for _, id := range rep.Reapplied {
					fmt.Fprintf(a.Out, "  destroyed %s\n", id)
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&o.Force, "force", false, "replace a vault that changed after the backup")
	return c
}

// restoreNew puts the backup at from in place where there is no vault: a
// new file, or an etcd prefix that holds nothing yet (the URL is not a
// path to write a file at).
func (a *App) restoreNew(from string, ids []age.Identity) (*vault.RestoreReport, error) {
	loc := a.VaultPath()
	if !isRemote(loc) {
		return vault.RestoreNew(loc, from, ids, a.vaultOptions())
	}
	e, err := a.dialEngine(loc)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	return vault.RestoreNewIn(e, loc, from, ids, a.vaultOptions())
}
