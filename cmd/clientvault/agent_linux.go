package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// agentSupported: the agent needs peer credentials (SO_PEERCRED), which this
// code reads on Linux only so far.
const agentSupported = true

// peerUID returns the user ID of the process at the other end of conn.
func peerUID(conn *net.UnixConn) (int, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *unix.Ucred
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err == nil {
		err = credErr
	}
	if err != nil {
		return -1, err
	}
	return int(cred.Uid), nil
}

// detach starts the agent in a session of its own, with no terminal: it
// outlives the shell's job control and takes no signal meant for it.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// hardenAgent keeps the agent's memory, which holds the key, out of core
// dumps and away from ptrace by other processes of the same user.
func hardenAgent() {
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
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
