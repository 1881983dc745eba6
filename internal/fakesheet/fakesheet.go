// Package fakesheet writes spreadsheets of fake clients, as a booking system
// exports them, for benchmarks and tests of import. Every value is
// obviously fake and every row is a different client (name and date of
// birth), so a file imports without duplicates.
package fakesheet

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// Header is the header row that Write writes.
const Header = "First Name,Last Name,Mobile,Email,Birthday,Allergies,Medications,Notes"

// NotesSize is about how many bytes of notes each row carries, so that a
// row is about 1 KB.
const NotesSize = 800

var (
	words = strings.Fields(`client prefers afternoon appointments reports mild erythema after
		previous session advised SPF daily avoid sun exposure for two weeks patch test negative
		sensitive skin around the eyes uses retinol at night stopped before treatment cooling gel
		applied no adverse reaction booked follow up in four weeks hydration good texture improving
		pigmentation fading slowly discussed aftercare at length`)
	allergies   = []string{"latex", "tree nuts", "lanolin", "fragrance", "nickel", "lidocaine", "penicillin"}
	medications = []string{"isotretinoin", "warfarin", "doxycycline", "tretinoin", "metformin", "levothyroxine"}
)

// Write writes a header and rows of fake clients, numbered from 1, as CSV.
// The same n always gives the same file.
func Write(w io.Writer, rows int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintln(bw, Header)
	var b []byte
	for n := 1; n <= rows; n++ {
		b = AppendRow(b[:0], n)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// AppendRow appends row n (from 1), with its newline, to b.
func AppendRow(b []byte, n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 0x5eed))
	b = fmt.Appendf(b, "Testclient,Numbered%s,+1 555 %04d,client%d@example.test,%04d-%02d-%02d,",
		letters(n), n%10000, n, 1940+n%60, 1+n%12, 1+n%28)
	b = append(b, '"')
	for i, k := 0, 1+r.IntN(3); i < k; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, allergies[r.IntN(len(allergies))]...)
	}
	b = append(b, `","`...)
	for i, k := 0, 1+r.IntN(2); i < k; i++ {
		if i > 0 {
			b = append(b, "; "...)
		}
		b = append(b, medications[r.IntN(len(medications))]...)
	}
	b = append(b, `","`...)
	start := len(b)
	for len(b)-start < NotesSize {
		b = append(b, words[r.IntN(len(words))]...)
		switch r.IntN(12) {
		case 0:
			b = append(b, ", "...)
		case 1:
			b = append(b, `. ""Quoted"" `...) // a quote, doubled inside quotes
		case 2:
			b = append(b, ".\n"...)
		default:
			b = append(b, ' ')
		}
	}
	b = append(b, '.', '"', '\n')
	return b
}

// letters spells n in base 26 with letters, so that names differ by more
// than digits (which NormalizeName keeps, but people's names rarely have).
func letters(n int) string {
	var s []byte
	for ; n > 0; n /= 26 {
		s = append(s, byte('a'+n%26))
	}
	return string(s)
}
