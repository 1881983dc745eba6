package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// The workbooks here are made in memory: with excelize, as a real
// spreadsheet application would write them, or part by part, for what
// excelize does not write. All the data is fake.

// part is one file of a hand-made archive.
type part struct{ name, body string }

func zipOf(t testing.TB, parts ...part) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	rootRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	workbookRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="/xl/sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/chartsheet" Target="chartsheets/sheet1.xml"/></Relationships>`
)

// workbookXML returns a workbook part: Clients is a worksheet, Chart a
// chartsheet.
func workbookXML(date1904 bool) string {
	pr := ""
	if date1904 {
		pr = `<workbookPr date1904="1"/>`
	}
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
		pr + `<sheets><sheet name="Clients" sheetId="1" r:id="rId1"/><sheet name="Chart" sheetId="2" r:id="rId3"/></sheets></workbook>`
}

// handMade returns a workbook whose first sheet has the given sheetData
// content and whose shared strings are sst.
func handMade(t testing.TB, sheetData string, sst []string, date1904 bool) []byte {
	var s strings.Builder
	s.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	for _, x := range sst {
		if strings.HasPrefix(x, "<") {
			s.WriteString(x) // a whole <si>
		} else {
			fmt.Fprintf(&s, "<si><t>%s</t></si>", x)
		}
	}
	s.WriteString(`</sst>`)
	return zipOf(t,
		part{"[Content_Types].xml", `<Types/>`},
		part{"_rels/.rels", rootRels},
		part{"xl/workbook.xml", workbookXML(date1904)},
		part{"xl/_rels/workbook.xml.rels", workbookRels},
		part{"xl/sharedStrings.xml", s.String()},
		part{"xl/chartsheets/sheet1.xml", `<chartsheet/>`},
		part{"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:D9"/><sheetData>` + sheetData + `</sheetData><pageMargins left="0.7"/></worksheet>`},
	)
}

func openBytes(t testing.TB, b []byte, opts Options) (*Reader, error) {
	t.Helper()
	return Open(bytes.NewReader(b), int64(len(b)), opts)
}

// excelizeBook writes rows into the named sheets of a new workbook; the
// first sheet listed is the first of the workbook.
func excelizeBook(t *testing.T, setup func(f *excelize.File), sheets map[string][][]any, order ...string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if setup != nil {
		setup(f)
	}
	for i, name := range order {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sheets[name] {
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXExcelize(t *testing.T) {
	dob := time.Date(1990, 4, 2, 0, 0, 0, 0, time.UTC)
	clients := [][]any{
		{"First Name", "Last Name", "Mobile", "Work Phone", "Date of Birth", "Skin Type", "Pregnant", "Allergies", "Notes"},
		{"Ann", "Fake", int64(15550100000), nil, dob, 3, false, "latex; nuts", "prefers mornings"},
		{"Bea", "Fake", float64(15550100001), nil, "1990-04-02", "II", true, nil, 12.5},
		{},
		{"Cat", "Fake", "+1 555 0102", nil, dob.Add(36 * time.Hour), nil, nil, nil, nil},
	}
	archive := [][]any{{"Name", "Email"}, {"Old Client", "old@example.com"}}
	for _, date1904 := range []bool{false, true} {
		setup := func(f *excelize.File) {
			if date1904 {
				yes := true
				if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
					t.Fatal(err)
				}
			}
		}
		b := excelizeBook(t, setup, map[string][][]any{"Clients": clients, "Archive": archive}, "Clients", "Archive")
		r, err := openBytes(t, b, Options{Map: map[string]string{"Work Phone": "ignore"}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Format() != "xlsx" || r.Sheet() != "Clients" || strings.Join(r.Sheets(), ",") != "Clients,Archive" {
			t.Errorf("format %q sheet %q sheets %q", r.Format(), r.Sheet(), r.Sheets())
		}
		got, err := readAll(t, r)
		if err != nil {
			t.Fatalf("1904 %v: %v", date1904, err)
		}
		if len(got) != 3 {
			t.Fatalf("1904 %v: got %+v", date1904, got)
		}
		for _, g := range got {
			if g.err != nil {
				t.Fatalf("1904 %v: row %d: %v", date1904, g.row, g.err)
			}
		}
		ann, bea, cat := got[0].rec, got[1].rec, got[2].rec
		if got[0].row != 2 || got[1].row != 3 || got[2].row != 5 {
			t.Errorf("rows %d %d %d", got[0].row, got[1].row, got[2].row)
		}
		if ann.Name != "Ann Fake" || ann.Phone != "15550100000" || ann.DOB.String() != "1990-04-02" ||
			ann.SkinType != "III" || ann.Pregnant || strings.Join(ann.Allergies, "|") != "latex|nuts" {
			t.Errorf("1904 %v: Ann = %+v", date1904, ann)
		}
		if bea.Phone != "15550100001" || bea.DOB.String() != "1990-04-02" || !bea.Pregnant || bea.Notes != "12.5" {
			t.Errorf("1904 %v: Bea = %+v", date1904, bea)
		}
		if cat.DOB.String() != "1990-04-03" { // a date-time's time of day is dropped
			t.Errorf("1904 %v: Cat = %+v", date1904, cat)
		}
	}

	b := excelizeBook(t, nil, map[string][][]any{"Clients": clients, "Archive": archive}, "Clients", "Archive")
	for _, name := range []string{"Archive", "archive"} {
		r, err := openBytes(t, b, Options{Sheet: name})
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, r)
		if err != nil || len(got) != 1 || got[0].rec.Email != "old@example.com" || r.Sheet() != "Archive" {
			t.Errorf("sheet %s: %+v %v", name, got, err)
		}
	}
	if _, err := openBytes(t, b, Options{Sheet: "Nope"}); !errors.Is(err, ErrNoSheet) || !strings.Contains(err.Error(), `"Clients", "Archive"`) {
		t.Errorf("missing sheet: %v", err)
	}
}

func TestXLSXPasswordProtected(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetRow("Sheet1", "A1", &[]any{"Name"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"Ann Fake"})
	var buf bytes.Buffer
	if err := f.Write(&buf, excelize.Options{Password: "fake-password"}); err != nil {
		t.Fatal(err)
	}
	_, err := openBytes(t, buf.Bytes(), Options{})
	if !errors.Is(err, ErrEncrypted) || !strings.Contains(err.Error(), "save it as .xlsx without a password or export CSV") {
		t.Errorf("got %v", err)
	}
}

func TestXLSXCells(t *testing.T) {
	sst := []string{
		"Name", "Mobile", "DOB", "Notes", "Skin Type",
		`<si><r><t>Ann </t></r><r><rPr><b/></rPr><t xml:space="preserve">Fake</t></r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh></si>`, // 5
		"Bea &amp; Co", // 6
	}
	data := `<row r="1" spans="1:5"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c></row>
<row r="2"><c r="A2" t="s"><v>5</v></c><c r="B2"><v>1.5550100000E10</v></c><c r="C2" s="1"><v>32965</v></c><c r="D2" t="inlineStr"><is><t>inline &lt;note&gt; &#233;&#x263A;</t></is></c><c r="E2"><v>4</v></c></row>
<row r="4"><c r="A4" t="s"><v>6</v></c><c r="C4" t="d"><v>1990-04-02T00:00:00</v></c><c r="D4" t="str"><f>CONCAT("a","b")</f><v>ab</v></c></row>
<row r="5"><c t="inlineStr"><is><t><![CDATA[Cat <Fake>]]></t></is></c><c/><c t="str"><v>2026-01-13</v></c><c><v>-0.5</v></c><c t="b"><v>1</v></c></row>
<row r="7"/>
<row r="9"><c r="A9" t="e"><v>#N/A</v></c><c r="C9"><v>60</v></c></row>`
	r, err := openBytes(t, handMade(t, data, sst, false), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %+v", got)
	}
	ann, bea, cat := got[0], got[1], got[2]
	if ann.row != 2 || ann.err != nil || ann.rec.Name != "Ann Fake" || ann.rec.Phone != "15550100000" ||
		ann.rec.DOB.String() != "1990-04-02" || ann.rec.Notes != "inline <note> é☺" || ann.rec.SkinType != "IV" {
		t.Errorf("row 2: %d %+v %v", ann.row, ann.rec, ann.err)
	}
	if bea.row != 4 || bea.err != nil || bea.rec.Name != "Bea & Co" || bea.rec.DOB.String() != "1990-04-02" || bea.rec.Notes != "ab" {
		t.Errorf("row 4: %d %+v %v", bea.row, bea.rec, bea.err)
	}
	// TRUE is no skin type: the cell is left out, the client kept.
	if cat.row != 5 || cat.err != nil || cat.rec.SkinType != "" || len(cat.left) != 1 ||
		!strings.Contains(cat.left[0].String(), `column "Skin Type": must be a Fitzpatrick type`) {
		t.Errorf("row 5: %d %+v %v %v", cat.row, cat.rec, cat.err, cat.left)
	}
	if got[3].row != 9 || got[3].err == nil ||
		!strings.Contains(got[3].err.Error(), `column "Name": holds a formula error`) {
		t.Errorf("row 9: %v", got[3].err)
	}
}

func TestXLSXBadInput(t *testing.T) {
	header := `<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c><c r="B1" t="inlineStr"><is><t>Notes</t></is></c></row>`
	tests := []struct {
		name   string
		file   []byte
		opts   Options
		is     error
		says   string
		atNext bool // the error comes from Next, not Open
	}{
		{"no sheets", zipOf(t, part{"_rels/.rels", rootRels},
			part{"xl/workbook.xml", `<workbook><sheets/></workbook>`}), Options{}, ErrNoSheets, "no sheets", false},
		{"zip, not xlsx", zipOf(t, part{"readme.txt", "hello"}), Options{}, ErrNotSpreadsheet, "not an XLSX workbook", false},
		{"ods", zipOf(t, part{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}), Options{}, ErrNotSpreadsheet, ".ods", false},
		{"damaged zip", handMade(t, header, nil, false)[:300], Options{}, ErrNotSpreadsheet, "damaged zip", false},
		{"empty zip", []byte("PK\x05\x06" + strings.Repeat("\x00", 18)), Options{}, ErrNotSpreadsheet, "not an XLSX", false},
		{"empty sheet", handMade(t, "", nil, false), Options{}, ErrEmpty, `sheet "Clients" is empty`, false},
		{"header only", handMade(t, header, nil, false), Options{}, ErrNoRows, "has a header but no rows", true},
		{"chart sheet", handMade(t, header, nil, false), Options{Sheet: "Chart"}, nil, "is a chart", false},
		{"duplicate header", handMade(t, `<row r="1"><c t="inlineStr"><is><t>Name</t></is></c><c t="inlineStr"><is><t>NAME</t></is></c></row>`, nil, false),
			Options{}, ErrDuplicateHeader, `"Name" (A) and column "NAME" (B)`, false},
		{"invalid UTF-8", handMade(t, header+`<row r="2"><c t="inlineStr"><is><t>Ann Fake</t></is></c><c t="inlineStr"><is><t>caf`+"\xE9"+`-secret</t></is></c></row>`, nil, false),
			Options{}, ErrInvalidUTF8, `row 2, column "Notes" (B): is not valid UTF-8`, true},
		{"shared string out of range", handMade(t, header+`<row r="2"><c t="s"><v>99</v></c></row>`, []string{"x"}, false),
			Options{}, nil, "row 2, column \"Name\" (A): refers to a shared string that does not exist", true},
		{"rows out of order", handMade(t, header+`<row r="3"><c t="inlineStr"><is><t>Ann Fake</t></is></c></row><row r="2"/>`, nil, false),
			Options{}, nil, "after row 3", true},
		{"unknown entity", handMade(t, header+`<row r="2"><c t="inlineStr"><is><t>&secret;</t></is></c></row>`, nil, false),
			Options{}, nil, "unknown entity", true},
		{"doctype", handMade(t, `<!DOCTYPE x [<!ENTITY a "b">]>`+header, nil, false), Options{}, nil, "DOCTYPE", false},
		{"truncated sheet", zipOf(t, part{"_rels/.rels", rootRels}, part{"xl/workbook.xml", workbookXML(false)},
			part{"xl/_rels/workbook.xml.rels", workbookRels},
			part{"xl/worksheets/sheet1.xml", `<worksheet><sheetData>` + header + `<row r="2"><c t="inlineStr"><is><t>Ann Fa`}),
			Options{}, nil, "ends", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := openBytes(t, tt.file, tt.opts)
			if (err == nil) != tt.atNext {
				t.Fatalf("Open: %v", err)
			}
			if err == nil {
				_, err = readAll(t, r)
			}
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("got %v, want %v saying %q", err, tt.is, tt.says)
			}
			noLeak(t, err, "secret", "Ann Fa")
		})
	}
}

func TestXLSXHugeCell(t *testing.T) {
	// 8 MiB of text that compresses little (so that it is no zip bomb):
	// read, it must not be held.
	block := make([]byte, 64<<10) // past deflate's 32 KiB window: repeats do not compress
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range block {
		block[i] = 'a' + byte(rnd.IntN(26))
	}
	big := strings.Repeat(string(block), 128)
	header := `<row r="1"><c t="inlineStr"><is><t>Name</t></is></c><c t="inlineStr"><is><t>Notes</t></is></c></row>`
	inline := handMade(t, header+`<row r="2"><c t="inlineStr"><is><t>Ann Fake</t></is></c></row>`+
		`<row r="3"><c t="inlineStr"><is><t>Bea Fake</t></is></c><c t="inlineStr"><is><t>`+big+`</t></is></c></row>`, nil, false)
	shared := handMade(t, header+`<row r="2"><c t="inlineStr"><is><t>Ann Fake</t></is></c></row>`+
		`<row r="3"><c t="inlineStr"><is><t>Bea Fake</t></is></c><c t="s"><v>1</v></c></row>`, []string{"small", big}, false)
	big = ""
	for name, file := range map[string][]byte{"inline": inline, "shared": shared} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r, err := openBytes(t, file, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, r)
		runtime.ReadMemStats(&after)
		if len(got) != 1 || !errors.Is(err, ErrCellTooLarge) || !strings.Contains(err.Error(), `row 3, column "Notes" (B): cell is larger than 1 MiB`) {
			t.Errorf("%s: got %d rows, %v", name, len(got), err)
		}
		// The shared strings' buffer is sized from their part's declared
		// size up front (bounded by its compressed size), once.
		limit := uint64(6 << 20)
		if name == "shared" {
			limit += 8 << 20
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit {
			t.Errorf("%s: allocated %d MiB for an 8 MiB cell", name, alloc>>20)
		}
	}
}

// Workbooks that openpyxl and LibreOffice wrote (testdata/vendors): a ZIP
// code stored as a number and shown with leading zeros by its number
// format is read as shown, and an empty cell formatted as a date is empty.
func TestXLSXNumberFormatsAndEmptyDates(t *testing.T) {
	for _, name := range []string{"openpyxl.xlsx", "libreoffice.xlsx", "openpyxl-1904.xlsx"} {
		b, err := os.ReadFile("testdata/vendors/" + name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := openBytes(t, b, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := readAll(t, r)
		if err != nil || len(got) != 4 {
			t.Fatalf("%s: %+v, %v", name, got, err)
		}
		for _, g := range got {
			if g.err != nil || len(g.left) > 0 {
				t.Errorf("%s row %d: %v, left out %v", name, g.row, g.err, g.left)
			}
		}
		if b := got[1].rec; !strings.Contains(b.Address, ", 02139,") || !b.LastVisited.IsZero() || b.FirstVisit.String() != "2024-01-10" {
			t.Errorf("%s row 3: %+v", name, b)
		}
	}
}

// A title above the header is passed over, or --header-row names the row.
func TestHeaderRowFound(t *testing.T) {
	for _, c := range []struct {
		in   string
		opts Options
		row  int
	}{
		{"Client list\n\nName,Phone\nAnn Fake,555 0100\n", Options{}, 3},
		{"Client list\nName;Phone\nAnn Fake;555 0100\n", Options{}, 2},
		{"Client export,,\nExported 2026-02-01,,\nName,Phone,Email\nAnn Fake,555 0100,\n", Options{}, 3},
		{"Salon,Branch\nTest Salon,Main\nName,Phone\nAnn Fake,555 0100\n", Options{HeaderRow: 3}, 3},
	} {
		r := openCSV(t, c.in, c.opts)
		got, err := readAll(t, r)
		if err != nil || r.HeaderRow() != c.row || len(got) != 1 || got[0].rec == nil || got[0].rec.Phone != "555 0100" {
			t.Errorf("%q: header row %d, %+v, %v", c.in, r.HeaderRow(), got, err)
		}
	}
	if _, err := OpenCSV(strings.NewReader("Name,Phone\nAnn Fake,555\n"), Options{HeaderRow: 5}); err == nil ||
		!strings.Contains(err.Error(), "header row 5: is blank or past the end") {
		t.Errorf("header row past the end: %v", err)
	}
	for _, in := range []string{
		"Ann Fake,555 0100\nBea Fake,555 0101\n",
		// A client's row with a column name as a value is no header.
		"Ann Fake,555 0100,Secretvalue\nBea Secretname,Mobile,Note\n",
	} {
		_, err := OpenCSV(strings.NewReader(in), Options{})
		if !errors.Is(err, ErrUnknownColumns) || !strings.Contains(err.Error(), "is the header row missing?") {
			t.Errorf("no header: %v", err)
		}
		noLeak(t, err, "Secret", "Ann", "555")
	}
}

// A header cell merged over two columns reads the second as more of the
// same, a cover page before the table is passed over, and a column without
// a header is mapped by its letter.
func TestXLSXLayouts(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Read me"); err != nil {
		t.Fatal(err)
	}
	f.SetCellValue("Read me", "A1", "Exported from a booking system")
	if _, err := f.NewSheet("Clients"); err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"Clients, February"},
		{},
		{"Name", nil, "Phone", nil, "Address", nil, nil, nil},
		{"Ann", "Fake", "555 0100", "555 0101", "1 Test St", "Springfield", "62704", "Instagram"},
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Clients", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range [][2]string{{"A3", "B3"}, {"C3", "D3"}, {"E3", "G3"}} {
		if err := f.MergeCell("Clients", m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	r, err := openBytes(t, buf.Bytes(), Options{Map: map[string]string{"H": "referral"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Sheet() != "Clients" || strings.Join(r.PassedOver(), ",") != "Read me" || r.HeaderRow() != 3 {
		t.Errorf("sheet %q, passed over %q, header row %d", r.Sheet(), r.PassedOver(), r.HeaderRow())
	}
	if got := fieldsOf(r.m); got != "name/first name/last phone notes address address address notes" {
		t.Errorf("mapping: %s", got)
	}
	got, err := readAll(t, r)
	if err != nil || len(got) != 1 || got[0].rec == nil {
		t.Fatalf("%+v, %v", got, err)
	}
	rec := got[0].rec
	if rec.Name != "Ann Fake" || rec.Phone != "555 0100" || rec.Address != "1 Test St, Springfield, 62704" ||
		rec.Notes != "Phone (2): 555 0101\ncolumn H: Instagram" {
		t.Errorf("record: %+v", rec)
	}
}
