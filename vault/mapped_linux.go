package vault

import (
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dropMapped lets the kernel drop the vault file's pages from this process's
// resident memory. bbolt reads the file through a memory map, and every page
// a lookup touches stays mapped, with its neighbours (the kernel maps pages
// around a fault that are in the page cache, such as the records a batch
// just wrote); a bulk add that rewrites index pages all over a large file
// would otherwise end with most of the file resident. The pages are clean
// and shared with the page cache, so dropping them loses nothing: the next
// read maps them again.
//
// Dropping costs the page faults that map the pages again, so it is done only
// once the process holds more than mappedBudget of file pages. It is called
// between commits: a commit maps again every page it rewrites, so the peak
// is the budget plus what one commit maps.
func (v *Vault) dropMapped() {
	if fileResident() >= mappedBudget {
		v.unmapPages()
	}
}

// unmapPages drops the vault file's pages from this process's memory.
func (v *Vault) unmapPages() {
	if v.db == nil {
		return // not a file: nothing mapped
	}
	// The map cannot move (bbolt remaps only with no read transaction
	// open) while this runs.
	_ = v.view(func(tx *txn) error {
		if m := mappedData(tx); m != nil {
			unix.Madvise(m, unix.MADV_DONTNEED)
		}
		return nil
	})
}

// mappedData returns the part of bbolt's memory map of the vault file that
// holds tx's pages, from the map's start (bbolt's Info.Data) to the file's
// size as tx sees it, or nil if there is none. bbolt does not report the
// map's own size, which is larger (initialMmapSize), but every page that a
// read or a commit touches lies within this part. The slice stays valid
// while tx is a read transaction (bbolt maps the file again only when none
// is open); a write transaction that grows the file past the map moves it,
// so there the slice serves only for hints (readAround), never to drop
// pages.
func mappedData(tx *txn) []byte {
	f := tx.file()
	if f == nil {
		return nil // not a file: nothing mapped
	}
	start, size := f.DB().Info().Data, f.Size()
	if start == 0 || size <= 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(nil, start)), size)
}

// mappedBudget is how much of the vault file may stay mapped in memory
// before dropMapped lets it go.
const mappedBudget = 64 << 20

// fileResident returns how much of this process's resident memory is file
// pages (the vault's map, and the program's own code), or 0 if unknown. It
// reads /proc/self/statm, whose counters cost nothing to read, unlike
// smaps, which walks the page tables.
func fileResident() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	// size resident shared text lib data dt, in pages; shared is the
	// resident file pages.
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return 0
	}
	n, _ := strconv.ParseInt(f[2], 10, 64)
	return n * int64(os.Getpagesize())
}
