package vault

import (
	"os"

	"golang.org/x/sys/unix"
)

// evict drops the file at path from the page cache, without root: its
// dirty pages are written first (fdatasync), then the kernel is told they
// will not be needed (POSIX_FADV_DONTNEED). Pages that a process has mapped
// stay, so close the vault first. It reports whether it could.
func evict(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return false
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED) == nil
}
