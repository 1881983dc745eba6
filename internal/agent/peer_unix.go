//go:build linux || darwin

package agent

import "net"

// Supported reports whether the agent runs on this system: it needs the
// peer credentials of a unix socket.
const Supported = true

// PeerUID returns the user ID of the process at the other end of conn
// (peerUIDOf says how this system tells it).
func PeerUID(conn *net.UnixConn) (int, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return -1, err
	}
	var uid uint32
	var credErr error
	err = raw.Control(func(fd uintptr) { uid, credErr = peerUIDOf(int(fd)) })
	if err == nil {
		err = credErr
	}
	if err != nil {
		return -1, err
	}
	return int(uid), nil
}
