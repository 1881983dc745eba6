package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/internal/fakesheet"
	"github.com/clientvault/clientvault/internal/harden"
	"github.com/clientvault/clientvault/vault"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain puts the programs the tests run in other processes on PATH, as
// commands of this test binary (testscript.Main): clientvault itself
// (testCommand), for the scripts, the pseudo-terminal tests and the unlock
// agent they start, and holdvault, which holds a vault open. A test runs
// them by name, as a person would, and never re-runs the test binary on a
// test of its own.
func TestMain(m *testing.M) {
	testscript.Main(etcdMain{m}, map[string]func(){
		"clientvault": testCommand,
		"holdvault":   holdVault,
	})
}

// testCommand is main with a low scrypt work factor, so that the identities
// tests make unlock in milliseconds. For scenarios that span days or export
// sealed files without a terminal, TEST_NOW fixes the clock (RFC 3339) and
// TEST_PASSPHRASE answers every passphrase prompt: only this test binary
// reads them, a release build has no such switch.
func testCommand() {
	_ = harden.Process()
	a := System()
	a.WorkFactor = 10
	if s := os.Getenv("TEST_NOW"); s != "" {
		now, err := time.Parse(time.RFC3339, s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "TEST_NOW:", err)
			os.Exit(exitUsage)
		}
		a.Now = func() time.Time { return now }
	}
	if p := os.Getenv("TEST_PASSPHRASE"); p != "" {
		a.ReadSecret = func(string) (string, error) { return p, nil }
	}
	os.Exit(Run(os.Args[1:], a))
}

// holdVault VAULT opens the vault, a file or an etcd URL, for writing
// (bbolt's exclusive file lock; on etcd a client of the cluster), says
// "holding", and holds it until its stdin closes.
func holdVault() {
	v, err := System().openVault(os.Args[1], vault.Options{Now: time.Now})
	if err != nil {
		fmt.Fprintln(os.Stderr, "holdvault:", err)
		os.Exit(3)
	}
	fmt.Println("holding")
	io.Copy(io.Discard, os.Stdin)
	v.Close()
}

// TestScripts runs the end-to-end scripts in testdata/script: each reads
// like a shell session against a fresh HOME.
//
// $VAULT is the script's vault, the one its commands reach when no --vault
// is given: the file in the data directory, or on etcd
// (CLIENTVAULT_TEST_ENGINE=etcd) a prefix on a server of the script's own,
// named in the config file. $VAULT2 is a second place for a vault, with nothing there:
// a file in $WORK, or another prefix. [etcd] is true on etcd: a step about
// the vault file is marked [!etcd].
func TestScripts(t *testing.T) {
	srv := etcdtest.Start(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// $ETCD is an etcd cluster inside this test process, with
			// etcd's default limits, and a prefix of the script's own:
			// etcd://127.0.0.1:PORT/NAME names a vault on it.
			env.Setenv("ETCD", "etcd://"+strings.TrimPrefix(srv.Endpoint, "http://"))
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			env.Setenv("XDG_DATA_HOME", filepath.Join(home, ".local", "share"))
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("NO_COLOR", "1")
			vault := filepath.Join(home, ".local", "share", "clientvault", "vault.db")
			vault2 := filepath.Join(env.WorkDir, "vault2.db")
			if onEtcd() {
				// A server of the script's own, not the test binary's:
				// etcd compacts the history of all its keys at once (as
				// erase, expire and restore have it do), and scripts run
				// side by side, so one script's erase would fail another's
				// read at an older revision.
				dir, err := os.MkdirTemp("", "clientvault-etcd-*")
				if err != nil {
					return err
				}
				srv, err := etcdtest.StartIn(dir)
				if err != nil {
					os.RemoveAll(dir)
					return err
				}
				env.Defer(func() { srv.Stop(); os.RemoveAll(dir) })
				vault, vault2 = etcdURL(srv, "vault"), etcdURL(srv, "vault2")
				if err := writeVaultConfig(filepath.Join(home, ".config"), vault); err != nil {
					return err
				}
			}
			env.Setenv("VAULT", vault)
			env.Setenv("VAULT2", vault2)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "etcd" {
				return onEtcd(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// etcdtls starts an etcd of the script's own that takes only
			// client certificates, with authentication on ($ETCD_TLS,
			// etcd_access.go); etcdcert CN NAME issues a certificate.
			"etcdtls":  scriptEtcdTLS,
			"etcdcert": scriptEtcdCert,
			// gencsv ROWS FILE writes a CSV file of fake clients.
			"gencsv": func(ts *testscript.TestScript, neg bool, args []string) {
				n, err := strconv.Atoi(args[0])
				if err != nil || len(args) != 2 {
					ts.Fatalf("usage: gencsv ROWS FILE")
				}
				f, err := os.Create(ts.MkAbs(args[1]))
				ts.Check(err)
				ts.Check(fakesheet.Write(f, n))
				ts.Check(f.Close())
			},
			// waitsize VAULT BYTES waits, up to a minute, until the vault
			// (a file, or an etcd URL: storedSize) holds at least BYTES.
			"waitsize": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: waitsize VAULT BYTES")
				}
				n, err := strconv.ParseInt(args[1], 10, 64)
				ts.Check(err)
				for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(20 * time.Millisecond) {
					if size, err := storedSize(scriptVault(ts, args[0])); err == nil && size >= n {
						return
					}
				}
				ts.Fatalf("%s did not reach %d bytes in a minute", args[0], n)
			},
			// maxsize VAULT BYTES checks that the vault holds at most BYTES.
			"maxsize": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: maxsize VAULT BYTES")
				}
				n, err := strconv.ParseInt(args[1], 10, 64)
				ts.Check(err)
				size, err := storedSize(scriptVault(ts, args[0]))
				ts.Check(err)
				if size > n {
					ts.Fatalf("%s holds %d bytes, more than %d", args[0], size, n)
				}
			},
			// stored VAULT FILE writes into FILE everything stored of the
			// vault: the file's bytes, or its etcd keys and values
			// (storedVault), for a grep of what someone with the disk or the
			// cluster's data would read.
			"stored": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: stored VAULT FILE")
				}
				b, err := readStored(scriptVault(ts, args[0]))
				ts.Check(err)
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o600))
			},
			// perm FILE MODE checks FILE's permission bits (octal, e.g. 600).
			"perm": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: perm FILE MODE")
				}
				want, err := strconv.ParseUint(args[1], 8, 32)
				ts.Check(err)
				fi, err := os.Stat(ts.MkAbs(args[0]))
				ts.Check(err)
				if got := fi.Mode().Perm(); (uint64(got) == want) == neg {
					ts.Fatalf("%s has mode %o; want %s%o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
				}
			},
			// setfrom NAME FILE [REGEXP] sets $NAME to FILE's text (stdout
			// and stderr are the last command's), trimmed, or to what the
			// first group of REGEXP matches in it.
			"setfrom": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 || len(args) > 3 {
					ts.Fatalf("usage: setfrom NAME FILE [REGEXP]")
				}
				text := strings.TrimSpace(ts.ReadFile(args[1]))
				if len(args) == 3 {
					m := regexp.MustCompile(args[2]).FindStringSubmatch(text)
					if len(m) < 2 {
						ts.Fatalf("%s: no match for %s in %q", args[1], args[2], text)
					}
					text = m[1]
				}
				ts.Setenv(args[0], text)
			},
			// age ARGS... runs the real age command (filippo.io/age/cmd/age,
			// the version in go.mod), built once per test binary.
			"age": func(ts *testscript.TestScript, neg bool, args []string) {
				bin, err := ageCommand()
				ts.Check(err)
				err = ts.Exec(bin, args...)
				if err != nil && !neg {
					ts.Fatalf("age: %v", err)
				}
				if err == nil && neg {
					ts.Fatalf("age succeeded unexpectedly")
				}
			},
			// unseal PASSPHRASE IN OUT decrypts the age file IN, sealed with
			// a passphrase, into OUT.
			"unseal": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 3 {
					ts.Fatalf("usage: unseal PASSPHRASE IN OUT")
				}
				id, err := age.NewScryptIdentity(args[0])
				ts.Check(err)
				r, err := age.Decrypt(strings.NewReader(ts.ReadFile(args[1])), id)
				ts.Check(err)
				plain, err := io.ReadAll(r)
				ts.Check(err)
				ts.Check(os.WriteFile(ts.MkAbs(args[2]), plain, 0o600))
			},
			// exits CODE PROGRAM ARGS... runs the program and checks its exit
			// code, keeping its output for stdout/stderr assertions.
			"exits": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exits: %v", err)
				}
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("exits: %v", err)
				}
				if got != want {
					ts.Fatalf("%s exited %d, want %d", args[1], got, want)
				}
			},
		},
	})
}

// scriptVault is a vault named in a script: an etcd URL, or a file
// relative to the script's directory.
func scriptVault(ts *testscript.TestScript, loc string) string {
	if isRemote(loc) {
		return loc
	}
	return ts.MkAbs(loc)
}

var (
	ageOnce sync.Once
	ageBin  string
	ageErr  error
)

// ageCommand builds the real age command from the filippo.io/age module in
// go.mod (a tool dependency), once per test binary: files the vault writes
// for others must open with age alone.
func ageCommand() (string, error) {
	ageOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clientvault-age-")
		if err != nil {
			ageErr = err
			return
		}
		ageBin = filepath.Join(dir, "age")
		if out, err := exec.Command("go", "build", "-o", ageBin, "filippo.io/age/cmd/age").CombinedOutput(); err != nil {
			ageErr = fmt.Errorf("building age: %v\n%s", err, out)
		}
	})
	return ageBin, ageErr
}
