//go:build linux || darwin

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// agentSupported says whether 'unlock' works on this system.
const agentSupported = true

// agentDir is a directory only this user can enter: under XDG_RUNTIME_DIR
// when there is one, else under the temporary directory. An existing one is
// used only if it is a real directory owned by the user with mode 0700.
func agentDir(a *App) (string, error) {
	base := a.Getenv("XDG_RUNTIME_DIR")
	name := "clientvault"
	if base == "" {
		base, name = os.TempDir(), fmt.Sprintf("clientvault-%d", os.Getuid())
	}
	dir := filepath.Join(base, name)
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return "", err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 || !ok || int(st.Uid) != os.Getuid() {
		return "", fmt.Errorf("agent directory %s is not private to you (want a 0700 directory you own)", dir)
	}
	return dir, nil
}

// detach makes the agent its own session, so that it outlives the terminal
// command that started it.
func detach(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
