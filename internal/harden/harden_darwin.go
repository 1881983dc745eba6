package harden

import "golang.org/x/sys/unix"

// Process sets the core size limit to zero and denies debuggers
// (PT_DENY_ATTACH): macOS has no per-process dumpable switch.
func Process() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return err
	}
	return unix.PtraceDenyAttach()
}
