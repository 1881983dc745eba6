//go:build !linux && !darwin

package agent

import (
	"errors"
	"net"
)

// Supported reports whether the agent runs on this system: it needs the
// peer credentials of a unix socket, read on Linux and macOS only so far.
const Supported = false

var errUnsupported = errors.New("the unlock agent is not supported on this system yet")

// PeerUID is not available here.
func PeerUID(*net.UnixConn) (int, error) { return -1, errUnsupported }
