package sheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// marker stands for client data in the fuzz tests: it is put in cells, and
// no error may repeat it.
const marker = "QZXMARKERXZQ"

// headerError reports whether err is about the header row, whose cells
// (column names, not client data) errors may name.
func headerError(err error) bool {
	return errors.Is(err, ErrDuplicateHeader) || errors.Is(err, ErrUnknownColumns) ||
		errors.Is(err, ErrNoNameColumn) || strings.HasPrefix(err.Error(), "header:") ||
		strings.HasPrefix(err.Error(), "map:")
}

// drain reads every row of r, as an import with --skip-invalid would, and
// checks what it gets: rows in order, records that validate, no error with
// the marker in it.
func drain(t *testing.T, r *Reader, headerHasMarker bool) {
	t.Helper()
	last := r.HeaderRow()
	for i := 0; ; i++ {
		if i > 1<<20 {
			t.Fatal("Next never ends")
		}
		rec, row, err := r.Next(today)
		if err == io.EOF || errors.Is(err, ErrNoRows) {
			return
		}
		var re *RowError
		if err != nil && !errors.As(err, &re) {
			if !headerHasMarker && strings.Contains(err.Error(), marker) {
				t.Fatalf("fatal error has the cell value: %v", err)
			}
			return
		}
		if row <= last {
			t.Fatalf("row %d after row %d", row, last)
		}
		last = row
		if err != nil {
			if rec != nil {
				t.Fatalf("a record with a row error: %v", err)
			}
			if re.Row != row || len(re.Problems) == 0 {
				t.Fatalf("row error %#v for row %d", re, row)
			}
			if !headerHasMarker && strings.Contains(err.Error(), marker) {
				t.Fatalf("row error has the cell value: %v", err)
			}
			continue
		}
		if rec == nil || strings.TrimSpace(rec.Name) == "" {
			t.Fatalf("row %d: record %+v", row, rec)
		}
		if verr := rec.Clone().Validate(today); verr != nil {
			t.Fatalf("row %d: a record that does not validate: %v", row, verr)
		}
	}
}

func FuzzCSVReader(f *testing.F) {
	m := marker
	for _, seed := range []string{
		"Name,Email,DOB,Notes\n" + m + "," + m + "@example.com," + m + ",\"" + m + "\n" + m + "\"\n",
		"\xEF\xBB\xBFFirst Name;Last Name;Mobile;Skin Type\r\n" + m + ";" + m + ";" + m + ";" + m + "\r\n",
		"Name\tAllergies\tPregnant\n" + m + "\t" + m + ";" + m + "\t" + m + "\n",
		"Name,DOB\n" + m + ",01/02/1990\n" + m + ",31/02/1990\n" + m + "," + m + "/1/2026\n",
		"Name,Notes\n" + m + ",\"unclosed " + m + "\n",
		"Name,Notes\n" + m + ",bare \" " + m + "\n",
		"Name,,Notes\n" + m + "," + m + "," + m + "," + m + "\n",
		"Name,Notes\n" + m + ",caf\xE9 " + m + "\n",
		"Name,Notes\n" + m + ",\x00" + m + "\n",
		"Name,Email\n\n,\n" + m + "\n",
		"Name\n",
		"",
	} {
		f.Add([]byte(seed), uint8(0))
		f.Add([]byte(seed), uint8(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, flags uint8) {
		opts := Options{IgnoreUnknown: flags&1 == 0}
		if flags&2 != 0 {
			opts.Encoding = "windows-1252"
		}
		opts.DateFormat = []string{DateAuto, DateDMY, DateMDY, DateISO}[flags>>2&3]
		r, err := OpenCSV(bytes.NewReader(data), opts)
		if err != nil {
			if !headerError(err) && strings.Contains(err.Error(), marker) {
				t.Fatalf("OpenCSV error has the cell value: %v", err)
			}
			return
		}
		hasMarker := false
		for _, c := range r.Mapping() {
			hasMarker = hasMarker || strings.Contains(c.Header, marker)
		}
		drain(t, r, hasMarker)
	})
}

// FuzzMapping writes a header and a row of cells, each holding the marker,
// as a well-formed CSV file, and reads it with a --map entry.
func FuzzMapping(f *testing.F) {
	f.Add("First Name|Last Name|E-mail|DOB", "a|b|c@example.com|1990-01-02", "", "", false)
	f.Add("Client|Tel (home)|Loyalty", "a|555 0100|12", "Tel (home)", "phone", true)
	f.Add("Name|Email|E-Mail", "a|b|c", "E-Mail", "ignore", false)
	f.Add("Name|Mobile|Phone", "a|1|2", "phone", "ignore", false)
	f.Add("Given|Family|Address 1|City|Zip", "a|b|c|d|e", "Given", "first_name", true)
	f.Add("Name|Skin Type|Pregnant|Allergies", "a|V|yes|x;y,z", "Pregnant", "notes", false)
	f.Add("Name||#", "a||b", "#", "notes", false)
	f.Fuzz(func(t *testing.T, header, row, mapKey, mapField string, ignoreUnknown bool) {
		header = strings.ReplaceAll(header, marker, "")
		mapKey = strings.ReplaceAll(mapKey, marker, "")
		mapField = strings.ReplaceAll(mapField, marker, "")
		cells := strings.Split(row, "|")
		for i := range cells {
			cells[i] += marker
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(strings.Split(header, "|"))
		w.Write(cells)
		w.Flush()
		opts := Options{IgnoreUnknown: ignoreUnknown}
		if mapKey != "" {
			opts.Map = map[string]string{mapKey: mapField}
		}
		r, err := OpenCSV(&buf, opts)
		if err != nil {
			if strings.Contains(err.Error(), marker) {
				t.Fatalf("OpenCSV error has the cell value: %v", err)
			}
			return
		}
		fields := map[string]bool{"": true}
		for _, n := range FieldNames() {
			fields[n] = true
		}
		for _, c := range r.Mapping() {
			if !fields[c.Field] || (c.Field == "") != (c.By != byHeaderName && c.By != byMap && c.By != bySimilar && c.By != byMerged) {
				t.Fatalf("mapping %+v", c)
			}
		}
		drain(t, r, false)
	})
}

// FuzzXLSXCell reads a worksheet whose second row holds fuzzed cells, raw in
// the XML, of a fuzzed type; and reads the value as a date serial.
func FuzzXLSXCell(f *testing.F) {
	for _, seed := range []struct{ v, typ string }{
		{"1.5550100000E10", ""}, {"32965", "n"}, {"60", ""}, {"-1", ""}, {"1e308", ""}, {"NaN", ""},
		{"1", "b"}, {"#N/A", "e"}, {"1990-04-02T00:00:00", "d"}, {"0", "s"}, {"7", "s"},
		{"a &amp; b &#233; &lt;", "str"}, {"<![CDATA[x<y]]>", "str"}, {"&bogus;", "str"}, {"\xE9", "str"},
	} {
		f.Add(seed.v, seed.typ, false)
		f.Add(seed.v, "inlineStr", true)
	}
	f.Fuzz(func(t *testing.T, value, typ string, date1904 bool) {
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			d, err := serialDate(v, date1904)
			if err == nil && (d.Year < 1900 || d.Year > 9999 || d.Time().IsZero()) {
				t.Fatalf("serialDate(%v) = %v", v, d)
			}
		}
		typ = strings.NewReplacer(`"`, "", "<", "", "&", "").Replace(typ)
		cell := func(ref string) string {
			v := value + marker
			if typ == "inlineStr" {
				return `<c r="` + ref + `" t="inlineStr"><is><t>` + v + `</t></is></c>`
			}
			return `<c r="` + ref + `" t="` + typ + `"><v>` + v + `</v></c>`
		}
		xml := `<worksheet><sheetData><row r="1">` +
			`<c r="A1" t="inlineStr"><is><t>Name</t></is></c><c r="B1" t="inlineStr"><is><t>DOB</t></is></c>` +
			`<c r="C1" t="inlineStr"><is><t>Mobile</t></is></c><c r="D1" t="inlineStr"><is><t>Pregnant</t></is></c></row>` +
			`<row r="2">` + cell("A2") + cell("B2") + cell("C2") + cell("D2") + `</row></sheetData></worksheet>`
		sst := &sharedStrings{text: "Ann Fake" + marker, ends: []uint32{8, uint32(8 + len(marker))}}
		src := &xlsxSource{sc: newXMLScanner(strings.NewReader(xml), MaxCell), sst: sst}
		r, err := (&Reader{src: src, format: "xlsx", sheet: "Clients", date1904: date1904}).start(Options{})
		if err != nil {
			if strings.Contains(err.Error(), marker) {
				t.Fatalf("start error has the cell value: %v", err)
			}
			return
		}
		drain(t, r, false)
	})
}

// tokens returns the tokens of data as text, read through a window of the
// given size one byte at a time, up to the first error.
func tokens(data []byte, window, maxText int) (toks []string, err error) {
	var r io.Reader = bytes.NewReader(data)
	if window < scanWindow {
		r = iotest.OneByteReader(r)
	}
	s := newXMLScannerWindow(r, maxText, window)
	for i := 0; ; i++ {
		if i > len(data)+2 {
			return toks, fmt.Errorf("%d tokens from %d bytes", i, len(data))
		}
		if err := s.next(); err != nil {
			return toks, err
		}
		if len(s.text) > maxText || (s.kind == tokStart && len(s.name) == 0) {
			return toks, fmt.Errorf("token %d: kind %d name %q text of %d bytes", i, s.kind, s.name, len(s.text))
		}
		tok := fmt.Sprintf("%d %q", s.kind, s.name)
		if s.kind == tokText {
			tok = fmt.Sprintf("text %q %v", s.text, s.tooLong)
		}
		if s.kind == tokStart {
			for _, a := range s.attrs {
				tok += fmt.Sprintf(" %q=%q", a.name, a.value)
			}
		}
		toks = append(toks, tok)
	}
}

// FuzzXMLScanner checks that the tokenizer ends with bounded tokens on any
// input, and reads the same tokens through a window of a few bytes filled
// one byte at a time as through its full window.
func FuzzXMLScanner(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><a x="1" y='>'><!-- c --><b/>t &amp; &#x41;<![CDATA[<z>]]></a>`), uint8(0))
	f.Add([]byte(`<si><t xml:space="preserve">a long enough text to cross a window &lt;</t></si>`), uint8(3))
	f.Add([]byte(`<a><<b>></a`), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, w uint8) {
		window := 32 + int(w%64) // a tag up to 16 bytes fits
		want, wantErr := tokens(data, scanWindow, 48)
		if wantErr != nil && wantErr != io.EOF && !errors.Is(wantErr, errXMLSyntax) {
			t.Fatal(wantErr)
		}
		got, gotErr := tokens(data, window, 48)
		if errors.Is(gotErr, errXMLSyntax) && strings.Contains(gotErr.Error(), "a tag is longer") {
			return // a small window refuses long tags sooner
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") || (gotErr == io.EOF) != (wantErr == io.EOF) {
			t.Fatalf("window %d:\n%s\n%v\nfull window:\n%s\n%v", window, strings.Join(got, "\n"), gotErr, strings.Join(want, "\n"), wantErr)
		}
	})
}
