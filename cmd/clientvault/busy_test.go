package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/vault"
)

// Issue 2: a second process that opens the vault while another holds it
// waits at most about a second, then says the vault is busy; it never
// hangs. The other process is real: holdvault (TestMain). On etcd nothing
// holds a vault (each command's transactions are etcd's to order): the
// second process is not kept waiting at all.

func TestBusyVaultCLI(t *testing.T) {
	dir := t.TempDir()
	path := testVault(dir, "vault.db")
	keyPath := filepath.Join(dir, "key.txt")
	owner, err := vault.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if err := vault.WriteIdentity(keyPath, owner, "", 0); err != nil {
		t.Fatal(err)
	}
	app := func(out, errb *bytes.Buffer) *App {
		return &App{
			In: strings.NewReader(""), Out: out, Err: errb, Now: time.Now, WorkFactor: 10,
			Getenv: func(k string) string {
				switch k {
				case "CLIENTVAULT_VAULT":
					return path
				case "CLIENTVAULT_IDENTITY":
					return keyPath
				case "HOME":
					return dir
				}
				return ""
			},
		}
	}
	if err := app(nil, nil).createVault(path, vault.CreateOptions{Owner: []age.Recipient{owner.Recipient()}, Now: time.Now}); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command("holdvault", path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "holding\n" {
		t.Fatalf("helper said %q (%v), want holding", line, err)
	}

	run := func(args ...string) (code int, stderr string, elapsed time.Duration) {
		var out, errb bytes.Buffer
		start := time.Now()
		code = Run(args, app(&out, &errb))
		return code, errb.String(), time.Since(start)
	}

	if onEtcd() {
		// A command that writes (view appends to the audit log; this one
		// finds no such record) and one that only reads work at once.
		for _, c := range []struct {
			args []string
			code int
		}{{[]string{"view", "0123456789abcdef"}, exitNotFound}, {[]string{"verify"}, exitOK}} {
			code, stderr, elapsed := run(c.args...)
			if code != c.code || elapsed > time.Second {
				t.Errorf("%s beside a process with the vault open: exit %d after %v, want %d at once: %s", c.args[0], code, elapsed, c.code, stderr)
			}
		}
		return
	}

	// A command that writes (view appends to the audit log) and one that
	// only reads (verify) both give up with the busy exit code and say why.
	for _, args := range [][]string{{"view", "0123456789abcdef"}, {"verify"}} {
		code, stderr, elapsed := run(args...)
		t.Logf("%s: exit %d after %v: %q", args[0], code, elapsed.Round(time.Millisecond), stderr)
		if code != exitBusy {
			t.Errorf("%s: exit %d, want %d (busy)", args[0], code, exitBusy)
		}
		if !strings.HasPrefix(stderr, "clientvault: vault is busy") || !strings.Contains(stderr, "\nhint: ") {
			t.Errorf("%s: stderr %q, want the busy message and a hint", args[0], stderr)
		}
		if elapsed > 3*time.Second {
			t.Errorf("%s: took %v, want about a second", args[0], elapsed)
		}
	}

	// Once the other process is done, the same command works.
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	if code, stderr, _ := run("verify"); code != exitOK {
		t.Fatalf("verify after the other process let go: exit %d: %s", code, stderr)
	}
}
