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
// --reason was given: the reason, and, for a record that must be kept until
// a date not yet past (until), whether it may go before then (--force).
func buildEraseForm(reason *string, force *bool, until string) *huh.Form {
	fields := []huh.Field{
		huh.NewText().Title("Reason").
			Description("the client's request and its date; kept sealed in the audit log").
			Value(reason).
			Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return errors.New("say why the record is erased")
				}
				return nil
			}),
	}
	if until != "" {
		fields = append(fields, huh.NewConfirm().Title("It must be kept until "+until+". Erase it even so?").
			Description("Yes only when the legal duty to keep it does not apply; with No, nothing is erased").
			Affirmative("Yes").Negative("No").Value(force))
	}
	return huh.NewForm(huh.NewGroup(fields...).Title("Erase a record on the client's request"))
}
