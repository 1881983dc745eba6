//go:build !linux

package main

import (
	"errors"
	"net"
	"os/exec"
)

// agentSupported: the unlock agent needs peer credentials, read on Linux
// only so far; elsewhere unlock says so and commands ask as before.
const agentSupported = false

var errNoAgent = errors.New("unlock is not supported on this system yet")

func peerUID(*net.UnixConn) (int, error) { return -1, errNoAgent }
func detach(*exec.Cmd)                   {}
func hardenAgent()                       {}
func ensurePrivateDir(string) error      { return errNoAgent }
func checkPrivateDir(string) error       { return errNoAgent }
