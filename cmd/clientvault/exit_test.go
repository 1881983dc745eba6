package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestDiskFullHint: a write refused for room, however deeply wrapped (the
// vault wraps the file system's error in its own), gets the hint to free
// space and the exit code of an I/O error; other I/O errors do not.
func TestDiskFullHint(t *testing.T) {
	wrap := func(errno error) error {
		return fmt.Errorf("no record was destroyed: compact vault: %w", &os.PathError{Op: "write", Path: "/v.db", Err: errno})
	}
	for _, errno := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG} {
		err := wrap(errno)
		if h := defaultHint(err); !strings.HasPrefix(h, "free space on the disk") {
			t.Errorf("%v: hint %q", errno, h)
		}
		if c := exitCode(err); c != exitError {
			t.Errorf("%v: exit %d, want %d", errno, c, exitError)
		}
	}
	if h := defaultHint(wrap(syscall.EIO)); h != "" {
		t.Errorf("EIO: hint %q", h)
	}
	if h := defaultHint(errors.New("no space left on device")); h != "" {
		t.Errorf("a message is not an errno: hint %q", h)
	}
}
