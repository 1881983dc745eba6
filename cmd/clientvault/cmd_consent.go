package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/huh"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

func newConsentCmd(a *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "consent",
		Short: "Record, list or withdraw a client's consent to share with a coworker",
		Long: `A client's consent to share their record with one named coworker: who
consented (the client, or a guardian and their authority), to whom, which
parts (full, or any of contact, health, patch_tests, treatments), why, how
(written, verbal with a witness, electronic), the evidence, who obtained it,
and until when. A withdrawn consent is kept, never deleted.`,
		Example: `  clientvault consent add 7f3a9c2e --to "Bea Lopez" --scope treatments --purpose "covering a shift" \
      --method written --evidence "form C-12" --obtained-by "Olivia Owner"
  clientvault consent list 7f3a9c2e
  clientvault consent revoke 3b1f08c2`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newConsentAddCmd(a), newConsentListCmd(a), newConsentRevokeCmd(a))
	return c
}

// consentFlags holds consent add's flags, as text, the same fields the form
// edits.
type consentFlags struct {
	GivenBy, Guardian, GuardianAuthority, To, Scope, Purpose string
	Method, Witness, Evidence, ObtainedBy, Expires           string

	// staff are the registered coworkers' names: the form offers them to
	// choose from instead of asking for a name to type.
	staff []string
}

// consent turns the values into a consent; validation is the vault's
// (consent.Consent.Validate), so flags and the form are checked alike.
func (f *consentFlags) consent() (consent.Consent, error) {
	c := consent.Consent{
		GivenBy: f.GivenBy, Guardian: f.Guardian, GuardianAuthority: f.GuardianAuthority, To: f.To,
		Scope: splitList(f.Scope), Purpose: f.Purpose, Method: f.Method, Witness: f.Witness,
		Evidence: f.Evidence, ObtainedBy: f.ObtainedBy,
	}
	if s := strings.TrimSpace(f.Expires); s != "" {
		d, err := records.ParseDate(s)
		if err != nil {
			return c, usagef("--expires: %w", err)
		}
		c.Expires = d
	}
	return c, nil
}

func newConsentAddCmd(a *App) *cobra.Command {
	f := &consentFlags{}
	c := &cobra.Command{
		Use:   "add RECORD --to NAME",
		Short: "Record a client's consent to share their record with a coworker",
		Long: `Record a client's consent to share their record with one coworker, who must
be registered ('staff add'). On a terminal with no flags but RECORD, a form
asks for it. It shares nothing by itself: run 'share' next.`,
		Example: `  clientvault consent add 7f3a9c2e --to "Bea Lopez" --scope contact,treatments \
      --purpose "covering appointments in March" --method written --evidence "form C-12 v3" \
      --obtained-by "Olivia Owner" --expires 2026-12-31
  clientvault consent add 7f3a9c2e --to "Bea Lopez" --given-by guardian --guardian "Mary Doe" \
      --guardian-authority parent --scope full --purpose "laser course" --method verbal \
      --witness "Sam Reception" --obtained-by "Olivia Owner"`,
		Args: exactArgs(1, "RECORD"),
		RunE: func(c *cobra.Command, args []string) error {
			data := c.Flags().NFlag() - countSet(c, "json", "vault", "identity", "accessible")
			if data == 0 && a.interactive() || strings.TrimSpace(f.To) != "" {
				names, err := a.checkStaffName(f.To)
				if err != nil {
					return err
				}
				f.staff = names
			}
			if data == 0 && a.interactive() {
				if err := a.runConsentForm(f); err != nil {
					return err
				}
			} else if strings.TrimSpace(f.To) == "" {
				return usagef("--to NAME is required (the coworker the client consents to share with)")
			}
			cons, err := f.consent()
			if err != nil {
				return err
			}
			got, err := withVault(a, openOpts{write: true}, func(v *vault.Vault) (*consent.Consent, error) { return v.ConsentAdd(args[0], cons) })
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, got)
			}
			fmt.Fprintf(a.Out, "consent %s recorded for record %s: %s may be given %s\n", got.ID, got.Record, got.To, strings.Join(got.Scope, ", "))
			if consent.Covers(got.Scope, consent.Treatments) && !consent.Covers(got.Scope, consent.Health) {
				fmt.Fprintf(a.Err, "clientvault: note: %s\n", treatmentsWithoutHealth)
			}
			fmt.Fprintf(a.Err, "hint: share it with 'clientvault share %s --with %q'\n", got.Record, got.To)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.To, "to", "", "the coworker (staff name) the client consents to")
	fl.StringVar(&f.GivenBy, "given-by", consent.ByClient, "who consented: client or guardian")
	fl.StringVar(&f.Guardian, "guardian", "", "the guardian's name (--given-by guardian)")
	fl.StringVar(&f.GuardianAuthority, "guardian-authority", "", "what entitles the guardian, e.g. parent (--given-by guardian)")
	fl.StringVar(&f.Scope, "scope", "", "full, or any of contact,health,patch_tests,treatments")
	fl.StringVar(&f.Purpose, "purpose", "", "why the record is shared")
	fl.StringVar(&f.Method, "method", "", "how consent was given: written, verbal or electronic")
	fl.StringVar(&f.Witness, "witness", "", "who witnessed a verbal consent")
	fl.StringVar(&f.Evidence, "evidence", "", "the signed form's number or the version of the consent text shown")
	fl.StringVar(&f.ObtainedBy, "obtained-by", "", "the staff member who obtained the consent")
	fl.StringVar(&f.Expires, "expires", "", "last day the consent holds, YYYY-MM-DD (default: until withdrawn)")
	return c
}

// coworkerField asks for the coworker: a choice among the registered
// names when they are known, else a name to type.
func coworkerField(f *consentFlags) huh.Field {
	if len(f.staff) == 0 || f.To != "" {
		return huh.NewInput().Title("Coworker (staff name)").Value(&f.To).Validate(consent.ValidateTo)
	}
	return describe(huh.NewSelect[string]().Title("Coworker").
		Options(huh.NewOptions(f.staff...)...).Value(&f.To), "from 'clientvault staff list'")
}

// buildConsentForm returns the consent form. Its validators are the consent
// package's, the ones the vault applies to flags.
func buildConsentForm(f *consentFlags, today records.Date) *huh.Form {
	who, guardian, details := consentGroups(f, today)
	return huh.NewForm(who, guardian.WithHideFunc(func() bool { return f.GivenBy != consent.ByGuardian }), details)
}

// runConsentForm asks for a consent. huh's accessible mode asks every
// group, hidden or not, so there the guardian's part is its own step, asked
// only for a consent given by a guardian.
func (a *App) runConsentForm(f *consentFlags) error {
	today := records.DateOf(a.Now())
	if !a.Accessible {
		return a.runForm(buildConsentForm(f, today))
	}
	who, guardian, details := consentGroups(f, today)
	for _, g := range []*huh.Group{who, guardian, details} {
		if g == guardian && f.GivenBy != consent.ByGuardian {
			continue
		}
		if err := a.runForm(huh.NewForm(g)); err != nil {
			return err
		}
	}
	return nil
}

// consentGroups are the consent form's parts: who consented to whom, the
// guardian (for a guardian's consent only), and the details.
func consentGroups(f *consentFlags, today records.Date) (who, guardian, details *huh.Group) {
	var scope []string
	opts := func(list []string) []huh.Option[string] { return huh.NewOptions(list...) }
	if f.GivenBy == "" {
		f.GivenBy = consent.ByClient
	}
	who = huh.NewGroup(
		coworkerField(f),
		huh.NewSelect[string]().Title("Who consented").Options(opts(consent.Givers())...).Value(&f.GivenBy),
	).Title("Consent to share")
	guardian = huh.NewGroup(
		huh.NewInput().Title("Guardian's name").Value(&f.Guardian).
			Validate(func(s string) error { return consent.ValidateGuardian(f.GivenBy, s) }),
		huh.NewInput().Title("Guardian's authority").Placeholder("parent").Value(&f.GuardianAuthority).
			Validate(func(s string) error { return consent.ValidateGuardianAuthority(f.GivenBy, s) }),
	).Title("Guardian")
	details = huh.NewGroup(
		describe(huh.NewMultiSelect[string]().Title("What may be shared").Options(opts(consent.Scopes())...).Value(&scope).
			Validate(func(s []string) error {
				f.Scope = strings.Join(s, ",")
				return consent.ValidateScope(s)
			}), treatmentsWithoutHealth),
		huh.NewText().Title("Purpose").Value(&f.Purpose).Validate(consent.ValidatePurpose),
		huh.NewSelect[string]().Title("How it was given").Options(opts(consent.Methods())...).Value(&f.Method),
		describe(huh.NewInput().Title("Witness").Value(&f.Witness).
			Validate(func(s string) error { return consent.ValidateWitness(f.Method, s) }), "required for a verbal consent"),
		describe(huh.NewInput().Title("Evidence").Value(&f.Evidence).
			Validate(func(s string) error { return consent.ValidateEvidence(f.Method, s) }), "form number, or version of the text shown"),
		huh.NewInput().Title("Obtained by").Value(&f.ObtainedBy).Validate(consent.ValidatePerson),
		huh.NewInput().Title("Expires").Placeholder("YYYY-MM-DD, empty for until withdrawn").Value(&f.Expires).
			Validate(func(s string) error { return consent.ValidateExpires(s, today) }),
	).Title("Details")
	return who, guardian, details
}

func newConsentListCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use: "list RECORD",
		Example: `  clientvault consent list 7f3a9c2e
  clientvault consent list "Jane Doe" --json`,
		Short: "List a record's consents, withdrawn ones included",
		Args:  exactArgs(1, "RECORD"),
		RunE: func(c *cobra.Command, args []string) error {
			list, err := withVault(a, openOpts{}, func(v *vault.Vault) ([]vault.ConsentInfo, error) { return v.Consents(args[0]) })
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, list)
			}
			tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTO\tSCOPE\tSTATUS\tGIVEN\tBY\tMETHOD\tEXPIRES\tWITHDRAWN")
			for _, ci := range list {
				by := ci.GivenBy
				if ci.Guardian != "" {
					by += " (" + ci.Guardian + ")"
				}
				withdrawn := "-"
				if ci.Withdrawn() {
					withdrawn = ci.WithdrawnAt.Format(time.DateOnly) + " by " + ci.WithdrawnBy
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ci.ID, ci.To, strings.Join(ci.Scope, ","), ci.Status,
					ci.GivenAt.Format(time.DateOnly), by, ci.Method, dash(ci.Expires.String()), withdrawn)
			}
			return tw.Flush()
		},
	}
}

func newConsentRevokeCmd(a *App) *cobra.Command {
	var by string
	c := &cobra.Command{
		Use: "revoke CONSENT-ID",
		Example: `  clientvault consent revoke 3b1f08c2
  clientvault consent revoke 3b1f08c2 --json`,
		Short: "Record that a client withdrew a consent, and unshare at once",
		Long: `Record that a client withdrew a consent (kept, with when and by whom) and, in
the same transaction, remove the coworker's share of the record unless
another consent still covers them. It lists what it cannot undo.`,
		Args: exactArgs(1, "CONSENT-ID"),
		RunE: func(c *cobra.Command, args []string) error {
			rev, err := withVault(a, openOpts{write: true}, func(v *vault.Vault) (*vault.Revocation, error) { return v.ConsentRevoke(args[0], by) })
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, rev)
			}
			fmt.Fprintf(a.Out, "consent %s withdrawn (record %s, %s)\n", rev.Consent.ID, rev.Consent.Record, rev.Consent.To)
			if rev.Unshared {
				fmt.Fprintf(a.Out, "the share with %s is removed: the vault no longer holds anything of this record their key opens\n", rev.Consent.To)
			}
			printExposure(a.Out, &rev.Exposure)
			return nil
		},
	}
	c.Flags().StringVar(&by, "by", "", "who withdrew it or recorded the withdrawal (default: owner)")
	return c
}

// printExposure says plainly what unsharing cannot undo.
func printExposure(w io.Writer, x *vault.Exposure) {
	if len(x.Readers) == 0 && len(x.Copies) == 0 {
		return
	}
	fmt.Fprintf(w, "cannot be undone: a copy already taken stays readable.\n")
	if len(x.Readers) > 0 {
		fmt.Fprintf(w, "  could read record %s at some time: the owner, %s\n", x.Record, strings.Join(x.Readers, ", "))
	}
	for _, cp := range x.Copies {
		fmt.Fprintf(w, "  %s for %s, written %s\n", cp.Kind, cp.For, cp.At.Format(time.DateOnly))
	}
}

// treatmentsWithoutHealth warns of a consent that lets a coworker treat the
// client without seeing what makes a treatment unsafe.
const treatmentsWithoutHealth = "a scope with treatments but without health leaves out allergies, medications and contraindications"
