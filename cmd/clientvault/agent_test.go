//go:build linux

package main

import (
	"encoding/json"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

	// A process of another user is refused (simulated: the agent is told
	// to expect another uid, with the real peer credentials of this one).
	a, b := unixPair(t)
	done := make(chan bool, 1)
	go func() { done <- serveAgentConn(a, os.Getuid()+1, "x", time.Now(), nil) }()
	json.NewEncoder(b).Encode(agentRequest{Op: "lock"})
	var resp agentResponse
	if err := json.NewDecoder(b).Decode(&resp); err == nil {
		t.Error("the agent answered another user")
	}
	if <-done {
		t.Error("another user locked the agent")
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

// unixPair returns two connected unix sockets.
func unixPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}
