package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// checkGolden compares got with testdata/golden/name.golden, or rewrites it
// with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run 'go test -run %s -update' to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run with -update if the change is intended):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// allCommands returns every command under root, root included.
func allCommands(root *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{root}
	for _, c := range root.Commands() {
		out = append(out, allCommands(c)...)
	}
	return out
}

func TestHelpGolden(t *testing.T) {
	e := newTestEnv(t)
	a, _, _ := e.app("")
	root := newRootCmd(a)
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	defaultVault := defaultVaultPath(a)
	for _, c := range allCommands(root) {
		path := strings.Fields(c.CommandPath())[1:]
		if c.Hidden || (len(path) > 0 && path[0] == "completion") {
			// cobra's completion commands are cobra's text, not ours:
			// TestCompletionScripts checks that they work.
			continue
		}
		name := "help-" + strings.Join(append([]string{"clientvault"}, path...), "-")
		t.Run(name, func(t *testing.T) {
			out := e.mustRun("", append(path, "--help")...)
			// The default vault path depends on the machine.
			out = strings.ReplaceAll(out, defaultVault, "$DATA/clientvault/vault.db")
			checkGolden(t, name, out)
		})
	}
}

// Every command of clientvault's own (not cobra's help and completion) has a
// one-line summary and two or three realistic examples.
func TestHelpHasSummaryAndExamples(t *testing.T) {
	e := newTestEnv(t)
	a, _, _ := e.app("")
	for _, c := range allCommands(newRootCmd(a))[1:] {
		if c.Hidden {
			continue
		}
		if c.Short == "" || strings.Contains(c.Short, "\n") || strings.HasSuffix(c.Short, ".") {
			t.Errorf("%s: the summary %q is not one line without a full stop", c.CommandPath(), c.Short)
		}
		n := 0
		for _, line := range strings.Split(c.Example, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "clientvault ") || strings.Contains(line, "| clientvault ") {
				n++
			}
		}
		if n < 2 || n > 3 {
			t.Errorf("%s: %d examples, want 2 or 3", c.CommandPath(), n)
		}
	}
}

var idRE = regexp.MustCompile(`\b[0-9a-f]{16}\b`)

// normalizeIDs replaces each record ID by ID00000000000001 and so on in the
// order of ids: random IDs become stable, and columns keep their width.
func normalizeIDs(s string, ids []string) string {
	for i, id := range ids {
		s = strings.ReplaceAll(s, id, fmt.Sprintf("ID%014d", i+1))
	}
	return s
}

const goldenRecord = `{"name": "Jane Doe", "preferred_name": "Jay", "dob": "1990-04-02",
 "phone": "+1 555 0100", "email": "jane@example.com", "address": "1 Main St",
 "emergency_contact": "John Doe +1 555 0101",
 "skin_type": "III", "conditions": ["eczema"], "medications": ["isotretinoin"],
 "allergies": ["latex"], "contraindications": ["recent sun exposure"], "pregnant": false,
 "notes": "prefers afternoon appointments", "first_visit": "2015-06-01", "last_visit": "2025-12-01",
 "patch_tests": [{"date": "2026-01-10", "product": "lash tint", "area": "behind ear",
                  "result": "negative", "read_at": "2026-01-12"}]}
{"name": "Ann Lee", "dob": "2010-06-15", "skin_type": "V"}
`

// goldenVault is a vault with two records, one with a treatment; it returns
// the records' IDs in the order they were added.
func goldenVault(t *testing.T) (*testEnv, []string) {
	e := newTestEnv(t)
	e.keyAndInit()
	ids := strings.Fields(e.mustRun(goldenRecord, "add", "--from", "-"))
	if len(ids) != 2 {
		t.Fatalf("add printed %v", ids)
	}
	e.mustRun("", "note", ids[0], "--date", "2026-02-01", "--service", "laser hair removal",
		"--area", "underarm", "--products", "cooling gel", "--setting", "wavelength_nm=755",
		"--setting", "fluence_j_cm2=18", "--technician", "owner", "--outcome", "mild erythema",
		"--aftercare", "SPF 50", "--yes") // laser on isotretinoin: recorded with the warnings
	return e, ids
}

func TestJSONGolden(t *testing.T) {
	e, ids := goldenVault(t)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"json-view", []string{"view", ids[0], "--json"}},
		{"json-list", []string{"list", "--json"}},
		{"json-list-last-visit", []string{"list", "--sort", "last-visit", "--limit", "1", "--json"}},
		{"json-find", []string{"find", "doe", "--json"}},
		{"json-verify", []string{"verify", "--json"}},
		// Last: the views and lists above are in the log.
		{"json-audit", []string{"audit", "--json"}},
	} {
		out := normalizeIDs(e.mustRun("", c.args...), ids)
		if stray := idRE.FindAllString(out, -1); len(stray) > 0 {
			t.Errorf("%s: unknown IDs %v", c.name, stray)
		}
		if c.name == "json-audit" {
			out = sortAuditRecords(out)
		}
		checkGolden(t, c.name, out)
	}
}

func TestPlainOutputGolden(t *testing.T) {
	e, ids := goldenVault(t)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"plain-view", []string{"view", ids[0]}},
		{"plain-list", []string{"list"}},
		{"plain-find", []string{"find", "jane"}},
		{"plain-verify", []string{"verify"}},
	} {
		out := e.mustRun("", c.args...)
		if strings.Contains(out, "\x1b") {
			t.Errorf("%s: control sequences in output to a non-terminal", c.name)
		}
		checkGolden(t, c.name, normalizeIDs(out, ids))
	}
}

func TestCompletionScripts(t *testing.T) {
	e := newTestEnv(t)
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		out := e.mustRun("", "completion", shell)
		if !strings.Contains(out, "clientvault") || len(out) < 500 {
			t.Errorf("completion %s: %d bytes", shell, len(out))
		}
	}
}

// RECORD completes with record IDs, read without the identity (none exists
// here) and without a passphrase, and never with client names.
func TestCompletionOfRecordIDs(t *testing.T) {
	e, ids := goldenVault(t)
	e.env["CLIENTVAULT_IDENTITY"] = filepath.Join(t.TempDir(), "no-such-key")
	for _, cmd := range []string{"view", "note"} {
		out := e.mustRun("", "__complete", cmd, "")
		for _, id := range ids {
			if !strings.Contains(out, id+"\n") {
				t.Errorf("%s: %s not offered:\n%s", cmd, id, out)
			}
		}
		for _, name := range []string{"Jane", "Ann", "Lee", "Doe"} {
			if strings.Contains(out, name) {
				t.Errorf("%s: completion shows a client name:\n%s", cmd, out)
			}
		}
		if !strings.HasSuffix(out, ":4\n") { // ShellCompDirectiveNoFileComp
			t.Errorf("%s: directive: %q", cmd, out)
		}
	}
	out := e.mustRun("", "__complete", "view", ids[1][:6])
	if !strings.Contains(out, ids[1]) || (ids[0][:6] != ids[1][:6] && strings.Contains(out, ids[0])) {
		t.Errorf("prefix %s: %q", ids[1][:6], out)
	}
	// With no vault, there is nothing to complete and no error.
	e.env["CLIENTVAULT_VAULT"] = testVault(t.TempDir(), "none.db")
	if out := e.mustRun("", "__complete", "view", ""); out != ":4\n" {
		t.Errorf("no vault: %q", out)
	}
}

// On a terminal, view shows a card; its layout is pinned here without
// colours (the renderer of a buffer has none).
func TestViewCardGolden(t *testing.T) {
	e, ids := goldenVault(t)
	a, out, errOut := e.app("")
	a.StdoutTTY = true
	if code := Run([]string{"view", ids[0]}, a); code != 0 {
		t.Fatalf("view: exit %d\n%s", code, errOut)
	}
	got := out.String()
	if strings.Contains(got, "\x1b") {
		t.Error("colour sequences in a card written to a buffer")
	}
	for _, s := range []string{"Client", "Health", "Patch tests", "Treatments", "Jane Doe (Jay)", "Fitzpatrick III"} {
		if !strings.Contains(got, s) {
			t.Errorf("the card has no %q", s)
		}
	}
	checkGolden(t, "card-view", normalizeIDs(got, ids))
}

// sortAuditRecords sorts the "records" list of each audit event in place
// in the text: the log keeps a bulk add's IDs in ID order, and IDs are
// random.
func sortAuditRecords(out string) string {
	return auditRecordsRE.ReplaceAllStringFunc(out, func(list string) string {
		ids := normalIDRE.FindAllString(list, -1)
		slices.Sort(ids)
		n := 0
		return normalIDRE.ReplaceAllStringFunc(list, func(string) string { n++; return ids[n-1] })
	})
}

var (
	auditRecordsRE = regexp.MustCompile(`"records": \[[^\]]*\]`)
	normalIDRE     = regexp.MustCompile(`ID[0-9]{14}`)
)

// The passphrase is asked only by a command that must decrypt, and only
// once its arguments are known to be right.
func TestNoPassphraseUnlessDecrypting(t *testing.T) {
	e := newTestEnv(t)
	e.keyAndInit()
	// Now make the identity passphrase-protected: any unlock would ask.
	id, err := vault.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	protected := filepath.Join(t.TempDir(), "identity.age")
	if err := vault.WriteIdentity(protected, id, "a passphrase", 10); err != nil {
		t.Fatal(err)
	}
	e.env["CLIENTVAULT_IDENTITY"] = protected
	for _, args := range [][]string{
		{"version"}, {"--help"}, {"view", "--help"}, {"completion", "bash"},
		{"__complete", "view", ""},
		{"add", "--name", "Jane Doe", "--dob", "1990-13-01"}, // bad date: refused first
		{"add", "--from", "x.json", "--name", "Jane Doe"},    // both ways: refused first
		{"note", "7f3a9c2e", "--date", "2026-02-01"},         // no service: refused first
		{"view"},                   // no RECORD
		{"unlock", "--for", "13h"}, // too long
	} {
		asked := false
		a, _, _ := e.app("")
		a.ReadSecret = func(string) (string, error) { asked = true; return "", errCanceled }
		Run(args, a)
		if asked {
			t.Errorf("clientvault %s asked for the passphrase", strings.Join(args, " "))
		}
	}
	// The control: a command that decrypts does ask.
	asked := 0
	a, _, _ := e.app("")
	a.ReadSecret = func(string) (string, error) { asked++; return "", errCanceled }
	if code := Run([]string{"list"}, a); code != exitCanceled || asked != 1 {
		t.Errorf("list: exit %d, asked %d times; want a cancelled prompt asked once", code, asked)
	}
}

// Every command that takes a RECORD completes IDs; flags and arguments that
// name a coworker complete staff names; disclose --to (an outside
// recipient) completes nothing. None of it needs the identity.
func TestCompletionOfStaffNamesAndEveryRecordCommand(t *testing.T) {
	e, ids := goldenVault(t)
	staffKey := filepath.Join(t.TempDir(), "bea.key")
	e.mustRun("", "keygen", "-o", staffKey)
	b, _ := os.ReadFile(staffKey)
	pub := strings.TrimSpace(strings.TrimPrefix(strings.Split(string(b), "\n")[1], "# public key:"))
	e.mustRun("", "staff", "add", "Bea Lopez", pub)
	e.env["CLIENTVAULT_IDENTITY"] = filepath.Join(t.TempDir(), "no-such-key")
	for _, args := range [][]string{
		{"share", ""}, {"unshare", ""}, {"erase", ""}, {"hold", ""}, {"release", ""},
		{"export", ""}, {"disclose", ""}, {"consent", "list", ""}, {"consent", "add", ""},
	} {
		if out := e.mustRun("", append([]string{"__complete"}, args...)...); !strings.Contains(out, ids[0]+"\n") {
			t.Errorf("%v: record IDs not offered:\n%s", args, out)
		}
	}
	for _, args := range [][]string{
		{"share", ids[0], "--with", "B"}, {"unshare", ids[0], "--with", ""},
		{"staff", "remove", ""}, {"consent", "add", ids[0], "--to", ""},
	} {
		if out := e.mustRun("", append([]string{"__complete"}, args...)...); !strings.Contains(out, "Bea Lopez\n") {
			t.Errorf("%v: staff name not offered:\n%s", args, out)
		}
	}
	if out := e.mustRun("", "__complete", "disclose", ids[0], "--to", ""); strings.Contains(out, "Bea") {
		t.Errorf("disclose --to offers staff:\n%s", out)
	}
}
