package harden

import "golang.org/x/sys/unix"

// Process sets the core size limit to zero and makes the process
// non-dumpable, which also keeps other processes of the user from attaching
// a debugger (ptrace) to it.
func Process() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return err
	}
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
