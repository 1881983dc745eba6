package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// An XLSX file is a zip archive of XML parts. This reader opens the
// workbook part (found through _rels/.rels), its relationships, the shared
// strings, the styles and one worksheet, and nothing else. Of the styles
// only the number formats that pad a number with leading zeros are used
// ("00000" shows 2139 as the ZIP code 02139); dates need none, since a
// number in a date column is read as a date serial. The worksheet is read
// as a stream; only the shared strings are held in memory, once. Nothing is
// ever written to disk.

const (
	maxSmallPart           = 16 << 20  // workbook.xml, styles.xml and the .rels parts
	maxSharedStrings int64 = 128 << 20 // the text of all shared strings
	maxSharedCount         = 1 << 23   // how many shared strings: 32 MiB of offsets
	// maxInflation bounds how many times larger than its compressed size
	// a part of the archive may be, past minInflationBound bytes. Real
	// workbooks' parts are 2 to 50 times larger; a zip bomb is thousands
	// of times larger, and would be read for minutes before any other
	// bound was reached.
	maxInflation      = 500
	minInflationBound = 16 << 20
)

// ErrZipBomb: a part of an XLSX archive inflates far more than a
// spreadsheet's XML does (see maxInflation).
var ErrZipBomb = errors.New("inflates to far more than a spreadsheet: refused as a zip bomb")

// openPart opens a part of the archive after checking its size against
// what it claims to be compressed from. archive/zip refuses to inflate a
// part past the size it declares, so the check holds for what is read.
func openPart(f *zip.File) (io.ReadCloser, error) {
	if f.UncompressedSize64 > max(minInflationBound, maxInflation*f.CompressedSize64) {
		return nil, fmt.Errorf("%s: %w", f.Name, ErrZipBomb)
	}
	return f.Open()
}

var errNotXLSX = fmt.Errorf("%w: a zip archive, but not an XLSX workbook", ErrNotSpreadsheet)

// openXLSX reads the structure of a workbook and the header of the chosen
// sheet.
func openXLSX(ra io.ReaderAt, size int64, opts Options) (*Reader, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("%w: a damaged zip archive (%v)", ErrNotSpreadsheet, err)
	}
	parts := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		parts[strings.TrimPrefix(f.Name, "/")] = f
	}
	if f := parts["mimetype"]; f != nil {
		if b, err := readPart(f, 256); err == nil && bytes.Contains(b, []byte("opendocument")) {
			return nil, fmt.Errorf("%w: an OpenDocument spreadsheet (.ods); save it as .xlsx or export CSV", ErrNotSpreadsheet)
		}
	}

	wbPath := "xl/workbook.xml"
	if f := parts["_rels/.rels"]; f != nil {
		rels, err := readRels(f, "")
		if err != nil {
			return nil, err
		}
		for _, r := range rels {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				wbPath = r.Target
			}
		}
	}
	wbFile := parts[wbPath]
	if wbFile == nil {
		return nil, errNotXLSX
	}
	wb, err := readWorkbook(wbFile)
	if err != nil {
		return nil, err
	}
	rels := map[string]relationship{}
	sstPath, stylesPath := "", ""
	if f := parts[relsPath(wbPath)]; f != nil {
		list, err := readRels(f, path.Dir(wbPath))
		if err != nil {
			return nil, err
		}
		for _, r := range list {
			rels[r.ID] = r
			if strings.HasSuffix(r.Type, "/sharedStrings") {
				sstPath = r.Target
			}
			if strings.HasSuffix(r.Type, "/styles") {
				stylesPath = r.Target
			}
		}
	}

	if len(wb.sheets) == 0 {
		return nil, ErrNoSheets
	}
	names := make([]string, len(wb.sheets))
	for i, s := range wb.sheets {
		names[i] = s.name
	}
	var sst *sharedStrings
	if f := parts[sstPath]; sstPath != "" && f != nil {
		if sst, err = loadSharedStrings(f); err != nil {
			return nil, err
		}
	}
	var pads []uint8
	if f := parts[stylesPath]; stylesPath != "" && f != nil {
		if pads, err = readZeroPads(f); err != nil {
			return nil, err
		}
	}
	open := func(chosen sheetRef) (*Reader, error) {
		rel, ok := rels[chosen.relID]
		if !ok || parts[rel.Target] == nil {
			return nil, fmt.Errorf("sheet %q: %w: its part is missing", chosen.name, errNotXLSX)
		}
		if !strings.HasSuffix(rel.Type, "/worksheet") {
			return nil, fmt.Errorf("sheet %q %w", chosen.name, errNotTable)
		}
		rc, err := openPart(parts[rel.Target])
		if err != nil {
			return nil, fmt.Errorf("sheet %q: %w", chosen.name, err)
		}
		src := &xlsxSource{sc: newXMLScanner(rc, MaxCell), rc: rc, sst: sst, pads: pads, part: parts[rel.Target]}
		rd := &Reader{src: src, format: "xlsx", sheet: chosen.name, sheets: names, date1904: wb.date1904}
		return rd.start(opts)
	}
	if opts.Sheet != "" {
		i := indexFold(names, opts.Sheet)
		if i < 0 {
			return nil, fmt.Errorf("%w %q: the workbook has %s", ErrNoSheet, opts.Sheet, quoteList(names))
		}
		return open(wb.sheets[i])
	}
	// The first sheet with a header: a cover page, a chart or an empty
	// sheet before the table is passed over (Reader.PassedOver says which).
	var passed []string
	var first error
	for _, sh := range wb.sheets {
		rd, err := open(sh)
		if err == nil {
			rd.passedOver = passed
			return rd, nil
		}
		if !errors.Is(err, errNoKnownName) && !errors.Is(err, ErrEmpty) && !errors.Is(err, errNotTable) || len(wb.sheets) == 1 {
			return nil, err
		}
		if first == nil {
			first = err
		}
		passed = append(passed, sh.name)
	}
	return nil, fmt.Errorf("%w; no other sheet has a header row either (the workbook has %s)", first, quoteList(names))
}

// errNotTable is the error of a sheet that is a chart or a dialog.
var errNotTable = errors.New("is a chart or dialog, not a table")

// readZeroPads reads the styles part and returns, for each cell style (the
// s attribute of a cell), how many digits its number format pads a whole
// number to with leading zeros ("00000" is 5), or 0.
func readZeroPads(f *zip.File) ([]uint8, error) {
	b, err := readPart(f, maxSmallPart)
	if err != nil {
		return nil, err
	}
	var doc struct {
		NumFmts []struct {
			ID   int    `xml:"numFmtId,attr"`
			Code string `xml:"formatCode,attr"`
		} `xml:"numFmts>numFmt"`
		Xfs []struct {
			NumFmtID int `xml:"numFmtId,attr"`
		} `xml:"cellXfs>xf"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, errXMLSyntax)
	}
	pad := map[int]uint8{}
	for _, n := range doc.NumFmts {
		if c := strings.Trim(n.Code, `"\`); len(c) >= 2 && len(c) <= 30 && strings.Trim(c, "0") == "" {
			pad[n.ID] = uint8(len(c))
		}
	}
	if len(pad) == 0 {
		return nil, nil
	}
	pads := make([]uint8, len(doc.Xfs))
	for i, x := range doc.Xfs {
		pads[i] = pad[x.NumFmtID]
	}
	return pads, nil
}

// readPart reads a small part whole, refusing one larger than max.
func readPart(f *zip.File, max int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(max) {
		return nil, fmt.Errorf("%s: %w: the part is larger than %d MiB", f.Name, errNotXLSX, max>>20)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w: the part is larger than %d MiB", f.Name, errNotXLSX, max>>20)
	}
	return b, nil
}

type relationship struct {
	ID     string
	Type   string
	Target string // a path in the archive, resolved
}

// readRels reads a relationships part; targets are resolved against dir,
// the folder of the part they belong to.
func readRels(f *zip.File, dir string) ([]relationship, error) {
	b, err := readPart(f, maxSmallPart)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Rels []struct {
			ID         string `xml:"Id,attr"`
			Type       string `xml:"Type,attr"`
			Target     string `xml:"Target,attr"`
			TargetMode string `xml:"TargetMode,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w: malformed XML", f.Name, errNotXLSX)
	}
	out := make([]relationship, 0, len(doc.Rels))
	for _, r := range doc.Rels {
		if r.TargetMode == "External" {
			continue
		}
		t := r.Target
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join(dir, t)
		}
		out = append(out, relationship{ID: r.ID, Type: r.Type, Target: t})
	}
	return out, nil
}

// relsPath returns the relationships part of a part: xl/_rels/workbook.xml.rels
// for xl/workbook.xml.
func relsPath(part string) string {
	return path.Join(path.Dir(part), "_rels", path.Base(part)+".rels")
}

type workbook struct {
	sheets   []sheetRef
	date1904 bool
}

type sheetRef struct {
	name, relID string
}

func readWorkbook(f *zip.File) (*workbook, error) {
	b, err := readPart(f, maxSmallPart)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Props struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Name  string     `xml:"name,attr"`
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w: malformed XML", f.Name, errNotXLSX)
	}
	wb := &workbook{date1904: doc.Props.Date1904 == "1" || doc.Props.Date1904 == "true"}
	for _, s := range doc.Sheets {
		ref := sheetRef{name: s.Name}
		for _, a := range s.Attrs {
			// r:id, in the transitional or the strict namespace.
			if a.Name.Local == "id" && a.Name.Space != "" {
				ref.relID = a.Value
			}
		}
		wb.sheets = append(wb.sheets, ref)
	}
	return wb, nil
}

// indexFold finds name in names, exactly or else without case.
func indexFold(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	for i, n := range names {
		if strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// sharedStrings holds the text of every shared string in one string, so
// that a cell's text is a substring of it, not a copy.
type sharedStrings struct {
	text    string
	ends    []uint32 // text[ends[i-1]:ends[i]] is string i
	tooLong map[int]bool
}

func (s *sharedStrings) get(i int) (string, error) {
	if i < 0 || i >= len(s.ends) {
		return "", errors.New("refers to a shared string that does not exist")
	}
	if s.tooLong[i] {
		return "", ErrCellTooLarge
	}
	start := uint32(0)
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.text[start:s.ends[i]], nil
}

// loadSharedStrings reads the shared strings part: <si> items of a <t>, or
// of rich-text runs <r><t>, whose phonetic guides <rPh> are not text.
func loadSharedStrings(f *zip.File) (*sharedStrings, error) {
	if f.UncompressedSize64 > uint64(maxSharedStrings)*4 {
		return nil, fmt.Errorf("%s: %w: the shared strings are larger than %d MiB", f.Name, ErrTooLarge, maxSharedStrings>>20)
	}
	rc, err := openPart(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	sc := newXMLScanner(rc, MaxCell)
	sst := &sharedStrings{tooLong: map[int]bool{}}
	// The part's size is what the file claims; it sizes the first
	// allocation, bounded by 16 times the compressed size (text compresses
	// less than that; a part that is one huge, repetitive string, refused
	// below, much more) and by maxSharedStrings. Past it, the room for the
	// text grows fourfold (append grows large slices by only a quarter and
	// would copy them many times over; doubling allocated twice the
	// largest size in all), never past the part's size (the text is no
	// longer than its XML) or maxSharedStrings.
	// (A strings.Builder's Grow allocates twice its capacity and more, which
	// for the largest parts allowed was more than the import's memory.)
	b := make([]byte, 0, int(min(f.UncompressedSize64, 16*f.CompressedSize64, uint64(maxSharedStrings))))
	inSI, inT, inRPh := false, false, 0
	start := 0
	for {
		err := sc.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		switch {
		case sc.is(tokStart, "si"):
			inSI, start = true, len(b)
		case sc.is(tokEnd, "si"):
			if !inSI {
				return nil, fmt.Errorf("%s: %w", f.Name, errXMLSyntax)
			}
			inSI = false
			i := len(sst.ends)
			if len(b)-start > MaxCell {
				sst.tooLong[i] = true
			}
			if int64(len(b)) > maxSharedStrings {
				return nil, fmt.Errorf("%s: %w: the shared strings are larger than %d MiB", f.Name, ErrTooLarge, maxSharedStrings>>20)
			}
			if i >= maxSharedCount {
				return nil, fmt.Errorf("%s: %w: more than %d shared strings", f.Name, ErrTooLarge, maxSharedCount)
			}
			sst.ends = append(sst.ends, uint32(len(b)))
		case sc.is(tokStart, "rPh"):
			inRPh++
		case sc.is(tokEnd, "rPh"):
			inRPh--
		case sc.is(tokStart, "t"):
			inT = true
		case sc.is(tokEnd, "t"):
			inT = false
		case sc.kind == tokText && inSI && inT && inRPh == 0:
			if sc.tooLong || len(b)-start+len(sc.text) > MaxCell {
				sst.tooLong[len(sst.ends)] = true
				continue // text of a string too long is not kept
			}
			if !utf8.Valid(sc.text) {
				return nil, fmt.Errorf("%s: shared string %d %w", f.Name, len(sst.ends), ErrInvalidUTF8)
			}
			if int64(len(b)+len(sc.text)) > maxSharedStrings {
				return nil, fmt.Errorf("%s: %w: the shared strings are larger than %d MiB", f.Name, ErrTooLarge, maxSharedStrings>>20)
			}
			if cap(b)-len(b) < len(sc.text) {
				grown := int(min(4*uint64(cap(b)), f.UncompressedSize64, uint64(maxSharedStrings)))
				nb := make([]byte, len(b), max(grown, len(b)+len(sc.text)))
				copy(nb, b)
				b = nb
			}
			b = append(b, sc.text...)
		}
	}
	if inSI {
		return nil, fmt.Errorf("%s: %w: it ends in the middle of a string", f.Name, errXMLSyntax)
	}
	// The bytes are never written again: the string shares them rather
	// than copy all the text once more.
	sst.text = unsafe.String(unsafe.SliceData(b), len(b))
	return sst, nil
}

// xlsxSource reads the rows of a worksheet part as a stream of XML:
//
//	<sheetData><row r="2"><c r="A2" t="s"><v>7</v></c>...</row>...</sheetData>
type xlsxSource struct {
	sc   *xmlScanner
	rc   io.ReadCloser
	sst  *sharedStrings
	pads []uint8 // by cell style: the width a number is shown zero-padded to
	part *zip.File
	// merges are the sheet's merged cells, once read (see headerMerges).
	merges     []mergeRange
	mergesRead bool
	// rowBytes counts the text of the row's cells, shared strings too:
	// each cell within MaxCell, a row of thousands of them is not.
	rowBytes int
	inData   bool
	done     bool
	lastRow  int

	cells  []cell
	spans  []span // where each cell's text is, until the row is complete
	buf    []byte // the text of the row's cells that are not shared strings
	shared []byte // the index of a shared string cell, as text
}

// span locates a cell's text: a shared string, or buf[start:end].
type span struct {
	set        bool
	shared     string
	inBuf      bool
	start, end int
	kind       cellKind
	pad        uint8 // the style shows a whole number zero-padded to this width
}

func (x *xlsxSource) close() error {
	if x.rc == nil {
		return nil
	}
	err := x.rc.Close()
	x.rc = nil
	return err
}

func (x *xlsxSource) next() ([]cell, int, error) {
	if x.done {
		return nil, 0, io.EOF
	}
	for {
		if err := x.sc.next(); err != nil {
			if err == io.EOF {
				return nil, 0, fmt.Errorf("sheet: %w: it ends before its data does", errXMLSyntax)
			}
			return nil, 0, fmt.Errorf("sheet: %w", err)
		}
		switch {
		case x.sc.is(tokStart, "sheetData"):
			x.inData = true
		case x.sc.is(tokEnd, "sheetData"):
			x.done = true
			return nil, 0, io.EOF
		case x.inData && x.sc.is(tokStart, "row"):
			return x.readRow()
		}
	}
}

// readRow reads a <row> whose start tag was just read.
func (x *xlsxSource) readRow() ([]cell, int, error) {
	row := x.lastRow + 1
	if r := x.sc.attr("r"); r != nil {
		n, err := strconv.Atoi(string(r))
		if err == nil && n > maxRows {
			return nil, 0, fmt.Errorf("sheet: %w: a row numbered past %d", ErrTooLarge, maxRows)
		}
		if err != nil || n <= x.lastRow {
			return nil, 0, fmt.Errorf("sheet: after row %d, %w: a row number that is not in order", x.lastRow, errXMLSyntax)
		}
		row = n
	}
	if row > maxRows {
		// Also without r= attributes: a million blank <row/> elements are
		// a few MB compressed.
		return nil, 0, fmt.Errorf("sheet: %w: more than %d rows", ErrTooLarge, maxRows)
	}
	x.lastRow = row
	x.spans, x.buf, x.rowBytes = x.spans[:0], x.buf[:0], 0
	col := -1
	for {
		if err := x.sc.next(); err != nil {
			return nil, row, fmt.Errorf("sheet: row %d: %w", row, noEOF(err))
		}
		switch {
		case x.sc.is(tokEnd, "row"):
			return x.finishRow(row)
		case x.sc.is(tokStart, "c"):
			c, err := x.cellColumn(row, col)
			if err != nil {
				return nil, row, err
			}
			col = c
			if err := x.readCell(row, col); err != nil {
				return nil, row, err
			}
		}
	}
}

// cellColumn returns the column of the <c> just read, from its reference
// ("B7") or, without one, the column after prev.
func (x *xlsxSource) cellColumn(row, prev int) (int, error) {
	ref := x.sc.attr("r")
	if ref == nil {
		if prev+1 >= maxColumns {
			return 0, fmt.Errorf("sheet: row %d: more than %d columns", row, maxColumns)
		}
		return prev + 1, nil
	}
	col := 0
	i := 0
	for ; i < len(ref) && ref[i] >= 'A' && ref[i] <= 'Z'; i++ {
		col = col*26 + int(ref[i]-'A'+1)
		if col > maxColumns {
			break
		}
	}
	if i == 0 || col > maxColumns {
		return 0, fmt.Errorf("sheet: row %d: %w: a bad cell reference", row, errXMLSyntax)
	}
	return col - 1, nil
}

// readCell reads a <c> whose start tag was just read, into the row's spans.
func (x *xlsxSource) readCell(row, col int) error {
	t := string(x.sc.attr("t")) // read before the attributes are overwritten
	var pad uint8
	if st, ok := atoi(x.sc.attr("s")); ok && st < len(x.pads) {
		pad = x.pads[st]
	}
	if x.sc.selfClosing {
		x.sc.next() // the end of an empty cell
		return nil
	}
	for len(x.spans) <= col {
		x.spans = append(x.spans, span{})
	}
	sp := &x.spans[col]
	*sp = span{set: true, inBuf: true, start: len(x.buf), end: len(x.buf), pad: pad}
	switch t {
	case "", "n":
		sp.kind = cellNumber
	case "b":
		sp.kind = cellBool
	case "e":
		sp.kind = cellFormulaErr
	case "d":
		sp.kind = cellDate
	}
	// in is the element whose text is the value: v, or t inside is. f
	// (formula) and rPh (phonetic guide) are not the value.
	var in string
	skip := 0
	x.shared = x.shared[:0]
	for {
		if err := x.sc.next(); err != nil {
			return fmt.Errorf("sheet: row %d: %w", row, noEOF(err))
		}
		sc := x.sc
		switch sc.kind {
		case tokStart:
			switch string(sc.name) {
			case "v":
				in = "v"
			case "t":
				in = "t"
			case "f", "rPh", "extLst":
				skip++
			}
		case tokEnd:
			switch string(sc.name) {
			case "c":
				return x.finishCell(sp, t, row, col)
			case "v", "t":
				in = ""
			case "f", "rPh", "extLst":
				skip--
			}
		case tokText:
			if in == "" || skip > 0 {
				continue
			}
			if sc.tooLong || len(x.buf)-sp.start+len(sc.text) > MaxCell {
				return &cellError{row: row, col: col, err: ErrCellTooLarge}
			}
			if x.rowBytes += len(sc.text); x.rowBytes > maxRowBytes {
				return fmt.Errorf("sheet: row %d: %w: more than %d MiB of text", row, ErrTooLarge, maxRowBytes>>20)
			}
			if t == "s" {
				if len(x.shared)+len(sc.text) > 32 {
					return fmt.Errorf("sheet: row %d, column %s: %w: a shared string cell without a valid index", row, columnLetter(col), errXMLSyntax)
				}
				x.shared = append(x.shared, sc.text...)
				continue
			}
			x.buf = append(x.buf, sc.text...)
			sp.end = len(x.buf)
		}
	}
}

func (x *xlsxSource) finishCell(sp *span, t string, row, col int) error {
	switch t {
	case "s":
		i, ok := atoi(x.shared)
		if !ok || x.sst == nil {
			return fmt.Errorf("sheet: row %d, column %s: %w: a shared string cell without a valid index", row, columnLetter(col), errXMLSyntax)
		}
		s, err := x.sst.get(i)
		if err != nil {
			return &cellError{row: row, col: col, err: err}
		}
		if x.rowBytes += len(s); x.rowBytes > maxRowBytes {
			return fmt.Errorf("sheet: row %d: %w: more than %d MiB of text", row, ErrTooLarge, maxRowBytes>>20)
		}
		sp.inBuf, sp.shared = false, s
	case "b":
		v := "FALSE"
		if strings.TrimSpace(string(x.buf[sp.start:sp.end])) == "1" {
			v = "TRUE"
		}
		x.buf = append(x.buf[:sp.start], v...)
		sp.end = len(x.buf)
	default:
		if !utf8.Valid(x.buf[sp.start:sp.end]) {
			return &cellError{row: row, col: col, err: ErrInvalidUTF8}
		}
		// A whole number shown with leading zeros is read as shown: a ZIP
		// code or a phone number, not a quantity.
		if v := bytes.TrimSpace(x.buf[sp.start:sp.end]); sp.kind == cellNumber && sp.pad > 0 && len(v) > 0 && len(v) < int(sp.pad) {
			if _, ok := atoi(v); ok {
				padded := append(bytes.Repeat([]byte{'0'}, int(sp.pad)-len(v)), v...)
				x.buf = append(x.buf[:sp.start], padded...)
				sp.end = len(x.buf)
				sp.kind = cellText
			}
		}
	}
	return nil
}

// finishRow makes the row's cells, with one string for all the text that is
// not a shared string.
func (x *xlsxSource) finishRow(row int) ([]cell, int, error) {
	text := string(x.buf)
	x.cells = x.cells[:0]
	for _, sp := range x.spans {
		c := cell{kind: sp.kind}
		switch {
		case !sp.set:
		case sp.inBuf:
			c.s = text[sp.start:sp.end]
		default:
			c.s = sp.shared
		}
		x.cells = append(x.cells, c)
	}
	return x.cells, row, nil
}

// headerMerges returns the columns of row that a merged cell covers, each
// with the column the merged cell starts at. The sheet's merged cells
// follow its rows: they are read in a second pass over the part, once
// (and only for a header with a blank cell after one that is not).
func (x *xlsxSource) headerMerges(row int) (map[int]int, error) {
	if !x.mergesRead {
		if err := x.readMerges(); err != nil {
			return nil, err
		}
		x.mergesRead = true
	}
	out := map[int]int{}
	for _, m := range x.merges {
		if row < m.r1 || row > m.r2 {
			continue
		}
		for c := m.c1 + 1; c <= m.c2 && c < maxColumns; c++ {
			out[c] = m.c1
		}
	}
	return out, nil
}

// mergeRange is a merged cell: rows r1 to r2, columns c1 to c2 (0-based).
type mergeRange struct{ r1, r2, c1, c2 int }

// maxMerges bounds the merged cells kept: a header needs a few.
const maxMerges = 10000

func (x *xlsxSource) readMerges() error {
	rc, err := openPart(x.part)
	if err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	defer rc.Close()
	sc := newXMLScanner(rc, MaxCell)
	for len(x.merges) < maxMerges {
		err := sc.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sheet: %w", err)
		}
		if !sc.is(tokStart, "mergeCell") {
			continue
		}
		from, to, ok := strings.Cut(string(sc.attr("ref")), ":")
		c1, r1, ok1 := cellRef(from)
		c2, r2, ok2 := cellRef(to)
		if ok && ok1 && ok2 && r1 <= r2 && c1 <= c2 {
			x.merges = append(x.merges, mergeRange{r1, r2, c1, c2})
		}
	}
	return nil
}

// cellRef reads a cell reference such as "B7" as a 0-based column and a row.
func cellRef(s string) (col, row int, ok bool) {
	i := 0
	for ; i < len(s) && s[i] >= 'A' && s[i] <= 'Z' && i < 3; i++ {
		col = col*26 + int(s[i]-'A'+1)
	}
	row, ok = atoi([]byte(s[i:]))
	return col - 1, row, ok && i > 0 && row > 0
}

// atoi reads a shared string's index: digits, perhaps with spaces around.
func atoi(b []byte) (int, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
