//go:build unix && !linux && !darwin

package harden

import "golang.org/x/sys/unix"

// Process sets the core size limit to zero; the BSDs have no per-process
// dumpable switch that x/sys reaches.
func Process() error { return unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}) }
