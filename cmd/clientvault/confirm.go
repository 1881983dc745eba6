package main

import (
	"github.com/charmbracelet/huh"
)

// buildConfirmForm returns a yes/no question whose answer is *yes; No is the
// default, so that Enter alone never shares, discloses or destroys anything.
func buildConfirmForm(title, description string, yes *bool) *huh.Form {
	*yes = false
	return huh.NewForm(huh.NewGroup(
		describe(huh.NewConfirm().Title(title).
			Affirmative("Yes").Negative("No").Value(yes), description),
	))
}

// confirm asks the person at the terminal to confirm a step that shares,
// discloses or destroys client data. It returns nil only for an explicit
// Yes; No, Esc or Ctrl-C are errCanceled (exit 130, nothing done). Without a
// terminal it asks nothing and returns a usage error: commands that call it
// take a --yes flag for scripts and skip confirm when it is given. The title
// names records by ID, never by client data.
//
//	if !o.yes {
//		if err := a.confirm(fmt.Sprintf("Share record %s with %s?", id, name)); err != nil {
//			return err
//		}
//	}
func (a *App) confirm(title string) error {
	return a.confirmWith(title, "")
}

// confirmWith is confirm with a line of description under the question.
func (a *App) confirmWith(title, description string) error {
	if !a.interactive() {
		return withHint(usagef("this step needs confirmation and there is no terminal to ask on"),
			"in scripts, pass --yes to confirm")
	}
	var yes bool
	if err := a.runForm(buildConfirmForm(title, description, &yes)); err != nil {
		return err
	}
	if !yes {
		return errCanceled
	}
	return nil
}

// confirmDue asks before a step that makes n records due for expiry (the
// next expire destroys them). Without a terminal it refuses: scripts pass
// --yes.
func (a *App) confirmDue(n int, title, description string) error {
	if !a.interactive() {
		return withHint(usagef("%s would become due for expiry, and there is no terminal to confirm on", count(n, "record")),
			"in scripts, pass --yes to confirm; 'clientvault expire --dry-run' lists what is due")
	}
	return a.confirmWith(title, description)
}

// maybeConfirm asks the person at the terminal to confirm a step that
// shares, discloses or destroys, unless yes (--yes) was given. A script
// (no terminal) gave every detail as flags, and that is its confirmation.
func (a *App) maybeConfirm(yes bool, title string) error {
	if yes || !a.interactive() {
		return nil
	}
	return a.confirm(title)
}
