//go:build !linux

package vault

// evict cannot drop a file from the page cache here; the benchmarks report
// no cold timings.
func evict(path string) bool { return false }
