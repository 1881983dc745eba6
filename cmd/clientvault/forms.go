package main

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"

	"github.com/charmbracelet/bubbles/key"
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
			describe(huh.NewInput().Title("Allergies").Value(&v.Allergies), "separate with commas"),
			describe(huh.NewInput().Title("Medications").Value(&v.Medications), "separate with commas"),
			describe(huh.NewInput().Title("Medical conditions").Value(&v.Conditions), "separate with commas"),
			describe(huh.NewInput().Title("Contraindications").Value(&v.Contraindications), "separate with commas"),
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

// runForm runs a form on the terminal; leaving it (Ctrl-C, or Esc where
// huh offers it) is errCanceled. With NO_COLOR the form is drawn without
// colours. In accessible mode the terminal stays in line mode, where Ctrl-C
// is a signal rather than a key: it is caught, and is errCanceled too.
func (a *App) runForm(f *huh.Form) error {
	f = f.WithAccessible(a.Accessible).WithOutput(a.Err).WithKeyMap(formKeys())
	if a.noColor() {
		f = f.WithTheme(huh.ThemeBase())
	}
	var err error
	if a.Accessible {
		in := &endReader{r: a.In, ended: make(chan struct{})}
		err = runInterruptible(f.WithInput(in).Run, in.ended)
	} else {
		err = f.WithInput(a.In).Run()
	}
	if errors.Is(err, huh.ErrUserAborted) {
		return errCanceled
	}
	return err
}

// formKeys are huh's keys, with Esc leaving the form as Ctrl-C does: a
// person who opened a form by mistake gets out with the key they expect.
func formKeys() *huh.KeyMap {
	k := huh.NewDefaultKeyMap()
	k.Quit = key.NewBinding(key.WithKeys("ctrl+c", "esc"), key.WithHelp("esc", "leave"))
	return k
}

// closedSetSelect is a select list for a closed set of values, such as a
// consent's method or scope, or a staff member: the person picks, never
// types, so nothing outside the set can be entered. The first option is
// chosen unless *value already names one.
func closedSetSelect(title string, values []string, value *string) *huh.Select[string] {
	opts := make([]huh.Option[string], len(values))
	for i, v := range values {
		opts[i] = huh.NewOption(v, v)
	}
	return huh.NewSelect[string]().Title(title).Options(opts...).Value(value)
}

// runInterruptible runs fn and returns errCanceled if the process is
// interrupted, or the input ends, first; fn is left blocked on its read,
// and the command exits.
func runInterruptible(fn func() error, ended <-chan struct{}) error {
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt)
	defer signal.Stop(interrupt)
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-interrupt:
		return errCanceled
	case <-ended:
		return errCanceled
	}
}

// endReader is a form's input in accessible mode. huh asks again after a
// read fails, so at the end of the input (Ctrl-D, or a closed pipe) it would
// ask for ever; endReader instead says the input ended and blocks the
// form's next read, and the form is left as canceled.
type endReader struct {
	r     io.Reader
	ended chan struct{}
	once  sync.Once
}

func (e *endReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if n > 0 || err == nil {
		return n, nil
	}
	e.once.Do(func() { close(e.ended) })
	select {} // the command returns errCanceled and exits
}

// noColor reports whether colour is off: NO_COLOR set to anything
// (https://no-color.org), or TERM=dumb.
func (a *App) noColor() bool {
	return a.Getenv("NO_COLOR") != "" || a.Getenv("TERM") == "dumb"
}

func runAddForm(a *App) (*records.Record, error) {
	v := &addFormValues{}
	today := records.DateOf(a.Now())
	if err := a.runForm(buildAddForm(v, today)); err != nil {
		return nil, err
	}
	rec, err := v.record()
	if err != nil {
		return nil, err
	}
	// A patch test is asked for in a form of its own, only when there is
	// one to record (accessible mode would ask a hidden group anyway).
	var more bool
	if err := a.runForm(buildConfirmForm("Record a patch test?", "a skin test of a product before its first use", &more)); err != nil {
		return nil, err
	}
	if more {
		p := &patchFormValues{Date: today.String()}
		if err := a.runForm(buildPatchTestForm(p, today)); err != nil {
			return nil, err
		}
		pt, err := p.patchTest()
		if err != nil {
			return nil, err
		}
		rec.PatchTests = append(rec.PatchTests, pt)
	}
	return rec, nil
}

// patchFormValues holds what the patch test form edits, as text.
type patchFormValues struct {
	Date, Product, Area, Result, ReadAt string
}

// buildPatchTestForm returns the form of one patch test.
func buildPatchTestForm(v *patchFormValues, today records.Date) *huh.Form {
	date := func(required bool) func(string) error {
		return func(s string) error {
			if strings.TrimSpace(s) == "" {
				if required {
					return errors.New("is required")
				}
				return nil
			}
			return records.ValidateDOB(strings.TrimSpace(s), today) // a real date, not in the future
		}
	}
	results := []huh.Option[string]{huh.NewOption("not read yet", "")}
	for _, r := range records.PatchResults {
		results = append(results, huh.NewOption(r, r))
	}
	return huh.NewForm(huh.NewGroup(
		describe(huh.NewInput().Title("Patch test date").Value(&v.Date).Validate(date(true)), "YYYY-MM-DD"),
		huh.NewInput().Title("Product tested").Value(&v.Product).Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("is required")
			}
			return records.CheckText(s, 200, false)
		}),
		huh.NewInput().Title("Area").Placeholder("behind ear").Value(&v.Area),
		huh.NewSelect[string]().Title("Result").Options(results...).Value(&v.Result),
		describe(huh.NewInput().Title("Read at").Value(&v.ReadAt).Validate(date(false)), "YYYY-MM-DD; empty if not read yet"),
	).Title("Patch test"))
}

// patchTest turns the form's values into a patch test.
func (v *patchFormValues) patchTest() (records.PatchTest, error) {
	p := records.PatchTest{Product: strings.TrimSpace(v.Product), Area: strings.TrimSpace(v.Area), Result: v.Result}
	d, err := records.ParseDate(strings.TrimSpace(v.Date))
	if err != nil {
		return p, usagef("patch test date: %w", err)
	}
	p.Date = d
	if s := strings.TrimSpace(v.ReadAt); s != "" {
		if p.ReadAt, err = records.ParseDate(s); err != nil {
			return p, usagef("read at: %w", err)
		}
	}
	return p, nil
}
