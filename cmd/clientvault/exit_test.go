package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/clientvault/clientvault/vault/store"
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

// TestPermissionDenied: a read-only vault file (or disk, or folder) is its
// own exit code with a hint, however deeply the vault wrapped it. The
// tests run as root on CI, where chmod cannot make a file read-only, so
// the error is built here.
func TestPermissionDenied(t *testing.T) {
	for _, errno := range []error{syscall.EACCES, syscall.EPERM, syscall.EROFS} {
		err := fmt.Errorf("vault /v.db: %w", &os.PathError{Op: "open", Path: "/v.db", Err: errno})
		if c := exitCode(err); c != exitPermission {
			t.Errorf("%v: exit %d, want %d", errno, c, exitPermission)
		}
		var b strings.Builder
		printError(&b, err)
		if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "hint: check the file's permissions") {
			t.Errorf("%v: %q", errno, b.String())
		}
	}
}

// TestSnapshotGone: a read cut short by another computer's compaction of
// etcd's history is exit 10, with the hint to run it again.
func TestSnapshotGone(t *testing.T) {
	err := fmt.Errorf("view: %w", fmt.Errorf("%w: etcdserver: mvcc: required revision has been compacted", store.ErrSnapshotGone))
	if c := exitCode(err); c != exitBusy {
		t.Errorf("exit %d, want %d", c, exitBusy)
	}
	if h := defaultHint(err); !strings.Contains(h, "run it again") {
		t.Errorf("hint %q", h)
	}
}
