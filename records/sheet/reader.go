package sheet

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/clientvault/clientvault/records"
)

// MaxCell bounds one cell, in bytes as stored in the file. A larger cell is
// a fatal error naming its row and column, found without reading the cell
// into memory whole.
const MaxCell = 1 << 20

// Other limits, so that no input, however large or strange, makes the
// reader hold more than a few MiB per row.
const (
	maxRowBytes = 16 << 20 // one row's text
	maxColumns  = 16384    // Excel's own limit, XFD
	maxRows     = 1 << 20  // Excel's own limit, 1,048,576
	// maxTitleRows is how many rows above the header (a title, an export's
	// date) are looked past to find it.
	maxTitleRows = 10
)

// Errors about the file as a whole. Each reads well after the file's name:
// "clients.csv: is empty".
var (
	// ErrEmpty: the file (or the sheet) has no rows at all, not even a header.
	ErrEmpty = errors.New("is empty")
	// ErrNoRows: the file has a header and no rows under it.
	ErrNoRows = errors.New("has a header but no rows")
	// ErrNotSpreadsheet: the file is neither CSV text nor an XLSX workbook.
	ErrNotSpreadsheet = errors.New("is not a CSV or XLSX file")
	// ErrEncrypted: the file is an OLE compound file, which is what Excel
	// writes for a password-protected workbook and for the old .xls format.
	ErrEncrypted = errors.New("is password-protected or an old .xls; save it as .xlsx without a password or export CSV")
	// ErrInvalidUTF8: a cell is not valid UTF-8 (in a CSV file read as
	// UTF-8, the file may be in windows-1252).
	ErrInvalidUTF8 = errors.New("is not valid UTF-8")
	// ErrCellTooLarge: a cell is larger than MaxCell.
	ErrCellTooLarge = fmt.Errorf("cell is larger than %d MiB", MaxCell>>20)
	// ErrNoSheets: the workbook has no sheets.
	ErrNoSheets = errors.New("workbook has no sheets")
	// ErrNoSheet: the workbook has no sheet of the name Options.Sheet gave.
	ErrNoSheet = errors.New("no such sheet")
	// ErrMalformed: CSV text whose quoting or columns are broken at a line.
	ErrMalformed = errors.New("malformed CSV")
	// ErrTooLarge: the file passes a bound that no client list reaches: a
	// row's bytes, the shared strings' number or size, Excel's row count.
	ErrTooLarge = errors.New("is larger than a client list can be")
)

// Options say how to read a spreadsheet. The zero Options read a CSV or XLSX
// file as its content shows, in UTF-8, with unambiguous dates only.
type Options struct {
	// Format is "csv", "xlsx", or "" to tell by the content.
	Format string
	// Sheet names the sheet of a workbook to read; "" reads the first.
	Sheet string
	// Encoding of a CSV file: "utf-8" (the default) or "windows-1252", which
	// old versions of Excel write. A byte order mark overrides it: a UTF-8
	// BOM means UTF-8, and a UTF-16 one means UTF-16 (Excel's "Unicode
	// text").
	Encoding string
	// DateFormat is how dates written with / or . are read: DateAuto,
	// DateDMY, DateMDY or DateISO.
	DateFormat string
	// Map maps a column's header to a field name (see FieldNames), or to
	// "ignore", overriding or adding to the header names this package knows.
	// Headers match as they do for the known names: without case and
	// punctuation.
	Map map[string]string
	// IgnoreUnknown makes columns whose header matches no field be reported
	// by Reader.Unknown and not imported, instead of an error.
	IgnoreUnknown bool
	// HeaderRow is the number of the header's row, as a spreadsheet
	// numbers it; 0 finds it: the first row that is not blank, or, when
	// that row has no known column name, the first of the next
	// maxTitleRows rows that has (rows above a header are a title).
	HeaderRow int
	// Inspect opens a file only to show how its columns are read: what would
	// refuse it (two columns for one value, no column for the name, unknown
	// or duplicate headers) is marked in Reader.Mapping and listed by
	// Reader.MappingProblems instead, and Next refuses to read rows.
	Inspect bool
}

// Problem is one thing wrong in a row.
type Problem struct {
	// Column is the header of the column at fault, "First Name + Last Name"
	// when several columns make the field, or "column D" for a column
	// without a header; "" when the problem is the row itself.
	Column string
	// Field is the record's JSON name for the field, or "".
	Field string
	// Problem says what is wrong, never with the cell's value: "is not an
	// email address".
	Problem string
	// Err is a sentinel that callers may test for, such as
	// ErrAmbiguousDate, or nil.
	Err error
	// Row is the row of a cell left out of a row that a Merger merged into
	// an earlier one, and 0 otherwise (the row is the one Next returned).
	Row int
}

// String formats the problem as in a RowError: `column "Email": is not an
// email address`.
func (p Problem) String() string {
	if p.Column == "" {
		return p.Problem
	}
	return fmt.Sprintf("column %q: %s", p.Column, p.Problem)
}

// RowError is a row that cannot be imported. The reader can go on to the
// next row: a RowError is not fatal.
type RowError struct {
	Row      int // 1-based, as a spreadsheet numbers it; the header is row 1 when it is the first line
	Problems []Problem
}

// Error lists the row's problems: `row 7: column "Email": is not an email
// address; column "DOB": is in the future`.
func (e *RowError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return fmt.Sprintf("row %d: %s", e.Row, strings.Join(parts, "; "))
}

// Unwrap returns the sentinels of the row's problems, so that
// errors.Is(err, ErrAmbiguousDate) works on a RowError.
func (e *RowError) Unwrap() []error {
	var errs []error
	for _, p := range e.Problems {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}

// cellError is a fatal error in one cell, found by a source before the
// header's names are known to it; the Reader names the column.
type cellError struct {
	row, col int
	err      error
}

func (e *cellError) Error() string {
	return fmt.Sprintf("row %d, column %s: %v", e.row, columnLetter(e.col), e.err)
}

func (e *cellError) Unwrap() error { return e.err }

// cellKind says what an XLSX cell holds; every CSV cell is text.
type cellKind uint8

const (
	cellText       cellKind = iota
	cellNumber              // s is the number as stored: "15550100000", "1.5E+10"
	cellBool                // s is "TRUE" or "FALSE"
	cellFormulaErr          // a formula error such as #N/A; s is not used
	cellDate                // an ISO 8601 date-time (XLSX t="d")
)

type cell struct {
	s    string
	kind cellKind
}

// A source yields the rows of one table.
type source interface {
	// next returns the cells of the next row, valid until the next call, and
	// the row's 1-based number; io.EOF after the last row.
	next() ([]cell, int, error)
	close() error
}

// Reader reads client records from the rows of a spreadsheet, one at a time.
type Reader struct {
	src        source
	m          *mapping
	format     string
	delim      rune
	sheet      string
	sheets     []string
	date1904   bool
	dateFormat string
	headerRow  int
	rows       int // rows under the header that were not blank
	leftOut    []Problem
	passedOver []string // sheets before the one read that have no header
	err        error    // sticky: a fatal error, or io.EOF
}

// checkOptions validates opts and returns them in canonical form.
func checkOptions(opts Options) (Options, error) {
	switch f := strings.ToLower(strings.TrimSpace(opts.Format)); f {
	case "", "csv", "xlsx":
		opts.Format = f
	default:
		return opts, fmt.Errorf("format %q: must be csv or xlsx", opts.Format)
	}
	switch e := strings.ToLower(strings.TrimSpace(opts.Encoding)); e {
	case "", "utf-8", "utf8":
		opts.Encoding = "utf-8"
	case "windows-1252", "cp1252":
		opts.Encoding = "windows-1252"
	default:
		return opts, fmt.Errorf("encoding %q: must be utf-8 or windows-1252", opts.Encoding)
	}
	if opts.HeaderRow < 0 || opts.HeaderRow > maxRows {
		return opts, fmt.Errorf("header row %d: must be from 1 to %d", opts.HeaderRow, maxRows)
	}
	f, err := checkDateFormat(opts.DateFormat)
	if err != nil {
		return opts, err
	}
	opts.DateFormat = f
	return opts, nil
}

// Magic numbers at the start of a file.
var (
	zipMagic = []byte("PK\x03\x04")
	zipEmpty = []byte("PK\x05\x06")
	cfbMagic = []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
)

// Open reads the header of a CSV or XLSX file and returns a Reader for its
// rows. The format is told by the content unless opts.Format names it: a
// zip archive is XLSX, an OLE compound file is refused with ErrEncrypted,
// anything else is read as CSV. An XLSX file needs random access, hence the
// io.ReaderAt; Open reads r only through the returned Reader.
func Open(r io.ReaderAt, size int64, opts Options) (*Reader, error) {
	opts, err := checkOptions(opts)
	if err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, ErrEmpty
	}
	head := make([]byte, 8)
	n, err := r.ReadAt(head, 0)
	if n < len(head) && err != nil && err != io.EOF {
		return nil, err
	}
	head = head[:n]
	isZip := hasPrefix(head, zipMagic) || hasPrefix(head, zipEmpty)
	switch {
	case hasPrefix(head, cfbMagic):
		return nil, ErrEncrypted
	case opts.Format == "xlsx" && !isZip:
		return nil, fmt.Errorf("%w: not an XLSX workbook (not a zip archive)", ErrNotSpreadsheet)
	case opts.Format == "xlsx" || (opts.Format == "" && isZip):
		return openXLSX(r, size, opts)
	}
	return OpenCSV(io.NewSectionReader(r, 0, size), opts)
}

// OpenCSV reads the header of a CSV file from a stream (such as standard
// input) and returns a Reader for its rows. The delimiter, comma, semicolon
// or tab, is the one the header line uses most outside quotes.
func OpenCSV(r io.Reader, opts Options) (*Reader, error) {
	opts, err := checkOptions(opts)
	if err != nil {
		return nil, err
	}
	if opts.Format == "xlsx" {
		return nil, errors.New("an XLSX workbook cannot be read from a stream: name the file")
	}
	src, err := newCSVSource(r, opts.Encoding)
	if err != nil {
		return nil, err
	}
	rd := &Reader{src: src, format: "csv", delim: rune(src.delim)}
	return rd.start(opts)
}

// start reads the header: the row Options.HeaderRow names, or the first
// row that is not blank, or the first after it (up to maxTitleRows) with a
// known column name when it has none (a title row).
func (r *Reader) start(opts Options) (*Reader, error) {
	r.dateFormat = opts.DateFormat
	var firstErr error // why the first row that is not blank is no header
	looked := 0
	fail := func(err error) (*Reader, error) {
		r.src.close()
		return nil, err
	}
	for {
		cells, row, err := r.src.next()
		if err == io.EOF {
			switch {
			case opts.HeaderRow > 0:
				return fail(fmt.Errorf("header row %d: %w", opts.HeaderRow, errNoHeaderRow))
			case firstErr != nil:
				return fail(firstErr)
			case r.sheet != "":
				return fail(fmt.Errorf("sheet %q %w", r.sheet, ErrEmpty))
			}
			return fail(ErrEmpty)
		}
		if err != nil {
			return fail(err)
		}
		if opts.HeaderRow > 0 && row < opts.HeaderRow {
			continue
		}
		if opts.HeaderRow > 0 && (row > opts.HeaderRow || blankRow(cells)) {
			return fail(fmt.Errorf("header row %d: %w", opts.HeaderRow, errNoHeaderRow))
		}
		if blankRow(cells) {
			continue
		}
		header := make([]string, len(cells))
		for i, c := range cells {
			header[i] = r.text(c)
		}
		if firstErr != nil && opts.HeaderRow == 0 && !looksLikeHeader(header) {
			// Past a title, a row is the header only if most of it is
			// column names: a client's row holding "Mobile" or "Note" as a
			// value must not be taken for one (its cells would be named in
			// errors as unknown columns).
			if looked++; looked >= maxTitleRows {
				return fail(firstErr)
			}
			continue
		}
		var merged map[int]int
		if mr, ok := r.src.(mergeReader); ok && hasInnerBlank(header) {
			if merged, err = mr.headerMerges(row); err != nil {
				return fail(err)
			}
		}
		m, err := buildMapping(header, merged, opts.Map, opts.IgnoreUnknown, opts.Inspect)
		if errors.Is(err, errNoKnownName) && opts.HeaderRow == 0 && looked < maxTitleRows {
			if firstErr == nil {
				firstErr = err
			}
			looked++
			continue
		}
		if err != nil {
			return fail(err)
		}
		r.m, r.headerRow = m, row
		return r, nil
	}
}

// looksLikeHeader reports whether at least two cells of a row, and at
// least three in four of those that are not blank, are known column names
// (vendors' exports have a few columns of their own; a client's row is
// mostly names, numbers and dates).
func looksLikeHeader(header []string) bool {
	known, cells := 0, 0
	for _, h := range header {
		if strings.TrimSpace(h) == "" {
			continue
		}
		cells++
		if n := normalizeHeader(h); byHeader[n] != nil || similar(n) != nil {
			known++
		}
	}
	return known >= 2 && 4*known >= 3*cells
}

// errNoHeaderRow: Options.HeaderRow names a row that is blank or past the
// end.
var errNoHeaderRow = errors.New("is blank or past the end of the sheet")

// A mergeReader can tell which cells of a row are merged with a cell to
// their left, as an XLSX sheet records it (after its rows).
type mergeReader interface {
	// headerMerges returns, for each column of row that a merged cell
	// covers but does not start, the column the merged cell starts at.
	headerMerges(row int) (map[int]int, error)
}

// hasInnerBlank reports whether a header has a blank cell after one that is
// not: what a header merged over two columns looks like.
func hasInnerBlank(header []string) bool {
	seen := false
	for _, h := range header {
		switch {
		case strings.TrimSpace(h) != "":
			seen = true
		case seen:
			return true
		}
	}
	return false
}

// Mapping returns, for each column of the header in order, how it is read:
// what `import --print-mapping` shows. To show the mapping of a file with
// unknown columns, open it with Options.IgnoreUnknown set: those columns
// then have By "unknown".
func (r *Reader) Mapping() []ColumnMapping { return r.m.columns() }

// MappingProblems lists what would refuse the file, for a Reader opened with
// Options.Inspect; it is empty otherwise, and when nothing would.
func (r *Reader) MappingProblems() []string { return r.m.problems }

// Unknown returns the headers of the columns that matched no field and are
// not imported (only with Options.IgnoreUnknown; otherwise Open refuses
// them).
func (r *Reader) Unknown() []string { return r.m.unknown() }

// Format returns "csv" or "xlsx".
func (r *Reader) Format() string { return r.format }

// Delimiter returns the delimiter of a CSV file (',', ';' or '\t'), or 0 for
// XLSX.
func (r *Reader) Delimiter() rune { return r.delim }

// Sheet returns the name of the sheet being read, or "" for CSV.
func (r *Reader) Sheet() string { return r.sheet }

// PassedOver returns the sheets of a workbook, before the one being read,
// that were passed over because they have no header row (a cover page, a
// chart, an empty sheet); nil when the first sheet is read or one was named.
func (r *Reader) PassedOver() []string { return r.passedOver }

// Sheets returns the names of the workbook's sheets in order, or nil for CSV.
func (r *Reader) Sheets() []string { return r.sheets }

// HeaderRow returns the number of the header's row: 1 unless blank rows
// or a title come before it, or Options.HeaderRow named another.
func (r *Reader) HeaderRow() int { return r.headerRow }

// LeftOut returns the cells of the row that Next returned last that were
// left out of its record, each as a Problem naming its column and what is
// wrong (never the value): a bad cell does not keep a client out. The slice
// is valid until the next call of Next.
func (r *Reader) LeftOut() []Problem { return r.leftOut }

// Close releases what the Reader holds open inside an XLSX file. It does not
// close the io.ReaderAt or io.Reader it was given.
func (r *Reader) Close() error {
	if r.err == nil {
		r.err = errors.New("reader is closed")
	}
	return r.src.close()
}

// Next reads the next row that is not blank and returns it as a validated
// record (checked by records.Record.Validate against today) with its row
// number. A cell that cannot be read is left out of the record, which is
// still returned; LeftOut lists such cells. A row that cannot be imported
// (it has no usable name, an ambiguous date, or values outside the
// header's columns) returns a *RowError, after which
// Next may be called again. Any other error is fatal and returned again by
// every later call; so is io.EOF after the last row. A file with a header
// and no rows returns ErrNoRows instead of io.EOF.
func (r *Reader) Next(today records.Date) (*records.Record, int, error) {
	if r.err != nil {
		return nil, 0, r.err
	}
	if len(r.m.problems) > 0 {
		r.err = errors.New("the header's problems must be fixed before rows are read")
		return nil, 0, r.err
	}
	for {
		cells, row, err := r.src.next()
		if err == io.EOF {
			r.err = io.EOF
			if r.rows == 0 {
				r.err = ErrNoRows
			}
			r.src.close()
			return nil, 0, r.err
		}
		if err != nil {
			r.err = r.nameColumn(err)
			r.src.close()
			return nil, 0, r.err
		}
		if blankRow(cells) {
			continue
		}
		r.rows++
		r.leftOut = nil
		rec, problems := r.record(cells, today)
		if len(problems) > 0 {
			return nil, row, &RowError{Row: row, Problems: problems}
		}
		return rec, row, nil
	}
}

// nameColumn rewrites a source's cellError to name the column by its
// header.
func (r *Reader) nameColumn(err error) error {
	var ce *cellError
	if !errors.As(err, &ce) || ce.col >= len(r.m.cols) {
		return err
	}
	return fmt.Errorf("row %d, %s: %w", ce.row, r.m.cols[ce.col].name(), ce.err)
}

func blankRow(cells []cell) bool {
	for _, c := range cells {
		if !blankCell(c) {
			return false
		}
	}
	return true
}

func blankCell(c cell) bool { return c.kind != cellFormulaErr && strings.TrimSpace(c.s) == "" }

func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}
