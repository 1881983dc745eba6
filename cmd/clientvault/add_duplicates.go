package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
)

// checkDuplicate looks, before one record is added, for clients already in
// the vault with the same name and date of birth, phone or email, in the
// sealed directory (read-only: no lock is held while a person answers). It
// names them by ID; on a terminal it asks whether to add anyway, and a
// script gets a refusal unless it passed --allow-duplicate. A vault that
// does not exist yet holds no one.
func checkDuplicate(a *App, rec *records.Record, allow bool) error {
	if allow {
		return nil
	}
	dups, err := withDirectory(a, func(v *vault.Vault) ([]vault.DuplicateClient, error) { return v.Duplicates(rec) })
	if errors.Is(err, vault.ErrNoVault) {
		return nil
	}
	if err != nil || len(dups) == 0 {
		return err
	}
	for _, d := range dups {
		fmt.Fprintf(a.Err, "clientvault: a client with the same %s is already in the vault: %s\n", d.Match, d.Record)
	}
	if a.interactive() {
		return a.confirmWith("Add a new record anyway?", "See them first with 'clientvault view ID'.")
	}
	return withHint(&vault.DuplicatesError{Duplicates: dups, Rows: 1},
		"check with 'clientvault view "+dups[0].Record+"'; to add a new record anyway, pass --allow-duplicate")
}

// reportDuplicates lists, as import does, the records of add --from that
// seem to be clients already in the vault or earlier in the input; other
// errors pass through.
func reportDuplicates(a *App, err error) error {
	var de *vault.DuplicatesError
	if !errors.As(err, &de) {
		return err
	}
	if a.jsonOut {
		if perr := printJSON(a.Out, map[string]any{"added": 0, "duplicates": de.Duplicates}); perr != nil {
			return perr
		}
	} else {
		for _, d := range de.Duplicates {
			switch {
			case d.Record != "":
				fmt.Fprintf(a.Err, "  record %d of the input: the client is already in the vault as record %s (same %s)\n", d.Row, d.Record, d.Match)
			default:
				fmt.Fprintf(a.Err, "  record %d of the input: the same client as record %d (same %s)\n", d.Row, d.SameAs, d.Match)
			}
		}
		if n := len(de.Duplicates); n < de.Rows {
			fmt.Fprintf(a.Err, "  (and more: %s in all)\n", count(de.Rows, "record"))
		}
	}
	return withHint(err, strings.Join([]string{
		"remove those records from the input, or pass --allow-duplicate to add them anyway",
		"(to merge a spreadsheet into existing records, use 'clientvault import --on-duplicate update')"}, " "))
}
