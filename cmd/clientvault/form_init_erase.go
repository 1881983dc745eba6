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
		describe(huh.NewInput().Title("Keep records for").
			Value(&o.retain).
			Validate(func(s string) error { _, err := consent.ParsePeriod(s); return err }), "years after the last treatment (the law of your state or country says how long), e.g. 7y"),
		describe(huh.NewInput().Title("Recovery key file").
			Value(&o.recoveryOut).
			Validate(validateNewFile), "a new file, best on a USB stick kept away from the laptop; empty: show the key once here"),
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
		describe(huh.NewText().Title("Reason").
			Value(reason).
			Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return errors.New("say why the record is erased")
				}
				return nil
			}), "the client's request and its date; kept sealed in the audit log"),
	}
	if until != "" {
		fields = append(fields, describe(huh.NewConfirm().Title("It must be kept until "+until+". Erase it even so?").
			Affirmative("Yes").Negative("No").Value(force), "Yes only when the legal duty to keep it does not apply; with No, nothing is erased"))
	}
	return huh.NewForm(huh.NewGroup(fields...).Title("Erase a record on the client's request"))
}
