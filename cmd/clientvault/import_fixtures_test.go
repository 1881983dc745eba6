package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// vendorDir holds files in the layouts that booking systems export, and
// workbooks written by openpyxl and LibreOffice, made by its
// make-fixtures.sh with invented clients; each FILE has a FILE.want.json.
const vendorDir = "../../records/sheet/testdata/vendors"

// wantFile is a fixture's FILE.want.json: the flags to import it with (at
// most one), the columns the import lists as ignored, and each client as
// `view --json` must show it, every field the file gave and no other.
type wantFile struct {
	Flags   []string            `json:"flags"`
	Ignored []string            `json:"ignored"`
	Clients []map[string]string `json:"clients"`
	// Stderr lists what the import must say about the file's layout.
	Stderr []string `json:"stderr"`
}

// Every column of each fixture arrives in the vault: imported with at most
// one flag, each client's record holds exactly the data the file had, in
// the field or the labelled line of the notes where it belongs.
func TestImportVendorFiles(t *testing.T) {
	wants, err := filepath.Glob(filepath.Join(vendorDir, "*.want.json"))
	if err != nil || len(wants) < 9 {
		t.Fatalf("fixtures: %v, %v", wants, err)
	}
	for _, wf := range wants {
		file := strings.TrimSuffix(wf, ".want.json")
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(wf)
			if err != nil {
				t.Fatal(err)
			}
			var want wantFile
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if len(want.Flags) > 1 {
				t.Fatalf("%d flags: at most one is allowed", len(want.Flags))
			}
			e := newTestEnv(t)
			e.keyAndInit()
			args := append([]string{"import", file}, want.Flags...)
			out, errOut, code := e.run("", args...)
			if code != 0 {
				t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
			}
			var ignored []string
			for _, m := range regexp.MustCompile(`ignoring column "([^"]*)"`).FindAllStringSubmatch(errOut, -1) {
				ignored = append(ignored, m[1])
			}
			if !slices.Equal(ignored, want.Ignored) {
				t.Errorf("ignored %q, want %q", ignored, want.Ignored)
			}
			for _, s := range want.Stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr does not say %q:\n%s", s, errOut)
				}
			}
			if strings.Contains(errOut, "left out") {
				t.Errorf("cells left out:\n%s", errOut)
			}
			for _, c := range want.Clients {
				out, errOut, code := e.run("", "view", c["name"], "--json")
				if code != 0 {
					t.Errorf("view %s: exit %d: %s", c["name"], code, errOut)
					continue
				}
				var got map[string]any
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{"id", "created", "retain_until", "holds"} {
					delete(got, k)
				}
				for k, v := range c {
					if g, _ := got[k].(string); g != v {
						t.Errorf("%s: %s = %q, want %q", c["name"], k, got[k], v)
					}
				}
				for k := range got {
					if _, ok := c[k]; !ok {
						t.Errorf("%s: %s = %v, which the file did not give", c["name"], k, got[k])
					}
				}
			}
		})
	}
}
