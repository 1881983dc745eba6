package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clientvault/clientvault/vault"
)

// errorCase is one way a command fails: its arguments, what it reads on
// standard input, and the exit code it must end with.
type errorCase struct {
	args  []string
	stdin string
	code  int
}

// TestErrorsGolden runs every error of every command and pins the contract
// of each: exit code, one "clientvault: ..." line, a "hint: ..." line
// (ambiguous references list their candidates between the two), no client
// data, and the text itself in testdata/golden/errors.golden.
func TestErrorsGolden(t *testing.T) {
	e, ids := goldenVault(t)
	work := e.dir
	file := func(name, content string) string {
		p := filepath.Join(work, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stranger := filepath.Join(work, "stranger.key")
	e.mustRun("", "keygen", "-o", stranger)
	protected := filepath.Join(work, "identity.age")
	id, err := vault.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if err := vault.WriteIdentity(protected, id, "a passphrase", 10); err != nil {
		t.Fatal(err)
	}
	bea := filepath.Join(work, "bea.key")
	pub := strings.TrimPrefix(strings.TrimSpace(e.mustRun("", "keygen", "-o", bea)), "public key: ")
	trust := strings.Fields(e.mustRun("", "staff", "add", "Bea Lopez", pub))
	e.mustRun("", "trust", trust[len(trust)-1]) // as Bea does, once, on her computer
	// A second Ann Lee makes the name ambiguous.
	ids = append(ids, strings.TrimSpace(e.mustRun("", "add", "--name", "Ann Lee", "--dob", "2011-07-01")))
	garbage := file("garbage.key", "this is not a key\n")
	notVault := file("not-a-vault.db", "this is not a vault\n")
	existing := file("existing.txt", "")
	jane := ids[0]

	cases := []errorCase{
		// Cobra's own errors.
		{args: []string{"bogus"}, code: exitUsage},
		{args: []string{"viwe", jane}, code: exitUsage},
		{args: []string{"add", "--bogus"}, code: exitUsage},
		{args: []string{"staff", "bogus"}, code: exitUsage},
		{args: []string{"consent", "lsit", jane}, code: exitUsage},
		{args: []string{"view"}, code: exitUsage},
		{args: []string{"view", jane, "extra"}, code: exitUsage},

		// The vault and the identity.
		{args: []string{"list", "--vault", filepath.Join(work, "nowhere.db")}, code: exitNoVault},
		{args: []string{"list", "--vault", notVault}, code: exitCorrupt},
		{args: []string{"list", "--identity", work}, code: exitUsage},
		{args: []string{"list", "--identity", garbage}, code: exitUsage},
		{args: []string{"list", "--identity", filepath.Join(work, "missing.key")}, code: exitNotFound},
		{args: []string{"list", "--identity", stranger}, code: exitWrongKey},
		{args: []string{"list", "--identity", protected}, code: exitUsage},
		{args: []string{"init", "--recovery-out", filepath.Join(work, "r2")}, code: exitRefused},
		{args: []string{"init", "--vault", filepath.Join(work, "v2.db"), "--retain", "forever", "--recovery-out", filepath.Join(work, "r2")}, code: exitUsage},
		{args: []string{"restore", notVault}, code: exitCorrupt},

		// add
		{args: []string{"add"}, code: exitUsage},
		{args: []string{"add", "--from", "-", "--name", "Jane Doe"}, code: exitUsage},
		{args: []string{"add", "--name", "Jane Doe", "--email", "jane-at-example"}, code: exitUsage},
		{args: []string{"add", "--name", "Jane Doe", "--dob", "02/03/1990"}, code: exitUsage},
		{args: []string{"add", "--name", "Jane Doe", "--dob", "2026-02-30"}, code: exitUsage},
		{args: []string{"add", "--name", "Jane Doe", "--dob", "2027-01-01"}, code: exitUsage},
		{args: []string{"add", "--from", "-"}, stdin: `{"name": "Jane Doe", "nmae": "x"}`, code: exitUsage},
		{args: []string{"add", "--from", "-"}, stdin: `{"name": "Jane Doe"`, code: exitUsage},
		{args: []string{"add", "--from", "-"}, stdin: `{"name": "Jane Doe",}`, code: exitUsage},
		{args: []string{"add", "--from", "-"}, stdin: "{\"name\": \"Jane \xff Doe\"}", code: exitUsage},
		{args: []string{"add", "--from", "-"}, stdin: `[{"name": "Jane Doe"}]`, code: exitUsage},
		{args: []string{"add", "--from", "-"}, stdin: `{"name": "Jane Doe", "name": "Jane Roe"}`, code: exitUsage},
		{args: []string{"add", "--from", "-"}, stdin: "", code: exitUsage},
		{args: []string{"add", "--from", "-"}, stdin: `{"name": "Jane Doe", "dob": "1990-02-30"}`, code: exitUsage},
		{args: []string{"add", "--from", "-"}, stdin: `{"name": "Jane Doe", "dob": "2000-01-01", "treatments": [{"date": "1999-05-01", "service": "facial"}]}`, code: exitUsage},
		{args: []string{"add", "--from", work}, code: exitUsage},
		{args: []string{"add", "--from", filepath.Join(work, "missing.json")}, code: exitNotFound},

		// view and the ways to name a record
		{args: []string{"view", "Nobody Atall"}, code: exitNotFound},
		{args: []string{"view", "123"}, code: exitNotFound},
		{args: []string{"view", "Ann Lee"}, code: exitAmbiguous},

		// edit
		{args: []string{"edit", jane}, code: exitUsage},
		{args: []string{"edit", jane, "--from", "-", "--phone", "1"}, code: exitUsage},
		{args: []string{"edit", jane, "--from", "-"}, stdin: `{"phnoe": "+1 555 0100"}`, code: exitUsage},
		{args: []string{"edit", jane, "--from", "-"}, stdin: `{"treatments": []}`, code: exitUsage},
		{args: []string{"edit", jane, "--email", "jane-at-example"}, code: exitUsage},
		{args: []string{"edit", jane, "--dob", "2026-02-30"}, code: exitUsage},
		{args: []string{"edit", jane, "--dob", "2026-02-15"}, code: exitUsage},
		{args: []string{"edit", "Nobody Atall", "--phone", "+1 555 0100"}, code: exitNotFound},

		// note
		{args: []string{"note", jane}, code: exitUsage},
		{args: []string{"note", jane, "--service", "facial", "--date", "2026-02-30"}, code: exitUsage},
		{args: []string{"note", jane, "--service", "facial", "--setting", "fluence"}, code: exitUsage},
		{args: []string{"note", jane, "--service", "facial", "--date", "1980-01-01"}, code: exitUsage},
		{args: []string{"note", jane, "--service", "facial", "--amends", "9"}, code: exitUsage},
		{args: []string{"note", jane, "--service", "laser hair removal"}, code: exitRefused},
		{args: []string{"note", "Nobody Atall", "--service", "facial"}, code: exitNotFound},
		{args: []string{"note", jane, "--from", "-"}, stdin: `{"service": "facial", "servcie": "x"}`, code: exitUsage},

		// staff
		{args: []string{"staff", "add", "Cal Ng", "not-a-key"}, code: exitUsage},
		{args: []string{"staff", "add", "Bea Lopez", pub}, code: exitRefused},
		{args: []string{"staff", "add", "bea lopez", pub}, code: exitRefused},
		{args: []string{"staff", "remove", "Nobody"}, code: exitNotFound},

		// consent, share, unshare
		{args: []string{"consent", "add", jane}, code: exitUsage},
		{args: []string{"consent", "add", jane, "--to", "Nobody"}, code: exitNotFound},
		{args: []string{"consent", "revoke", "0000000000000000"}, code: exitNotFound},
		{args: []string{"share", jane}, code: exitUsage},
		{args: []string{"share", jane, "--with", "Nobody"}, code: exitNotFound},
		{args: []string{"share", jane, "--with", "Bea Lopez", "--yes"}, code: exitNoConsent},
		{args: []string{"unshare", jane}, code: exitUsage},
		{args: []string{"consent", "list", "Nobody Atall"}, code: exitNotFound},
		{args: []string{"disclose", "list", "Nobody Atall"}, code: exitNotFound},
		{args: []string{"view", jane, "--identity", bea}, code: exitWrongKey},

		// disclose and export
		{args: []string{"disclose", jane, "--to", "Court", "--basis", "subpoena"}, code: exitUsage},
		{args: []string{"export", jane, "--out", filepath.Join(work, "export.age")}, code: exitUsage},
		{args: []string{"export", jane, "--out", existing}, code: exitRefused},

		// retention, holds, erasure
		{args: []string{"retention", "set"}, code: exitUsage},
		{args: []string{"retention", "set", "--years", "seven"}, code: exitUsage},
		{args: []string{"hold", jane}, code: exitUsage},
		{args: []string{"hold", jane, "--reason", "claim", "--review", "2026-02-30"}, code: exitUsage},
		{args: []string{"release", jane}, code: exitNotFound},
		{args: []string{"erase", jane}, code: exitRefused},
		{args: []string{"erase", jane, "--force"}, code: exitUsage},
		{args: []string{"erase", jane, "--reason", "client asked", "--yes"}, code: exitRefused},

		// files
		{args: []string{"keygen"}, code: exitUsage},
		{args: []string{"keygen", "-o", stranger}, code: exitRefused},
		{args: []string{"backup", existing}, code: exitRefused},
		{args: []string{"backup", filepath.Join(work, "no-such-folder", "v.db")}, code: exitNotFound},
		{args: []string{"keygen", "-o", filepath.Join(work, "no-such-folder", "k.key")}, code: exitNotFound},
		{args: []string{"keygen", "-y", garbage}, code: exitUsage},
		{args: []string{"restore", filepath.Join(work, "missing.db")}, code: exitNotFound},
		{args: []string{"import", filepath.Join(work, "missing.csv")}, code: exitNotFound},
		{args: []string{"import", file("bad.csv", "Name,Phone\n\"Jane Doe,1\n")}, code: exitUsage},
		{args: []string{"share", jane, "--with", "Bea Lopez", "--out", existing}, code: exitRefused},
		{args: []string{"disclose", jane, "--to", "Court", "--basis", "subpoena", "--reference", "S-1"}, code: exitUsage},

		// keys and the agent
		{args: []string{"unlock", "--for", "13h"}, code: exitUsage},
		{args: []string{"unlock"}, code: exitUsage},
		{args: []string{"passwd"}, code: exitUsage},
		{args: []string{"passwd", "--identity", filepath.Join(work, "missing.key")}, code: exitNotFound},
		{args: []string{"passwd", "--identity", protected}, code: exitUsage},
		{args: []string{"keygen", "-y", protected}, code: exitUsage},
		{args: []string{"rekey"}, code: exitUsage},
		{args: []string{"audit", "--record", "Nobody Atall"}, code: exitNotFound},
	}

	var golden strings.Builder
	for _, c := range cases {
		a, _, errOut := e.app(c.stdin)
		a.ReadSecret = func(string) (string, error) { return "", errNoTerminal }
		code := Run(c.args, a)
		got := errOut.String()
		shown := strings.ReplaceAll(strings.ReplaceAll(strings.Join(c.args, " "), work, "$WORK"), pub, "$BEA_PUBLIC_KEY")
		if code != c.code {
			t.Errorf("clientvault %s: exit %d, want %d\n%s", shown, code, c.code, got)
		}
		checkErrorShape(t, shown, got)
		for _, s := range []string{"Jane", "Doe", "Ann", "Lee", "Roe", "jane-at-example", "02/03/1990"} {
			if strings.Contains(got, s) {
				t.Errorf("clientvault %s: client data %q in the error:\n%s", shown, s, got)
			}
		}
		// On etcd, the vault is named by a URL (testVault).
		got = strings.ReplaceAll(got, e.env["CLIENTVAULT_VAULT"], filepath.Join(work, "vault.db"))
		got = normalizeIDs(strings.ReplaceAll(got, work, "$WORK"), ids)
		got = idRE.ReplaceAllString(got, "ID(other)")
		got = sortCandidates(got)
		got = tempRE.ReplaceAllString(got, ".clientvault-restore-TEMP.db")
		fmt.Fprintf(&golden, "$ clientvault %s\n[exit %d]\n%s\n", normalizeIDs(shown, ids), code, got)
	}
	checkGolden(t, "errors", golden.String())
}

var tempRE = regexp.MustCompile(`\.clientvault-restore-[0-9]+\.db`)

// checkErrorShape checks that stderr is one "clientvault: " line and one
// "hint: " line, with only an ambiguous reference's candidates between.
func checkErrorShape(t *testing.T, cmd, stderr string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "clientvault: ") || !strings.HasPrefix(lines[len(lines)-1], "hint: ") {
		t.Errorf("clientvault %s: not an error line and a hint line:\n%s", cmd, stderr)
		return
	}
	for _, l := range lines[1 : len(lines)-1] {
		if !strings.HasPrefix(l, "  ") {
			t.Errorf("clientvault %s: stray line %q", cmd, l)
		}
	}
}

// sortCandidates sorts the candidate lines of an ambiguous reference: the
// vault lists them in ID order, and IDs are random.
func sortCandidates(stderr string) string {
	lines := strings.Split(stderr, "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "  ") })
	if i < 0 {
		return stderr
	}
	j := i
	for j < len(lines) && strings.HasPrefix(lines[j], "  ") {
		j++
	}
	slices.Sort(lines[i:j])
	return strings.Join(lines, "\n")
}
