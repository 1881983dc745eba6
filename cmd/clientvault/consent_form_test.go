package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestConsentForm runs the consent form in accessible mode with typed
// answers, including a first answer the validator refuses (a group for the
// coworker), and checks the consent it yields.
func TestConsentForm(t *testing.T) {
	f := &consentFlags{}
	answers := strings.Join([]string{
		"all staff", "Bea", // a group is refused, then one person
		"2",                  // given by a guardian
		"Mary Doe", "parent", // the guardian group, shown for a guardian
		"2", "5", "0", // scope: contact, treatments, done
		"covering Tuesdays",         // purpose
		"1",                         // written
		"",                          // no witness
		"form C-12", "Olivia Owner", // evidence, obtained by
		"2026-12-31",
	}, "\n") + "\n"
	var out bytes.Buffer
	a := &App{In: &lineReader{strings.Split(strings.TrimSuffix(answers, "\n"), "\n")}, Out: &out, Err: &out, Accessible: true, Now: func() time.Time { return time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC) }, Getenv: func(string) string { return "" }}
	if err := a.runConsentForm(f); err != nil {
		t.Fatalf("form: %v\n%s", err, out.String())
	}
	c, err := f.consent()
	if err != nil {
		t.Fatal(err)
	}
	c.Record, c.GivenAt = "r", time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	if err := c.Validate(c.GivenAt); err != nil {
		t.Fatalf("the form's consent does not validate: %v\n%+v", err, c)
	}
	if c.To != "Bea" || c.GivenBy != "guardian" || c.Guardian != "Mary Doe" || strings.Join(c.Scope, ",") != "contact,treatments" ||
		c.Method != "written" || c.Expires.String() != "2026-12-31" {
		t.Fatalf("consent from the form: %+v", c)
	}
	if !strings.Contains(out.String(), "must name a person") {
		t.Errorf("the group name was not refused:\n%s", out.String())
	}
}

// In accessible mode huh asks again after a failed read; at the end of the
// input (Ctrl-D, a closed pipe) the form is canceled instead of asking for
// ever.
func TestAccessibleFormEndOfInputCancels(t *testing.T) {
	var out bytes.Buffer
	a := &App{In: &lineReader{[]string{"Bea"}}, Out: &out, Err: &out, Accessible: true, Now: time.Now, Getenv: func(string) string { return "" }}
	done := make(chan error, 1)
	go func() { done <- a.runConsentForm(&consentFlags{}) }()
	select {
	case err := <-done:
		if err != errCanceled {
			t.Fatalf("form at the end of its input: %v, want errCanceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the form still asks after its input ended")
	}
}
