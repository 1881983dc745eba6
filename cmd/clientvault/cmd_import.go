package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"text/tabwriter"

	"github.com/charmbracelet/huh"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/records/sheet"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

type importOptions struct {
	sheet        sheet.Options
	maps         []string
	dryRun       bool
	skipInvalid  bool
	onDuplicate  string
	printMapping bool
}

func newImportCmd(a *App) *cobra.Command {
	o := &importOptions{}
	c := &cobra.Command{
		Use:   "import FILE",
		Short: "Import clients from a spreadsheet (CSV or XLSX), all or nothing",
		Long: `Import every row of a spreadsheet as a client record, all or nothing: if a row
is invalid or a client is already in the vault with other details, nothing
is imported and the report lists each such row by number and column (never
its contents). A row that the vault already holds as it is (imported by an
earlier run of the same file) is skipped and said to be already imported.
--on-duplicate update merges a row into the client's record field by field,
and the rows of one client within the file into one record.

A client is the same name (accents aside) and date of birth; likely the
same with no date of birth on one side, or with the same given name and
email (a surname changed). A row that only shares a phone or an email with
other clients (a mother and her daughter) is imported and listed as such.

FILE is a .csv or .xlsx file, or - for CSV on standard input. Columns are
matched by their headers as booking systems export them, in English, French,
German, Spanish, Italian, Portuguese and Dutch (First Name, Nom, Vorname,
Teléfono, Numero di cellulare, Data de nascimento, Laatste bezoek, ...),
without case, accents or a hint in brackets ("Birthdate (YYYY-MM-DD)");
--print-mapping shows how each column will be read, and --map "Header=field"
or --map "C=field" (by column letter) changes it.

A cell that cannot be read (a bad email, an impossible date) is left out
and reported by row and column, and the client is imported without it;
placeholders such as "-", "N/A" or "Never" are empty cells. A row is kept
out only when it has no usable name (--skip-invalid imports the others), or
an ambiguous date (pass --date-format).

Fields for --map:
` + importFieldHelp(),
		Example: `  clientvault import clients.csv --print-mapping
  clientvault import clients.xlsx --sheet Clients --date-format DD/MM/YYYY --dry-run
  clientvault import export.csv --map "Cell Phone=phone" --ignore-unknown --on-duplicate skip --json`,
		Args: exactArgs(1, "FILE"),
		RunE: func(c *cobra.Command, args []string) error { return runImport(a, o, args[0]) },
	}
	f := c.Flags()
	f.StringVar(&o.sheet.Sheet, "sheet", "", "the sheet of a workbook to read (default the first with a header row)")
	f.IntVar(&o.sheet.HeaderRow, "header-row", 0, "the number of the header's row (default the first, or the first with known column names after a title)")
	f.StringVar(&o.sheet.Encoding, "encoding", "", "encoding of a CSV file: utf-8 (default) or windows-1252")
	f.StringVar(&o.sheet.DateFormat, "date-format", "", "how to read dates like 01/03/2026: DD/MM/YYYY or MM/DD/YYYY")
	f.StringArrayVar(&o.maps, "map", nil, `read a column as a field: "Header=field" or "Header=ignore" (repeatable)`)
	f.BoolVar(&o.sheet.IgnoreUnknown, "ignore-unknown", false, "ignore columns that match no field (they are listed)")
	f.BoolVar(&o.dryRun, "dry-run", false, "check everything and report; write nothing")
	f.BoolVar(&o.skipInvalid, "skip-invalid", false, "import the rows that can be (a row without a usable name cannot) and report the others")
	f.StringVar(&o.onDuplicate, "on-duplicate", vault.DuplicateError, "a client already in the vault: error, skip or update")
	f.BoolVar(&o.printMapping, "print-mapping", false, "show how each column would be read, and stop")
	return c
}

func runImport(a *App, o *importOptions, name string) error {
	if len(o.maps) > 0 {
		o.sheet.Map = map[string]string{}
		for _, m := range o.maps {
			h, field, ok := strings.Cut(m, "=")
			if !ok || strings.TrimSpace(h) == "" || strings.TrimSpace(field) == "" {
				return usagef(`--map takes "Column Header=field", e.g. "Cell Phone=phone"`)
			}
			o.sheet.Map[strings.TrimSpace(h)] = strings.TrimSpace(field)
		}
	}
	if o.printMapping {
		o.sheet.Inspect = true
	}
	label := filepath.Base(name)
	var read atomic.Int64
	var size int64
	var r *sheet.Reader
	var err error
	var file *os.File
	if name == "-" {
		label = "standard input"
		r, err = sheet.OpenCSV(countingReader{a.In, &read}, o.sheet)
	} else {
		f, ferr := os.Open(name)
		if ferr != nil {
			if os.IsNotExist(ferr) {
				return fmt.Errorf("input file %s: %w", name, vault.ErrNotFound)
			}
			return ferr
		}
		defer f.Close()
		file = f
		fi, ferr := f.Stat()
		if ferr != nil {
			return ferr
		}
		size = fi.Size()
		r, err = sheet.Open(countingReaderAt{f, &read}, size, o.sheet)
	}
	if err != nil {
		return sheetError(label, err)
	}
	defer func() { r.Close() }()
	describeSource(a, r, o.sheet)
	if o.printMapping {
		return printMapping(a, r)
	}
	for _, u := range r.Unknown() {
		fmt.Fprintf(a.Err, "clientvault: ignoring column %q\n", u)
	}
	today := records.DateOf(a.Now())
	// rows is the reader, or with --on-duplicate update and a file (which
	// can be read twice), a Merger that merges the rows of one client.
	var rows interface {
		Next(records.Date) (*records.Record, int, error)
		LeftOut() []sheet.Problem
	} = r
	var merger *sheet.Merger
	if o.onDuplicate == vault.DuplicateUpdate && file != nil {
		first := r
		merger, err = sheet.NewMerger(func() (*sheet.Reader, error) {
			if first != nil {
				rd := first
				first = nil
				return rd, nil
			}
			read.Store(0) // the progress bar counts the second reading
			return sheet.Open(countingReaderAt{file, &read}, size, o.sheet)
		}, today)
		if err != nil {
			return sheetError(label, err)
		}
		r, rows = merger.Reader(), merger
	}

	v, err := a.open(openOpts{write: !o.dryRun})
	if err != nil {
		return err
	}
	defer v.Close()
	// Cells left out of the records that go in, by row and column: the
	// reader calls next on one goroutine, and the list is read after
	// Import returns.
	var leftOut []string
	leftOutN := 0
	next := func() (vault.Row, error) {
		rec, n, err := rows.Next(today)
		if err == nil {
			for _, p := range rows.LeftOut() {
				if leftOutN++; len(leftOut) < maxLeftOut {
					row := n
					if p.Row != 0 {
						row = p.Row
					}
					leftOut = append(leftOut, fmt.Sprintf("row %d: %s", row, p))
				}
			}
		}
		var rowErr *sheet.RowError
		switch {
		case errors.As(err, &rowErr):
			return vault.Row{N: rowErr.Row, Problem: rowErr}, nil
		case errors.Is(err, io.EOF):
			return vault.Row{}, io.EOF
		case err != nil:
			return vault.Row{}, sheetError(label, err)
		}
		return vault.Row{N: n, Record: rec}, nil
	}
	if a.Getenv("GOMEMLIMIT") == "" {
		// A large import makes much short-lived garbage (sealed batches,
		// bbolt's pages) while its live heap stays small: a soft limit has
		// the collector run before the heap doubles, so memory stays flat.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(importMemoryLimit))
	}
	bar := a.progress(size, &read)
	var ask func(vault.DuplicateRow) (string, error)
	if a.interactive() && (o.onDuplicate == "" || o.onDuplicate == vault.DuplicateError) {
		// A likely duplicate (no date of birth to compare) is asked about
		// at a terminal; a script gets it in the report.
		ask = func(d vault.DuplicateRow) (string, error) {
			var answer string
			err := bar.hold(func() error { return a.runForm(buildLikelyForm(d, &answer)) })
			return answer, err
		}
	}
	rep, err := v.Import(context.Background(), next, vault.ImportOptions{
		OnDuplicate: o.onDuplicate, SkipInvalid: o.skipInvalid, DryRun: o.dryRun,
		Progress: bar.update, Source: r.Format(), Ask: ask,
	})
	bar.done()
	if rep != nil {
		full := &importReport{ImportReport: rep, LeftOut: leftOut, LeftOutCells: leftOutN}
		if merger != nil {
			full.Merged = merger.Merged()
		}
		if full.LeftOut == nil {
			full.LeftOut = []string{}
		}
		if a.jsonOut {
			if perr := printJSON(a.Out, full); perr != nil {
				return perr
			}
		} else {
			printImportReport(a, full)
		}
	}
	if errors.Is(err, vault.ErrImport) {
		return withHint(usageError{err}, "fix the rows listed above, or pass --skip-invalid, or --on-duplicate skip|update")
	}
	return err
}

// maxLeftOut bounds how many left-out cells a report lists; the count is
// always whole.
const maxLeftOut = 1000

// importReport is the vault's report with the cells that the reader left
// out of the records it passed on.
type importReport struct {
	*vault.ImportReport
	// LeftOut lists cells left out of imported records, by row and column
	// and what was wrong, never their values.
	LeftOut      []string `json:"left_out"`
	LeftOutCells int      `json:"left_out_cells"`
	// Merged lists the rows merged into an earlier row of the same client
	// (--on-duplicate update).
	Merged []sheet.MergedRow `json:"merged,omitempty"`
}

// importMemoryLimit is the soft memory limit of the Go heap during an
// import (see runtime/debug.SetMemoryLimit); GOMEMLIMIT overrides it.
const importMemoryLimit = 160 << 20

// sheetError is bad input in the file being imported (exit 2), with what to
// do about it.
func sheetError(label string, err error) error {
	return withHint(usagef("%s: %v", label, err), importHint(err))
}

func importHint(err error) string {
	switch {
	case errors.Is(err, sheet.ErrEncrypted):
		return "open it in Excel and save a copy as .xlsx without a password, or as CSV"
	case errors.Is(err, sheet.ErrInvalidUTF8):
		return "if it came from an old Excel, pass --encoding windows-1252"
	case errors.Is(err, sheet.ErrMalformed):
		return "a quote inside a cell must be doubled (\"\"); open the file in a spreadsheet and save it as CSV again, or fix that line"
	case errors.Is(err, sheet.ErrZipBomb), errors.Is(err, sheet.ErrTooLarge):
		return "if this is a real client list, open it in a spreadsheet and save it again, or export CSV"
	case errors.Is(err, sheet.ErrNoSheet):
		return "name one of the workbook's sheets with --sheet"
	case errors.Is(err, sheet.ErrUnknownColumns), errors.Is(err, sheet.ErrNoNameColumn), errors.Is(err, sheet.ErrDuplicateHeader):
		return "see 'clientvault import --print-mapping FILE'; use --map \"Header=field\", --map \"C=field\" or --ignore-unknown, and --header-row N if the header is not found"
	}
	return "see 'clientvault import --help'"
}

// describeSource says which sheet and which row the header was read from,
// when that is not plain: a workbook of several sheets, a title above the
// header. Sheet names and row numbers are not client data.
func describeSource(a *App, r *sheet.Reader, o sheet.Options) {
	if sheets := r.Sheets(); len(sheets) > 1 {
		msg := fmt.Sprintf("clientvault: reading sheet %q of %s", r.Sheet(), quoteNames(sheets))
		if passed := r.PassedOver(); len(passed) > 0 {
			msg += fmt.Sprintf("; %s %s no header row", quoteNames(passed), map[bool]string{true: "has", false: "have"}[len(passed) == 1])
		}
		fmt.Fprintln(a.Err, msg)
	}
	if r.HeaderRow() > 1 && o.HeaderRow == 0 {
		fmt.Fprintf(a.Err, "clientvault: the header is row %d; the rows above it are not imported\n", r.HeaderRow())
	}
}

func quoteNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// buildLikelyForm asks what to do with a row that is likely a client
// already in the vault: the same name, and no date of birth on one side to
// tell; or another name, and the same email or phone. It names the row,
// the record's ID and why (likelyWhy, in the title, which an accessible
// form shows too), never client data (view the record to compare).
// Stopping is the default, which imports nothing.
func buildLikelyForm(d vault.DuplicateRow, answer *string) *huh.Form {
	*answer = vault.DuplicateError
	return huh.NewForm(huh.NewGroup(huh.NewSelect[string]().
		Title(fmt.Sprintf("Row %d is likely record %s, already in the vault (%s)", d.Row, d.Record, likelyWhy(d.Match))).
		Options(
			huh.NewOption("stop the import; nothing is imported", vault.DuplicateError),
			huh.NewOption("the same client: skip this row", vault.DuplicateSkip),
			huh.NewOption("the same client: update the record with this row", vault.DuplicateUpdate),
			huh.NewOption("another client: import this row as a new record", vault.DuplicateNew),
		).Value(answer)))
}

// likelyWhy says why a row is likely a client that its name and date of
// birth do not make it (vault.DuplicateRow.Match).
func likelyWhy(match string) string {
	switch match {
	case vault.MatchEmail:
		return "another surname, and the same email and date of birth, or none on one side to compare"
	case vault.MatchPhone:
		return "another surname, and the same phone and date of birth"
	}
	return "the same name, and no date of birth on one side to tell them apart, or the same phone or email"
}

// maxSharedShown is how many rows that share a phone or an email with
// other clients the plain report lists (--json: up to 1000).
const maxSharedShown = 20

// sharedWith says which clients a row imported as a new client shares its
// phone or email with, by record ID and row number.
func sharedWith(sh vault.SharedRow) string {
	var with []string
	if sh.Record != "" {
		with = append(with, "record "+sh.Record)
	}
	if sh.SameAs != 0 {
		with = append(with, fmt.Sprintf("row %d", sh.SameAs))
	}
	if sh.Several {
		with = append(with, "other clients")
	}
	what := "a phone"
	if sh.Contact == records.ContactEmail {
		what = "an email"
	}
	return fmt.Sprintf("shares %s with %s (imported as another client)", what, joinAnd(with))
}

// joinAnd joins words as a sentence lists them: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// importFieldHelp lists the fields a column can be mapped to, one a line.
func importFieldHelp() string {
	var b strings.Builder
	for _, f := range sheet.FieldHelp() {
		fmt.Fprintf(&b, "  %-18s %s\n", f[0], f[1])
	}
	return strings.TrimRight(b.String(), "\n")
}

// printMapping shows how each column is read, with what would stop the
// import marked on its column (NOTE) and said on standard error; it
// succeeds either way, since showing the problem is what it is for.
func printMapping(a *App, r *sheet.Reader) error {
	cols := r.Mapping()
	for _, p := range r.MappingProblems() {
		fmt.Fprintf(a.Err, "clientvault: %s\n", p)
	}
	if a.jsonOut {
		return printJSON(a.Out, cols)
	}
	tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tHEADER\tFIELD\tBY\tREAD AS\tNOTE")
	for _, c := range cols {
		field := c.Field
		if c.Part != "" {
			field += " (" + c.Part + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Column, c.Header, dash(field), c.By, c.Read, c.Note)
	}
	return tw.Flush()
}

func printImportReport(a *App, rep *importReport) {
	for _, p := range rep.Invalid {
		fmt.Fprintf(a.Err, "  %s\n", p)
	}
	for _, p := range rep.LeftOut {
		fmt.Fprintf(a.Err, "  %s (left out; the client is imported without it)\n", p)
	}
	if rep.LeftOutCells > len(rep.LeftOut) {
		fmt.Fprintf(a.Err, "  ... and %d more cells left out\n", rep.LeftOutCells-len(rep.LeftOut))
	}
	for _, m := range rep.Merged {
		how := "nothing new"
		if len(m.Changed) > 0 {
			how = "updated: " + strings.Join(m.Changed, ", ")
		}
		fmt.Fprintf(a.Err, "  row %d: the same client as row %d, merged into it (%s)\n", m.Row, m.Into, how)
	}
	for _, d := range rep.Duplicates {
		switch {
		case d.Record != "":
			who := "the client is already in the vault"
			if d.Likely {
				who = "likely the client already in the vault (" + likelyWhy(d.Match) + ")"
			}
			if d.Candidates > 1 {
				who = fmt.Sprintf("likely one of %d clients of that name already in the vault, which cannot be told (add the date of birth)", d.Candidates)
			}
			how := d.Resolved
			if len(d.Changed) > 0 {
				how += ": " + strings.Join(d.Changed, ", ")
			}
			fmt.Fprintf(a.Err, "  row %d: %s as record %s (%s)\n", d.Row, who, d.Record, how)
		case d.Likely:
			fmt.Fprintf(a.Err, "  row %d: likely the same client as row %d (%s) (%s)\n", d.Row, d.SameAs, likelyWhy(d.Match), d.Resolved)
		default:
			fmt.Fprintf(a.Err, "  row %d: the same client as row %d (%s)\n", d.Row, d.SameAs, d.Resolved)
		}
	}
	for i, sh := range rep.Shared {
		if i == maxSharedShown {
			fmt.Fprintf(a.Err, "  ... and more rows that share a phone or an email (%d in all; --json lists %d)\n", rep.SharedRows, len(rep.Shared))
			break
		}
		fmt.Fprintf(a.Err, "  row %d: %s\n", sh.Row, sharedWith(sh))
	}
	verb := "imported"
	if rep.DryRun {
		verb = "would import"
	}
	cells := ""
	if len(rep.Merged) > 0 {
		cells += ", " + count(len(rep.Merged), "row") + " merged"
	}
	if rep.SharedRows > 0 {
		cells += ", " + count(rep.SharedRows, "row") + " sharing a phone or email"
	}
	if rep.LeftOutCells > 0 {
		cells += ", " + count(rep.LeftOutCells, "cell") + " left out"
	}
	fmt.Fprintf(a.Out, "%s %s from %s (%d updated, %d skipped, %s, %s%s)\n", verb, count(rep.Imported, "record"),
		count(rep.Rows, "row"), rep.Updated, rep.Skipped, count(len(rep.Duplicates), "duplicate"), count(len(rep.Invalid), "invalid row"), cells)
}

// countingReader and countingReaderAt count the bytes read, for progress.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type countingReaderAt struct {
	r io.ReaderAt
	n *atomic.Int64
}

func (c countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}
