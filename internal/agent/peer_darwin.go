package agent

import "golang.org/x/sys/unix"

// peerUIDOf reads the peer's user ID of the socket fd (LOCAL_PEERCRED).
func peerUIDOf(fd int) (uint32, error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return 0, err
	}
	return cred.Uid, nil
}
