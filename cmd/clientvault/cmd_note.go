package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

type noteOptions struct {
	from     string
	date     string
	settings []string
	yes      bool
	t        records.Treatment
}

func newNoteCmd(a *App) *cobra.Command {
	o := &noteOptions{}
	c := &cobra.Command{
		Use:   "note RECORD",
		Short: "Append a dated treatment entry to a record",
		Long: `Append a dated treatment entry to a record. Entries are never changed: a
correction is a new entry with --amends N, and both are kept: it starts from
the entry it corrects (date included), so give only what changed, and view
marks the original "corrected by #N".

On a terminal with no flags, a form asks for the entry. Scripts give it with
flags, or as JSON with --from FILE ('-' for standard input). Flags are visible
to every user of this computer in the process list (ps) while the command
runs: on a computer others use, give the entry through the form or --from.

An entry that conflicts with the record (laser, peels or waxing on
isotretinoin; laser with a photosensitising drug or recent sun exposure; a
product with a positive patch test; retinoids in pregnancy) is refused with
a warning; on a terminal it asks, in scripts --yes records it, and the
warning is kept in the entry.`,
		Example: `  clientvault note "Jane Doe" --date 2026-02-01 --service "laser hair removal" --area underarm \
      --setting wavelength_nm=755 --setting fluence_j_cm2=18 --technician owner --outcome "mild erythema"
  clientvault note 7f3a9c2e --amends 3 --date 2026-02-01 --service "laser hair removal" --setting fluence_j_cm2=16
  echo '{"date":"2026-02-01","service":"brow tint"}' | clientvault note 7f3a9c2e --from -`,
		Args:              exactArgs(1, "RECORD"),
		ValidArgsFunction: completeRecordIDs(a),
		RunE:              func(c *cobra.Command, args []string) error { return runNote(a, c, o, args[0]) },
	}
	f := c.Flags()
	f.StringVar(&o.from, "from", "", "read the entry as JSON from FILE ('-' for stdin)")
	f.StringVar(&o.date, "date", "", "date of the treatment, YYYY-MM-DD (default today)")
	f.StringVar(&o.t.Service, "service", "", "the service given")
	f.StringVar(&o.t.Area, "area", "", "the area treated")
	f.StringArrayVar(&o.t.Products, "products", nil, "a product used (repeatable)")
	f.StringArrayVar(&o.settings, "setting", nil, "a device setting KEY=VALUE, e.g. fluence_j_cm2=18 (repeatable)")
	f.StringVar(&o.t.Technician, "technician", "", "who gave the treatment")
	f.StringVar(&o.t.Outcome, "outcome", "", "the outcome")
	f.StringVar(&o.t.Aftercare, "aftercare", "", "aftercare advised")
	f.IntVar(&o.t.Amends, "amends", 0, "the number of the entry this one corrects")
	f.BoolVar(&o.yes, "yes", false, "record the entry even if it meets a contraindication rule (the warning is kept in it)")
	return c
}

func runNote(a *App, c *cobra.Command, o *noteOptions, ref string) error {
	t := o.t
	if o.from != "" {
		if c.Flags().NFlag()-countSet(c, "from", "json", "vault", "identity", "accessible") > 0 {
			return usagef("give the entry either with --from or with flags, not both")
		}
		r, closeFn, err := openInput(a, o.from)
		if err != nil {
			return err
		}
		defer closeFn()
		b, err := io.ReadAll(io.LimitReader(r, records.MaxJSONRecord))
		if err != nil {
			return err
		}
		p, err := records.DecodeTreatment(b)
		if err != nil {
			return usagef("treatment entry: %w", err)
		}
		t = *p
	} else if c.Flags().NFlag()-countSet(c, "json", "vault", "identity", "accessible") == 0 && a.interactive() {
		if err := a.unlockFirst(openOpts{write: true, staff: true}); err != nil {
			return err
		}
		ft, err := runNoteForm(a)
		if err != nil {
			return err
		}
		t = ft
	} else {
		if t.Service == "" && t.Amends == 0 {
			return usagef("--service is required (or give the entry as JSON with --from)")
		}
		if t.Amends == 0 {
			// A correction (--amends) starts from the entry it corrects,
			// its date included; a new entry is today's.
			t.Date = records.DateOf(a.Now())
		}
		if o.date != "" {
			d, err := records.ParseDate(o.date)
			if err != nil {
				return usagef("--date: %w", err)
			}
			t.Date = d
		}
		settings, err := parseSettings(o.settings)
		if err != nil {
			return err
		}
		t.Settings = settings
	}
	if o.yes {
		t.AcceptWarnings()
	}
	// A coworker's key may note a record shared with them: the entry is
	// pending until the owner's next fold (vault.Note).
	v, err := a.open(openOpts{write: true, staff: true})
	if err != nil {
		return err
	}
	defer v.Close()
	n, err := v.Note(ref, t)
	var ce *records.ContraindicationError
	if errors.As(err, &ce) {
		if !a.interactive() {
			// The warnings are client data: shown on a terminal, and
			// kept in the entry once confirmed, never in a script's log.
			return withHint(err, "check the record ('clientvault view RECORD'); to record the entry anyway, with the warning kept in it, pass --yes")
		}
		for _, w := range ce.Warnings {
			fmt.Fprintf(a.Err, "clientvault: warning: %s\n", w)
		}
		if err := a.confirmWith("Record this treatment anyway?", "The warning is kept in the entry."); err != nil {
			return err
		}
		t.AcceptWarnings()
		n, err = v.Note(ref, t)
	}
	if err != nil {
		return err
	}
	if name := v.StaffName(); name != "" {
		if a.jsonOut {
			return printJSON(a.Out, map[string]bool{"pending": true})
		}
		fmt.Fprintln(a.Out, "pending")
		fmt.Fprintln(a.Err, "clientvault: noted on your shared copy; the entry joins the record, as yours, at the owner's next share, unshare, expire or staff remove")
		return nil
	}
	if a.jsonOut {
		return printJSON(a.Out, map[string]int{"entry": n})
	}
	fmt.Fprintf(a.Out, "entry %d\n", n)
	return nil
}

// parseSettings reads KEY=VALUE settings; numbers stay numbers.
func parseSettings(kvs []string) (records.Settings, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	s := records.Settings{}
	for _, kv := range kvs {
		k, val, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usagef("--setting takes KEY=VALUE, e.g. fluence_j_cm2=18")
		}
		val = strings.TrimSpace(val)
		if _, err := strconv.ParseFloat(val, 64); err == nil {
			s[k] = json.Number(val)
		} else {
			s[k] = val
		}
	}
	return s, nil
}

func newVerifyCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Check the whole vault: structure, authenticity, index, audit chain",
		Long: `Check the whole vault: the file's structure, that every record is authentic
and opens, that the name index matches the records, that the audit chain is
unbroken, and that the records present are those the audit log added.
Each problem is printed with its record ID; the exit code is 9 if any.`,
		Example: `  clientvault verify
  clientvault verify --json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			// A rolled-back vault or an edited anchor is a problem verify
			// reports, not one that stops it from looking at the vault.
			v, err := a.open(openOpts{restoring: true})
			if err != nil {
				return err
			}
			defer v.Close()
			rep, err := v.Verify()
			if err != nil {
				return err
			}
			if err := v.CheckAnchor(); err != nil {
				rep.Problems = append(rep.Problems, vault.Problem{What: err.Error()})
			}
			if a.jsonOut {
				if err := printJSON(a.Out, rep); err != nil {
					return err
				}
			} else {
				switch {
				case rep.PendingStages == 0:
				case isRemote(a.VaultPath()):
					// A stage on etcd may be an import going on on another
					// computer: it is taken for interrupted only once its
					// beats stopped two minutes ago (vault: stageAlive).
					fmt.Fprintf(a.Err, "clientvault: %d import(s) left staged records, which are invisible: an import still going on, or one interrupted, whose records the first command that writes two minutes after it stopped removes\n", rep.PendingStages)
				default:
					fmt.Fprintf(a.Err, "clientvault: %d interrupted import(s) left staged records, which are invisible; the next command that writes removes them\n", rep.PendingStages)
				}
				for _, p := range rep.Problems {
					fmt.Fprintln(a.Out, p)
				}
				if rep.OK() {
					fmt.Fprintf(a.Out, "ok: %s, %s, %s\n", count(rep.Records, "record"), count(rep.IndexEntries, "index entry"), count(rep.AuditEntries, "audit entry"))
				}
			}
			if !rep.OK() {
				return withHint(fmt.Errorf("verify found %d problem(s): %w", len(rep.Problems), vault.ErrTampered),
					"restore the vault from a backup taken before the problem, then run verify again")
			}
			return nil
		},
	}
}
