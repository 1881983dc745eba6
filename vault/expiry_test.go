package vault

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"github.com/clientvault/clientvault/vault/store"
	"io"
	"slices"
	"testing"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// The attacks on the expiry metadata (bucketExpiry) that Expire trusts to
// skip records that are not due. The fixture's today is 2015-03-01 and its
// policy keeps records 7 years: a last visit in 2006 is due, one in 2014 is
// not.

// expiryFixture adds a record that is not due (keep) and one that is (due).
func expiryFixture(t *testing.T) (f *retainFixture, keep, due ID) {
	f = newRetainFixture(t, consent.Policy{Years: 7})
	ids := f.add(client("Kept Client", day(1980, 1, 1), day(2014, 1, 1)), client("Due Client", day(1980, 1, 1), day(2006, 1, 1)))
	return f, ids[0], ids[1]
}

func (f *retainFixture) expiryValue(id ID) []byte {
	f.t.Helper()
	var val []byte
	f.v.engine().View(func(tx store.Tx) error {
		val = clone(tx.Bucket(bucketExpiry).Get(tx.Bucket(bucketIDs).Get(id[:])))
		return nil
	})
	if val == nil {
		f.t.Fatalf("record %s has no expiry metadata", id)
	}
	return val
}

// setExpiry writes val as the expiry metadata in the slot id maps to, or
// deletes it if val is nil.
func (f *retainFixture) setExpiry(id ID, val []byte) {
	f.t.Helper()
	err := f.v.engine().Update(func(tx store.Tx) error {
		slot := clone(tx.Bucket(bucketIDs).Get(id[:]))
		if val == nil {
			return tx.Bucket(bucketExpiry).Delete(slot)
		}
		return tx.Bucket(bucketExpiry).Put(slot, val)
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *retainFixture) present(id ID) bool {
	f.t.Helper()
	found := false
	f.v.engine().View(func(tx store.Tx) error {
		found = tx.Bucket(bucketIDs).Get(id[:]) != nil
		return nil
	})
	return found
}

// expireBoth runs a dry run and an expiry and returns the expiry's report.
func (f *retainFixture) expireBoth() (*ExpireReport, error) {
	f.t.Helper()
	dry, err := f.v.Expire(ExpireOptions{DryRun: true})
	if err != nil {
		return nil, err
	}
	rep, err := f.v.Expire(ExpireOptions{})
	if err == nil && !slices.Equal(dry.Expired, rep.Expired) {
		f.t.Fatalf("dry run said %v, expire destroyed %v", dry.Expired, rep.Expired)
	}
	return rep, err
}

// TestExpiryMetadataWritten: every way of adding or rewriting a record
// keeps its expiry metadata current, and destroying it removes it.
func TestExpiryMetadataWritten(t *testing.T) {
	f, keep, due := expiryFixture(t)
	f.verifyOK()
	if _, err := f.v.Hold(keep.String(), HoldOptions{Reason: "claim"}); err != nil {
		t.Fatal(err)
	}
	f.verifyOK()
	if _, err := f.v.Note(keep.String(), records.Treatment{Date: day(2015, 2, 1), Service: "peel"}); err != nil {
		t.Fatal(err)
	}
	f.verifyOK()
	if _, err := f.v.Release(keep.String()); err != nil {
		t.Fatal(err)
	}
	f.verifyOK()
	if _, err := f.v.SetRetention(consent.Policy{Years: 8}); err != nil {
		t.Fatal(err)
	}
	f.verifyOK()
	if _, err := f.v.SetRetention(consent.Policy{Years: 7}); err != nil {
		t.Fatal(err)
	}
	rep, err := f.v.Expire(ExpireOptions{})
	if err != nil || !slices.Equal(rep.Expired, []string{due.String()}) {
		t.Fatalf("expire: %+v, %v", rep, err)
	}
	f.verifyOK()
	f.v.engine().View(func(tx store.Tx) error {
		if n := keyCount(tx.Bucket(bucketExpiry)); n != 1 {
			t.Errorf("%d expiry entries, want 1", n)
		}
		return nil
	})
}

// TestExpiryMetadataForged: a forger who moves a record's retain-until date
// into the past in its expiry metadata (the MAC left as it was), or changes
// its other fields, or points its ID at another slot, is refused, and
// nothing is destroyed.
func TestExpiryMetadataForged(t *testing.T) {
	for _, field := range []string{"date", "held", "tag", "mac", "slot"} {
		t.Run(field, func(t *testing.T) {
			f, keep, due := expiryFixture(t)
			val := f.expiryValue(keep)
			switch field {
			case "date":
				binary.BigEndian.PutUint32(val[8:12], 20000101)
			case "held":
				val[12] ^= 1
			case "tag":
				val[expiryBodyLen-1] ^= 1
			case "mac":
				val[len(val)-1] ^= 1
			case "slot":
				// The row moved to the next slot: the due record's.
				err := f.v.engine().Update(func(tx store.Tx) error {
					exp := tx.Bucket(bucketExpiry)
					slot := clone(tx.Bucket(bucketIDs).Get(keep[:]))
					if err := exp.Delete(slot); err != nil {
						return err
					}
					slot[7]++
					return exp.Put(slot, val)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if field != "slot" {
				f.setExpiry(keep, val)
			}
			if _, err := f.expireBoth(); !errors.Is(err, ErrTampered) {
				t.Fatalf("expire over forged metadata: %v, want ErrTampered", err)
			}
			if !f.present(keep) || !f.present(due) {
				t.Fatal("a record was destroyed")
			}
			if rep, err := f.v.Verify(); err != nil || !hasProblem(rep, keep.String()) {
				t.Fatalf("verify: %+v, %v", rep, err)
			}
		})
	}
}

// TestExpiryMetadataSwapped: the MAC binds the metadata to its record's ID,
// so swapping two records' metadata, or copying a due record's onto one that
// is not, is refused.
func TestExpiryMetadataSwapped(t *testing.T) {
	for _, how := range []string{"swap", "copy"} {
		t.Run(how, func(t *testing.T) {
			f, keep, due := expiryFixture(t)
			a, b := f.expiryValue(keep), f.expiryValue(due)
			f.setExpiry(keep, b)
			if how == "swap" {
				f.setExpiry(due, a)
			}
			if _, err := f.expireBoth(); !errors.Is(err, ErrTampered) {
				t.Fatalf("expire over %sped metadata: %v, want ErrTampered", how, err)
			}
			if !f.present(keep) || !f.present(due) {
				t.Fatal("a record was destroyed")
			}
			rep, err := f.v.Verify()
			if err != nil || !hasProblem(rep, keep.String()) || how == "swap" && !hasProblem(rep, due.String()) {
				t.Fatalf("verify: %+v, %v", rep, err)
			}
		})
	}
}

// TestExpiryMetadataReplayed: metadata from an earlier version of the same
// record carries a valid MAC. Replayed to make a record expire early (its
// retention since extended by a new treatment) it destroys nothing: Expire
// reads the entry of every record the metadata says is past retention.
// Replayed to keep a released record held, it does not keep it.
func TestExpiryMetadataReplayed(t *testing.T) {
	t.Run("early", func(t *testing.T) {
		f, keep, due := expiryFixture(t)
		old := f.expiryValue(due)
		if _, err := f.v.Note(due.String(), records.Treatment{Date: day(2015, 2, 1), Service: "peel"}); err != nil {
			t.Fatal(err)
		}
		f.setExpiry(due, old)
		if rep, err := f.v.Verify(); err != nil || !hasProblem(rep, due.String()) {
			t.Fatalf("verify does not report the stale metadata: %+v, %v", rep, err)
		}
		rep, err := f.expireBoth()
		if err != nil || len(rep.Expired) != 0 {
			t.Fatalf("expire over replayed metadata: %+v, %v", rep, err)
		}
		if !f.present(due) || !f.present(keep) {
			t.Fatal("a record was destroyed early")
		}
		// The expiry rewrote the stale row; the root still says the table
		// was edited by hand.
		f.verifyOnlyRoot(bucketExpiry)
	})
	t.Run("held", func(t *testing.T) {
		f, _, due := expiryFixture(t)
		if _, err := f.v.Hold(due.String(), HoldOptions{Reason: "claim"}); err != nil {
			t.Fatal(err)
		}
		old := f.expiryValue(due)
		if rep, err := f.v.Expire(ExpireOptions{DryRun: true}); err != nil || !slices.Equal(rep.Held, []string{due.String()}) {
			t.Fatalf("dry run on a held record: %+v, %v", rep, err)
		}
		if _, err := f.v.Release(due.String()); err != nil {
			t.Fatal(err)
		}
		f.setExpiry(due, old)
		rep, err := f.expireBoth()
		if err != nil || !slices.Equal(rep.Expired, []string{due.String()}) {
			t.Fatalf("expire over a replayed hold: %+v, %v", rep, err)
		}
		f.verifyOnlyRoot(bucketExpiry)
	})
}

// TestExpiryMetadataDeleted: a record whose metadata was deleted is decided
// from its entry, so deleting a due record's metadata does not keep it.
func TestExpiryMetadataDeleted(t *testing.T) {
	f, keep, due := expiryFixture(t)
	f.setExpiry(due, nil)
	f.setExpiry(keep, nil)
	rep, err := f.v.Verify()
	if err != nil || !hasProblem(rep, due.String()) || !hasProblem(rep, keep.String()) {
		t.Fatalf("verify does not report the missing metadata: %+v, %v", rep, err)
	}
	exp, err := f.expireBoth()
	if err != nil || !slices.Equal(exp.Expired, []string{due.String()}) || exp.Records != 2 {
		t.Fatalf("expire without metadata: %+v, %v", exp, err)
	}
	f.verifyOnlyRoot(bucketExpiry) // the kept record's row was rewritten
	// Metadata for a record that is not in the vault is reported.
	err = f.v.engine().Update(func(tx store.Tx) error {
		return tx.Bucket(bucketExpiry).Put(seqKey(1<<40), f.expiryValue(keep))
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := f.v.Verify(); err != nil || !hasProblem(rep, keep.String()) {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

// TestExpireChecksEntryBeforeDestroying: a due record whose entry fails its
// MAC stops Expire; nothing is destroyed on the metadata's word alone.
func TestExpireChecksEntryBeforeDestroying(t *testing.T) {
	f, keep, due := expiryFixture(t)
	err := f.v.engine().Update(func(tx store.Tx) error {
		slot := tx.Bucket(bucketIDs).Get(due[:])
		raw := clone(tx.Bucket(bucketRecords).Get(slot))
		raw[len(raw)/2] ^= 1
		return tx.Bucket(bucketRecords).Put(clone(slot), raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.expireBoth(); !errors.Is(err, ErrTampered) {
		t.Fatalf("expire over a tampered due entry: %v, want ErrTampered", err)
	}
	if !f.present(keep) || !f.present(due) {
		t.Fatal("a record was destroyed")
	}
}

// TestExpiryMetadataBuilt: a vault made before the expiry bucket existed
// is expired correctly from its entries, read-only too, and gets the bucket
// at the first Unlock that may write.
func TestExpiryMetadataBuilt(t *testing.T) {
	f, _, due := expiryFixture(t)
	if err := f.v.engine().Update(func(tx store.Tx) error { return tx.DeleteBucket(bucketExpiry) }); err != nil {
		t.Fatal(err)
	}
	f.v.Close()
	ro, err := Open(f.path, Options{Now: f.clock, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.Unlock(f.id); err != nil {
		t.Fatal(err)
	}
	rep, err := ro.Expire(ExpireOptions{DryRun: true})
	if err != nil || !slices.Equal(rep.Expired, []string{due.String()}) {
		t.Fatalf("read-only dry run without metadata: %+v, %v", rep, err)
	}
	ro.Close()
	f.open()
	f.v.engine().View(func(tx store.Tx) error {
		if b := tx.Bucket(bucketExpiry); b == nil || keyCount(b) != 2 {
			t.Fatal("unlock did not build the expiry metadata")
		}
		return nil
	})
	f.verifyOnlyRoot(bucketExpiry) // the bucket was deleted by hand
}

// TestExpiryMetadataStaged: a staged bulk add writes the metadata of its
// records with their ID map, also when it publishes early (publishEvery),
// and an interrupted one leaves none behind.
func TestExpiryMetadataStaged(t *testing.T) {
	defer func(n int) { publishEvery = n }(publishEvery)
	publishEvery = 4
	f := newRetainFixture(t, consent.Policy{Years: 7})
	add := func(n int, fail error) error {
		i := 0
		_, err := f.v.Add(context.Background(), func() (*records.Record, error) {
			if i == n {
				if fail != nil {
					return nil, fail
				}
				return nil, io.EOF
			}
			i++
			visit := day(2014, 1, 1)
			if i%2 == 0 {
				visit = day(2006, 1, 1)
			}
			return client("Client "+itoa(i+n), day(1980, 1, 1), visit), nil
		}, AddOptions{BatchSize: 3})
		return err
	}
	if err := add(11, nil); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("input ended badly")
	if err := add(10, boom); !errors.Is(err, boom) {
		t.Fatalf("interrupted add: %v", err)
	}
	f.verifyOK()
	f.v.engine().View(func(tx store.Tx) error {
		if n := keyCount(tx.Bucket(bucketExpiry)); n != 11 {
			t.Errorf("%d expiry entries, want 11", n)
		}
		return nil
	})
	rep, err := f.v.Expire(ExpireOptions{})
	if err != nil || len(rep.Expired) != 5 || rep.Records != 11 {
		t.Fatalf("expire after a staged add: %+v, %v", rep, err)
	}
	f.verifyOK()
}

// FuzzExpiryRead: the expiry metadata parser never panics, and accepts only
// the exact bytes expiryValue makes for the record's ID: one encoding per
// state, so what is read is what was MAC'd.
func FuzzExpiryRead(f *testing.F) {
	k, err := newKeySet()
	if err != nil {
		f.Fatal(err)
	}
	id := ID{1, 2, 3, 4, 5, 6, 7, 8}
	slot := seqKey(42)
	e := &entry{ID: id, RetainUntil: day(2021, 1, 31), Held: true, Stage: 9}
	good, err := k.expiryValue(id, slot, e, make([]byte, expiryTagLen))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{})
	r := k.newExpiryReader()
	f.Fuzz(func(t *testing.T, val []byte) {
		s, ok := r.read(id, slot, val)
		if !ok {
			return
		}
		back, err := k.expiryValue(id, slot, &entry{ID: id, RetainUntil: s.retainUntil, Held: s.held, Stage: s.stage}, s.entryTag)
		if err != nil || !bytes.Equal(back, val) {
			t.Fatalf("accepted %x, which re-encodes as %x (%v)", val, back, err)
		}
	})
}
