package main

import (
	"fmt"
	"strings"

	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

func newExpireCmd(a *App) *cobra.Command {
	var dryRun, yes bool
	c := &cobra.Command{
		Use:   "expire",
		Short: "Destroy the records past retention and lapse expired consents",
		Long: `Destroy every record whose retention has ended and on which no legal hold
stands, and lapse consents past their expiry. The records go with their
index entries, consents and holds, in one transaction with an audit entry
that names them by ID and says why; then the vault file is rewritten so that
nothing of them remains in it.

Finding what is due reads only the records' public dates and hold flags
(authenticated), so it decrypts nothing. --dry-run lists what would go and
changes nothing.`,
		Example: `  clientvault expire --dry-run
  clientvault expire
  clientvault expire --json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			v, err := a.open(openOpts{write: !dryRun})
			if err != nil {
				return err
			}
			defer v.Close()
			if !dryRun && !yes && a.interactive() {
				due, err := v.Expire(vault.ExpireOptions{DryRun: true})
				if err != nil {
					return err
				}
				if n := len(due.Expired); n > 0 {
					// On a terminal, name the clients: the person confirms
					// what they destroy, not a count.
					names, err := dueNames(v, due.Expired)
					if err != nil {
						return err
					}
					if err := a.confirmWith(fmt.Sprintf("Destroy %s whose retention has ended? This cannot be undone.", count(n, "record")), names); err != nil {
						return err
					}
				}
			}
			rep, err := v.Expire(vault.ExpireOptions{DryRun: dryRun})
			if rep == nil {
				return err
			}
			if a.jsonOut {
				if perr := printJSON(a.Out, rep); perr != nil {
					return perr
				}
			} else {
				printExpireReport(a, rep)
			}
			return err
		},
	}
	c.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be destroyed; change nothing")
	c.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation on a terminal")
	return c
}

func printExpireReport(a *App, rep *vault.ExpireReport) {
	verb := "destroyed"
	if rep.DryRun {
		verb = "would destroy"
	}
	for _, id := range rep.Expired {
		fmt.Fprintf(a.Out, "%s %s\n", verb, id)
	}
	for _, id := range rep.Held {
		fmt.Fprintf(a.Out, "kept %s (legal hold)\n", id)
	}
	done := "destroyed"
	if rep.DryRun {
		done = "would be destroyed"
	}
	fmt.Fprintf(a.Out, "%d of %s %s, %d kept by a legal hold, %s lapsed\n",
		len(rep.Expired), count(rep.Records, "record"), done, len(rep.Held), count(rep.SharesLapsed, "share"))
	if !rep.DryRun && len(rep.Expired) > 0 {
		fmt.Fprintf(a.Err, "clientvault: vault compacted: %d -> %d bytes\n", rep.SizeBefore, rep.SizeAfter)
	}
}

// dueNames lists, for the confirmation on a terminal, the clients whose
// records are due: name, date of birth and ID, ten at most.
func dueNames(v *vault.Vault, ids []string) (string, error) {
	list, err := v.List()
	if err != nil {
		return "", err
	}
	byID := map[string]vault.Summary{}
	for _, s := range list {
		byID[s.ID] = s
	}
	var lines []string
	for i, id := range ids {
		if i == 10 {
			lines = append(lines, fmt.Sprintf("and %d more ('clientvault expire --dry-run' lists them)", len(ids)-10))
			break
		}
		s := byID[id]
		line := s.Name
		if !s.DOB.IsZero() {
			line += ", born " + s.DOB.String()
		}
		lines = append(lines, strings.TrimPrefix(line+"  "+id, "  "))
	}
	return strings.Join(lines, "\n"), nil
}
