package vault

import (
	"runtime"
	"strconv"
)

// How the vault file is laid out and grown. These are tuned for records of
// about 1 KB of JSON, which are about 1.4 KB once sealed and authenticated
// (issue 2: a vault of 100,000 such records is at most 1.6 times their
// JSON).

// vaultPageSize is the bbolt page size of a new vault (an existing vault
// keeps the one it was created with). bbolt never splits a page of fewer
// than four entries and never spreads an entry over two pages, so 4 KB
// pages hold two 1.4 KB entries and waste 30% of the file; 32 KB pages
// hold 23 and waste about 2%.
const vaultPageSize = 32 << 10

// vaultAllocSize is how much bbolt grows the file by when it needs room
// beyond the end: bbolt's default, 16 MB, left up to 16 MB of zeros at the
// end of every vault; 4 MB still grows a large import in a few dozen
// steps.
const vaultAllocSize = 4 << 20

// initialMmapSize is the size of bbolt's first memory map of the vault
// file. bbolt otherwise starts small and doubles the map as the file grows,
// and each remap during a bulk add stalls the commit and faults every page
// in again. Mapping 1 GiB of address space up front costs nothing on a
// 64-bit system, where the map is only address space, not memory. Not on
// Windows, where bbolt grows the file itself to the size of the map, nor on
// 32-bit systems, short of address space.
func initialMmapSize() int {
	if runtime.GOOS == "windows" || strconv.IntSize < 64 {
		return 0
	}
	return 1 << 30
}
