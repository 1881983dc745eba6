package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestFirstAddCreatesPrivateVaultAndIdentity(t *testing.T) {
	e := newPersonEnv(t, "a long passphrase", "a long passphrase")
	out, errs, code := e.firstAdd("--name", "Jane Doe", "--dob", "1990-04-02")
	if code != 0 {
		t.Fatalf("add exited %d: %s", code, errs)
	}
	if e.asked != 2 {
		t.Errorf("asked for the passphrase %d times, want 2 (new, again)", e.asked)
	}
	vaultPath := filepath.Join(e.dir, ".local", "share", "clientvault", "vault.db")
	idPath := filepath.Join(e.dir, ".config", "clientvault", "identity.age")
	modes := map[string]os.FileMode{idPath: 0o600, filepath.Dir(idPath): 0o700}
	if onEtcd() {
		vaultPath = testVault(filepath.Join(e.dir, ".config"), "vault.db") // the config file's
	} else {
		modes[vaultPath], modes[filepath.Dir(vaultPath)] = 0o600, 0o700
	}
	for path, want := range modes {
		if got := mode(t, path); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
	if n := strings.Count(out, "AGE-SECRET-KEY-1"); n != 1 {
		t.Errorf("recovery key shown %d times, want once", n)
	}
	id, _ := os.ReadFile(idPath)
	if bytes.Contains(id, []byte("AGE-SECRET-KEY")) || !bytes.HasPrefix(id, []byte("age-encryption.org/v1")) {
		t.Error("identity file is not passphrase-protected")
	}

	// A later command asks once, and a wrong passphrase is asked again.
	e.answer("wrong", "a long passphrase")
	if out, errs, code := e.run("", "view", "Jane Doe"); code != 0 || !strings.Contains(out, "Jane Doe") {
		t.Fatalf("view exited %d: %s", code, errs)
	} else if e.asked != 2 || !strings.Contains(errs, "wrong passphrase, try again") {
		t.Errorf("asked %d times; stderr %q", e.asked, errs)
	}
	e.answer("x", "y", "z")
	if _, errs, code := e.run("", "list"); code != exitWrongPassphrase {
		t.Errorf("three wrong passphrases: exit %d, want %d", code, exitWrongPassphrase)
	} else if strings.Contains(errs, "Jane") {
		t.Errorf("error output carries client data: %q", errs)
	}

	// init again never overwrites.
	before := storedVault(t, vaultPath)
	e.answer()
	if _, _, code := e.run("", "init"); code != exitRefused {
		t.Errorf("second init exited %d, want %d", code, exitRefused)
	}
	after := storedVault(t, vaultPath)
	if !bytes.Equal(before, after) {
		t.Error("second init changed the vault")
	}
}

func TestRekeyReplacesTheIdentity(t *testing.T) {
	e := newPersonEnv(t, "first passphrase", "first passphrase")
	if _, errs, code := e.firstAdd("--name", "Jane Doe"); code != 0 {
		t.Fatalf("first add: exit %d: %s", code, errs)
	}
	idPath := filepath.Join(e.dir, ".config", "clientvault", "identity.age")
	oldID := filepath.Join(e.dir, "old-identity.age")
	b, _ := os.ReadFile(idPath)
	os.WriteFile(oldID, b, 0o600)

	e.answer("first passphrase", "second passphrase", "second passphrase")
	e.mustRun("", "rekey")
	e.answer("first passphrase")
	if _, errs, code := e.run("", "list", "--identity", oldID); code != exitWrongKey {
		t.Errorf("old identity after rekey: exit %d, want %d (%s)", code, exitWrongKey, errs)
	}
	e.answer("second passphrase")
	if out, errs, code := e.run("", "list"); code != 0 || !strings.Contains(out, "Jane Doe") {
		t.Errorf("new identity: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(idPath + ".new"); !os.IsNotExist(err) {
		t.Error("the staged identity was left behind")
	}
}

func TestScriptsGetFlagsNotPrompts(t *testing.T) {
	e := newPersonEnv(t)
	e.terminal = false
	if _, errs, code := e.run("", "add"); code != exitUsage || !strings.Contains(errs, "use flags such as --name") {
		t.Errorf("add with no data off a terminal: exit %d, %q", code, errs)
	}
	if _, errs, code := e.run("", "init", "--recovery-out", filepath.Join(e.dir, "r.key")); code != exitUsage ||
		!strings.Contains(errs, "keygen") {
		t.Errorf("init off a terminal without --identity: exit %d, %q", code, errs)
	}
}

// ownerAtTerminal is a person's machine with a vault owned by a plain key
// (returned) that holds Jane Doe, whose forms read plain lines, as for a
// screen reader.
func ownerAtTerminal(t *testing.T, args ...string) (e *testEnv, key, id string) {
	e = newPersonEnv(t)
	e.env["ACCESSIBLE"] = "1"
	key = filepath.Join(e.dir, "owner.key")
	e.mustRun("", "keygen", "-o", key)
	e.mustRun("", "init", "--identity", key, "--recovery-out", filepath.Join(e.dir, "rec.key"))
	id = strings.TrimSpace(e.mustRun("", append([]string{"add", "--identity", key, "--name", "Jane Doe"}, args...)...))
	return e, key, id
}

// Destroying, sharing or disclosing asks first on a terminal; No keeps
// everything as it was.
func TestDestructiveStepsAskFirst(t *testing.T) {
	e, key, id := ownerAtTerminal(t)
	e.keyboard = []string{"n"}
	if _, errs, code := e.run("", "erase", id, "--identity", key, "--reason", "asked", "--force"); code != exitCanceled {
		t.Fatalf("erase answered No: exit %d: %s", code, errs)
	}
	if _, errs, code := e.run("", "view", id, "--identity", key); code != 0 {
		t.Fatalf("the record is gone after No: %s", errs)
	}
	e.keyboard = []string{"y"}
	if _, errs, code := e.run("", "erase", id, "--identity", key, "--reason", "asked", "--force"); code != 0 {
		t.Fatalf("erase answered Yes: exit %d: %s", code, errs)
	}
	if _, _, code := e.run("", "view", id, "--identity", key); code != exitNotFound {
		t.Errorf("view after erase: exit %d", code)
	}
}

// On a terminal, share without a consent offers the consent form, records
// the consent, then shares: the coworker's key then opens their copy.
func TestShareOffersTheConsentForm(t *testing.T) {
	e, key, _ := ownerAtTerminal(t, "--allergy", "latex")
	bea := filepath.Join(e.dir, "bea.key")
	e.mustRun("", "keygen", "-o", bea)
	b, _ := os.ReadFile(bea)
	pub := strings.TrimSpace(strings.TrimPrefix(strings.Split(string(b), "\n")[1], "# public key:"))
	trust := strings.Fields(e.mustRun("", "staff", "add", "Bea", pub, "--identity", key))
	e.mustRun("", "trust", trust[len(trust)-1])
	e.keyboard = []string{
		"y",      // share Jane Doe with Bea?
		"Bea",    // the coworker
		"1",      // given by the client
		"1", "0", // scope: full, done
		"covering Tuesdays",   // purpose
		"1",                   // written
		"",                    // no witness
		"form C-12", "Olivia", // evidence, obtained by
		"", // no expiry
	}
	out, errs, code := e.run("", "share", "Jane Doe", "--with", "Bea", "--identity", key)
	if code != 0 {
		t.Fatalf("share with the consent form: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "no active consent") || !strings.Contains(out, "shared record") {
		t.Errorf("stdout %q\nstderr %q", out, errs)
	}
	if out, errs, code := e.run("", "view", "Jane Doe", "--identity", bea); code != 0 || !strings.Contains(out, "latex") {
		t.Errorf("the coworker's view: exit %d: %s %s", code, out, errs)
	}
	if out, _, code := e.run("", "consent", "list", "Jane Doe", "--identity", key); code != 0 || !strings.Contains(out, "Bea") {
		t.Errorf("consent list: %s", out)
	}
}
