package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

type discloseOptions struct {
	yes                                                     bool
	to, basis, reference, out, recipient, scope, notifiedAt string
	notified, force                                         bool
}

func newDiscloseCmd(a *App) *cobra.Command {
	o := &discloseOptions{}
	c := &cobra.Command{
		Use:   "disclose RECORD --to WHO --basis BASIS --reference REF --out FILE",
		Short: "Disclose a record without consent on a legal basis, recorded",
		Long: `Disclose a record without the client's consent because the law requires it:
a subpoena, a court order, a regulator's demand, a public health report, a
safeguarding concern (--basis subpoena|court_order|regulator|public_health|
safeguarding|other). The basis and its reference are required.

The record (or the parts --scope names) is written to --out as an age file,
sealed to --recipient KEY, or else to a passphrase you choose (asked on the
terminal; give it to the recipient separately). The disclosure (recipient,
basis, reference, scope, whether the client was notified) is recorded in the
vault and audited; 'disclose list' is the accounting of disclosures.`,
		Example: `  clientvault disclose 7f3a9c2e --to "County Court" --basis subpoena --reference SUB-2026-17 \
      --out 7f3a-subpoena.age --recipient age1...
  clientvault disclose 7f3a9c2e --to "State Board" --basis regulator --reference "case 88" \
      --scope treatments --client-notified --notified-at 2026-03-02 --out board.age
  clientvault disclose list`,
		Args: exactArgs(1, "RECORD"),
		RunE: func(c *cobra.Command, args []string) error { return runDisclose(a, o, args[0]) },
	}
	f := c.Flags()
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation on a terminal")
	f.StringVar(&o.to, "to", "", "who receives the disclosure")
	f.StringVar(&o.basis, "basis", "", "legal basis: "+strings.Join(consent.Bases(), ", "))
	f.StringVar(&o.reference, "reference", "", "the basis's reference, e.g. the subpoena's number")
	f.StringVar(&o.out, "out", "", "the age file to write")
	f.StringVar(&o.recipient, "recipient", "", "the recipient's age or SSH public key (default: a passphrase)")
	f.StringVar(&o.scope, "scope", consent.Full, "full, or any of contact,health,patch_tests,treatments")
	f.BoolVar(&o.notified, "client-notified", false, "the client was told of the disclosure")
	f.StringVar(&o.notifiedAt, "notified-at", "", "when the client was told, YYYY-MM-DD")
	f.BoolVar(&o.force, "force", false, "replace the --out file if it exists")
	c.AddCommand(newDiscloseListCmd(a))
	return c
}

func runDisclose(a *App, o *discloseOptions, ref string) error {
	switch {
	case strings.TrimSpace(o.basis) == "":
		return withHint(usagef("--basis is required: a disclosure without consent needs a legal basis"),
			"one of "+strings.Join(consent.Bases(), ", ")+", with --reference REF")
	case strings.TrimSpace(o.reference) == "":
		return usagef("--reference is required (e.g. the subpoena's number)")
	case strings.TrimSpace(o.to) == "":
		return usagef("--to WHO is required")
	case o.out == "":
		return usagef("--out FILE is required")
	}
	d := consent.Disclosure{Recipient: o.to, Basis: o.basis, Reference: o.reference, Scope: splitList(o.scope), ClientNotified: o.notified}
	if o.notifiedAt != "" {
		day, err := records.ParseDate(o.notifiedAt)
		if err != nil {
			return usagef("--notified-at: %w", err)
		}
		d.NotifiedAt = day
	}
	write, err := outFile(o.out, o.force)
	if err != nil {
		return err
	}
	do := vault.DiscloseOptions{WriteFile: write, WorkFactor: a.WorkFactor}
	if o.recipient != "" {
		r, err := readStaffKey(o.recipient)
		if err != nil {
			return err
		}
		do.Recipient = r
	} else {
		pass, err := a.outputPassphrase("seal it to the recipient's key with --recipient KEY")
		if err != nil {
			return err
		}
		do.Passphrase = pass
	}
	if err := a.maybeConfirm(o.yes, fmt.Sprintf("Disclose %s to %s without the client's consent (%s %s)?", ref, o.to, o.basis, o.reference)); err != nil {
		return err
	}
	got, err := withVault(a, openOpts{write: true}, func(v *vault.Vault) (*consent.Disclosure, error) { return v.Disclose(ref, d, do) })
	if err != nil {
		return err
	}
	if a.jsonOut {
		return printJSON(a.Out, got)
	}
	fmt.Fprintf(a.Out, "disclosure %s recorded: record %s to %s, basis %s (%s), scope %s\n",
		got.ID, got.Record, got.Recipient, got.Basis, got.Reference, strings.Join(got.Scope, ","))
	fmt.Fprintf(a.Err, "clientvault: wrote %s\n", o.out)
	return nil
}

// outputPassphrase asks twice for the passphrase of a file for someone else.
func (a *App) outputPassphrase(alternative string) (string, error) {
	noTerminal := func() error {
		return withHint(fmt.Errorf("%w: the file is sealed with a passphrase you choose", errNoTerminal),
			"run it on a terminal to choose the passphrase, or "+alternative)
	}
	if a.ReadSecret == nil {
		return "", noTerminal()
	}
	if a.ErrTTY {
		fmt.Fprintln(a.Err, "clientvault: choose a passphrase for the file and give it to its recipient separately")
	}
	pass, err := a.newPassphrase()
	if errors.Is(err, errNoTerminal) {
		return "", noTerminal()
	}
	return pass, err
}

func newDiscloseListCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use: "list [RECORD]",
		Example: `  clientvault disclose list
  clientvault disclose list 7f3a9c2e --json`,
		Short: "The accounting of disclosures: all, or one record's",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			v, err := a.open(openOpts{})
			if err != nil {
				return err
			}
			defer v.Close()
			ref := ""
			if len(args) == 1 {
				ref = args[0]
			}
			list, err := v.Disclosures(ref)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, list)
			}
			tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tRECORD\tDATE\tTO\tBASIS\tREFERENCE\tSCOPE\tCLIENT NOTIFIED\tBY")
			for _, d := range list {
				notified := "no"
				if d.ClientNotified {
					notified = d.NotifiedAt.String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Record, d.At.Format(time.DateOnly), d.Recipient,
					d.Basis, d.Reference, strings.Join(d.Scope, ","), notified, d.By)
			}
			return tw.Flush()
		},
	}
}
