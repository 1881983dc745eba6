//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"io"

	"golang.org/x/sys/unix"
)

// noEcho turns off echo on the terminal fd, keeping line editing and
// Ctrl-C, and returns the function that puts the terminal back as it was.
func noEcho(fd int) (restore func(), err error) {
	saved, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, err
	}
	t := *saved
	t.Lflag &^= unix.ECHO
	t.Lflag |= unix.ICANON | unix.ISIG
	t.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &t); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, ioctlSetTermios, saved) }, nil
}

// readLine reads up to a newline from fd, a byte at a time so that nothing
// after the line is consumed. io.EOF before any byte means Ctrl-D. It reads
// the descriptor directly: an *os.File made for it would close it (stdin)
// when collected.
func readLine(fd int) (string, error) {
	var line []byte
	var b [1]byte
	for {
		n, err := unix.Read(fd, b[:])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return "", err
		case n == 0:
			if len(line) > 0 {
				return string(line), nil
			}
			return "", io.EOF
		case b[0] == '\n':
			return string(line), nil
		case b[0] != '\r':
			line = append(line, b[0])
		}
	}
}
