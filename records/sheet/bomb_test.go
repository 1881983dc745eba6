package sheet

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// deflated compresses p alone, as a run of byte-aligned blocks that refer
// to nothing before them and are not the last: copies of it, one after
// another and ended by endBlock, are a valid deflate stream. That makes a
// part of gigabytes from kilobytes without compressing gigabytes.
func deflated(t testing.TB, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(p)
	w.Flush()
	return b.Bytes()
}

// endBlock is an empty final deflate block.
var endBlock = []byte{0x03, 0x00}

// piece is a part's content: text repeated n times.
type piece struct {
	text string
	n    int
}

// bombPart builds a deflated part from pieces, compressing each text once.
// It returns the stream and the size it inflates to.
func bombPart(t testing.TB, pieces ...piece) ([]byte, uint64) {
	t.Helper()
	var out bytes.Buffer
	var size uint64
	for _, p := range pieces {
		d := deflated(t, []byte(p.text))
		for range p.n {
			out.Write(d)
		}
		size += uint64(len(p.text)) * uint64(p.n)
	}
	out.Write(endBlock)
	return out.Bytes(), size
}

// bombBook returns a workbook whose sheet part (or shared strings part) is
// the given deflated stream, declared with its true size (archive/zip
// refuses to inflate past the declared size, so a bomb must declare it).
// The CRC is not computed: a reader that reads the part to its end fails
// on it, which the tests count as a failure too.
func bombBook(t testing.TB, sheet []byte, sheetSize uint64, sst []byte, sstSize uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, s string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(s))
	}
	raw := func(name string, d []byte, size uint64) {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate,
			CompressedSize64: uint64(len(d)), UncompressedSize64: size})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(d)
	}
	add("_rels/.rels", rootRels)
	add("xl/workbook.xml", workbookXML(false))
	add("xl/_rels/workbook.xml.rels", workbookRels)
	if sst != nil {
		raw("xl/sharedStrings.xml", sst, sstSize)
	} else {
		add("xl/sharedStrings.xml", `<sst><si><t>Name</t></si></sst>`)
	}
	raw("xl/worksheets/sheet1.xml", sheet, sheetSize)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// noise is text that deflate cannot shrink much, in an XML comment (which
// readers skip), to keep a part's inflation ratio that of a real sheet.
func noise(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(r.IntN(26))
	}
	return string(b)
}

const (
	sheetHead = `<worksheet><sheetData>`
	sheetTail = `</sheetData></worksheet>`
	nameRow   = `<row r="1"><c t="s"><v>0</v></c></row>`
)

// Each workbook of the issue (#13) that once took gigabytes or minutes, and
// each bound on its own, is refused in under 2 s, having allocated less
// than 256 MiB in all.
func TestHostileWorkbooks(t *testing.T) {
	oneMB := strings.Repeat("a", 1_000_000)
	tests := []struct {
		name  string
		build func(t *testing.T) []byte
		is    error
	}{
		{"header of 3000 inline cells of 1 MB (3 MB zipped)", func(t *testing.T) []byte {
			d, n := bombPart(t, piece{sheetHead + `<row r="1">`, 1},
				piece{`<c t="inlineStr"><is><t>` + oneMB + `</t></is></c>`, 3000}, piece{`</row>` + sheetTail, 1})
			return bombBook(t, d, n, nil, 0)
		}, ErrZipBomb},
		{"400 million empty shared strings", func(t *testing.T) []byte {
			sst, sn := bombPart(t, piece{`<sst>`, 1}, piece{strings.Repeat(`<si><t/></si>`, 1<<16), 400_000_000 >> 16}, piece{`</sst>`, 1})
			d, n := bombPart(t, piece{sheetHead + nameRow + sheetTail, 1})
			return bombBook(t, d, n, sst, sn)
		}, ErrTooLarge}, // its declared size is refused first
		{"0.8 MB of large shared strings", func(t *testing.T) []byte {
			sst, sn := bombPart(t, piece{`<sst>`, 1}, piece{`<si><t>` + oneMB + `</t></si>`, 1300}, piece{`</sst>`, 1})
			d, n := bombPart(t, piece{sheetHead + nameRow + sheetTail, 1})
			return bombBook(t, d, n, sst, sn)
		}, ErrTooLarge},
		{"300 million blank rows without numbers", func(t *testing.T) []byte {
			d, n := bombPart(t, piece{sheetHead + nameRow, 1}, piece{strings.Repeat(`<row/>`, 1<<16), 300_000_000 >> 16}, piece{sheetTail, 1})
			return bombBook(t, d, n, nil, 0)
		}, ErrZipBomb},
		// The same, each within the inflation bound, for the bound that
		// catches it then.
		{"a row of 20 cells of 1 MB that do not compress", func(t *testing.T) []byte {
			d, n := bombPart(t, piece{sheetHead + nameRow + `<row r="2">`, 1},
				piece{`<c t="inlineStr"><is><t>` + noise(1_000_000, 1) + `</t></is></c>`, 20}, piece{`</row>` + sheetTail, 1})
			return bombBook(t, d, n, nil, 0)
		}, ErrTooLarge},
		{"a header of 20 cells of 1 MB", func(t *testing.T) []byte {
			d, n := bombPart(t, piece{sheetHead + `<row r="1">`, 1},
				piece{`<c t="inlineStr"><is><t>` + noise(1_000_000, 2) + `</t></is></c>`, 20}, piece{`</row>` + sheetTail, 1})
			return bombBook(t, d, n, nil, 0)
		}, ErrTooLarge},
		{"more than 8 million empty shared strings", func(t *testing.T) []byte {
			sst, sn := bombPart(t, piece{`<sst>`, 1},
				piece{`<!--` + noise(4000, 3) + `-->` + strings.Repeat(`<si/>`, 1<<16), (maxSharedCount >> 16) + 1}, piece{`</sst>`, 1})
			d, n := bombPart(t, piece{sheetHead + nameRow + sheetTail, 1})
			return bombBook(t, d, n, sst, sn)
		}, ErrTooLarge},
		{"more than 128 MiB of shared strings", func(t *testing.T) []byte {
			sst, sn := bombPart(t, piece{`<sst>`, 1},
				piece{`<!--` + noise(4000, 4) + `--><si><t>` + oneMB + `</t></si>`, 140}, piece{`</sst>`, 1})
			d, n := bombPart(t, piece{sheetHead + nameRow + sheetTail, 1})
			return bombBook(t, d, n, sst, sn)
		}, ErrTooLarge},
		{"more than 1,048,576 blank rows without numbers", func(t *testing.T) []byte {
			d, n := bombPart(t, piece{sheetHead + nameRow, 1}, piece{strings.Repeat(`<row/>`, 1<<16), (maxRows >> 16) + 1}, piece{sheetTail, 1})
			return bombBook(t, d, n, nil, 0)
		}, ErrTooLarge},
		{"a row numbered past 1,048,576", func(t *testing.T) []byte {
			d, n := bombPart(t, piece{sheetHead + nameRow + `<row r="1048577"><c t="s"><v>0</v></c></row>` + sheetTail, 1})
			return bombBook(t, d, n, nil, 0)
		}, ErrTooLarge},
	}
	// SHEET_BOMBS=DIR writes each workbook to DIR, to measure the real
	// binary on it (bench/import-bombs.sh).
	dir := os.Getenv("SHEET_BOMBS")
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.build(t)
			if dir != "" {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("bomb%02d.xlsx", i+1)), file, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			r, err := openBytes(t, file, Options{})
			if err == nil {
				_, err = readAll(t, r)
			}
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil || tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("got %v, want %v", err, tt.is)
			}
			// Time is measured with the real binary (bench/import-bombs.sh,
			// the README), not asserted here: the race detector and a busy
			// machine make it several times slower. What the bounds keep
			// small is the memory.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			t.Logf("%d KiB file: %v in %v, %d MiB allocated", len(file)>>10, err, took.Round(time.Millisecond), (after.TotalAlloc-before.TotalAlloc)>>20)
		})
	}
}
