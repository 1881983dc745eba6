package main

import (
	"fmt"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

func newRetentionCmd(a *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "retention",
		Short: "Show or change how long records are kept",
		Long: `A record is kept for a number of years after the client's last treatment (or
after it was added, with no treatment). For a client who was a minor then,
it is kept at least until a given birthday. Both numbers are settings: rules
differ by place and insurer.`,
		Example: `  clientvault retention show
  clientvault retention set --years 3`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newRetentionShowCmd(a), newRetentionSetCmd(a))
	return c
}

func newRetentionShowCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Show the retention rule and how many records are due",
		Example: `  clientvault retention show
  clientvault retention show --json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			rep, err := withVault(a, openOpts{}, (*vault.Vault).RetentionStatus)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, rep)
			}
			printPolicy(a, rep.Policy)
			fmt.Fprintf(a.Out, "records:          %d\ndue for expiry:   %d\nheld past retention: %d\n", rep.Records, rep.Due, rep.Held)
			return nil
		},
	}
}

func printPolicy(a *App, p consent.Policy) {
	fmt.Fprintf(a.Out, "keep:             %s after the last treatment\n", count(p.Years, "year"))
	fmt.Fprintf(a.Out, "minors:           under %d at the last treatment: kept at least until their %d%s birthday\n",
		p.MinorAge, p.MinorUntilAge, ordinal(p.MinorUntilAge))
}

func ordinal(n int) string {
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return "th"
	case n%10 == 1:
		return "st"
	case n%10 == 2:
		return "nd"
	case n%10 == 3:
		return "rd"
	}
	return "th"
}

func newRetentionSetCmd(a *App) *cobra.Command {
	var years string
	var minorAge, minorUntil int
	var yes bool
	c := &cobra.Command{
		Use:   "set --years N",
		Short: "Change the retention rule and recompute every record's date",
		Long: `Change the retention rule. Every record's retain-until date is recomputed
under the new rule (this decrypts every record once), in one transaction with
its audit entry. Settings not given keep their current values.`,
		Example: `  clientvault retention set --years 3
  clientvault retention set --years 8 --minor-age 18 --minor-until-age 25`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if years == "" && !c.Flags().Changed("minor-age") && !c.Flags().Changed("minor-until-age") {
				return usagef("retention set needs --years N (and optionally --minor-age, --minor-until-age)")
			}
			newPolicy := func(p consent.Policy) (consent.Policy, error) {
				var err error
				if years != "" {
					if p.Years, err = consent.ParsePeriod(years); err != nil {
						return p, usagef("--years: %w", err)
					}
				}
				if c.Flags().Changed("minor-age") {
					p.MinorAge = minorAge
				}
				if c.Flags().Changed("minor-until-age") {
					p.MinorUntilAge = minorUntil
				}
				return p, nil
			}
			if !yes {
				// A shorter period makes records due: say how many, and ask.
				pre, err := withVault(a, openOpts{}, func(v *vault.Vault) (*vault.RetentionReport, error) {
					old := v.Retention()
					p, err := newPolicy(old)
					if err != nil || !shorter(p, old) {
						return nil, err
					}
					return v.RetentionPreview(p)
				})
				if err != nil {
					return err
				}
				if pre != nil && pre.Due > 0 {
					if err := a.confirmDue(pre.Due, "Change the retention rule?",
						fmt.Sprintf("%s would become due: the next 'clientvault expire' destroys %s.", count(pre.Due, "record"), them(pre.Due))); err != nil {
						return err
					}
				}
			}
			v, err := a.open(openOpts{write: true})
			if err != nil {
				return err
			}
			defer v.Close()
			p, err := newPolicy(v.Retention())
			if err != nil {
				return err
			}
			rep, err := v.SetRetention(p)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, rep)
			}
			printPolicy(a, rep.Policy)
			fmt.Fprintf(a.Out, "records:          %d (%d with a new date)\ndue for expiry:   %d\n", rep.Records, rep.Changed, rep.Due)
			if rep.Due > 0 {
				fmt.Fprintf(a.Err, "clientvault: %s now past retention; 'clientvault expire --dry-run' lists %s\n", countIs(rep.Due, "record"), them(rep.Due))
			}
			return nil
		},
	}
	c.Flags().StringVar(&years, "years", "", "years to keep a record after the last treatment, e.g. 7 or 7y")
	c.Flags().BoolVar(&yes, "yes", false, "change the rule even when it makes records due for expiry")
	c.Flags().IntVar(&minorAge, "minor-age", 0, "age of majority: younger clients are minors")
	c.Flags().IntVar(&minorUntil, "minor-until-age", 0, "a minor's record is kept at least until this birthday")
	return c
}

// shorter reports whether p may keep some record for less time than old.
func shorter(p, old consent.Policy) bool {
	return p.Years < old.Years || p.MinorAge < old.MinorAge || p.MinorUntilAge < old.MinorUntilAge
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}
