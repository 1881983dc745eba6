//go:build linux || darwin

package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/internal/agent"
	"github.com/clientvault/clientvault/vault/store"
	"golang.org/x/crypto/ssh"
)

func TestTerminalUnlockAgent(t *testing.T) {
	e := newPtyEnv(t)
	e.env = append(e.env, "XDG_RUNTIME_DIR="+filepath.Join(e.home, "run"))
	if err := os.Mkdir(filepath.Join(e.home, "run"), 0o700); err != nil {
		t.Fatal(err)
	}
	e.initOnTerminal()
	id := strings.TrimSpace(e.run("add", "--name", "Jane Doe"))
	// From here on, the passphrase-protected identity, not the recovery key.
	e.env = append(e.env, "CLIENTVAULT_IDENTITY=")

	// Without an agent and without a terminal, view cannot ask.
	if _, code, _ := e.runCode("view", id, "--json"); code == 0 {
		t.Fatal("view opened the vault with no passphrase and no agent")
	}

	c := e.start("unlock", "--for", "1m")
	c.unlock(testPassphrase)
	c.expect("unlocked until")
	if code := c.wait(); code != 0 {
		t.Fatalf("unlock: exit %d\n%s", code, c.text())
	}
	t.Cleanup(func() { e.runCode("lock") })

	// Unlocking again says so and asks nothing.
	c = e.start("unlock", "--for", "1m")
	c.expect("already unlocked until")
	if code := c.wait(); code != 0 {
		t.Fatalf("unlock again: exit %d\n%s", code, c.text())
	}
	if strings.Contains(c.text(), "Passphrase") {
		t.Errorf("unlock while unlocked asked for the passphrase:\n%s", c.text())
	}

	// Now commands open the vault through the agent: no terminal needed.
	start := time.Now()
	out := e.run("view", id, "--json")
	t.Logf("view through the agent: %v", time.Since(start))
	var rec map[string]any
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec["name"] != "Jane Doe" {
		t.Fatalf("view through the agent: %v %q", err, out)
	}

	// The socket is in a private directory, and nothing of a key is on disk.
	dir := filepath.Join(e.home, "run", "clientvault")
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("agent directory: %v %v", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "agent.sock" || entries[0].Type()&fs.ModeSocket == 0 {
		t.Errorf("agent directory holds %v", entries)
	}
	filepath.WalkDir(e.home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSocket != 0 || filepath.Base(p) == "recovery.txt" {
			return nil
		}
		if b, _ := os.ReadFile(p); strings.Contains(string(b), "AGE-SECRET-KEY-") {
			t.Errorf("%s holds a secret key", p)
		}
		return nil
	})

	// The agent keeps its memory out of core files.
	if runtime.GOOS == "linux" {
		if pid := agentPID(t, e.home); pid == "" {
			t.Error("no agent process found")
		} else if limits, err := os.ReadFile("/proc/" + pid + "/limits"); err != nil || !regexp.MustCompile(`Max core file size\s+0\s+0`).Match(limits) {
			t.Errorf("the agent's core limit: %v\n%s", err, limits)
		}
	}

	// Unlocking again while unlocked says so, and asks nothing.
	again := e.start("unlock", "--for", "1m")
	again.expect("already unlocked until")
	if code := again.wait(); code != 0 {
		t.Fatalf("unlock again: exit %d\n%s", code, again.text())
	}
	if strings.Contains(again.text(), "Passphrase") {
		t.Error("unlock while unlocked asked for the passphrase")
	}

	// The attack of issue 12: a client of this user asks the agent for the
	// file key of the vault's own wrapped key set, and is refused.
	sock := filepath.Join(dir, "agent.sock")
	raw, err := agent.Dial(sock, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	wrapped := storedKeySet(t, e.vaultPath())
	s, err := raw.Open(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Unwrap([][]*age.Stanza{stanzasOf(t, wrapped)}); !errors.Is(err, agent.ErrRefused) {
		t.Errorf("the agent unwrapped the vault's key set: %v", err)
	}

	// Three idle connections do not keep a command waiting.
	for range 3 {
		idle, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer idle.Close()
	}
	start = time.Now()
	e.run("list")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("list beside three idle connections took %v", d)
	}

	// lock ends it: the socket is gone and view cannot open the vault.
	if _, code, stderr := e.runCode("lock"); code != 0 || !strings.Contains(stderr, "locked") {
		t.Fatalf("lock: %d %s", code, stderr)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(dir, "agent.sock")); err == nil {
		t.Error("the socket is still there after lock")
	}
	if _, code, _ := e.runCode("view", id, "--json"); code == 0 {
		t.Error("view opened the vault after lock")
	}
}

func TestTerminalUnlockExpires(t *testing.T) {
	e := newPtyEnv(t)
	e.env = append(e.env, "XDG_RUNTIME_DIR="+filepath.Join(e.home, "run"))
	os.Mkdir(filepath.Join(e.home, "run"), 0o700)
	e.initOnTerminal()
	id := strings.TrimSpace(e.run("add", "--name", "Jane Doe"))
	e.env = append(e.env, "CLIENTVAULT_IDENTITY=")
	c := e.start("unlock", "--for", "2s")
	c.unlock(testPassphrase)
	if code := c.wait(); code != 0 {
		t.Fatalf("unlock: exit %d\n%s", code, c.text())
	}
	e.run("view", id)
	time.Sleep(3 * time.Second)
	if _, code, _ := e.runCode("view", id); code == 0 {
		t.Error("view opened the vault after the agent's time was up")
	}
	if _, err := os.Stat(filepath.Join(e.home, "run", "clientvault", "agent.sock")); err == nil {
		t.Error("the socket outlived the agent")
	}
}

// storedKeySet reads the vault's wrapped key set from the file or the etcd
// keys, as an attacker of this user could.
func storedKeySet(t *testing.T, loc string) []byte {
	t.Helper()
	var wrapped []byte
	viewStore(t, loc, func(tx store.Tx) error {
		wrapped = bytes.Clone(tx.Bucket([]byte("meta")).Get([]byte("keys")))
		return nil
	})
	if len(wrapped) == 0 {
		t.Fatal("no wrapped keys in the vault")
	}
	return wrapped
}

// stanzasOf returns the recipient stanzas of an age file.
func stanzasOf(t *testing.T, ct []byte) []*age.Stanza {
	t.Helper()
	var c stanzaGrabber
	age.Decrypt(bytes.NewReader(ct), &c)
	if len(c.s) == 0 {
		t.Fatal("no stanzas")
	}
	return c.s
}

type stanzaGrabber struct{ s []*age.Stanza }

func (g *stanzaGrabber) Unwrap(s []*age.Stanza) ([]byte, error) {
	g.s = s
	return nil, age.ErrIncorrectIdentity
}

// TestUnlockSaysWhatIsTrue: unlock of an identity it cannot hold says why,
// truly, for each kind, and asks for nothing.
func TestUnlockSaysWhatIsTrue(t *testing.T) {
	e := newPersonEnv(t)
	e.env["XDG_RUNTIME_DIR"] = filepath.Join(e.dir, "run")
	os.Mkdir(e.env["XDG_RUNTIME_DIR"], 0o700)

	plain, _ := age.GenerateX25519Identity()
	plainPath := filepath.Join(e.dir, "plain.txt")
	os.WriteFile(plainPath, []byte(plain.String()+"\n"), 0o600)

	_, priv, _ := ed25519.GenerateKey(nil)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("ssh passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	sshPath := filepath.Join(e.dir, "id_ed25519")
	os.WriteFile(sshPath, pem.EncodeToMemory(block), 0o600)
	block, _ = ssh.MarshalPrivateKey(priv, "")
	sshPlainPath := filepath.Join(e.dir, "id_plain")
	os.WriteFile(sshPlainPath, pem.EncodeToMemory(block), 0o600)

	for _, c := range []struct{ path, want, not string }{
		{plainPath, "plain.txt needs no passphrase", ""},
		{sshPlainPath, "id_plain needs no passphrase", ""},
		{sshPath, "id_ed25519 is an SSH key with a passphrase of its own", "needs no passphrase"},
	} {
		_, msg, code := e.run("", "unlock", "--identity", c.path, "--for", "1m")
		if code == 0 || !strings.Contains(msg, c.want) || (c.not != "" && strings.Contains(msg, c.not)) {
			t.Errorf("unlock --identity %s: exit %d, %q", filepath.Base(c.path), code, msg)
		}
	}
	if e.asked != 0 {
		t.Errorf("asked for a passphrase %d times", e.asked)
	}
}

// agentPID finds the process of the agent started for home, on Linux.
func agentPID(t *testing.T, home string) string {
	t.Helper()
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte("__agent")) && bytes.Contains(cmdline, []byte(home)) {
			return d.Name()
		}
	}
	return ""
}
