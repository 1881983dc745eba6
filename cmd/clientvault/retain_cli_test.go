package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clientvault/clientvault/vault"
)

// retainCLI runs clientvault commands against one vault with a plain key
// file, a fixed clock and no terminal.
type retainCLI struct {
	t                *testing.T
	dir, vault, keyf string
	now              time.Time
}

func newRetainCLI(t *testing.T) *retainCLI {
	t.Helper()
	e := &retainCLI{t: t, dir: t.TempDir(), now: time.Date(2015, 3, 1, 10, 0, 0, 0, time.UTC)}
	e.vault = filepath.Join(e.dir, "vault.db")
	e.keyf = filepath.Join(e.dir, "key.txt")
	id, err := vault.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.keyf, vault.IdentityFileContents(id), 0o600); err != nil {
		t.Fatal(err)
	}
	e.ok("", "init", "--retain", "3y", "--recovery-out", filepath.Join(e.dir, "recovery.txt"))
	return e
}

func (e *retainCLI) run(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	a := &App{
		In: strings.NewReader(stdin), Out: &out, Err: &errb,
		Getenv: func(string) string { return "" }, Now: func() time.Time { return e.now }, WorkFactor: 10,
	}
	code := Run(append([]string{"--vault", e.vault, "--identity", e.keyf}, args...), a)
	return code, out.String(), errb.String()
}

func (e *retainCLI) ok(stdin string, args ...string) string {
	e.t.Helper()
	code, out, errs := e.run(stdin, args...)
	if code != 0 {
		e.t.Fatalf("clientvault %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func (e *retainCLI) fails(want int, args ...string) string {
	e.t.Helper()
	code, out, errs := e.run("", args...)
	if code != want {
		e.t.Fatalf("clientvault %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errs)
	}
	return errs
}

func (e *retainCLI) idOf(name string) string {
	e.t.Helper()
	var list []vault.Summary
	if err := json.Unmarshal([]byte(e.ok("", "list", "--json")), &list); err != nil {
		e.t.Fatal(err)
	}
	for _, s := range list {
		if s.Name == name {
			return s.ID
		}
	}
	e.t.Fatalf("no record %q", name)
	return ""
}

func TestCLIHoldExpireErase(t *testing.T) {
	e := newRetainCLI(t)
	e.ok(`{"name": "Old Client", "dob": "1980-01-01", "treatments": [{"date": "2010-01-10", "service": "peel"}]}
{"name": "Recent Client", "treatments": [{"date": "2015-02-01", "service": "peel"}]}
`, "add", "--from", "-")
	old, recent := e.idOf("Old Client"), e.idOf("Recent Client")

	var st vault.RetentionReport
	json.Unmarshal([]byte(e.ok("", "retention", "show", "--json")), &st)
	if st.Policy.Years != 3 || st.Records != 2 || st.Due != 1 {
		t.Fatalf("retention show: %+v", st)
	}

	e.fails(exitNotFound, "hold", "0123456789abcdef", "--reason", "claim")
	e.fails(exitUsage, "hold", old)
	e.ok("", "hold", old, "--reason", "claim 2015-7", "--review", "2016-01-01")
	if out := e.ok("", "hold", "list"); !strings.Contains(out, old) || !strings.Contains(out, "claim 2015-7") {
		t.Fatalf("hold list:\n%s", out)
	}
	var rep vault.ExpireReport
	json.Unmarshal([]byte(e.ok("", "expire", "--json")), &rep)
	if len(rep.Expired) != 0 || len(rep.Held) != 1 {
		t.Fatalf("expire with a hold: %+v", rep)
	}
	if errs := e.fails(exitRefused, "erase", old, "--reason", "asked", "--force"); !strings.Contains(errs, "legal hold") || !strings.Contains(errs, "release") {
		t.Fatalf("erase of a held record:\n%s", errs)
	}
	// Released, it is due at once: a script says so with --yes.
	if errs := e.fails(exitUsage, "release", old); !strings.Contains(errs, "1 record would become due") {
		t.Fatalf("release of a record past retention:\n%s", errs)
	}
	e.ok("", "release", old, "--yes")
	if out := e.ok("", "expire", "--dry-run"); !strings.Contains(out, "would destroy "+old) {
		t.Fatalf("dry run:\n%s", out)
	}
	if out := e.ok("", "expire"); !strings.Contains(out, "destroyed "+old) || strings.Contains(out, recent) {
		t.Fatalf("expire:\n%s", out)
	}
	e.fails(exitNotFound, "view", old)

	errs := e.fails(exitRefused, "erase", recent, "--reason", "asked")
	if !strings.Contains(errs, "must be kept until 2018-02-28") || !strings.Contains(errs, "--force") {
		t.Fatalf("erase before retention ended:\n%s", errs)
	}
	// Retention is checked before the reason is asked for.
	e.fails(exitRefused, "erase", recent)
	e.fails(exitUsage, "erase", recent, "--force")
	if out := e.ok("", "erase", recent, "--reason", "asked by phone", "--force"); !strings.Contains(out, "erased before") {
		t.Fatalf("erase --force:\n%s", out)
	}
	e.ok("", "verify")
	e.ok("", "audit", "--verify")
	audit := e.ok("", "audit")
	if !strings.Contains(audit, "expire") || !strings.Contains(audit, "erase") || strings.Contains(audit, "asked by phone") {
		t.Fatalf("audit:\n%s", audit)
	}
	if out := e.ok("", "expire"); !strings.Contains(out, "0 of 0 records destroyed") {
		t.Fatalf("expire on an empty vault:\n%s", out)
	}
}

func TestCLIRetentionSet(t *testing.T) {
	e := newRetainCLI(t)
	e.ok(`{"name": "Jane Doe", "treatments": [{"date": "2013-01-10", "service": "peel"}]}`, "add", "--from", "-")
	e.fails(exitUsage, "retention", "set")
	e.fails(exitUsage, "retention", "set", "--years", "0")
	e.fails(exitUsage, "retention", "set", "--years", "7", "--minor-age", "30", "--minor-until-age", "20")
	// Shorter, it makes the record due: a script says so with --yes.
	if errs := e.fails(exitUsage, "retention", "set", "--years", "1"); !strings.Contains(errs, "1 record would become due") {
		t.Fatalf("retention set shorter:\n%s", errs)
	}
	out := e.ok("", "retention", "set", "--years", "1", "--yes")
	if !strings.Contains(out, "1 with a new date") || !strings.Contains(out, "due for expiry:   1") {
		t.Fatalf("retention set:\n%s", out)
	}
	var s vault.Stored
	json.Unmarshal([]byte(e.ok("", "view", "Jane Doe", "--json")), &s)
	if s.RetainUntil.String() != "2014-01-31" {
		t.Fatalf("retain_until %s", s.RetainUntil)
	}
}

func TestCLIBackupRestore(t *testing.T) {
	e := newRetainCLI(t)
	e.ok(`{"name": "Jane Doe", "treatments": [{"date": "2015-01-10", "service": "peel"}]}`, "add", "--from", "-")
	b := filepath.Join(e.dir, "backup.db")
	e.ok("", "backup", b)
	if errs := e.fails(exitRefused, "backup", b); !strings.Contains(errs, "--force") {
		t.Fatalf("backup over a file:\n%s", errs)
	}
	notVault := filepath.Join(e.dir, "notes.txt")
	os.WriteFile(notVault, []byte("hello\n"), 0o600)
	e.fails(exitCorrupt, "restore", notVault)
	id := e.idOf("Jane Doe")
	e.ok("", "erase", id, "--reason", "asked", "--force")
	e.fails(exitRefused, "restore", b)
	out := e.ok("", "restore", b, "--force")
	if !strings.Contains(out, "re-applied 1") || !strings.Contains(out, id) {
		t.Fatalf("restore --force:\n%s", out)
	}
	e.fails(exitNotFound, "view", id)
	e.ok("", "verify")
}
