package agent

import (
	"net"

	"golang.org/x/sys/unix"
)

// Supported reports whether the agent runs on this system: it needs the
// peer credentials of a unix socket.
const Supported = true

// PeerUID returns the user ID of the process at the other end of conn
// (LOCAL_PEERCRED).
func PeerUID(conn *net.UnixConn) (int, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *unix.Xucred
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
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
// dumps (a core limit of zero) and away from debuggers (PT_DENY_ATTACH).
func Harden() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return err
	}
	return unix.PtraceDenyAttach()
}
