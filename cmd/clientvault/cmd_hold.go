package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

func newHoldCmd(a *App) *cobra.Command {
	var o vault.HoldOptions
	var review string
	c := &cobra.Command{
		Use:   "hold RECORD --reason TEXT",
		Short: "Put a legal hold on a record: no expiry or erasure while it stands",
		Long: `Put a legal hold on a record, such as for pending litigation: while it stands
the record is neither expired nor erased, whatever its retention date. The
reason is stored sealed. 'clientvault release RECORD' ends the hold; the
hold itself is kept as proof. 'clientvault hold list' lists the holds.`,
		Example: `  clientvault hold 7f3a9c2e --reason "claim 2026-114" --review 2027-01-31
  clientvault hold list`,
		Args: exactArgs(1, "RECORD"),
		RunE: func(c *cobra.Command, args []string) error {
			if strings.TrimSpace(o.Reason) == "" {
				return usagef("hold needs --reason TEXT")
			}
			if review != "" {
				d, err := records.ParseDate(review)
				if err != nil {
					return usagef("--review: %w", err)
				}
				o.Review = d
			}
			h, err := withVault(a, openOpts{write: true}, func(v *vault.Vault) (*consent.Hold, error) { return v.Hold(args[0], o) })
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, h)
			}
			fmt.Fprintf(a.Out, "held %s (review %s)\n", h.Record, h.Review)
			return nil
		},
	}
	c.Flags().StringVar(&o.Reason, "reason", "", "why the record is held (stored sealed)")
	c.Flags().StringVar(&review, "review", "", "when to review the hold, YYYY-MM-DD (default: a year from today)")
	c.AddCommand(newHoldListCmd(a))
	return c
}

func newHoldListCmd(a *App) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use: "list",
		Example: `  clientvault hold list
  clientvault hold list --all --json`,
		Short: "List the legal holds that stand (--all: released ones too)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			holds, err := withVault(a, openOpts{}, func(v *vault.Vault) ([]consent.Hold, error) { return v.Holds(all) })
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, holds)
			}
			printHolds(a, holds)
			return nil
		},
	}
	c.Flags().BoolVar(&all, "all", false, "include released holds")
	return c
}

func printHolds(a *App, holds []consent.Hold) {
	tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECORD\tSINCE\tBY\tREVIEW\tRELEASED\tREASON")
	for _, h := range holds {
		released := "-"
		if !h.Active() {
			released = h.ReleasedAt.Local().Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.Record, h.At.Local().Format(time.DateOnly), h.By, h.Review, released,
			strings.ReplaceAll(h.Reason, "\n", " "))
	}
	tw.Flush()
}

func newReleaseCmd(a *App) *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "release RECORD",
		Short: "Release the legal holds on a record",
		Example: `  clientvault release 7f3a9c2e
  clientvault release "Jane Doe"`,
		Args: exactArgs(1, "RECORD"),
		RunE: func(c *cobra.Command, args []string) error {
			if !yes {
				if err := a.confirmReleaseDue(args[0]); err != nil {
					return err
				}
			}
			released, err := withVault(a, openOpts{write: true}, func(v *vault.Vault) ([]consent.Hold, error) { return v.Release(args[0]) })
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, released)
			}
			id := args[0]
			if len(released) > 0 {
				id = released[0].Record
			}
			fmt.Fprintf(a.Out, "released %s on %s\n", count(len(released), "hold"), id)
			return nil
		},
	}
	c.Flags().BoolVar(&yes, "yes", false, "release a hold even when the record is past retention (the next expire destroys it)")
	return c
}

// confirmReleaseDue asks first when releasing the hold lets the record
// expire: it is already past its retention date.
func (a *App) confirmReleaseDue(ref string) error {
	rerr, err := a.keeping(ref)
	if err != nil || rerr == nil || !rerr.Held || !records.DateOf(a.Now()).After(rerr.Until) {
		return nil // Release itself says what is wrong
	}
	return a.confirmDue(1, fmt.Sprintf("Release the hold on record %s?", rerr.ID),
		fmt.Sprintf("It was to be kept until %s: once released, the next 'clientvault expire' destroys it.", rerr.Until))
}
