package main

import (
	"errors"
	"strings"

	"github.com/charmbracelet/huh"
	"github.com/clientvault/clientvault/records"
)

// noteFormValues holds what the note form edits, as text.
type noteFormValues struct {
	Date, Service, Area, Technician string
	Products, Settings              string
	Outcome, Aftercare              string
}

// commonServices are offered as suggestions for the service field (Ctrl-E
// accepts one); any other service may be typed.
var commonServices = []string{
	"laser hair removal", "IPL photorejuvenation", "chemical peel", "microneedling",
	"microdermabrasion", "facial", "dermaplaning", "waxing", "brow tint", "lash lift",
	"lash extensions", "tattoo removal",
}

// buildNoteForm returns the form of one treatment entry, grouped as the
// treatment, what was used, and how it went. The date starts at today.
func buildNoteForm(v *noteFormValues, today records.Date) *huh.Form {
	if v.Date == "" {
		v.Date = today.String()
	}
	return huh.NewForm(
		huh.NewGroup(
			describe(huh.NewInput().Title("Date").Value(&v.Date).
				Validate(treatmentCheck("date", today, func(t *records.Treatment, s string) error {
					d, err := formDate(s, today)
					t.Date = d
					return err
				})), "YYYY-MM-DD; empty is today"),
			huh.NewInput().Title("Service").Suggestions(commonServices).Value(&v.Service).
				Validate(treatmentCheck("service", today, func(t *records.Treatment, s string) error {
					t.Service = s
					return nil
				})),
			huh.NewInput().Title("Area treated").Value(&v.Area).
				Validate(treatmentCheck("area", today, func(t *records.Treatment, s string) error {
					t.Area = s
					return nil
				})),
			huh.NewInput().Title("Technician").Value(&v.Technician).
				Validate(treatmentCheck("technician", today, func(t *records.Treatment, s string) error {
					t.Technician = s
					return nil
				})),
		).Title("Treatment"),
		huh.NewGroup(
			describe(huh.NewInput().Title("Products").Value(&v.Products).
				Validate(treatmentCheck("products", today, func(t *records.Treatment, s string) error {
					t.Products = splitList(s)
					return nil
				})), "separate with commas"),
			describe(huh.NewInput().Title("Device settings").
				Value(&v.Settings).
				Validate(treatmentCheck("settings", today, func(t *records.Treatment, s string) error {
					set, err := formSettings(s)
					t.Settings = set
					return err
				})), "KEY=VALUE, separated by commas, e.g. wavelength_nm=755, fluence_j_cm2=18"),
		).Title("Products and settings"),
		huh.NewGroup(
			huh.NewText().Title("Outcome").Value(&v.Outcome).
				Validate(treatmentCheck("outcome", today, func(t *records.Treatment, s string) error {
					t.Outcome = s
					return nil
				})),
			huh.NewText().Title("Aftercare").Value(&v.Aftercare).
				Validate(treatmentCheck("aftercare", today, func(t *records.Treatment, s string) error {
					t.Aftercare = s
					return nil
				})),
		).Title("Outcome"),
	)
}

// formDate reads the date field: YYYY-MM-DD, or empty for today.
func formDate(s string, today records.Date) (records.Date, error) {
	if s = strings.TrimSpace(s); s == "" {
		return today, nil
	}
	return records.ParseDate(s)
}

// treatmentCheck is the validator of one field of the note form: it puts
// the field's text into an otherwise valid treatment and runs
// records.Treatment.Validate, the check the flag and JSON paths get, keeping
// the problems of that field.
func treatmentCheck(field string, today records.Date, set func(*records.Treatment, string) error) func(string) error {
	return func(s string) error {
		t := records.Treatment{Date: today, Service: "service"}
		if err := set(&t, s); err != nil {
			return err
		}
		for _, fe := range t.Validate(today) {
			if fe.Field == field || strings.HasPrefix(fe.Field, field+".") {
				return errors.New(fe.Problem)
			}
		}
		return nil
	}
}

// formSettings reads the settings field: KEY=VALUE pairs separated by
// commas, numbers kept as numbers.
func formSettings(s string) (records.Settings, error) {
	set, err := parseSettings(splitList(s))
	if err != nil {
		return nil, errors.New("write KEY=VALUE pairs separated by commas, e.g. fluence_j_cm2=18")
	}
	return set, nil
}

// treatment turns the form's values into a treatment entry.
func (v *noteFormValues) treatment(today records.Date) (records.Treatment, error) {
	d, err := formDate(v.Date, today)
	if err != nil {
		return records.Treatment{}, usagef("date: %w", err)
	}
	set, err := formSettings(v.Settings)
	if err != nil {
		return records.Treatment{}, usagef("settings: %w", err)
	}
	return records.Treatment{
		Date: d, Service: strings.TrimSpace(v.Service), Area: strings.TrimSpace(v.Area),
		Technician: strings.TrimSpace(v.Technician), Products: splitList(v.Products), Settings: set,
		Outcome: strings.TrimSpace(v.Outcome), Aftercare: strings.TrimSpace(v.Aftercare),
	}, nil
}

func runNoteForm(a *App) (records.Treatment, error) {
	v := &noteFormValues{}
	if err := a.runForm(buildNoteForm(v, records.DateOf(a.Now()))); err != nil {
		return records.Treatment{}, err
	}
	return v.treatment(records.DateOf(a.Now()))
}
