package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/charmbracelet/huh"
	"github.com/clientvault/clientvault/consent"
)

// buildInitForm returns the form init shows on a terminal when no flag was
// given: how long records are kept, and where the recovery key goes. The
// passphrase is asked next, without echo, as every command asks it.
func buildInitForm(o *initOptions) *huh.Form {
	if o.retain == "" {
		o.retain = fmt.Sprintf("%dy", consent.DefaultPolicy().Years)
	}
	return huh.NewForm(huh.NewGroup(
		huh.NewInput().Title("Keep records for").
			Description("years after the last treatment (the law of your state or country says how long), e.g. 7y").
			Value(&o.retain).
			Validate(func(s string) error { _, err := consent.ParsePeriod(s); return err }),
		huh.NewInput().Title("Recovery key file").
			Description("a new file, best on a USB stick kept away from the laptop; empty: show the key once here").
			Value(&o.recoveryOut).
			Validate(validateNewFile),
	).Title("New vault"))
}

// validateNewFile accepts "" or a path where no file is yet: a recovery key
// or an export never overwrites one.
func validateNewFile(path string) error {
	if strings.TrimSpace(path) == "" {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return errors.New("a file is already there; choose a new name")
	}
	return nil
}

// buildEraseForm returns the form erase shows on a terminal when no
// --reason was given: the reason, and whether the record may go before its
// retention has ended (--force).
func buildEraseForm(reason *string, force *bool) *huh.Form {
	return huh.NewForm(huh.NewGroup(
		huh.NewText().Title("Reason").
			Description("the client's request and its date; kept sealed in the audit log").
			Value(reason).
			Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return errors.New("say why the record is erased")
				}
				return nil
			}),
		huh.NewConfirm().Title("Erase it even if it must still be kept?").
			Description("Yes only when the legal duty to keep it does not apply; with No, a record still within its retention is kept, and you are told until when").
			Affirmative("Yes").Negative("No").Value(force),
	).Title("Erase a record on the client's request"))
}
