package vault

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/clientvault/clientvault/vault/store"
	bolt "go.etcd.io/bbolt"
)

// bbolt trusts the file it maps: a damaged page (one flipped bit in a page
// header is enough) makes it panic on an assertion, slice out of range, or
// read past the end of the map, which is a fault that kills the process.
// Every transaction of the vault runs under guard, which turns those into
// ErrCorrupt, so a damaged vault gets the same one-line error and exit code
// as any other.

// view runs fn in a read transaction, under guard.
// A failed check of a guarded bucket (txn.err) is returned in place of fn's
// own result.
func (v *Vault) view(fn func(*txn) error) error {
	return guard(func() error {
		return v.engine().View(func(tx store.Tx) error {
			t := v.begin(tx)
			err := fn(t)
			if err := v.keys.failure(); err != nil {
				return err // the unlock agent stopped answering
			}
			if t.err != nil {
				return t.err
			}
			return err
		})
	})
}

// update runs fn in a read-write transaction, under guard.
// It commits the state root with what fn wrote (txn.commit), and then moves
// the rollback anchor forward to the new state (anchor.go). A failed check
// of a guarded bucket rolls the transaction back and is returned.
func (v *Vault) update(fn func(*txn) error) error {
	var t *txn
	err := guard(func() error {
		return v.engine().Update(func(tx store.Tx) error {
			t = v.begin(tx)
			err := fn(t)
			switch {
			case v.keys.failure() != nil:
				// The unlock agent stopped answering: what was
				// computed with it is not stored.
				return v.keys.failure()
			case t.err != nil:
				return t.err
			case err != nil:
				return err
			}
			if err := t.commit(); err != nil {
				return err
			}
			if err := v.applyAccess(t); err != nil {
				return err
			}
			return v.keys.failure()
		})
	})
	if err != nil || t.st == nil || !t.changed {
		return err
	}
	v.noteAnchor(v.advanceAnchor(t.st))
	return nil
}

// begin starts the vault's side of the engine's transaction tx. On a shared
// engine (etcd) other computers write between two transactions: the shards
// checked by earlier ones (rooted) are checked again against this
// transaction's state, and the adds staged and not published (pending) are
// those of its snapshot, not those of when the vault was opened (an add
// published since is seen, one begun since is not). Both are the
// transaction's own, for a bulk add runs transactions on two goroutines.
// An optimistic transaction that is run again after a conflict begins anew
// here too.
func (v *Vault) begin(tx store.Tx) *txn {
	t := &txn{Tx: tx, v: v, pending: v.pending, rooted: v.rooted}
	if v.remote != nil {
		// A malformed stage key fails the transaction where it is read
		// (readHeader); here it is only not a stage.
		t.pending, _ = pendingIn(tx)
		t.rooted = map[string]map[byte]bool{}
	}
	return t
}

// pendingIn returns the stages of the bulk adds in tx not published; a key
// that is not a stage number is ErrCorrupt, with the stages listed all the
// same.
func pendingIn(tx store.Tx) (map[uint64]bool, error) {
	pending := map[uint64]bool{}
	b := tx.Bucket(bucketStages)
	if b == nil {
		return pending, nil
	}
	var bad error
	err := b.ForEach(func(k, _ []byte) error {
		if len(k) != 8 {
			bad = ErrCorrupt // and every well-formed stage is still listed
			return nil
		}
		pending[binary.BigEndian.Uint64(k)] = true
		return nil
	})
	if err == nil {
		err = bad
	}
	return pending, err
}

// guard runs fn with memory faults turned into panics (debug.SetPanicOnFault),
// and returns ErrCorrupt for a fault, or for a panic raised inside bbolt. A
// panic of the vault's own code is not the file's fault: it is raised again.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if _, fault := r.(interface{ Addr() uintptr }); !fault && !panickedIn("go.etcd.io/bbolt") {
			panic(r)
		}
		err = fmt.Errorf("%w (%v)", ErrCorrupt, r)
	}()
	return fn()
}

// panickedIn reports whether the innermost function that called panic, or
// in which the runtime raised one, belongs to the package with path pkg. It
// must be called from a deferred function that is handling the panic, whose
// frames are still on the stack below it.
func panickedIn(pkg string) bool {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic" || strings.HasPrefix(f.Function, "runtime.panic"):
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			return strings.HasPrefix(f.Function, pkg+".") || strings.HasPrefix(f.Function, pkg+"/")
		}
		if !more {
			return false
		}
	}
}

// checkStructure checks the file's structure: bbolt's consistency check
// (tx.Check), after a walk of its own. tx.Check runs in a goroutine of
// bbolt's, out of guard's reach, where a damaged page can make it read past
// the end of the file (a fault that kills the process) or loop over
// billions of pages. So the walk comes first, here, under the caller's
// guard, and reads what the check will follow:
//   - every page header (checkPages, also done on opening);
//   - bbolt's page statistics from the root, which visit every page the
//     buckets reach (a child past the end faults, or fails bbolt's
//     assertion) and must fit in the file;
//   - every key, in order, each found again by a seek from the root, which
//     reads on its way the branch keys the check compares.
//
// A problem found by the walk stops the check before it starts.
func checkStructure(tx *bolt.Tx) []error {
	if err := checkPages(tx); err != nil {
		return []error{err}
	}
	root := tx.Cursor().Bucket()
	if s := root.Stats(); int64(s.BranchAlloc)+int64(s.LeafAlloc) > tx.Size() {
		return []error{fmt.Errorf("the buckets' pages claim more than the file holds")}
	}
	err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		var prev []byte
		seek, c := b.Cursor(), b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if prev != nil && bytes.Compare(prev, k) >= 0 {
				return fmt.Errorf("bucket %s: keys out of order", name)
			}
			if got, _ := seek.Seek(k); !bytes.Equal(got, k) {
				return fmt.Errorf("bucket %s: a key cannot be found from the root", name)
			}
			prev = k
		}
		return nil
	})
	if err != nil {
		return []error{err}
	}
	var errs []error
	for err := range tx.Check() {
		errs = append(errs, err)
	}
	return errs
}

// checkPages reads every page header of the file, in order: each page must
// be free, or the first of a run of pages of a type bbolt writes that ends
// within the file (the rest of the run follows it). bbolt trusts these
// headers: a damaged run length made a write free millions of pages past
// the end of the file, and the next consistency check ran out of memory.
// The freelist must name exactly the free pages found.
// It needs the freelist loaded (openBolt loads it).
func checkPages(tx *bolt.Tx) error {
	end := int(tx.Size() / int64(tx.DB().Info().PageSize))
	free := 0
	for id := 2; id < end; id++ {
		p, err := tx.Page(id)
		switch {
		case err != nil:
			return err
		case p.Type == "free":
			free++
		case p.Type != "leaf" && p.Type != "branch" && p.Type != "freelist":
			return fmt.Errorf("page %d: not a page bbolt writes (%s)", id, p.Type)
		case id+p.OverflowCount >= end:
			return fmt.Errorf("page %d: runs past the end of the file", id)
		default:
			id += p.OverflowCount
		}
	}
	// The freelist may name no page beyond the end, nor one twice: a write
	// would use it (a damaged entry made one grow the file by terabytes).
	if s := tx.DB().Stats(); s.FreePageN+s.PendingPageN != free {
		return fmt.Errorf("the freelist names %d pages, %d of them free within the file", s.FreePageN+s.PendingPageN, free)
	}
	return nil
}
