//go:build unix

package vault

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) this process has used,
// so that benchmarks can report work per record independent of how much of
// the shared machine they got.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
