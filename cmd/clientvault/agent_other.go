//go:build !linux && !darwin

package main

import (
	"errors"
	"os/exec"
)

// The unlock agent needs peer credentials, read on Linux and macOS only so
// far (internal/agent); elsewhere unlock says so and commands ask as before.

var errNoAgent = errors.New("unlock is not supported on this system yet")

func detach(*exec.Cmd)              {}
func ensurePrivateDir(string) error { return errNoAgent }
func checkPrivateDir(string) error  { return errNoAgent }
