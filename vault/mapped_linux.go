package vault

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
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
	_ = v.view(func(*txn) error {
		start := v.db.Info().Data
		end := mappingEnd(start)
		if end <= start {
			return nil
		}
		syscall.Syscall(syscall.SYS_MADVISE, start, end-start, syscall.MADV_DONTNEED)
		return nil
	})
}

// mappingEnd returns the end of this process's memory mapping that starts
// at start, or 0 if there is none.
func mappingEnd(start uintptr) uintptr {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "start-end perms offset dev inode path", addresses in hex.
		from, rest, _ := strings.Cut(sc.Text(), "-")
		to, _, _ := strings.Cut(rest, " ")
		s, err1 := strconv.ParseUint(from, 16, 64)
		e, err2 := strconv.ParseUint(to, 16, 64)
		if err1 == nil && err2 == nil && uintptr(s) == start {
			return uintptr(e)
		}
	}
	return 0
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
