//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// At a terminal, a row that is likely a client already in the vault (the
// same name, no date of birth to compare) is asked about, by row and
// record ID; answering "another client" imports it as a new record.
func TestTerminalImportAsksAboutLikelyDuplicate(t *testing.T) {
	e := newPtyEnv(t)
	key := filepath.Join(e.home, "owner.key")
	e.run("keygen", "-o", key)
	e.env = append(e.env, "CLIENTVAULT_IDENTITY="+key)
	e.run("init", "--recovery-out", filepath.Join(e.home, "recovery.txt"))
	first := filepath.Join(e.home, "first.csv")
	second := filepath.Join(e.home, "second.csv")
	if err := os.WriteFile(first, []byte("Name,Date of Birth\nKim Testask,1980-01-02\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(second, []byte("Name,Phone\nKim Testask,555 0100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.run("import", first)
	existing := idRE.FindString(e.run("list"))

	c := e.start("import", second, "--accessible")
	c.expect("Row 2 is likely record " + existing)
	c.expect("another client")
	c.typeLine("4")
	c.expect("imported 1 record from 1 row")
	if code := c.wait(); code != 0 {
		t.Fatalf("import: exit %d\n%s", code, tail(c.text()))
	}
	if strings.Contains(c.text(), "555 0100") {
		t.Error("the question showed client data")
	}
	if n := strings.Count(e.run("list"), "Kim Testask"); n != 2 {
		t.Errorf("%d records of the name, want 2", n)
	}
}
