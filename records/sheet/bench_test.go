package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"runtime"
	"strings"
	"testing"
)

// benchRows is the size of the benchmarks' inputs: 100,000 rows of about
// 1 KB each, a large salon's client list with long notes.
const benchRows = 100_000

var benchHeader = []string{"First Name", "Last Name", "Email", "Mobile", "Date of Birth",
	"Address 1", "City", "Zip", "Allergies", "Medications", "Skin Type", "Notes"}

// benchRow returns row i of fake client data, about 1 KB.
func benchRow(i int) []string {
	return []string{
		fmt.Sprintf("Client%d", i), "Fake", fmt.Sprintf("client%d@example.com", i),
		fmt.Sprintf("+1 555 %04d", i%10000), fmt.Sprintf("%04d-%02d-%02d", 1950+i%60, 1+i%12, 1+i%28),
		fmt.Sprintf("%d Test Street", i), "Springfield", fmt.Sprintf("%05d", i%100000),
		"latex; nuts", "isotretinoin, warfarin", "III",
		fmt.Sprintf("visit %d: ", i) + strings.Repeat("prefers afternoon appointments, sensitive skin. ", 17),
	}
}

func benchCSV(b *testing.B) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(benchHeader)
	for i := range benchRows {
		w.Write(benchRow(i))
	}
	w.Flush()
	return buf.Bytes()
}

// benchXLSX writes the rows as Excel does: every text cell a shared string,
// the date of birth a serial number.
func benchXLSX(b *testing.B) []byte {
	var sst, sheetXML bytes.Buffer
	n := 0
	sst.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	sheetXML.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	writeRow := func(r int, cells []string) {
		fmt.Fprintf(&sheetXML, `<row r="%d" spans="1:%d">`, r, len(cells))
		for c, v := range cells {
			ref := columnLetter(c) + fmt.Sprint(r)
			if r > 1 && c == 4 {
				fmt.Fprintf(&sheetXML, `<c r="%s" s="1"><v>%d</v></c>`, ref, 18000+r%20000)
				continue
			}
			fmt.Fprintf(&sst, `<si><t>%s</t></si>`, html.EscapeString(v))
			fmt.Fprintf(&sheetXML, `<c r="%s" t="s"><v>%d</v></c>`, ref, n)
			n++
		}
		sheetXML.WriteString(`</row>`)
	}
	writeRow(1, benchHeader)
	for i := range benchRows {
		writeRow(i+2, benchRow(i))
	}
	sst.WriteString(`</sst>`)
	sheetXML.WriteString(`</sheetData></worksheet>`)
	return handMadeParts(b, sheetXML.String(), sst.String())
}

func handMadeParts(b *testing.B, sheetXML, sst string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range []part{
		{"_rels/.rels", rootRels},
		{"xl/workbook.xml", workbookXML(false)},
		{"xl/_rels/workbook.xml.rels", workbookRels},
		{"xl/sharedStrings.xml", sst},
		{"xl/worksheets/sheet1.xml", sheetXML},
	} {
		w, _ := zw.Create(p.name)
		io.WriteString(w, p.body)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// readBench reads every row of file, failing on any error.
func readBench(b *testing.B, file []byte) {
	r, err := Open(bytes.NewReader(file), int64(len(file)), Options{})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		_, _, err := r.Next(today)
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	if n != benchRows {
		b.Fatalf("read %d rows, want %d", n, benchRows)
	}
}

// runBench reports, besides time and allocations, rows/s and the CPU time of
// the process per 100,000 rows (cpu-ms/100krows), which includes the
// garbage collector's and does not count time spent waiting for a core on
// a busy machine.
func runBench(b *testing.B, file []byte, unpacked int) {
	b.SetBytes(int64(unpacked))
	b.ReportAllocs()
	runtime.GC()
	cpu := cpuTime()
	for b.Loop() {
		readBench(b, file)
	}
	cpu = cpuTime() - cpu
	rows := float64(benchRows) * float64(b.N)
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpu.Milliseconds())/rows*100_000, "cpu-ms/100krows")
}

// BenchmarkCSVRows reads 100,000 rows of about 1 KB from CSV in memory:
// parsing, mapping and validation.
func BenchmarkCSVRows(b *testing.B) {
	file := benchCSV(b)
	b.Run(fmt.Sprintf("rows=%d/MB=%d", benchRows, len(file)>>20), func(b *testing.B) { runBench(b, file, len(file)) })
}

// BenchmarkXLSXRows reads 100,000 rows of about 1 KB from an XLSX workbook
// in memory, every text a shared string as Excel writes it. MB/s counts the
// uncompressed XML.
func BenchmarkXLSXRows(b *testing.B) {
	file := benchXLSX(b)
	zr, _ := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	unpacked := 0
	for _, f := range zr.File {
		unpacked += int(f.UncompressedSize64)
	}
	b.Run(fmt.Sprintf("rows=%d/MB=%d", benchRows, unpacked>>20), func(b *testing.B) { runBench(b, file, unpacked) })
}
