package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testApp is an App for a person at a terminal in a fresh HOME, whose
// passphrase answers are scripted.
type testApp struct {
	*App
	home    string
	out, er *bytes.Buffer
	answers []string
	asked   int
	env     map[string]string
}

func newTestApp(t *testing.T, answers ...string) *testApp {
	t.Helper()
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	ta := &testApp{home: home, out: &bytes.Buffer{}, er: &bytes.Buffer{}, answers: answers, env: env}
	ta.App = &App{
		In: strings.NewReader(""), Out: ta.out, Err: ta.er,
		StdinTTY: true, StdoutTTY: true,
		Getenv:     func(k string) string { return env[k] },
		Now:        func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) },
		WorkFactor: 10,
	}
	ta.ReadSecret = func(string) (string, error) {
		if ta.asked >= len(ta.answers) {
			t.Fatalf("asked for a passphrase %d times; only %d answers", ta.asked+1, len(ta.answers))
		}
		ta.asked++
		return ta.answers[ta.asked-1], nil
	}
	return ta
}

func (ta *testApp) run(args ...string) int {
	ta.out.Reset()
	ta.er.Reset()
	// Flags are per invocation, as in a new process.
	ta.vaultPath, ta.identityPath, ta.jsonOut, ta.ids = "", "", false, nil
	return Run(args, ta.App)
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestFirstAddCreatesPrivateVaultAndIdentity(t *testing.T) {
	ta := newTestApp(t, "a long passphrase", "a long passphrase")
	if code := ta.run("add", "--name", "Jane Doe", "--dob", "1990-04-02"); code != 0 {
		t.Fatalf("add exited %d: %s", code, ta.er)
	}
	if ta.asked != 2 {
		t.Errorf("asked for the passphrase %d times, want 2 (new, again)", ta.asked)
	}
	vaultPath := filepath.Join(ta.home, ".local", "share", "clientvault", "vault.db")
	idPath := filepath.Join(ta.home, ".config", "clientvault", "identity.age")
	for path, want := range map[string]os.FileMode{
		vaultPath: 0o600, filepath.Dir(vaultPath): 0o700,
		idPath: 0o600, filepath.Dir(idPath): 0o700,
	} {
		if got := mode(t, path); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
	if n := strings.Count(ta.out.String(), "AGE-SECRET-KEY-1"); n != 1 {
		t.Errorf("recovery key shown %d times, want once", n)
	}
	id, _ := os.ReadFile(idPath)
	if bytes.Contains(id, []byte("AGE-SECRET-KEY")) || !bytes.HasPrefix(id, []byte("age-encryption.org/v1")) {
		t.Error("identity file is not passphrase-protected")
	}

	// A later command asks once, and a wrong passphrase is asked again.
	ta.answers, ta.asked = []string{"wrong", "a long passphrase"}, 0
	if code := ta.run("view", "Jane Doe"); code != 0 || !strings.Contains(ta.out.String(), "Jane Doe") {
		t.Fatalf("view exited %d: %s", code, ta.er)
	}
	if ta.asked != 2 || !strings.Contains(ta.er.String(), "wrong passphrase, try again") {
		t.Errorf("asked %d times; stderr %q", ta.asked, ta.er)
	}
	ta.answers, ta.asked = []string{"x", "y", "z"}, 0
	if code := ta.run("list"); code != exitWrongPassphrase {
		t.Errorf("three wrong passphrases: exit %d, want %d", code, exitWrongPassphrase)
	}
	if strings.Contains(ta.er.String(), "Jane") {
		t.Errorf("error output carries client data: %q", ta.er)
	}

	// init again never overwrites.
	before, _ := os.ReadFile(vaultPath)
	ta.answers, ta.asked = nil, 0
	if code := ta.run("init"); code != exitRefused {
		t.Errorf("second init exited %d, want %d", code, exitRefused)
	}
	after, _ := os.ReadFile(vaultPath)
	if !bytes.Equal(before, after) {
		t.Error("second init changed the vault")
	}
}

func TestRekeyReplacesTheIdentity(t *testing.T) {
	ta := newTestApp(t, "first passphrase", "first passphrase")
	if code := ta.run("add", "--name", "Jane Doe"); code != 0 {
		t.Fatalf("add: %s", ta.er)
	}
	idPath := filepath.Join(ta.home, ".config", "clientvault", "identity.age")
	oldID := filepath.Join(ta.home, "old-identity.age")
	b, _ := os.ReadFile(idPath)
	os.WriteFile(oldID, b, 0o600)

	ta.answers, ta.asked = []string{"first passphrase", "second passphrase", "second passphrase"}, 0
	if code := ta.run("rekey"); code != 0 {
		t.Fatalf("rekey exited %d: %s", code, ta.er)
	}
	ta.answers, ta.asked = []string{"first passphrase"}, 0
	if code := ta.run("list", "--identity", oldID); code != exitWrongKey {
		t.Errorf("old identity after rekey: exit %d, want %d (%s)", code, exitWrongKey, ta.er)
	}
	ta.answers, ta.asked = []string{"second passphrase"}, 0
	if code := ta.run("list"); code != 0 || !strings.Contains(ta.out.String(), "Jane Doe") {
		t.Errorf("new identity: exit %d: %s", code, ta.er)
	}
	if _, err := os.Stat(idPath + ".new"); !os.IsNotExist(err) {
		t.Error("the staged identity was left behind")
	}
}

func TestScriptsGetFlagsNotPrompts(t *testing.T) {
	ta := newTestApp(t)
	ta.StdinTTY, ta.StdoutTTY, ta.ReadSecret = false, false, nil
	if code := ta.run("add"); code != exitUsage || !strings.Contains(ta.er.String(), "use flags such as --name") {
		t.Errorf("add with no data off a terminal: exit %d, %q", code, ta.er)
	}
	if code := ta.run("init", "--recovery-out", filepath.Join(ta.home, "r.key")); code != exitUsage ||
		!strings.Contains(ta.er.String(), "keygen") {
		t.Errorf("init off a terminal without --identity: exit %d, %q", code, ta.er)
	}
}

// Destroying, sharing or disclosing asks first on a terminal; No keeps
// everything as it was.
func TestDestructiveStepsAskFirst(t *testing.T) {
	ta := newTestApp(t)
	ta.env["ACCESSIBLE"] = "1" // forms read plain lines, as for a screen reader
	key := filepath.Join(ta.home, "owner.key")
	for _, args := range [][]string{
		{"keygen", "-o", key},
		{"init", "--identity", key, "--recovery-out", filepath.Join(ta.home, "rec.key")},
		{"add", "--identity", key, "--name", "Jane Doe"},
	} {
		if code := ta.run(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, ta.er)
		}
	}
	id := strings.TrimSpace(ta.out.String())
	ta.In = &lineReader{[]string{"n"}}
	if code := ta.run("erase", id, "--identity", key, "--reason", "asked", "--force"); code != exitCanceled {
		t.Fatalf("erase answered No: exit %d: %s", code, ta.er)
	}
	if code := ta.run("view", id, "--identity", key); code != 0 {
		t.Fatalf("the record is gone after No: %s", ta.er)
	}
	ta.In = &lineReader{[]string{"y"}}
	if code := ta.run("erase", id, "--identity", key, "--reason", "asked", "--force"); code != 0 {
		t.Fatalf("erase answered Yes: exit %d: %s", code, ta.er)
	}
	if code := ta.run("view", id, "--identity", key); code != exitNotFound {
		t.Errorf("view after erase: exit %d", code)
	}
}

// On a terminal, share without a consent offers the consent form, records
// the consent, then shares: the coworker's key then opens their copy.
func TestShareOffersTheConsentForm(t *testing.T) {
	ta := newTestApp(t)
	ta.env["ACCESSIBLE"] = "1" // forms read plain lines, as for a screen reader
	key := filepath.Join(ta.home, "owner.key")
	bea := filepath.Join(ta.home, "bea.key")
	for _, args := range [][]string{
		{"keygen", "-o", key}, {"keygen", "-o", bea},
		{"init", "--identity", key, "--recovery-out", filepath.Join(ta.home, "rec.key")},
		{"add", "--identity", key, "--name", "Jane Doe", "--allergy", "latex"},
	} {
		if code := ta.run(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, ta.er)
		}
	}
	b, _ := os.ReadFile(bea)
	pub := strings.TrimSpace(strings.TrimPrefix(strings.Split(string(b), "\n")[1], "# public key:"))
	if code := ta.run("staff", "add", "Bea", pub, "--identity", key); code != 0 {
		t.Fatalf("staff add: %s", ta.er)
	}
	trust := strings.Fields(ta.out.String())
	if code := ta.run("trust", trust[len(trust)-1]); code != 0 {
		t.Fatalf("trust: %s", ta.er)
	}
	ta.In = &lineReader{[]string{
		"y",      // share Jane Doe with Bea?
		"Bea",    // the coworker
		"1",      // given by the client
		"1", "0", // scope: full, done
		"covering Tuesdays",   // purpose
		"1",                   // written
		"",                    // no witness
		"form C-12", "Olivia", // evidence, obtained by
		"", // no expiry
	}}
	if code := ta.run("share", "Jane Doe", "--with", "Bea", "--identity", key); code != 0 {
		t.Fatalf("share with the consent form: exit %d\n%s\n%s", code, ta.out, ta.er)
	}
	if !strings.Contains(ta.er.String(), "no active consent") || !strings.Contains(ta.out.String(), "shared record") {
		t.Errorf("stdout %q\nstderr %q", ta.out, ta.er)
	}
	ta.In = strings.NewReader("")
	if code := ta.run("view", "Jane Doe", "--identity", bea); code != 0 || !strings.Contains(ta.out.String(), "latex") {
		t.Errorf("the coworker's view: exit %d: %s %s", code, ta.out, ta.er)
	}
	if code := ta.run("consent", "list", "Jane Doe", "--identity", key); code != 0 || !strings.Contains(ta.out.String(), "Bea") {
		t.Errorf("consent list: %s", ta.out)
	}
}
