package agent

import (
	"net"

	"golang.org/x/sys/unix"
)

// Supported reports whether the agent runs on this system: it needs the
// peer credentials of a unix socket.
const Supported = true

// PeerUID returns the user ID of the process at the other end of conn
// (SO_PEERCRED).
func PeerUID(conn *net.UnixConn) (int, error) {
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

// Harden keeps the process's memory, which holds the keys, out of core
// dumps and away from ptrace by other processes of the same user: it is
// made non-dumpable, and its core limit is zero.
func Harden() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return err
	}
	return unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
}
