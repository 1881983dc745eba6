//go:build linux

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminalEchoes reports whether the terminal behind the pseudo-terminal
// master f echoes what is typed (on Linux the master reports the
// terminal's settings).
func terminalEchoes(f *os.File) (bool, error) {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return false, err
	}
	return t.Lflag&unix.ECHO != 0, nil
}
