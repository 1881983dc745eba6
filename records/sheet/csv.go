package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// sniffSize is how much of a CSV file is looked at before reading it: for
// binary content, and for the header line's delimiter.
const sniffSize = 64 << 10

var errNUL = errors.New("has a NUL byte: the file is binary, or not in the encoding given")

// csvSource reads rows with encoding/csv, through a csvGuard that bounds
// them and numbers them.
type csvSource struct {
	g     *csvGuard
	r     *csv.Reader
	delim byte
	cells []cell
}

// newCSVSource looks at the start of r to refuse what is not CSV text, picks
// the encoding and the delimiter, and returns a source of its rows.
func newCSVSource(r io.Reader, encoding string) (*csvSource, error) {
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, err
	}
	if len(head) == 0 {
		return nil, ErrEmpty
	}
	if err := sniffBinary(head); err != nil {
		return nil, err
	}

	var text io.Reader = br
	switch {
	case hasPrefix(head, []byte("\xFF\xFE")), hasPrefix(head, []byte("\xFE\xFF")):
		text = transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case bytes.IndexByte(head, 0) >= 0:
		return nil, fmt.Errorf("%w: it holds binary data (NUL bytes)", ErrNotSpreadsheet)
	case hasPrefix(head, []byte("\xEF\xBB\xBF")):
		br.Discard(3)
	case encoding == "windows-1252":
		text = transform.NewReader(br, charmap.Windows1252.NewDecoder())
	}
	if text != io.Reader(br) {
		// Look at the decoded header line, not the raw bytes, for the delimiter.
		br = bufio.NewReaderSize(text, sniffSize)
		text = br
		head, err = br.Peek(sniffSize)
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, err
		}
	} else {
		head, _ = br.Peek(br.Buffered())
	}

	if bytes.IndexByte(head, '\n') < 0 && bytes.IndexByte(head, '\r') >= 0 {
		// Excel for Mac once wrote CSV with CR alone at the ends of lines.
		// Read as it is, the whole file would be one row, its header.
		text = crToLF{text}
	}
	delim := detectDelimiter(head)
	g := &csvGuard{r: text, delim: delim, row: 1}
	for _, b := range []byte{0, '"', '\n', delim} {
		g.special[b] = true
	}
	cr := csv.NewReader(g)
	cr.Comma = rune(delim)
	cr.FieldsPerRecord = -1 // rows may differ from the header; Reader checks
	cr.LazyQuotes = false
	cr.ReuseRecord = true
	return &csvSource{g: g, r: cr, delim: delim}, nil
}

// sniffBinary refuses files that are plainly not text, by their magic
// numbers.
func sniffBinary(head []byte) error {
	switch {
	case hasPrefix(head, cfbMagic):
		return ErrEncrypted
	case hasPrefix(head, zipMagic), hasPrefix(head, zipEmpty):
		return fmt.Errorf("%w: it is a zip archive (an XLSX workbook must be opened as a file, not read as CSV)", ErrNotSpreadsheet)
	case hasPrefix(head, []byte("%PDF-")), hasPrefix(head, []byte("\x89PNG")),
		hasPrefix(head, []byte("\xFF\xD8\xFF")), hasPrefix(head, []byte("\x1F\x8B")):
		return fmt.Errorf("%w: it holds binary data", ErrNotSpreadsheet)
	}
	return nil
}

// detectDelimiter returns the delimiter that the header line (the text up to
// the first newline outside quotes) uses most: comma, semicolon or tab,
// comma when none is used or on a tie. A line that uses none of them, such
// as a title above the header ("Client list"), is passed over, up to
// maxTitleRows lines.
func detectDelimiter(head []byte) byte {
	for line := 0; line <= maxTitleRows && len(head) > 0; line++ {
		d, used, rest := lineDelimiter(head)
		if used {
			return d
		}
		head = rest
	}
	return ','
}

// lineDelimiter is detectDelimiter for the first line of head; used says
// whether the line holds any delimiter, and rest is what follows the line.
func lineDelimiter(head []byte) (delim byte, used bool, rest []byte) {
	var commas, semis, tabs int
	quoted := false
	rest = nil
scan:
	for i, b := range head {
		switch b {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				commas++
			}
		case ';':
			if !quoted {
				semis++
			}
		case '\t':
			if !quoted {
				tabs++
			}
		case '\n':
			if !quoted {
				rest = head[i+1:]
				break scan
			}
		}
	}
	used = commas+semis+tabs > 0
	switch {
	case semis > commas && semis >= tabs:
		return ';', used, rest
	case tabs > commas && tabs > semis:
		return '\t', used, rest
	}
	return ',', used, rest
}

func (s *csvSource) next() ([]cell, int, error) {
	rec, err := s.r.Read()
	if err == io.EOF {
		return nil, 0, io.EOF
	}
	if err != nil {
		var ce *cellError
		var pe *csv.ParseError
		switch {
		case errors.As(err, &ce):
			return nil, 0, ce
		case errors.As(err, &pe):
			// A line, not a row: a malformed file is fixed in a text editor.
			return nil, 0, fmt.Errorf("%w: line %d: %w", ErrMalformed, pe.Line, pe.Err)
		}
		return nil, 0, err
	}
	row := s.g.rowOf(s.r.InputOffset())
	s.cells = s.cells[:0]
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return nil, row, &cellError{row, i, ErrInvalidUTF8}
		}
		s.cells = append(s.cells, cell{s: f})
	}
	return s.cells, row, nil
}

func (s *csvSource) close() error { return nil }

// csvGuard sits between the text of a CSV file and encoding/csv, which
// buffers a whole record however long it is. The guard follows the quoting
// as encoding/csv reads it, so that it can:
//   - refuse a cell larger than MaxCell, a row larger than maxRowBytes or with
//     more than maxColumns cells, and a NUL byte, before encoding/csv has
//     buffered more than that;
//   - number the rows as a spreadsheet does, counting the blank lines that
//     encoding/csv skips and counting a quoted newline as part of its row.
type csvGuard struct {
	r       io.Reader
	delim   byte
	special [256]bool // the bytes that may change the state: NUL, quote, newline, delimiter
	state   guardState
	cell    int   // bytes of the current cell so far
	bytes   int   // bytes of the current row so far
	col     int   // 0-based column of the current cell
	row     int   // 1-based row of the current byte
	off     int64 // bytes passed on so far
	ends    []rowEnd
	head    int // ends[:head] are used
	err     error
}

type guardState uint8

const (
	atStart  guardState = iota // at the start of a cell
	inField                    // in a cell that is not quoted
	inQuotes                   // in a quoted cell
	atQuote                    // at a quote in a quoted cell: its end, or the first of ""
)

// rowEnd is the offset just past the newline that ends a row.
type rowEnd struct {
	off int64
	row int
}

// Read passes on what it reads, up to the first byte that breaks a limit,
// and then a *cellError naming that byte's row and column.
func (g *csvGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	for i := 0; i < n; i++ {
		if g.state == inField || g.state == inQuotes {
			// Skip a run of bytes that change nothing but the counts.
			j := i
			for j < n && !g.special[p[j]] {
				j++
			}
			g.cell += j - i
			g.bytes += j - i
			if g.cell > MaxCell {
				return g.fail(i, ErrCellTooLarge)
			}
			if i = j; i == n {
				break
			}
		}
		b := p[i]
		if b == 0 {
			return g.fail(i, errNUL)
		}
		g.cell++
		g.bytes++
		switch g.state {
		case inQuotes:
			if b == '"' {
				g.state = atQuote
			}
		case atQuote:
			if b == '"' {
				g.state = inQuotes
				break
			}
			// The quote closed the cell; encoding/csv refuses anything but a
			// delimiter or a newline after it.
			g.state = inField
			g.other(b, g.off+int64(i)+1)
		default:
			if b == '"' && g.state == atStart {
				g.state = inQuotes
				break
			}
			g.state = inField
			g.other(b, g.off+int64(i)+1)
		}
		switch {
		case g.cell > MaxCell:
			return g.fail(i, ErrCellTooLarge)
		case g.bytes > maxRowBytes:
			return g.fail(i, fmt.Errorf("row is larger than %d MiB", maxRowBytes>>20))
		case g.col >= maxColumns:
			return g.fail(i, fmt.Errorf("row has more than %d columns", maxColumns))
		}
	}
	g.off += int64(n)
	if err != nil {
		g.err = err
	}
	return n, err
}

// other handles a byte outside quotes; next is the offset of the byte after
// it.
func (g *csvGuard) other(b byte, next int64) {
	switch b {
	case g.delim:
		g.col++
		g.cell, g.state = 0, atStart
	case '\n':
		g.ends = append(g.ends, rowEnd{off: next, row: g.row})
		g.row++
		g.col, g.cell, g.bytes, g.state = 0, 0, 0, atStart
	}
}

// fail stops the guard with err at byte i of the current read: the bytes
// before it are passed on, the error follows.
func (g *csvGuard) fail(i int, err error) (int, error) {
	g.err = &cellError{row: g.row, col: g.col, err: err}
	g.off += int64(i)
	return i, g.err
}

// rowOf returns the row of the record that ends at offset end, which
// encoding/csv's InputOffset gives after a Read.
func (g *csvGuard) rowOf(end int64) int {
	row, found := g.row, false
	for g.head < len(g.ends) && g.ends[g.head].off <= end {
		row, found = g.ends[g.head].row, g.ends[g.head].off == end
		g.head++
	}
	if g.head == len(g.ends) {
		g.ends, g.head = g.ends[:0], 0
	}
	if !found {
		return g.row // the last row, with no newline at its end
	}
	return row
}

// crToLF turns every CR into LF, for a file whose lines end in CR alone.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}
