package agent

import "golang.org/x/sys/unix"

// peerUIDOf reads the peer's user ID of the socket fd (SO_PEERCRED).
func peerUIDOf(fd int) (uint32, error) {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return 0, err
	}
	return cred.Uid, nil
}
