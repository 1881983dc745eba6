//go:build !linux && !darwin

package main

import (
	"errors"
	"net"
	"os/exec"
)

const agentSupported = false

var errAgentUnsupported = errors.New("unlock is not supported on this system")

func agentDir(a *App) (string, error) { return "", errAgentUnsupported }
func checkPeer(c net.Conn) error      { return errAgentUnsupported }
func detach(c *exec.Cmd)              {}
