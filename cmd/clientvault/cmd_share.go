package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

type shareOptions struct {
	yes   bool
	with  string
	until string
	out   string
	force bool
}

func newShareCmd(a *App) *cobra.Command {
	o := &shareOptions{}
	c := &cobra.Command{
		Use:   "share RECORD --with NAME",
		Short: "Share a record with a coworker who holds the client's consent",
		Long: `Share a record with a coworker: the parts the client's active consents cover
are sealed to the coworker's own key, so that they can run
'clientvault view RECORD --identity THEIR-KEY' against the vault file. Without
an active consent it refuses and says which 'consent add' to run (on a
terminal it offers the consent form). Sharing again changes nothing.

--until DATE ends the share after that day. --out FILE also writes the shared
part as a standard age file: 'age -d -i THEIR-KEY FILE' opens it without
clientvault. A file already written cannot be taken back by unsharing.`,
		Example: `  clientvault share 7f3a9c2e --with "Bea Lopez"
  clientvault share 7f3a9c2e --with "Bea Lopez" --until 2026-03-31 --out bea-7f3a.age`,
		Args: exactArgs(1, "RECORD"),
		RunE: func(c *cobra.Command, args []string) error { return runShare(a, o, args[0]) },
	}
	f := c.Flags()
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation on a terminal")
	f.StringVar(&o.with, "with", "", "the coworker's staff name")
	f.StringVar(&o.until, "until", "", "last day of the share, YYYY-MM-DD")
	f.StringVar(&o.out, "out", "", "also write an age file for the coworker")
	f.BoolVar(&o.force, "force", false, "replace the --out file if it exists")
	return c
}

// outFile returns the function that writes an output file, refusing an
// existing one unless force is set. It is checked first, so that a taken
// name is refused before the vault is opened.
func outFile(path string, force bool) (func([]byte) error, error) {
	if path == "" {
		return nil, nil
	}
	if _, err := os.Stat(path); err == nil && !force {
		return nil, withHint(fmt.Errorf("%s: %w", path, vault.ErrExists), "pass --force to replace it, or choose another --out file")
	}
	return func(b []byte) error { return vault.WriteFile(path, b, force) }, nil
}

func runShare(a *App, o *shareOptions, ref string) error {
	if strings.TrimSpace(o.with) == "" {
		return usagef("--with NAME is required (see 'clientvault staff list')")
	}
	so := vault.ShareOptions{}
	if o.until != "" {
		d, err := records.ParseDate(o.until)
		if err != nil {
			return usagef("--until: %w", err)
		}
		so.Until = d
	}
	write, err := outFile(o.out, o.force)
	if err != nil {
		return err
	}
	so.WriteFile = write
	if err := a.maybeConfirm(o.yes, fmt.Sprintf("Share %s with %s?", ref, o.with)); err != nil {
		return err
	}
	v, err := a.open(openOpts{write: true})
	if err != nil {
		return err
	}
	defer v.Close()
	res, err := v.Share(ref, o.with, so)
	var nc *vault.NoConsentError
	if errors.As(err, &nc) && a.interactive() {
		fmt.Fprintf(a.Err, "clientvault: record %s has no active consent to share with %s; record the client's consent now\n", nc.Record, nc.Staff)
		f := &consentFlags{To: nc.Staff}
		if ferr := a.runConsentForm(f); ferr != nil {
			return ferr
		}
		cons, ferr := f.consent()
		if ferr != nil {
			return ferr
		}
		if _, ferr := v.ConsentAdd(nc.Record, cons); ferr != nil {
			return ferr
		}
		res, err = v.Share(nc.Record, o.with, so)
	}
	if errors.As(err, &nc) {
		return withHint(err, fmt.Sprintf("record the client's consent first: clientvault consent add %s --to %q --scope full "+
			"--purpose \"...\" --method written --evidence \"FORM-NUMBER\" --obtained-by \"YOUR NAME\"", nc.Record, nc.Staff))
	}
	if err != nil {
		return err
	}
	if a.jsonOut {
		return printJSON(a.Out, res)
	}
	switch {
	case res.Already:
		fmt.Fprintf(a.Out, "record %s is already shared with %s (%s); nothing changed\n", res.Record, res.Staff, strings.Join(res.Scope, ", "))
	default:
		fmt.Fprintf(a.Out, "shared record %s with %s: %s\n", res.Record, res.Staff, strings.Join(res.Scope, ", "))
	}
	if !res.Until.IsZero() {
		fmt.Fprintf(a.Out, "the share ends after %s\n", res.Until)
	}
	if o.out != "" {
		fmt.Fprintf(a.Err, "clientvault: wrote %s for %s (age -d -i THEIR-KEY opens it); unsharing cannot take it back\n", o.out, res.Staff)
	}
	return nil
}

func newUnshareCmd(a *App) *cobra.Command {
	var with string
	c := &cobra.Command{
		Use: "unshare RECORD --with NAME",
		Example: `  clientvault unshare 7f3a9c2e --with "Bea Lopez"
  clientvault unshare "Jane Doe" --with "Bea Lopez" --json`,
		Short: "Stop sharing a record with a coworker",
		Long: `Stop sharing a record with a coworker: their copy in the vault file is
deleted, so their key no longer opens anything of the record there. It says
plainly what it cannot undo: everyone who could read the record before, and
every file written for them, stay as they are. The client's consent is kept;
to record its withdrawal, use 'consent revoke'.`,
		Args: exactArgs(1, "RECORD"),
		RunE: func(c *cobra.Command, args []string) error {
			if strings.TrimSpace(with) == "" {
				return usagef("--with NAME is required")
			}
			v, err := a.open(openOpts{write: true})
			if err != nil {
				return err
			}
			defer v.Close()
			res, err := v.Unshare(args[0], with)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, res)
			}
			if res.Removed {
				fmt.Fprintf(a.Out, "record %s is no longer shared with %s: the vault holds nothing of it their key opens\n", res.Record, res.Staff)
			} else {
				fmt.Fprintf(a.Out, "record %s was not shared with %s; nothing changed\n", res.Record, res.Staff)
			}
			printExposure(a.Out, &res.Exposure)
			return nil
		},
	}
	c.Flags().StringVar(&with, "with", "", "the coworker's staff name")
	return c
}
