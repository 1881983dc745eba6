package main

import (
	"errors"
	"strings"

	"github.com/charmbracelet/huh"
	"github.com/clientvault/clientvault/records"
)

// Forms are built by one function and run by another, so that building and
// validation can be tested without a terminal. The validators are the ones
// the flag and JSON paths use, from package records.

// addFormValues holds what the add form edits, as text.
type addFormValues struct {
	Name, PreferredName, DOB, Phone, Email, Address, EmergencyContact string
	SkinType                                                          string
	Allergies, Medications, Conditions, Contraindications, Notes      string
	Pregnant                                                          bool
}

// buildAddForm returns the add form, grouped as client, health and notes.
func buildAddForm(v *addFormValues, today records.Date) *huh.Form {
	skin := []huh.Option[string]{huh.NewOption("not recorded", "")}
	for _, s := range records.SkinTypes {
		skin = append(skin, huh.NewOption("Type "+s, s))
	}
	return huh.NewForm(
		huh.NewGroup(
			huh.NewInput().Title("Full name").Value(&v.Name).Validate(records.ValidateName),
			huh.NewInput().Title("Preferred name").Value(&v.PreferredName),
			huh.NewInput().Title("Date of birth").Placeholder("YYYY-MM-DD").Value(&v.DOB).
				Validate(func(s string) error { return records.ValidateDOB(s, today) }),
			huh.NewInput().Title("Phone").Value(&v.Phone).Validate(records.ValidatePhone),
			huh.NewInput().Title("Email").Value(&v.Email).Validate(records.ValidateEmail),
			huh.NewInput().Title("Address").Value(&v.Address),
			huh.NewInput().Title("Emergency contact").Value(&v.EmergencyContact),
		).Title("Client"),
		huh.NewGroup(
			huh.NewSelect[string]().Title("Skin type (Fitzpatrick)").Options(skin...).Value(&v.SkinType),
			huh.NewInput().Title("Allergies").Description("separate with commas").Value(&v.Allergies),
			huh.NewInput().Title("Medications").Description("separate with commas").Value(&v.Medications),
			huh.NewInput().Title("Medical conditions").Description("separate with commas").Value(&v.Conditions),
			huh.NewInput().Title("Contraindications").Description("separate with commas").Value(&v.Contraindications),
			huh.NewConfirm().Title("Pregnant?").Value(&v.Pregnant),
		).Title("Health"),
		huh.NewGroup(
			huh.NewText().Title("Notes").Value(&v.Notes),
		).Title("Notes"),
	)
}

// record turns the form's values into a record.
func (v *addFormValues) record() (*records.Record, error) {
	r := &records.Record{
		Name: v.Name, PreferredName: v.PreferredName, Phone: v.Phone, Email: v.Email,
		Address: v.Address, EmergencyContact: v.EmergencyContact, SkinType: v.SkinType,
		Allergies: splitList(v.Allergies), Medications: splitList(v.Medications),
		Conditions: splitList(v.Conditions), Contraindications: splitList(v.Contraindications),
		Pregnant: v.Pregnant, Notes: strings.TrimSpace(v.Notes),
	}
	if strings.TrimSpace(v.DOB) != "" {
		d, err := records.ParseDate(strings.TrimSpace(v.DOB))
		if err != nil {
			return nil, err
		}
		r.DOB = d
	}
	return r, nil
}

// runForm runs a form on the terminal; leaving it is errCanceled.
func (a *App) runForm(f *huh.Form) error {
	err := f.WithAccessible(a.Accessible).WithInput(a.In).WithOutput(a.Err).Run()
	if errors.Is(err, huh.ErrUserAborted) {
		return errCanceled
	}
	return err
}

func runAddForm(a *App) (*records.Record, error) {
	v := &addFormValues{}
	if err := a.runForm(buildAddForm(v, records.DateOf(a.Now()))); err != nil {
		return nil, err
	}
	return v.record()
}
