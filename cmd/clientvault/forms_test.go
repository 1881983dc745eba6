package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/huh"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
)

// lineReader gives one line per Read, as a terminal in line mode does: huh's
// accessible mode reads each field with a new scanner, and a plain reader
// would give the first field every line at once.
type lineReader struct{ lines []string }

func (r *lineReader) Read(p []byte) (int, error) {
	if len(r.lines) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.lines[0]+"\n")
	r.lines = r.lines[1:]
	return n, nil
}

// fillForm runs f in accessible mode, typing lines, and returns what it
// printed. It needs no terminal.
func fillForm(t *testing.T, f *huh.Form, lines ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := f.WithAccessible(true).WithInput(&lineReader{lines}).WithOutput(&out).Run(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

var formToday = records.Date{Year: 2026, Month: time.March, Day: 1}

func TestAddFormBuildsRecord(t *testing.T) {
	v := &addFormValues{}
	out := fillForm(t, buildAddForm(v, formToday),
		"Jane Doe", "Jay",
		"2027-01-01", "1990-04-02", // in the future, then right
		"555", "+1 555 0100", // too few digits, then right
		"jane@", "jane@example.com",
		"1 Main St", "John Doe",
		"4", // III
		"latex; lanolin", "isotretinoin", "", "recent sun exposure",
		"y", "prefers afternoons")
	for _, msg := range []string{"is in the future", "must have 5 to 20 digits", "is not an email address"} {
		if !strings.Contains(out, msg) {
			t.Errorf("the form did not say %q", msg)
		}
	}
	r, err := v.record()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(formToday); err != nil {
		t.Fatalf("the form made an invalid record: %v", err)
	}
	if r.Name != "Jane Doe" || r.DOB.String() != "1990-04-02" || r.Phone != "+1 555 0100" ||
		r.Email != "jane@example.com" || r.SkinType != "III" || !r.Pregnant ||
		strings.Join(r.Allergies, "|") != "latex|lanolin" || r.Conditions != nil || r.Notes != "prefers afternoons" {
		t.Errorf("record = %+v", r)
	}
}

func TestAddFormRequiresName(t *testing.T) {
	v := &addFormValues{}
	out := fillForm(t, buildAddForm(v, formToday), "", "  ", "Jane Doe")
	if strings.Count(out, "is required") != 2 {
		t.Errorf("an empty name was not refused twice:\n%s", out)
	}
	if v.Name != "Jane Doe" {
		t.Errorf("name = %q", v.Name)
	}
}

func TestNoteFormBuildsTreatment(t *testing.T) {
	v := &noteFormValues{}
	out := fillForm(t, buildNoteForm(v, formToday),
		"",                       // the date starts at today
		"", "laser hair removal", // a service is required
		"underarm", "owner",
		"cooling gel, SPF 50",
		"fluence", "wavelength_nm=755, fluence_j_cm2=18, handpiece=HP2",
		"mild erythema", "SPF 50")
	if !strings.Contains(out, "is required") || !strings.Contains(out, "write KEY=VALUE pairs") {
		t.Errorf("the form did not refuse a missing service and bad settings:\n%s", out)
	}
	tr, err := v.treatment(formToday)
	if err != nil {
		t.Fatal(err)
	}
	if errs := tr.Validate(formToday); len(errs) > 0 {
		t.Fatalf("the form made an invalid treatment: %v", errs)
	}
	if tr.Date != formToday || tr.Service != "laser hair removal" || tr.Area != "underarm" ||
		strings.Join(tr.Products, "|") != "cooling gel|SPF 50" || tr.Outcome != "mild erythema" {
		t.Errorf("treatment = %+v", tr)
	}
	if got := settingsText(tr.Settings); got != "fluence_j_cm2=18 handpiece=HP2 wavelength_nm=755" {
		t.Errorf("settings = %s", got)
	}
}

// The note form's validators are records.Treatment.Validate's.
func TestTreatmentCheck(t *testing.T) {
	date := func(tr *records.Treatment, s string) error {
		d, err := records.ParseDate(s)
		tr.Date = d
		return err
	}
	text := func(tr *records.Treatment, s string) error { tr.Area = s; return nil }
	for _, c := range []struct {
		field, in string
		set       func(*records.Treatment, string) error
		wantErr   string
	}{
		{"date", "2026-03-01", date, ""},
		{"date", "2026-03-02", date, "is in the future"},
		{"date", "1899-12-31", date, "is before 1900"},
		{"date", "2026-02-30", date, "not a real date"},
		{"area", "face", text, ""},
		{"area", "face\x07", text, "control character"},
		{"area", strings.Repeat("x", 201), text, "longer than"},
	} {
		err := treatmentCheck(c.field, formToday, c.set)(c.in)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s %q: %v", c.field, c.in, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s %q: error %v, want %q", c.field, c.in, err, c.wantErr)
		}
	}
}

func TestConfirm(t *testing.T) {
	for _, c := range []struct {
		answer string
		want   bool
	}{{"y", true}, {"yes", true}, {"n", false}, {"", false}} {
		var yes bool
		fillForm(t, buildConfirmForm("Share record 7f3a with Sam?", "", &yes), c.answer)
		if yes != c.want {
			t.Errorf("answer %q: yes = %v", c.answer, yes)
		}
	}
	// Without a terminal, nothing is asked and the caller must pass --yes.
	a := &App{Getenv: func(string) string { return "" }}
	err := a.confirm("Erase record 7f3a?")
	var usage usageError
	if !errors.As(err, &usage) || exitCode(err) != exitUsage {
		t.Errorf("confirm without a terminal: %v", err)
	}
	var h hintError
	if !errors.As(err, &h) || !strings.Contains(h.hint, "--yes") {
		t.Errorf("no --yes hint: %v", err)
	}
}

func TestClosedSetSelect(t *testing.T) {
	var got string
	f := huh.NewForm(huh.NewGroup(closedSetSelect("Method", []string{"written", "verbal", "electronic"}, &got)))
	out := fillForm(t, f, "4", "2")
	if got != "verbal" {
		t.Errorf("chose %q, want verbal", got)
	}
	if !strings.Contains(out, "between 1 and 3") {
		t.Errorf("a choice outside the set was not refused:\n%s", out)
	}
	if k := formKeys(); !strings.Contains(strings.Join(k.Quit.Keys(), " "), "esc") {
		t.Error("Esc does not leave forms")
	}
}

// A likely duplicate is asked about by row and record ID, never with client
// data; each answer is a policy the import knows.
func TestLikelyForm(t *testing.T) {
	d := vault.DuplicateRow{Row: 7, Record: "7f3a7f3a7f3a7f3a", Likely: true}
	for choice, want := range map[string]string{"1": vault.DuplicateError, "2": vault.DuplicateSkip, "3": vault.DuplicateUpdate, "4": vault.DuplicateNew} {
		var answer string
		out := fillForm(t, buildLikelyForm(d, &answer), choice)
		if answer != want {
			t.Errorf("choice %s: %q, want %q", choice, answer, want)
		}
		if !strings.Contains(out, "Row 7 is likely record 7f3a7f3a7f3a7f3a") {
			t.Errorf("the question does not name the row and record:\n%s", out)
		}
	}
	d.Match = vault.MatchEmail
	var answer string
	if out := fillForm(t, buildLikelyForm(d, &answer), "1"); !strings.Contains(out, "(another surname, and the same email and date of birth") {
		t.Errorf("the question does not say why:\n%s", out)
	}
}
