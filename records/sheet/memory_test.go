package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"runtime"
	"testing"
)

var flatRows = flag.Int("sheet.flatrows", 100_000, "rows of about 1 KB that the memory tests stream")

// rowSource generates a CSV file of n rows of about 1 KB, a row at a time,
// so that the test itself holds none of it.
type rowSource struct {
	n, i int
	buf  bytes.Buffer
	w    *csv.Writer
}

func (s *rowSource) Read(p []byte) (int, error) {
	if s.w == nil {
		s.w = csv.NewWriter(&s.buf)
		s.w.UseCRLF = true
	}
	for s.buf.Len() < len(p) && s.i <= s.n {
		if s.i == 0 {
			s.w.Write(benchHeader)
		} else {
			s.w.Write(benchRow(s.i))
		}
		s.w.Flush()
		s.i++
	}
	if s.buf.Len() == 0 {
		return 0, io.EOF
	}
	return s.buf.Read(p)
}

// heapWatch records the largest live heap seen at its samples.
type heapWatch struct{ max uint64 }

func (h *heapWatch) sample() {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.max = max(h.max, m.HeapAlloc)
}

func drainWatching(t *testing.T, r *Reader, n int) *heapWatch {
	t.Helper()
	h := new(heapWatch)
	rows := 0
	for {
		_, _, err := r.Next(today)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rows++; rows%(n/10) == 0 {
			h.sample()
		}
	}
	if rows != n {
		t.Fatalf("read %d rows, want %d", rows, n)
	}
	return h
}

func TestCSVMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 MB")
	}
	n := *flatRows
	r, err := OpenCSV(&rowSource{n: n}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := drainWatching(t, r, n)
	t.Logf("%d rows (%d MB): largest live heap %.1f MiB", n, n>>10, float64(h.max)/(1<<20))
	if h.max > 16<<20 {
		t.Errorf("live heap reached %d MiB", h.max>>20)
	}
}

// TestXLSXSheetMemoryFlat streams a sheet whose cells are inline strings,
// as streaming writers produce: nothing of it is held. (With shared strings,
// they are held, once: see loadSharedStrings.)
func TestXLSXSheetMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 25 MB of XML")
	}
	n := *flatRows / 4
	var file bytes.Buffer
	zw := zip.NewWriter(&file)
	for _, p := range []part{{"_rels/.rels", rootRels}, {"xl/workbook.xml", workbookXML(false)}, {"xl/_rels/workbook.xml.rels", workbookRels}} {
		w, _ := zw.Create(p.name)
		io.WriteString(w, p.body)
	}
	w, _ := zw.Create("xl/worksheets/sheet1.xml")
	io.WriteString(w, `<worksheet><sheetData>`)
	for i := 0; i <= n; i++ {
		cells := benchHeader
		if i > 0 {
			cells = benchRow(i)
		}
		fmt.Fprintf(w, `<row r="%d">`, i+1)
		for _, c := range cells {
			fmt.Fprintf(w, `<c t="inlineStr"><is><t>%s</t></is></c>`, c)
		}
		io.WriteString(w, `</row>`)
	}
	io.WriteString(w, `</sheetData></worksheet>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	base := new(heapWatch)
	base.sample()
	r, err := openBytes(t, file.Bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := drainWatching(t, r, n)
	t.Logf("%d rows, file of %.1f MiB: largest live heap %.1f MiB", n, float64(file.Len())/(1<<20), float64(h.max)/(1<<20))
	if h.max > base.max+16<<20 {
		t.Errorf("live heap reached %d MiB, from %d MiB", h.max>>20, base.max>>20)
	}
}
