package main

import (
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
		v, err := vault.Open(a.VaultPath(), vault.Options{Now: a.Now, ReadOnly: true, LockTimeout: 200 * time.Millisecond})
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
