//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

import "golang.org/x/term"

// noEcho does nothing here: readLine turns echo off itself (Windows).
func noEcho(fd int) (restore func(), err error) {
	if !term.IsTerminal(fd) {
		return nil, errNoTerminal
	}
	return func() {}, nil
}

// readLine reads a line from the console without echo.
func readLine(fd int) (string, error) {
	b, err := term.ReadPassword(fd)
	return string(b), err
}
