//go:build unix

package main

import "golang.org/x/sys/unix"

// hardenProcess keeps what a command holds in memory (the unlocked key set,
// a decrypted record, the fields of a form) out of core files: a core of
// `add` held the plaintext and the secret key. The core size limit is set to
// zero for this process, and on Linux the process is made non-dumpable,
// which also stops other processes of the same user from attaching a
// debugger to it. Both are best effort: a failure leaves the command as it
// would have been without them.
func hardenProcess() {
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})
	hardenPlatform()
}
