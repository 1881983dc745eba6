package main

import (
	"strings"
	"time"

	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

// completeRecordIDs completes a RECORD argument with record IDs: never with
// client names, which would need the passphrase and would land in the
// shell's history and completion caches. It opens the vault read-only,
// unlocks nothing and asks nothing; any problem just means no completions.
func completeRecordIDs(a *App) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		v, err := a.openVault(a.VaultPath(), vault.Options{Now: a.Now, ReadOnly: true, LockTimeout: 200 * time.Millisecond})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer v.Close()
		ids, err := v.IDs(toComplete)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeStaffNames completes a coworker's staff name, read without
// unlocking the vault.
func completeStaffNames(a *App) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		v, err := a.openVault(a.VaultPath(), vault.Options{Now: a.Now, ReadOnly: true, LockTimeout: 200 * time.Millisecond})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer v.Close()
		names, err := v.StaffNames(toComplete)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// wireCompletion gives every command that takes a RECORD record-ID
// completion, and the flags and arguments that name a coworker staff-name
// completion. disclose --to names an outside recipient, not staff.
func wireCompletion(a *App, root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.ValidArgsFunction == nil {
			switch {
			case strings.Contains(c.Use, " RECORD"):
				c.ValidArgsFunction = completeRecordIDs(a)
			case c.CommandPath() == "clientvault staff remove":
				c.ValidArgsFunction = completeStaffNames(a)
			}
		}
		if c.Flags().Lookup("with") != nil {
			c.RegisterFlagCompletionFunc("with", completeStaffNames(a))
		}
		if c.CommandPath() == "clientvault consent add" {
			c.RegisterFlagCompletionFunc("to", completeStaffNames(a))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
