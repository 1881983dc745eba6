//go:build unix && !linux

package main

import (
	"errors"
	"os"
)

func terminalEchoes(f *os.File) (bool, error) {
	return false, errors.New("reading a pseudo-terminal's settings is tested on Linux only")
}
