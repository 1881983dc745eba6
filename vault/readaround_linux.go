package vault

import "golang.org/x/sys/unix"

// readAround lets the kernel read the vault file ahead of the pages that tx
// touches, until the returned function is called. bbolt maps the file with
// MADV_RANDOM, so each page not in the page cache is read on its own, 4 KB
// at a time, when it is touched: walking the records of a 150 MB vault that
// was not cached took 3 s that way, and 0.12-0.27 s with the kernel's normal
// read-around (MADV_NORMAL), which reads a window around each fault.
// (posix_fadvise WILLNEED and readahead(2) did not help: they returned at
// once and the walk was as slow.) For scans that touch much of the file:
// Expire's and the compaction's. The map cannot move while tx is open; the
// returned function must be called before tx ends.
func readAround(tx *txn) (restore func()) {
	m := mappedData(tx)
	if m == nil {
		return func() {}
	}
	unix.Madvise(m, unix.MADV_NORMAL)
	return func() { unix.Madvise(m, unix.MADV_RANDOM) }
}
