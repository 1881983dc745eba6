package vault

import (
	"testing"
	"time"
)

// cpuTimer sums the process's CPU time (user and system) over timed
// sections. On a machine shared with other work, wall-clock time depends on
// the neighbours; CPU time per operation shows the work itself.
type cpuTimer struct {
	total, from time.Duration
}

func (c *cpuTimer) start() { c.from = processCPU() }
func (c *cpuTimer) stop()  { c.total += processCPU() - c.from }

// report adds cpu-s/op to the benchmark's results.
func (c *cpuTimer) report(b *testing.B) {
	b.ReportMetric(c.total.Seconds()/float64(b.N), "cpu-s/op")
}
