package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

func newExportCmd(a *App) *cobra.Command {
	var out string
	var force bool
	c := &cobra.Command{
		Use:   "export RECORD",
		Short: "A client's own data, readable, for a subject access request",
		Long: `Give a client their own data (a subject access request): the record, the
consents they gave, who it is shared with, every disclosure made without
consent, and every recorded access, with who and when. Plain text, or JSON
with --json. --out FILE writes it sealed with a passphrase you choose, for
handing over ('age -d FILE' opens it). The export is audited.`,
		Example: `  clientvault export 7f3a9c2e
  clientvault export 7f3a9c2e --json --out jane-export.age`,
		Args: exactArgs(1, "RECORD"),
		RunE: func(c *cobra.Command, args []string) error {
			write, err := outFile(out, force)
			if err != nil {
				return err
			}
			var pass string
			if write != nil {
				if pass, err = a.outputPassphrase("leave out --out to print to standard output"); err != nil {
					return err
				}
			}
			v, err := a.open(openOpts{write: true})
			if err != nil {
				return err
			}
			defer v.Close()
			var seal func(*vault.Export) error
			if write != nil {
				seal = func(x *vault.Export) error {
					var buf bytes.Buffer
					if err := a.printExport(&buf, x); err != nil {
						return err
					}
					sealed, err := vault.SealWithPassphrase(buf.Bytes(), pass, a.WorkFactor)
					if err != nil {
						return err
					}
					return write(sealed)
				}
			}
			x, err := v.Export(args[0], seal)
			if err != nil {
				return err
			}
			if write != nil {
				fmt.Fprintf(a.Err, "clientvault: wrote %s, sealed with the passphrase (age -d %s opens it)\n", out, out)
				return nil
			}
			return a.printExport(a.Out, x)
		},
	}
	c.Flags().StringVar(&out, "out", "", "write the export to this file, sealed with a passphrase")
	c.Flags().BoolVar(&force, "force", false, "replace the --out file if it exists")
	return c
}

// printExport writes an export as JSON (--json) or plain text.
func (a *App) printExport(w io.Writer, x *vault.Export) error {
	if a.jsonOut {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(x)
	}
	fmt.Fprintln(w, "Your record")
	printRecord(w, x.Record)
	fmt.Fprintln(w, "\nConsents you gave")
	if len(x.Consents) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, c := range x.Consents {
		fmt.Fprintf(w, "  %s: to %s, %s, for %q, given %s (%s)", c.ID, c.To, strings.Join(c.Scope, ", "), c.Purpose,
			c.GivenAt.Format(time.DateOnly), c.Status)
		if c.Withdrawn() {
			fmt.Fprintf(w, ", withdrawn %s", c.WithdrawnAt.Format(time.DateOnly))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\nShared with now")
	if len(x.SharedWith) == 0 {
		fmt.Fprintln(w, "  nobody")
	}
	for _, s := range x.SharedWith {
		fmt.Fprintf(w, "  %s: %s, since %s", s.Staff, strings.Join(s.Scope, ", "), s.Since.Format(time.DateOnly))
		if !s.Until.IsZero() {
			fmt.Fprintf(w, ", until %s", s.Until)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\nDisclosed without consent")
	if len(x.Disclosures) == 0 {
		fmt.Fprintln(w, "  never")
	}
	for _, d := range x.Disclosures {
		fmt.Fprintf(w, "  %s: to %s, %s %s, %s\n", d.At.Format(time.DateOnly), d.Recipient, d.Basis, d.Reference, strings.Join(d.Scope, ", "))
	}
	fmt.Fprintln(w, "\nWho accessed your record")
	for _, e := range x.Access {
		who := e.Actor
		if e.Staff != "" && e.Staff != e.Actor {
			who += " (" + e.Staff + ")"
		}
		fmt.Fprintf(w, "  %s  %-14s %s  %s\n", e.Time.Format(time.DateTime), e.Action, who, e.Detail)
	}
	return nil
}
