package main

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clientvault/clientvault/vault"
)

// testEnv is a machine for in-process runs of clientvault, each as a new
// process would run: a fresh App with the machine's environment, a fixed
// clock, and its own stdin. There are two machines. newTestEnv is a
// script's: a plain age key as the owner's identity, named with the vault
// by CLIENTVAULT_IDENTITY and CLIENTVAULT_VAULT, and no terminal.
// newPersonEnv is a person's at a terminal, with an empty home directory
// where clientvault keeps its files, whose passphrase answers are scripted.
// Scenarios longer than a few commands are testscript files
// (testdata/script), which run the command as a process.
type testEnv struct {
	t *testing.T
	// dir is a directory of the machine's for files: the vault's in a
	// script's machine, the home directory in a person's.
	dir string
	env map[string]string
	now time.Time
	// terminal is set when stdin and stdout are terminals.
	terminal bool
	// answers are the passphrases typed at prompts, in order, and asked
	// counts the prompts since they were set (answer). A prompt with no
	// answer left fails the test.
	answers []string
	asked   int
	// keyboard, if set, is the next run's stdin: one line typed at a time
	// (forms in accessible mode read lines).
	keyboard []string
}

// goldenNow is the fixed clock of a script's machine: the golden tests'
// output is the same on every run.
var goldenNow = time.Date(2026, time.March, 1, 10, 30, 0, 0, time.UTC)

// newTestEnv is a script's machine. keyAndInit makes the owner's key and
// the vault.
func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	return &testEnv{t: t, dir: dir, now: goldenNow, env: map[string]string{
		"HOME":                 "/home/esthetician",
		"CLIENTVAULT_VAULT":    testVault(dir, "vault.db"),
		"CLIENTVAULT_IDENTITY": filepath.Join(dir, "owner.key"),
	}}
}

// newPersonEnv is a person's machine with nothing on it yet, at a
// terminal; answers are the passphrases they type. On etcd, its config
// file names its vault (nameVaultInConfig).
func newPersonEnv(t *testing.T, answers ...string) *testEnv {
	t.Helper()
	home := t.TempDir()
	if _, err := nameVaultInConfig(filepath.Join(home, ".config")); err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, dir: home, env: map[string]string{"HOME": home}, terminal: true, answers: answers,
		now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
}

// keyAndInit makes the owner's key and the vault.
func (e *testEnv) keyAndInit() {
	e.t.Helper()
	id, err := vault.GenerateIdentity()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := vault.WriteIdentity(e.env["CLIENTVAULT_IDENTITY"], id, "", 0); err != nil {
		e.t.Fatal(err)
	}
	e.mustRun("", "init", "--recovery-out", filepath.Join(e.dir, "recovery.txt"))
}

// firstAdd is a person's first add, with the passphrase answers that make
// their vault and identity. On a file it creates the vault, as init would.
// A vault on etcd is the salon's, made once with init: there the add says
// so (exit 4) and asks nothing, and init then makes the vault before the
// add is run again with the passphrase just chosen. It returns what
// creating the vault and adding printed; asked counts the prompts of the
// creation.
func (e *testEnv) firstAdd(args ...string) (string, string, int) {
	e.t.Helper()
	add := append([]string{"add"}, args...)
	if !onEtcd() {
		return e.run("", add...)
	}
	if _, errs, code := e.run("", add...); code != exitNoVault || e.asked != 0 || !strings.Contains(errs, "clientvault init") {
		e.t.Fatalf("first add on etcd: exit %d after %d prompts, want %d and none: %s", code, e.asked, exitNoVault, errs)
	}
	out, errs, code := e.run("", "init", "--retain", "7y") // the default, and no form
	if code != 0 {
		return out, errs, code
	}
	asked := e.asked
	e.answers = append(e.answers[:asked:asked], e.answers[asked-1])
	out2, errs2, code := e.run("", add...)
	e.asked = asked
	return out + out2, errs + errs2, code
}

// answer sets the passphrases the next prompts get.
func (e *testEnv) answer(answers ...string) { e.answers, e.asked = answers, 0 }

// app is a fresh App for one run, reading stdin (or the keyboard's lines).
func (e *testEnv) app(stdin string) (*App, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	var in io.Reader = strings.NewReader(stdin)
	if e.keyboard != nil {
		in, e.keyboard = &lineReader{e.keyboard}, nil
	}
	a := &App{
		In: in, Out: &out, Err: &errOut,
		StdinTTY: e.terminal, StdoutTTY: e.terminal,
		Getenv:     func(k string) string { return e.env[k] },
		Now:        func() time.Time { return e.now },
		WorkFactor: 10,
		ReadSecret: func(string) (string, error) {
			e.asked++
			if e.asked > len(e.answers) {
				e.t.Errorf("asked for a passphrase %d times; %d answers", e.asked, len(e.answers))
				return "", errNoTerminal
			}
			return e.answers[e.asked-1], nil
		},
	}
	return a, &out, &errOut
}

// run runs clientvault with args and returns its stdout, stderr and exit
// code.
func (e *testEnv) run(stdin string, args ...string) (string, string, int) {
	a, out, errOut := e.app(stdin)
	code := Run(args, a)
	return out.String(), errOut.String(), code
}

// mustRun runs a command that must succeed and returns its stdout.
func (e *testEnv) mustRun(stdin string, args ...string) string {
	e.t.Helper()
	out, errOut, code := e.run(stdin, args...)
	if code != 0 {
		e.t.Fatalf("clientvault %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}
