package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

type editOptions struct {
	from string
	rec  records.Record
	dob  string
}

func newEditCmd(a *App) *cobra.Command {
	o := &editOptions{}
	c := &cobra.Command{
		Use:   "edit RECORD",
		Short: "Change a record's details, kept as an amendment",
		Long: `Change a client's contact or health details: a phone number, an allergy, a
medication, pregnancy. The change is an amendment: the previous values stay
in the record's history ('view' shows it) and the audit log names the
fields changed. A patch test is added by giving patch_tests in --from JSON.
A treatment entry is corrected with 'note --amends N'.

On a terminal with no flags, the add form opens filled in with the record.
Scripts give the fields to change as flags (a list flag replaces the list;
--allergy '' empties it) or as a JSON object with --from FILE ('-' for
standard input), in the shape 'view --json' prints; null clears a field.`,
		Example: `  clientvault edit "Jane Doe"
  clientvault edit 7f3a9c2e --phone "+1 555 0199" --medication isotretinoin --pregnant=false
  echo '{"allergies": ["latex", "nuts"]}' | clientvault edit 7f3a9c2e --from -`,
		Args:              exactArgs(1, "RECORD"),
		ValidArgsFunction: completeRecordIDs(a),
		RunE:              func(c *cobra.Command, args []string) error { return runEdit(a, c, o, args[0]) },
	}
	f := c.Flags()
	f.StringVar(&o.from, "from", "", "read the fields to change as a JSON object from FILE ('-' for stdin)")
	recordFlags(f, &o.rec, &o.dob, "repeatable; replaces the list", "the client is pregnant (--pregnant=false: no longer)")
	return c
}

func runEdit(a *App, c *cobra.Command, o *editOptions, ref string) error {
	dataFlags := c.Flags().NFlag() - countSet(c, "from", "json", "vault", "identity", "accessible")
	var change func(*records.Record) error
	switch {
	case o.from != "" && dataFlags > 0:
		return usagef("give the changes either with --from or with flags, not both")
	case o.from != "":
		r, closeFn, err := openInput(a, o.from)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(io.LimitReader(r, records.MaxJSONRecord))
		closeFn()
		if err != nil {
			return err
		}
		// Bad JSON is refused before the vault is opened.
		if _, err := records.ApplyJSON(&records.Record{}, b); err != nil {
			return usageError{err}
		}
		change = func(r *records.Record) error {
			next, err := records.ApplyJSON(r, b)
			if err != nil {
				return usageError{err}
			}
			*r = *next
			return nil
		}
	case dataFlags > 0:
		var dob records.Date
		if c.Flags().Changed("dob") && o.dob != "" {
			d, err := records.ParseDate(o.dob)
			if err != nil {
				return usagef("--dob: %w", err)
			}
			dob = d
		}
		change = func(r *records.Record) error {
			o.applyFlags(c, r, dob)
			return nil
		}
	case a.interactive():
		if err := a.unlockFirst(openOpts{write: true}); err != nil {
			return err
		}
		s, err := withVault(a, openOpts{write: true}, func(v *vault.Vault) (*vault.Stored, error) { return v.View(ref) })
		if err != nil {
			return err
		}
		ref = s.ID // the record just shown, whatever the name finds now
		vals := formValuesOf(s.Record)
		if err := a.runForm(buildAddForm(vals, records.DateOf(a.Now()))); err != nil {
			return err
		}
		edited, err := vals.record()
		if err != nil {
			return err
		}
		change = func(r *records.Record) error {
			setDetails(r, edited)
			return nil
		}
	default:
		return usagef("nothing to change: give flags such as --phone, or --from FILE (a form needs a terminal)")
	}
	ed, err := withVault(a, openOpts{write: true}, func(v *vault.Vault) (*vault.Edited, error) { return v.Edit(ref, change) })
	if errors.Is(err, records.ErrFixedField) {
		return withHint(err, "a treatment entry is corrected with 'clientvault note RECORD --amends N', which keeps the original")
	}
	if errors.Is(err, records.ErrNoChange) {
		fmt.Fprintln(a.Err, "clientvault: nothing changed: the values given are the record's")
		return nil
	}
	if err != nil {
		return err
	}
	if a.jsonOut {
		return printJSON(a.Out, ed)
	}
	fmt.Fprintf(a.Out, "amended %s (amendment %d): %s\n", ed.ID, ed.Amendment, strings.Join(ed.Fields, ", "))
	return nil
}

// applyFlags sets the fields whose flags were given.
func (o *editOptions) applyFlags(c *cobra.Command, r *records.Record, dob records.Date) {
	set := func(name string, dst *string, v string) {
		if c.Flags().Changed(name) {
			*dst = v
		}
	}
	list := func(name string, dst *[]string, v []string) {
		if c.Flags().Changed(name) {
			*dst = v
		}
	}
	set("name", &r.Name, o.rec.Name)
	set("preferred-name", &r.PreferredName, o.rec.PreferredName)
	if c.Flags().Changed("dob") {
		r.DOB = dob
	}
	set("phone", &r.Phone, o.rec.Phone)
	set("email", &r.Email, o.rec.Email)
	set("address", &r.Address, o.rec.Address)
	set("emergency-contact", &r.EmergencyContact, o.rec.EmergencyContact)
	set("skin-type", &r.SkinType, o.rec.SkinType)
	list("allergy", &r.Allergies, o.rec.Allergies)
	list("medication", &r.Medications, o.rec.Medications)
	list("condition", &r.Conditions, o.rec.Conditions)
	list("contraindication", &r.Contraindications, o.rec.Contraindications)
	if c.Flags().Changed("pregnant") {
		r.Pregnant = o.rec.Pregnant
	}
	set("notes", &r.Notes, o.rec.Notes)
}

// formValuesOf fills the add form's values from a record, for edit.
func formValuesOf(r *records.Record) *addFormValues {
	return &addFormValues{
		Name: r.Name, PreferredName: r.PreferredName, DOB: r.DOB.String(), Phone: r.Phone, Email: r.Email,
		Address: r.Address, EmergencyContact: r.EmergencyContact, SkinType: r.SkinType,
		Allergies: strings.Join(r.Allergies, ", "), Medications: strings.Join(r.Medications, ", "),
		Conditions: strings.Join(r.Conditions, ", "), Contraindications: strings.Join(r.Contraindications, ", "),
		Notes: r.Notes, Pregnant: r.Pregnant,
	}
}

// setDetails copies the details the add form edits from src into r,
// keeping r's patch tests, treatments and history.
func setDetails(r, src *records.Record) {
	r.Name, r.PreferredName, r.DOB = src.Name, src.PreferredName, src.DOB
	r.Phone, r.Email, r.Address, r.EmergencyContact = src.Phone, src.Email, src.Address, src.EmergencyContact
	r.SkinType, r.Pregnant, r.Notes = src.SkinType, src.Pregnant, src.Notes
	r.Allergies, r.Medications, r.Conditions, r.Contraindications = src.Allergies, src.Medications, src.Conditions, src.Contraindications
}
