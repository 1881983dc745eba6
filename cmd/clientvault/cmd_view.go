package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

func newViewCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use:   "view RECORD",
		Short: "Show one client record, by ID or by name",
		Long: `Show one client record. RECORD is its ID (or a unique prefix of 4 or more
digits) or the client's name; names are found through a keyed blind index,
so the vault stores no name in the clear. A name shared by several clients
offers a list to pick from on a terminal; otherwise it lists their IDs: view
by ID then ('clientvault find NAME' shows who is who).

On a terminal the record is shown as a card; piped or redirected, as plain
"field: value" lines that scripts can rely on; with --json, as JSON.`,
		Example: `  clientvault view "Jane Doe"
  clientvault view 7f3a9c2e
  clientvault view 7f3a9c2e01b4d5e6 --json`,
		Args:              exactArgs(1, "RECORD"),
		ValidArgsFunction: completeRecordIDs(a),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := withVault(a, openOpts{write: true, staff: true}, func(v *vault.Vault) (*vault.Stored, error) { return v.View(args[0]) })
			if err != nil {
				return pickAmbiguous(a, err, args[0])
			}
			if a.jsonOut {
				return printJSON(a.Out, s)
			}
			if a.StdoutTTY {
				a.printCard(s)
				return nil
			}
			printRecord(a.Out, s)
			return nil
		},
	}
}

// exactArgs is cobra.ExactArgs with a message that names the argument.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s", c.CommandPath(), names)
		}
		return nil
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printJSONLines[T any](w io.Writer, items []T) error {
	enc := json.NewEncoder(w)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			return err
		}
	}
	return nil
}

// printRecord writes a record as plain, stable "field: value" lines.
func printRecord(w io.Writer, s *vault.Stored) {
	r := s.Record
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-18s %s\n", k+":", v)
		}
	}
	list := func(k string, v []string) { line(k, strings.Join(v, ", ")) }
	line("id", s.ID)
	line("name", r.Name)
	if s.Scope != nil {
		// A coworker's copy: what the consent leaves out is said, not
		// left blank (no allergies listed is not "no allergies").
		for _, part := range []string{consent.Contact, consent.Health, consent.PatchTests, consent.Treatments} {
			if !consent.Covers(s.Scope, part) {
				line(part, notShared(s.Scope))
			}
		}
	}
	line("preferred name", r.PreferredName)
	line("date of birth", r.DOB.String())
	line("birthday", birthday(r.Birthday))
	line("phone", r.Phone)
	line("email", r.Email)
	line("address", r.Address)
	line("emergency contact", r.EmergencyContact)
	line("skin type", r.SkinType)
	list("conditions", r.Conditions)
	list("medications", r.Medications)
	list("allergies", r.Allergies)
	list("contraindications", r.Contraindications)
	if r.Pregnant {
		line("pregnant", "yes")
	}
	line("notes", r.Notes)
	line("first visit", r.FirstVisit.String())
	line("last visit", r.LastVisited.String())
	for _, p := range r.PatchTests {
		line("patch test", strings.Join(nonEmpty(p.Date.String(), p.Product, p.Area, p.Result, readAt(p.ReadAt)), " | "))
	}
	for _, t := range r.Treatments {
		head := fmt.Sprintf("#%d %s %s", t.N, t.Date, t.Service)
		if t.Amends > 0 {
			head += fmt.Sprintf(" (corrects #%d)", t.Amends)
		}
		if by := correctedBy(r, t.N); by > 0 {
			head += fmt.Sprintf(" (corrected by #%d)", by)
		}
		line("treatment", strings.Join(nonEmpty(head, t.Area, strings.Join(t.Products, ", "), settingsText(t.Settings),
			by(t.Technician), t.Outcome, aftercare(t.Aftercare), recordedDespite(t.Warnings)), " | "))
	}
	for _, am := range r.Amendments {
		line("amended", amendmentText(am))
	}
	line("created", s.Created.Format("2006-01-02"))
	line("retain until", s.RetainUntil.String())
	list("scope", s.Scope)
	list("shared with", s.SharedWith)
}

// birthday shows a birthday without a year ("--12-25") so that it does not
// read as a date with a typo.
func birthday(s string) string {
	if s == "" {
		return ""
	}
	return s + " (year not known)"
}

func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func readAt(d records.Date) string {
	if d.IsZero() {
		return ""
	}
	return "read " + d.String()
}

func by(s string) string {
	if s == "" {
		return ""
	}
	return "by " + s
}

func aftercare(s string) string {
	if s == "" {
		return ""
	}
	return "aftercare: " + s
}

func settingsText(s records.Settings) string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, s[k])
	}
	return strings.Join(parts, " ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// recordedDespite says which contraindication warnings an entry was
// recorded with.
func recordedDespite(warnings []string) string {
	if len(warnings) == 0 {
		return ""
	}
	return "recorded despite: " + strings.Join(warnings, "; ")
}

// correctedBy is the number of the latest entry of r that corrects entry n,
// or 0.
func correctedBy(r *records.Record, n int) int {
	by := 0
	for _, t := range r.Treatments {
		if t.Amends == n && t.N > by {
			by = t.N
		}
	}
	return by
}

// amendmentText says what one amendment changed and what the fields held
// before, for the owner's view (the values are the record's own).
func amendmentText(am records.Amendment) string {
	parts := make([]string, len(am.Fields))
	for i, f := range am.Fields {
		prev := "empty"
		if v, ok := am.Previous[f]; ok {
			prev = string(v)
		}
		parts[i] = f + " was " + prev
	}
	return fmt.Sprintf("#%d %s: %s", am.N, am.Date, strings.Join(parts, "; "))
}
