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
	e, existing, second := importedBefore(t, "Name,Date of Birth\nKim Testask,1980-01-02\n", "Name,Phone\nKim Testask,555 0100\n")
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

// At a terminal, a row with another surname and a client's email and date
// of birth is asked about too, saying why; "update" merges it.
func TestTerminalImportAsksAboutSurnameChanged(t *testing.T) {
	e, existing, second := importedBefore(t, "Name,Date of Birth,Email\nAnn Testmaiden,1988-06-14,ann@example.test\n",
		"Name,Date of Birth,Email,Phone\nAnn Testmarried,1988-06-14,ann@example.test,555 0142\n")
	c := e.start("import", second, "--accessible")
	c.expect("Row 2 is likely record " + existing)
	c.expect("another surname, and the same email and date of birth")
	c.expect("another client")
	c.typeLine("3")
	c.expect("imported 0 records from 1 row (1 updated")
	if code := c.wait(); code != 0 {
		t.Fatalf("import: exit %d\n%s", code, tail(c.text()))
	}
	if strings.Contains(c.text(), "555 0142") || strings.Contains(c.text(), "Testmarried") {
		t.Error("the question showed client data")
	}
	if out := e.run("view", existing, "--json"); !strings.Contains(out, `"phone": "555 0142"`) {
		t.Errorf("not merged:\n%s", out)
	}
}

// importedBefore makes a vault, imports the CSV file first into it, and
// writes the CSV file second for the test to import: it returns the
// terminal, the ID of the one record first gives, and second's path.
func importedBefore(t *testing.T, first, second string) (e *ptyEnv, existing, path string) {
	t.Helper()
	e = newPtyEnv(t)
	key := filepath.Join(e.home, "owner.key")
	e.run("keygen", "-o", key)
	e.env = append(e.env, "CLIENTVAULT_IDENTITY="+key)
	e.run("init", "--recovery-out", filepath.Join(e.home, "recovery.txt"))
	firstPath, path := filepath.Join(e.home, "first.csv"), filepath.Join(e.home, "second.csv")
	for f, text := range map[string]string{firstPath: first, path: second} {
		if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.run("import", firstPath)
	return e, idRE.FindString(e.run("list")), path
}
