package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/charmbracelet/huh"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

// findOptions are the find command's flag values.
type findOptions struct {
	query string
}

func newFindCmd(a *App) *cobra.Command {
	o := &findOptions{}
	return &cobra.Command{
		Use:     "find TEXT",
		Aliases: []string{"search"},
		Short:   "Find clients by part of their name, phone number or email",
		Long: `Find clients by part of their name, their phone number or their email.

A name matches when every word of TEXT starts a word of the client's name or
preferred name, in any order, ignoring case and accents ("quen" finds
"Quentin", "odegard" finds "Ødegård"). Digits find a phone number however it
is written ("5550142" finds "+1 415 555-0142"); TEXT with an "@" finds an
email address.

On a terminal, pick a client from the list to open their card (that view is
recorded in the audit log); more than 300 clients are printed instead. Piped or redirected, one line per client; with
--json, a JSON array. No match is exit 3, or an empty array with --json. A
coworker finds only the clients shared with them.

find reads the vault's sealed directory, not the records, and writes
nothing: it is not recorded in the audit log.`,
		Example: `  clientvault find quen
  clientvault find "odegard ingrid"
  clientvault search 5550142 --json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.query = strings.Join(args, " ")
			return runFind(a, o)
		},
	}
}

func runFind(a *App, o *findOptions) error {
	found, err := withDirectory(a, func(v *vault.Vault) ([]vault.Client, error) { return v.Find(o.query) })
	if err != nil {
		return err
	}
	switch {
	case a.jsonOut:
		if found == nil {
			found = []vault.Client{}
		}
		return printJSON(a.Out, found)
	case len(found) == 0:
		return fmt.Errorf("no client matches: %w", vault.ErrNotFound)
	case a.interactive() && len(found) <= maxPick:
		id, err := pickClient(a, found)
		if err != nil {
			return err
		}
		return viewCard(a, id)
	}
	if a.interactive() {
		defer fmt.Fprintf(a.Err, "clientvault: %s: too many to pick from; add a word, or view one by its ID\n", count(len(found), "client"))
	}
	return printClients(a.Out, found)
}

// maxPick is the most clients find offers in a list to pick from; more are
// printed, for the person to narrow the search.
const maxPick = 300

// withDirectory runs do on the vault opened read-only (no write lock, no
// walk of the file's pages), as the owner or as a coworker. A vault made
// before the directory existed is opened for writing once instead, which
// builds it.
func withDirectory[T any](a *App, do func(*vault.Vault) (T, error)) (T, error) {
	out, err := withVault(a, openOpts{staff: true}, do)
	if errors.Is(err, vault.ErrNoDirectory) {
		fmt.Fprintln(a.Err, "clientvault: building the client directory (once: it reads every record)")
		out, err = withVault(a, openOpts{write: true, staff: true}, do)
	}
	return out, err
}

// printClients writes found clients as stable, aligned lines.
func printClients(w io.Writer, found []vault.Client) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tBORN\tPHONE\tEMAIL\tLAST VISIT")
	for _, c := range found {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, dash(c.DOB.String()), dash(c.Phone), dash(c.Email), dash(c.LastVisit.String()))
	}
	return tw.Flush()
}

// buildPickForm returns a select list of clients; picking one sets *id.
func buildPickForm(title string, found []vault.Client, id *string) *huh.Form {
	opts := make([]huh.Option[string], len(found))
	for i, c := range found {
		label := c.Name
		if !c.DOB.IsZero() {
			label += "  born " + c.DOB.String()
		}
		if c.Phone != "" {
			label += "  " + c.Phone
		}
		opts[i] = huh.NewOption(label+"  "+c.ID, c.ID)
	}
	return huh.NewForm(huh.NewGroup(
		huh.NewSelect[string]().Title(title).Options(opts...).Value(id).Height(min(len(found)+2, 15)),
	))
}

// pickClient asks which of found to open and returns its ID.
func pickClient(a *App, found []vault.Client) (string, error) {
	id := found[0].ID
	title := fmt.Sprintf("%s — pick one to open", count(len(found), "client"))
	if err := a.runForm(buildPickForm(title, found, &id)); err != nil {
		return "", err
	}
	return id, nil
}

// viewCard opens the record id, as view does (recorded in the audit log),
// and shows its card.
func viewCard(a *App, id string) error {
	s, err := withVault(a, openOpts{write: true, staff: true}, func(v *vault.Vault) (*vault.Stored, error) { return v.View(id) })
	if err != nil {
		return err
	}
	a.printCard(s)
	return nil
}

// pickAmbiguous offers, on a terminal, the records a name given to view
// matched several of, as find does, and shows the one picked. It returns
// err unchanged when it is not ambiguous or there is no terminal: the error
// then lists the IDs only.
func pickAmbiguous(a *App, err error, ref string) error {
	var amb *vault.AmbiguousError
	if !errors.As(err, &amb) || !a.interactive() {
		return err
	}
	want := map[string]bool{}
	for _, c := range amb.Candidates {
		want[c.ID] = true
	}
	var found []vault.Client
	if amb.Ref == "name" {
		all, ferr := withDirectory(a, func(v *vault.Vault) ([]vault.Client, error) { return v.Find(ref) })
		if ferr != nil {
			return ferr
		}
		for _, c := range all {
			if want[c.ID] {
				found = append(found, c)
				delete(want, c.ID)
			}
		}
	}
	for _, c := range amb.Candidates {
		if want[c.ID] {
			found = append(found, vault.Client{ID: c.ID})
		}
	}
	id, err := pickClient(a, found)
	if err != nil {
		return err
	}
	return viewCard(a, id)
}
