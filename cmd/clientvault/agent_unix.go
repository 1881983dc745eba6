//go:build linux || darwin

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// detach starts the agent in a session of its own, with no terminal: it
// outlives the shell's job control and takes no signal meant for it.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// ensurePrivateDir creates dir (mode 0700) if needed and checks it.
func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return checkPrivateDir(dir)
}

// checkPrivateDir checks that dir is a real directory of this user that no
// one else can enter: a socket planted elsewhere is never used.
func checkPrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok {
		return errors.New("the agent directory is not a directory")
	}
	if int(st.Uid) != os.Getuid() || fi.Mode().Perm() != 0o700 {
		return fmt.Errorf("the agent directory %s must be yours with mode 0700", dir)
	}
	return nil
}
