// Command gencsv writes a CSV file of fake clients (about 1 KB a row) for
// measuring import: go run ./bench/gencsv -rows 100000 -o /tmp/clients-100k.csv
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/clientvault/clientvault/internal/fakesheet"
)

func main() {
	rows := flag.Int("rows", 100000, "rows to write")
	out := flag.String("o", "", "output file (default standard output)")
	flag.Parse()
	f := os.Stdout
	if *out != "" {
		var err error
		if f, err = os.Create(*out); err != nil {
			fmt.Fprintln(os.Stderr, "gencsv:", err)
			os.Exit(1)
		}
	}
	if err := fakesheet.Write(f, *rows); err != nil {
		fmt.Fprintln(os.Stderr, "gencsv:", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "gencsv:", err)
		os.Exit(1)
	}
}
