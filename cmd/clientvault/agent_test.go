//go:build linux

package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The agent answers only processes of its own user: a process of another
// user that reaches the socket (here opened to everyone on purpose) gets
// nothing.
func TestAgentRefusesAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a process as another user")
	}
	// A directory, and a copy of the test binary, that another user can reach.
	dir, err := os.MkdirTemp("", "cvagent")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	exe, _ := os.ReadFile(os.Args[0])
	bin := filepath.Join(dir, "probe")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	ready, readyW := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- serveAgent(sock, time.Minute, strings.NewReader("SECRET-KEYS"), readyW) }()
	buf := make([]byte, 6)
	io.ReadFull(ready, buf)
	os.Chmod(sock, 0o777)
	defer agentRequest(sock, "lock")

	probe := func(uid uint32) string {
		c := &exec.Cmd{Path: bin, Args: []string{"agent-probe", sock}}
		if uid != 0 {
			c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		}
		out, err := c.CombinedOutput()
		if _, exited := err.(*exec.ExitError); err != nil && !exited {
			t.Fatalf("probe as uid %d: %v", uid, err)
		}
		return string(out)
	}
	if out := probe(0); !strings.Contains(out, "got keys: true") {
		t.Fatalf("same user: %q", out)
	}
	if out := probe(65534); !strings.Contains(out, "refused") || strings.Contains(out, "got keys") {
		t.Errorf("another user: %q, want refused", out)
	}
}
