package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

func newEraseCmd(a *App) *cobra.Command {
	var yes bool
	var o vault.EraseOptions
	c := &cobra.Command{
		Use:   "erase RECORD --reason TEXT",
		Short: "Destroy one record on the client's request",
		Long: `Destroy one record on the client's request, as expire destroys a record past
retention: with its index entries, consents and holds, an audit entry with
the reason (stored sealed), and a rewrite of the vault file so that nothing
of it remains.

Before its retention has ended a record is erased only with --force, which
is the confirmation that the legal duty to keep it does not apply. Nothing
erases a record while a legal hold stands. On a terminal without --reason,
a form asks for both.`,
		Example: `  clientvault erase 7f3a9c2e --reason "client's request of 2026-11-20"
  clientvault erase 7f3a9c2e --reason "request 2026-11-20; insurer agreed" --force`,
		Args: exactArgs(1, "RECORD"),
		RunE: func(c *cobra.Command, args []string) error {
			form := strings.TrimSpace(o.Reason) == "" && a.interactive()
			rerr, err := a.keeping(args[0])
			if err != nil {
				return err
			}
			until := ""
			if rerr != nil && !rerr.Held && !o.Force && form {
				// The form says until when, and asks whether to force.
				until = rerr.Until.String()
			} else if err := retentionRefusal(rerr, o.Force); err != nil {
				return err
			}
			if form {
				if err := a.runForm(buildEraseForm(&o.Reason, &o.Force, until)); err != nil {
					return err
				}
				if until != "" && !o.Force {
					return retentionRefusal(rerr, false)
				}
			}
			if strings.TrimSpace(o.Reason) == "" {
				return usagef("erase needs --reason TEXT")
			}
			if !yes && a.interactive() {
				// Name the client: the person confirms whom they erase.
				// Looking is a view, and audited as one. The vault is not
				// held while the question waits.
				s, err := withVault(a, openOpts{write: true}, func(v *vault.Vault) (*vault.Stored, error) { return v.View(args[0]) })
				if err != nil {
					return err
				}
				who := s.Name
				if !s.DOB.IsZero() {
					who += ", born " + s.DOB.String()
				}
				if err := a.confirmWith(fmt.Sprintf("Destroy the record of %s (%s) for good?", who, s.ID), "This cannot be undone."); err != nil {
					return err
				}
			}
			v, err := a.open(openOpts{write: true})
			if err != nil {
				return err
			}
			defer v.Close()
			rep, err := v.Erase(args[0], o)
			var kept *vault.RetentionError
			switch {
			case errors.As(err, &kept):
				return retentionRefusal(kept, false)
			case rep == nil:
				return err
			}
			if a.jsonOut {
				if perr := printJSON(a.Out, rep); perr != nil {
					return perr
				}
			} else {
				how := "erased"
				if rep.Forced {
					how = "erased before its retention ended (" + rep.RetainUntil.String() + ")"
				}
				fmt.Fprintf(a.Out, "%s %s\n", how, rep.ID)
			}
			return err
		},
	}
	c.Flags().StringVar(&o.Reason, "reason", "", "why, such as the client's request and its date (stored sealed)")
	c.Flags().BoolVar(&o.Force, "force", false, "erase before the retention period has ended")
	c.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation on a terminal")
	return c
}
