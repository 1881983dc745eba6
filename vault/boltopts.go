package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// openMode says how openBolt opens a vault file.
type openMode int

const (
	openRead    openMode = iota // read only
	openWrite                   // for writing, after checkPages
	openWritten                 // for writing a file this process has just written and synced (a compaction): not checked again
)

// openBolt opens the bbolt file of a vault, as the vault grows and maps it.
// A file that is not a bbolt database, is cut short or is damaged where bbolt
// reads it on opening is ErrCorrupt, and one another process holds past
// timeout is ErrBusy; OS errors pass through.
//
// bbolt reads a database through a memory map, and on opening a writable
// one it reads the freelist page: in a file cut short that page may lie past
// the end, a fault that crashed the program. The file is first opened read
// only, which reads nothing but the meta pages, to check that every page
// lies within it. A damaged freelist page still panics inside bbolt.Open,
// which guard turns into ErrCorrupt; the file's descriptor is then left
// open until the process exits. A vault opened for writing has its page
// headers and freelist checked first (checkPages).
func openBolt(path string, timeout time.Duration, mode openMode) (*bolt.DB, error) {
	open := func(ro, freelist bool) (db *bolt.DB, err error) {
		err = guard(func() error {
			db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: ro,
				InitialMmapSize: initialMmapSize(), PreLoadFreelist: freelist})
			return err
		})
		var pathErr *fs.PathError
		var errno syscall.Errno
		switch {
		case errors.Is(err, bolterrors.ErrTimeout):
			return nil, ErrBusy
		case err == nil, errors.Is(err, ErrCorrupt), errors.As(err, &pathErr), errors.As(err, &errno):
			return db, err
		}
		// bbolt's ErrInvalid, ErrChecksum, ErrVersionMismatch, a file too
		// small for its meta pages, ...
		return nil, fmt.Errorf("%w (%v)", ErrCorrupt, err)
	}
	db, err := open(true, false)
	if err != nil {
		return nil, err
	}
	err = db.View(func(tx *bolt.Tx) error {
		fi, err := os.Stat(path)
		if err == nil && fi.Size() < tx.Size() {
			err = fmt.Errorf("%w (cut short: the file ends before its last page)", ErrCorrupt)
		}
		return err
	})
	if err == nil {
		db.Close()
		// Read only, bbolt reads the freelist when asked; checkStructure
		// needs it, and it is read here under guard.
		db, err = open(mode == openRead, true)
	}
	if err == nil && mode == openWrite {
		// Before anything writes: bbolt trusts the page headers when it frees
		// and reuses pages, so a damaged one would spread (checkPages). About
		// 70 ms for 100,000 records (BenchmarkOpen), mostly page faults.
		err = guard(func() error {
			return db.View(func(tx *bolt.Tx) error {
				if err := checkPages(tx); err != nil {
					return fmt.Errorf("%w (%v)", ErrCorrupt, err)
				}
				return nil
			})
		})
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		return nil, err
	}
	db.AllocSize = growStep(fileSize(path))
	return db, nil
}

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
