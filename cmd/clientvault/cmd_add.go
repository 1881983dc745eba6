package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type addOptions struct {
	from           string
	rec            records.Record
	dob            string
	allowDuplicate bool
}

func newAddCmd(a *App) *cobra.Command {
	o := &addOptions{}
	c := &cobra.Command{
		Use:   "add",
		Short: "Add a client record",
		Long: `Add a client record and print its ID.

On a terminal with no flags, a form asks for the record. Scripts give it with
flags, or as JSON with --from FILE ('-' for standard input): one object, or
one object per line, in the shape 'view --json' prints. Unknown keys are an
error. Many records are sealed in parallel and stored all or nothing.

Flags are visible to every user of this computer in the process list (ps)
while the command runs: give health data through the form, or as JSON with
--from, not as flags, on a computer others use.

A client who seems to be in the vault already (the same name and date of
birth, phone number or email) is not added again: add names their record and,
on a terminal, asks; scripts pass --allow-duplicate to add anyway. With
--from, every such record is listed and nothing is added.`,
		Example: `  clientvault add
  clientvault add --name "Jane Doe" --dob 1990-04-02 --phone "+1 555 0100" --allergy latex
  clientvault add --from clients.jsonl --json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return runAdd(a, c, o) },
	}
	f := c.Flags()
	f.StringVar(&o.from, "from", "", "read records as JSON from FILE ('-' for stdin)")
	recordFlags(f, &o.rec, &o.dob, "repeatable", "the client is pregnant")
	f.BoolVar(&o.allowDuplicate, "allow-duplicate", false, "add even if the client seems to be in the vault already")
	return c
}

func runAdd(a *App, c *cobra.Command, o *addOptions) error {
	dataFlags := c.Flags().NFlag() - countSet(c, "from", "json", "vault", "identity", "accessible", "allow-duplicate")
	var next func() (*records.Record, error)
	switch {
	case o.from != "" && dataFlags > 0:
		return usagef("give the record either with --from or with flags, not both")
	case o.from != "":
		r, closeFn, err := openInput(a, o.from)
		if err != nil {
			return err
		}
		defer closeFn()
		next = decodeInput(records.NewDecoder(r))
	case dataFlags > 0:
		rec := o.rec
		if o.dob != "" {
			d, err := records.ParseDate(o.dob)
			if err != nil {
				return usagef("--dob: %w", err)
			}
			rec.DOB = d
		}
		if err := checkDuplicate(a, &rec, o.allowDuplicate); err != nil {
			return err
		}
		next = one(&rec)
	case a.interactive():
		if err := a.unlockFirst(openOpts{write: true, autoInit: true}); err != nil {
			return err
		}
		rec, err := runAddForm(a)
		if err != nil {
			return err
		}
		if err := checkDuplicate(a, rec, o.allowDuplicate); err != nil {
			return err
		}
		next = one(rec)
	default:
		return usagef("no record given: use flags such as --name, or --from FILE (a form needs a terminal)")
	}

	v, err := a.open(openOpts{write: true, autoInit: true})
	if err != nil {
		return err
	}
	defer v.Close()
	if o.from != "" && a.Getenv("GOGC") == "" {
		// Many records: collect garbage less often (see
		// vault.BulkGCPercent); GOGC overrides it.
		defer debug.SetGCPercent(debug.SetGCPercent(vault.BulkGCPercent))
	}
	var added []*vault.Stored
	opts := vault.AddOptions{}
	if a.jsonOut {
		opts.Sealed = func(s *vault.Stored) { added = append(added, s) }
	}
	if o.from != "" && !o.allowDuplicate {
		next = v.CheckDuplicates(next)
	}
	ids, err := v.Add(context.Background(), next, opts)
	if err != nil {
		return reportDuplicates(a, err)
	}
	if a.jsonOut {
		return printJSONLines(a.Out, added)
	}
	for _, id := range ids {
		fmt.Fprintln(a.Out, id)
	}
	return nil
}

// decodeInput reads records from JSON; a malformed one is bad input (exit 2).
func decodeInput(d *records.Decoder) func() (*records.Record, error) {
	return func() (*records.Record, error) {
		r, err := d.Next()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, usageError{err}
		}
		return r, err
	}
}

// one returns a record source that yields rec once.
func one(rec *records.Record) func() (*records.Record, error) {
	done := false
	return func() (*records.Record, error) {
		if done {
			return nil, io.EOF
		}
		done = true
		return rec, nil
	}
}

// openInput opens FILE, or standard input for "-".
func openInput(a *App, name string) (io.Reader, func(), error) {
	if name == "-" {
		return a.In, func() {}, nil
	}
	if fi, err := os.Stat(name); err == nil && fi.IsDir() {
		return nil, nil, withHint(usagef("--from %s is a folder, not a file", name), "name a JSON file, or '-' for standard input")
	}
	f, err := os.Open(name)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil, fmt.Errorf("input file %s: %w", name, vault.ErrNotFound)
		}
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// countSet counts how many of the named flags were set.
func countSet(c *cobra.Command, names ...string) int {
	n := 0
	for _, name := range names {
		if f := c.Flags().Lookup(name); f != nil && f.Changed {
			n++
		}
	}
	return n
}

// splitList splits a comma- or semicolon-separated form field into items.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// recordFlags declares a record's fields as flags, for add and edit; lists
// says how a list flag repeats, pregnant what --pregnant means, as each
// command treats them.
func recordFlags(f *pflag.FlagSet, rec *records.Record, dob *string, lists, pregnant string) {
	f.StringVar(&rec.Name, "name", "", "client's full name")
	f.StringVar(&rec.PreferredName, "preferred-name", "", "the name the client goes by")
	f.StringVar(dob, "dob", "", "date of birth, YYYY-MM-DD")
	f.StringVar(&rec.Phone, "phone", "", "phone number")
	f.StringVar(&rec.Email, "email", "", "email address")
	f.StringVar(&rec.Address, "address", "", "postal address")
	f.StringVar(&rec.EmergencyContact, "emergency-contact", "", "emergency contact")
	f.StringVar(&rec.SkinType, "skin-type", "", "Fitzpatrick skin type, I to VI")
	f.StringArrayVar(&rec.Allergies, "allergy", nil, "an allergy ("+lists+")")
	f.StringArrayVar(&rec.Medications, "medication", nil, "a medication ("+lists+")")
	f.StringArrayVar(&rec.Conditions, "condition", nil, "a medical condition ("+lists+")")
	f.StringArrayVar(&rec.Contraindications, "contraindication", nil, "a contraindication ("+lists+")")
	f.BoolVar(&rec.Pregnant, "pregnant", false, pregnant)
	f.StringVar(&rec.Notes, "notes", "", "notes")
}
