package vault

import (
	"bytes"
	"context"
	"errors"
	"github.com/clientvault/clientvault/vault/store"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// retainFixture is a vault whose clock a test moves.
type retainFixture struct {
	t    testing.TB
	v    *Vault
	path string
	id   *age.X25519Identity
	now  time.Time
}

func newRetainFixture(t testing.TB, policy consent.Policy) *retainFixture {
	t.Helper()
	f := &retainFixture{t: t, path: filepath.Join(t.TempDir(), "vault.db"), now: time.Date(2015, 3, 1, 10, 0, 0, 0, time.UTC)}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	f.id = id
	err = Create(f.path, CreateOptions{Owner: []age.Recipient{id.Recipient()}, Retention: policy, Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.open()
	t.Cleanup(func() { f.v.Close() })
	return f
}

func (f *retainFixture) clock() time.Time { return f.now }

func (f *retainFixture) open() {
	f.t.Helper()
	v, err := Open(f.path, Options{Now: f.clock})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := v.Unlock(f.id); err != nil {
		f.t.Fatal(err)
	}
	f.v = v
}

func (f *retainFixture) reopen() {
	f.t.Helper()
	if err := f.v.Close(); err != nil {
		f.t.Fatal(err)
	}
	f.open()
}

// add stores records and returns their IDs.
func (f *retainFixture) add(recs ...*records.Record) []ID {
	f.t.Helper()
	i := 0
	ids, err := f.v.Add(context.Background(), func() (*records.Record, error) {
		if i == len(recs) {
			return nil, io.EOF
		}
		i++
		return recs[i-1], nil
	}, AddOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// sealedSlice returns 64 bytes from the middle of a record's stored
// ciphertext, as the vault file holds them.
func (f *retainFixture) sealedSlice(id ID) []byte {
	f.t.Helper()
	var out []byte
	err := f.v.view(func(tx *txn) error {
		raw, err := f.v.getEntry(tx, id)
		if err != nil {
			return err
		}
		e, err := unmarshalEntry(raw)
		if err != nil {
			return err
		}
		mid := len(e.Sealed) / 2
		out = clone(e.Sealed[mid : mid+64])
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *retainFixture) fileHas(b []byte) bool {
	f.t.Helper()
	return bytes.Contains(storedBytes(f.t, f.path), b)
}

// verifyOnlyRoot checks that verify finds nothing but the state root of
// bucket not matching: what an edit of the file by hand leaves, once the
// objects it touched were written again, since the root commits to the
// set of objects and the edit changed that set outside clientvault.
func (f *retainFixture) verifyOnlyRoot(bucket []byte) {
	f.t.Helper()
	rep, err := f.v.Verify()
	if err != nil {
		f.t.Fatal(err)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].What != stateMismatch(bucket) {
		f.t.Fatalf("verify: %v, want only the %s root", rep.Problems, bucket)
	}
}

func (f *retainFixture) verifyOK() *Report {
	f.t.Helper()
	rep, err := f.v.Verify()
	if err != nil {
		f.t.Fatal(err)
	}
	if !rep.OK() {
		f.t.Fatalf("verify: %v", rep.Problems)
	}
	if _, err := f.v.VerifyAudit(); err != nil {
		f.t.Fatalf("audit --verify: %v", err)
	}
	return rep
}

func (f *retainFixture) lastEvent() Event {
	f.t.Helper()
	evs, err := f.v.Audit(AuditFilter{})
	if err != nil {
		f.t.Fatal(err)
	}
	return evs[len(evs)-1]
}

func client(name string, dob records.Date, visits ...records.Date) *records.Record {
	r := &records.Record{Name: name, DOB: dob, Phone: "+1 555 0100", Notes: strings.Repeat("prefers afternoons. ", 20)}
	for _, d := range visits {
		r.Treatments = append(r.Treatments, records.Treatment{Date: d, Service: "laser hair removal", Area: "underarm"})
	}
	return r
}

func day(y int, m time.Month, d int) records.Date { return records.Date{Year: y, Month: m, Day: d} }

func TestRetainUntilFromPolicy(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{Years: 7, MinorAge: 18, MinorUntilAge: 25})
	ids := f.add(
		client("Adult Client", day(1980, 1, 1), day(2015, 2, 1)),
		client("No Birthday", records.Date{}, day(2015, 2, 1)), // no DOB: not a minor
		client("Young Client", day(2005, 6, 1), day(2015, 2, 1)),
		client("Never Treated", day(1980, 1, 1)), // counted from creation
	)
	// Stored rounded up to the end of the month (see retainUntil).
	want := []records.Date{day(2022, 2, 28), day(2022, 2, 28), day(2030, 6, 30), day(2022, 3, 31)}
	for i, id := range ids {
		s, err := f.v.View(id.String())
		if err != nil {
			t.Fatal(err)
		}
		if s.RetainUntil != want[i] {
			t.Errorf("record %d: retain until %s, want %s", i, s.RetainUntil, want[i])
		}
	}
}

func TestFutureTreatmentRefused(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{})
	i := 0
	_, err := f.v.Add(context.Background(), func() (*records.Record, error) {
		if i > 0 {
			return nil, io.EOF
		}
		i++
		return client("Future Visit", day(1990, 1, 1), day(2015, 3, 2)), nil
	}, AddOptions{})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("add with a treatment tomorrow: %v, want ErrInvalid", err)
	}
	ids := f.add(client("Jane Doe", day(1990, 1, 1), day(2015, 2, 1)))
	_, err = f.v.Note(ids[0].String(), records.Treatment{Date: day(2016, 1, 1), Service: "peel"})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("note dated next year: %v, want ErrInvalid", err)
	}
	s, _ := f.v.View(ids[0].String())
	if s.RetainUntil != day(2022, 2, 28) {
		t.Fatalf("a refused note moved the retention date to %s", s.RetainUntil)
	}
}

func TestSetRetention(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{Years: 7})
	ids := f.add(
		client("Adult Client", day(1980, 1, 1), day(2010, 2, 1)),
		client("Young Client", day(2000, 6, 1), day(2010, 2, 1)),
	)
	st, err := f.v.RetentionStatus()
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 2 || st.Due != 0 {
		t.Fatalf("status before: %+v", st)
	}
	if _, err := f.v.SetRetention(consent.Policy{Years: 0, MinorAge: 30, MinorUntilAge: 20}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid policy: %v", err)
	}
	rep, err := f.v.SetRetention(consent.Policy{Years: 3, MinorAge: 18, MinorUntilAge: 21})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed != 2 || rep.Due != 1 {
		t.Fatalf("report: %+v, want 2 changed, 1 due", rep)
	}
	for i, want := range []records.Date{day(2013, 2, 28), day(2021, 6, 30)} {
		s, _ := f.v.View(ids[i].String())
		if s.RetainUntil != want {
			t.Errorf("record %d: retain until %s, want %s", i, s.RetainUntil, want)
		}
	}
	if ev := f.lastEvent(); ev.Action != "view" {
		t.Fatalf("last event %q", ev.Action)
	}
	evs, _ := f.v.Audit(AuditFilter{})
	found := false
	for _, e := range evs {
		found = found || (e.Action == "retention" && e.Count == 2)
	}
	if !found {
		t.Fatal("no retention audit event")
	}
	f.reopen()
	if p := f.v.Retention(); p.Years != 3 || p.MinorUntilAge != 21 {
		t.Fatalf("policy after reopen: %+v", p)
	}
	f.verifyOK()
}

func TestExpire(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{Years: 3})
	ids := f.add(
		client("Old Client", day(1980, 1, 1), day(2011, 1, 10)),   // due
		client("Held Client", day(1980, 1, 1), day(2011, 1, 10)),  // due but held
		client("Recent Client", day(1980, 1, 1), day(2014, 5, 1)), // kept
	)
	gone, held, kept := ids[0], ids[1], ids[2]
	if _, err := f.v.Hold(held.String(), HoldOptions{Reason: "pending claim"}); err != nil {
		t.Fatal(err)
	}
	slices := [][]byte{f.sealedSlice(gone), f.sealedSlice(held), f.sealedSlice(kept)}
	if !f.fileHas(slices[0]) {
		t.Fatal("test is broken: the ciphertext slice is not in the file")
	}

	dry, err := f.v.Expire(ExpireOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Expired) != 1 || dry.Expired[0] != gone.String() || len(dry.Held) != 1 || dry.Held[0] != held.String() {
		t.Fatalf("dry run: %+v", dry)
	}
	if _, err := f.v.View(gone.String()); err != nil {
		t.Fatalf("dry run destroyed the record: %v", err)
	}

	rep, err := f.v.Expire(ExpireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Expired) != 1 || rep.Expired[0] != gone.String() || rep.Records != 3 {
		t.Fatalf("expire: %+v", rep)
	}
	if f.fileHas(slices[0]) {
		t.Fatal("the destroyed record's ciphertext is still in the vault file")
	}
	if !f.fileHas(slices[1]) || !f.fileHas(slices[2]) {
		t.Fatal("a kept record's ciphertext is gone")
	}
	if _, err := f.v.View(gone.String()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("view by ID after expiry: %v", err)
	}
	if _, err := f.v.View("Old Client"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("view by name after expiry: %v", err)
	}
	err = f.v.engine().View(func(tx store.Tx) error {
		return tx.Bucket(bucketIndex).ForEach(func(k, _ []byte) error {
			if ID(k[tagLen:]) == gone {
				t.Error("an index entry of the destroyed record remains")
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	rep2 := f.verifyOK()
	if rep2.Records != 2 || rep2.CompactionPending {
		t.Fatalf("verify after expiry: %+v", rep2)
	}
	evs, _ := f.v.Audit(AuditFilter{Record: gone.String()})
	last := evs[len(evs)-1]
	if last.Action != "expire" || last.Detail != ReasonRetentionEnded || last.Record != gone.String() {
		t.Fatalf("audit of the expiry: %+v", last)
	}

	// The survivors stay after a second run, and nothing is due.
	rep, err = f.v.Expire(ExpireOptions{})
	if err != nil || len(rep.Expired) != 0 {
		t.Fatalf("second expire: %+v, %v", rep, err)
	}
}

func TestExpireEmptyVault(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{})
	rep, err := f.v.Expire(ExpireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 0 || len(rep.Expired) != 0 || rep.Expired == nil {
		t.Fatalf("expire on an empty vault: %+v", rep)
	}
	f.verifyOK()
}

// TestExpireRefusesForgedDates flips an entry's public retention date: a
// forger must not be able to make a record expire early. Expire finds what is
// due from the expiry metadata, which still has the true date, so the forged
// entry is not destroyed; verify reports it. (A forged entry of a record
// past retention stops Expire: TestExpireChecksEntryBeforeDestroying.)
func TestExpireRefusesForgedDates(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{Years: 7})
	ids := f.add(client("Jane Doe", day(1980, 1, 1), day(2014, 1, 1)))
	err := f.v.engine().Update(func(tx store.Tx) error {
		slot := tx.Bucket(bucketIDs).Get(ids[0][:])
		raw := clone(tx.Bucket(bucketRecords).Get(slot))
		e, err := unmarshalEntry(raw)
		if err != nil {
			return err
		}
		e.RetainUntil = day(2000, 1, 1)
		forged := e.marshal(f.v.keys)
		copy(forged[len(forged)-macLen:], raw[len(raw)-macLen:]) // keep the old MAC
		return tx.Bucket(bucketRecords).Put(clone(slot), forged)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{true, false} {
		rep, err := f.v.Expire(ExpireOptions{DryRun: dry})
		if err != nil && !errors.Is(err, ErrTampered) {
			t.Fatal(err)
		}
		if err == nil && len(rep.Expired) != 0 {
			t.Fatalf("expire (dry run %v) over a forged date destroyed %v", dry, rep.Expired)
		}
	}
	if err := f.v.engine().View(func(tx store.Tx) error {
		if tx.Bucket(bucketIDs).Get(ids[0][:]) == nil {
			t.Fatal("the record with the forged date is gone")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if rep, err := f.v.Verify(); err != nil || !hasProblem(rep, ids[0].String()) {
		t.Fatalf("verify does not report the forged entry: %+v, %v", rep, err)
	}
}

func TestHoldAndRelease(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{Years: 1})
	ids := f.add(client("Jane Doe", day(1980, 1, 1), day(2012, 1, 1)))
	id := ids[0]
	if _, err := f.v.Hold("0123456789abcdef", HoldOptions{Reason: "claim"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("hold on an unknown record: %v", err)
	}
	if _, err := f.v.Hold(id.String(), HoldOptions{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("hold without a reason: %v", err)
	}
	if _, err := f.v.Release(id.String()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("release without a hold: %v", err)
	}
	reason := "Subpoena 4471 in Doe v. Salon"
	h, err := f.v.Hold(id.String(), HoldOptions{Reason: reason, Review: day(2015, 9, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if h.Record != id.String() || !h.Active() || h.By != "owner" {
		t.Fatalf("hold: %+v", h)
	}
	if f.fileHas([]byte("Subpoena 4471")) {
		t.Fatal("the hold's reason is in the vault file in the clear")
	}
	s, err := f.v.View(id.String())
	if err != nil || len(s.Holds) != 1 || s.Holds[0].Reason != reason {
		t.Fatalf("view shows holds %+v, %v", s, err)
	}
	list, err := f.v.Holds(false)
	if err != nil || len(list) != 1 {
		t.Fatalf("holds: %v, %v", list, err)
	}
	rep, err := f.v.Expire(ExpireOptions{})
	if err != nil || len(rep.Expired) != 0 || len(rep.Held) != 1 {
		t.Fatalf("expire with a hold: %+v, %v", rep, err)
	}
	var rerr *RetentionError
	_, err = f.v.Erase(id.String(), EraseOptions{Reason: "client asked", Force: true})
	if !errors.Is(err, ErrRetention) || !errors.As(err, &rerr) || !rerr.Held {
		t.Fatalf("erase of a held record: %v", err)
	}
	f.reopen()
	released, err := f.v.Release(id.String())
	if err != nil || len(released) != 1 || released[0].Active() {
		t.Fatalf("release: %v, %v", released, err)
	}
	if list, _ := f.v.Holds(false); len(list) != 0 {
		t.Fatalf("standing holds after release: %v", list)
	}
	if list, _ := f.v.Holds(true); len(list) != 1 {
		t.Fatalf("all holds after release: %v", list)
	}
	f.verifyOK()
	rep, err = f.v.Expire(ExpireOptions{})
	if err != nil || len(rep.Expired) != 1 {
		t.Fatalf("expire after release: %+v, %v", rep, err)
	}
	err = f.v.engine().View(func(tx store.Tx) error {
		if n := keyCount(tx.Bucket(bucketHolds)); n != 0 {
			t.Errorf("%d holds of the destroyed record remain", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.verifyOK()
}

// TestHoldFlagIsAuthenticated clears the hold flag of a stored entry
// without the MAC key: expiry must refuse rather than destroy.
func TestHoldFlagIsAuthenticated(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{Years: 1})
	id := f.add(client("Jane Doe", day(1980, 1, 1), day(2012, 1, 1)))[0]
	if _, err := f.v.Hold(id.String(), HoldOptions{Reason: "claim"}); err != nil {
		t.Fatal(err)
	}
	err := f.v.engine().Update(func(tx store.Tx) error {
		slot := tx.Bucket(bucketIDs).Get(id[:])
		raw := clone(tx.Bucket(bucketRecords).Get(slot))
		e, _ := unmarshalEntry(raw)
		e.Held = false
		forged := e.marshal(f.v.keys)
		copy(forged[len(forged)-macLen:], raw[len(raw)-macLen:])
		return tx.Bucket(bucketRecords).Put(clone(slot), forged)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Expire(ExpireOptions{}); !errors.Is(err, ErrTampered) {
		t.Fatalf("expire with a forged hold flag: %v", err)
	}
}

func TestErase(t *testing.T) {
	f := newRetainFixture(t, consent.Policy{Years: 7})
	ids := f.add(
		client("Jane Doe", day(1980, 1, 1), day(2014, 6, 1)),
		client("John Roe", day(1980, 1, 1), day(2014, 6, 1)),
	)
	id := ids[0]
	slice := f.sealedSlice(id)
	if _, err := f.v.Erase(id.String(), EraseOptions{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("erase without a reason: %v", err)
	}
	_, err := f.v.Erase(id.String(), EraseOptions{Reason: "client asked"})
	var rerr *RetentionError
	if !errors.As(err, &rerr) || rerr.Held || rerr.Until != day(2021, 6, 30) || !strings.Contains(err.Error(), "2021-06-30") {
		t.Fatalf("erase before retention ended: %v", err)
	}
	if _, err := f.v.View(id.String()); err != nil {
		t.Fatalf("a refused erase destroyed the record: %v", err)
	}
	reason := "Jane Doe asked by letter of 2015-02-27"
	rep, err := f.v.Erase("Jane Doe", EraseOptions{Reason: reason, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ID != id.String() || !rep.Forced {
		t.Fatalf("erase: %+v", rep)
	}
	if f.fileHas(slice) {
		t.Fatal("the erased record's ciphertext is still in the vault file")
	}
	if f.fileHas([]byte("letter of 2015")) {
		t.Fatal("the erasure's reason is in the vault file in the clear")
	}
	ev := f.lastEvent()
	if ev.Action != "erase" || ev.Record != id.String() || ev.Detail != ReasonErasureForced {
		t.Fatalf("audit: %+v", ev)
	}
	if note, err := f.v.OpenNote(ev); err != nil || note != reason {
		t.Fatalf("sealed reason: %q, %v", note, err)
	}
	f.verifyOK()
	if _, err := f.v.View(ids[1].String()); err != nil {
		t.Fatal(err)
	}
	// After retention, no force is needed.
	f.now = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	rep, err = f.v.Erase(ids[1].String(), EraseOptions{Reason: "client asked"})
	if err != nil || rep.Forced {
		t.Fatalf("erase after retention: %+v, %v", rep, err)
	}
	if ev := f.lastEvent(); ev.Detail != ReasonErasure {
		t.Fatalf("audit: %+v", ev)
	}
	f.verifyOK()
}

// TestCompactionCrash stops the compaction of an erasure just before the
// rename, as a crash would: the old vault is whole, marked, and the next
// open finishes.
func TestCompactionCrash(t *testing.T) {
	fileOnly(t, "a crash while the file is copied")
	f := newRetainFixture(t, consent.Policy{Years: 1})
	ids := f.add(client("Jane Doe", day(1980, 1, 1), day(2012, 1, 1)), client("John Roe", day(1980, 1, 1), day(2015, 1, 1)))
	slice := f.sealedSlice(ids[0])
	crash := errors.New("simulated crash")
	f.v.hooks.step = func(step string) error {
		if step == "rename" {
			return crash
		}
		return nil
	}
	if _, err := f.v.Erase(ids[0].String(), EraseOptions{Reason: "client asked"}); !errors.Is(err, crash) {
		t.Fatalf("erase: %v", err)
	}
	rep := f.verifyOK()
	if !rep.CompactionPending || rep.Records != 1 {
		t.Fatalf("verify after the crash: %+v", rep)
	}
	if !f.fileHas(slice) {
		t.Fatal("test is broken: the old file should still hold the freed pages")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(f.path), ".clientvault-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	// What a crash in the middle of the copy leaves, and another vault's
	// compaction under way in the same directory.
	dir := filepath.Dir(f.path)
	mine := filepath.Join(dir, compactPrefix+"vault.db-123")
	theirs := filepath.Join(dir, compactPrefix+"other.db-123")
	os.WriteFile(mine, []byte("partial"), 0o600)
	os.WriteFile(theirs, []byte("in progress"), 0o600)
	f.reopen() // finishes the compaction
	if f.fileHas(slice) {
		t.Fatal("reopening did not finish the compaction")
	}
	if _, err := os.Stat(mine); err == nil {
		t.Error("the interrupted compaction's file was left")
	}
	if _, err := os.Stat(theirs); err != nil {
		t.Error("another vault's compaction file was removed")
	}
	rep = f.verifyOK()
	if rep.CompactionPending || rep.Records != 1 {
		t.Fatalf("verify after reopening: %+v", rep)
	}
}

// TestCompactionDiskFull caps the new file's size (bbolt's MaxSize) while
// an erasure compacts, as a full disk would: the old vault stays intact,
// marked, and verifies.
func TestCompactionDiskFull(t *testing.T) {
	fileOnly(t, "a full disk under the file's copy")
	f := newRetainFixture(t, consent.Policy{Years: 1})
	// Enough live data that the compacted file outgrows the cap.
	recs := []*records.Record{client("Old Client", day(1980, 1, 1), day(2012, 1, 1))}
	for i := range 60 {
		recs = append(recs, client("Client "+string(rune('A'+i%26))+string(rune('a'+i/26)), day(1980, 1, 1), day(2015, 1, 1)))
	}
	recs = append(recs, client("Kept Client", day(1980, 1, 1), day(2015, 1, 1)))
	ids := f.add(recs...)
	slice := f.sealedSlice(ids[0])
	f.v.hooks.maxSize = 64 << 10
	_, err := f.v.Erase(ids[0].String(), EraseOptions{Reason: "client asked"})
	if !errors.Is(err, bolterrors.ErrMaxSizeReached) {
		t.Fatalf("erase on a full disk: %v", err)
	}
	rep := f.verifyOK()
	if !rep.CompactionPending || rep.Records != 61 {
		t.Fatalf("verify after a full disk: %+v", rep)
	}
	if _, err := f.v.View("Kept Client"); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(f.path), ".clientvault-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	// Space is freed: the next command that writes compacts.
	f.v.hooks.maxSize = 0
	f.reopen()
	if f.fileHas(slice) {
		t.Fatal("the compaction was not finished")
	}
	if rep := f.verifyOK(); rep.CompactionPending {
		t.Fatal("still pending")
	}
}

// TestExpireInterruptedDestroysNothing stops an expiry where a crash or a
// full disk would: before the copy, just before the rename, and with the new
// file capped (bbolt's MaxSize). Destruction and compaction are one step,
// so each leaves the vault as it was: the due record still there and
// readable, no "expire" event, no compaction pending, no temporary file.
// Run again, the expiry destroys it and nothing of it is left in the file.
func TestExpireInterruptedDestroysNothing(t *testing.T) {
	fileOnly(t, "the file's copy interrupted")
	crash := errors.New("simulated crash")
	for _, how := range []string{"copy", "rename", "disk full"} {
		t.Run(how, func(t *testing.T) {
			f := newRetainFixture(t, consent.Policy{Years: 1})
			recs := []*records.Record{client("Jane Doe", day(1980, 1, 1), day(2012, 1, 1))}
			for i := range 60 { // enough that the copy outgrows the cap
				recs = append(recs, client("Client "+string(rune('A'+i%26))+string(rune('a'+i/26)), day(1980, 1, 1), day(2015, 1, 1)))
			}
			ids := f.add(recs...)
			slice := f.sealedSlice(ids[0])
			before := f.verifyOK()
			want := crash
			if how == "disk full" {
				f.v.hooks.maxSize, want = 64<<10, bolterrors.ErrMaxSizeReached
			} else {
				f.v.hooks.step = func(step string) error {
					if step == how {
						return crash
					}
					return nil
				}
			}
			rep, err := f.v.Expire(ExpireOptions{})
			if !errors.Is(err, want) || !strings.Contains(err.Error(), "no record was destroyed") {
				t.Fatalf("expire: %v", err)
			}
			if rep == nil || len(rep.Expired) != 0 {
				t.Fatalf("report of an expiry that destroyed nothing: %+v", rep)
			}
			after := f.verifyOK()
			if after.CompactionPending || after.Records != before.Records || after.AuditEntries != before.AuditEntries {
				t.Fatalf("verify after the interruption: %+v, before: %+v", after, before)
			}
			if _, err := f.v.View(ids[0].String()); err != nil {
				t.Fatalf("the due record after the interruption: %v", err)
			}
			if !f.fileHas(slice) {
				t.Fatal("test is broken: the due record's ciphertext should still be in the file")
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(f.path), ".clientvault-*")); len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
			f.v.hooks = compactHooks{}
			rep, err = f.v.Expire(ExpireOptions{})
			if err != nil || len(rep.Expired) != 1 || rep.Expired[0] != ids[0].String() {
				t.Fatalf("expire again: %+v, %v", rep, err)
			}
			if f.fileHas(slice) {
				t.Fatal("the destroyed record's ciphertext is still in the file")
			}
			if _, err := f.v.View(ids[0].String()); !errors.Is(err, ErrNotFound) {
				t.Fatalf("the destroyed record: %v", err)
			}
			if ev := f.lastEvent(); ev.Action != "expire" || ev.Record != ids[0].String() || ev.Detail != ReasonRetentionEnded {
				t.Fatalf("audit: %+v", ev)
			}
			if rep := f.verifyOK(); rep.CompactionPending || rep.Records != before.Records-1 {
				t.Fatalf("verify after the expiry: %+v", rep)
			}
		})
	}
}

// TestWaiterOpensReplacedVault: a second opener that waited for the lock
// while a compaction or a restore replaced the file opens the new file, not
// the old, unlinked one, where its writes would be lost.
func TestWaiterOpensReplacedVault(t *testing.T) {
	for _, how := range []string{"expire", "restore"} {
		t.Run(how, func(t *testing.T) {
			f := newRetainFixture(t, consent.Policy{Years: 1})
			ids := f.add(client("Old Client", day(1980, 1, 1), day(2012, 1, 1)), client("Kept Client", day(1980, 1, 1), day(2015, 1, 1)))
			backup := filepath.Join(t.TempDir(), "b.db")
			if _, err := f.v.Backup(backup, BackupOptions{}); err != nil {
				t.Fatal(err)
			}
			type result struct {
				v   *Vault
				err error
			}
			done := make(chan result, 1)
			go func() {
				w, err := Open(f.path, Options{Now: f.clock, LockTimeout: 10 * time.Second})
				done <- result{w, err}
			}()
			time.Sleep(200 * time.Millisecond) // let the waiter open the old file and block
			var err error
			if how == "expire" {
				_, err = f.v.Expire(ExpireOptions{})
			} else {
				_, err = f.v.Restore(backup, RestoreOptions{})
			}
			if err != nil {
				t.Fatal(err)
			}
			f.v.Close()
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			f.v = r.v
			if err := f.v.Unlock(f.id); err != nil {
				t.Fatal(err)
			}
			if _, err := f.v.Note(ids[1].String(), records.Treatment{Date: day(2015, 2, 1), Service: "peel"}); err != nil {
				t.Fatal(err)
			}
			f.reopen()
			s, err := f.v.View(ids[1].String())
			if err != nil || len(s.Treatments) != 2 {
				t.Fatalf("the waiter's note was lost: %v", err)
			}
			f.verifyOK()
		})
	}
}

// TestCompactionEndsAtLastPage: the compacted vault, and a backup, end with
// their last page. bbolt grows a file in 4 MB steps; left as grown, the
// compaction of a small vault made it bigger than it was.
func TestCompactionEndsAtLastPage(t *testing.T) {
	fileOnly(t, "the file's last page")
	f := newRetainFixture(t, consent.Policy{Years: 1})
	recs := []*records.Record{client("Old Client", day(1980, 1, 1), day(2012, 1, 1))}
	for i := range 200 {
		r := client("Client "+string(rune('A'+i%26))+string(rune('a'+i/26)), day(1980, 1, 1), day(2015, 1, 1))
		r.Notes = strings.Repeat("sensitive skin; ", 60)
		recs = append(recs, r)
	}
	f.add(recs...)
	before := fileSize(f.path)
	if _, err := f.v.Expire(ExpireOptions{}); err != nil {
		t.Fatal(err)
	}
	endsAtLastPage := func(path string) {
		t.Helper()
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.View(func(tx *bolt.Tx) error {
			if size := fileSize(path); size != tx.Size() {
				t.Errorf("%s: %d bytes, its pages end at %d", filepath.Base(path), size, tx.Size())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	after := fileSize(f.path)
	if after >= before {
		t.Errorf("compaction grew the vault: %d -> %d bytes", before, after)
	}
	f.v.Close()
	endsAtLastPage(f.path)
	f.open()
	f.verifyOK()
	backup := filepath.Join(t.TempDir(), "b.db")
	if _, err := f.v.Backup(backup, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	endsAtLastPage(backup)
	// The vault grows from there as any vault does.
	f.add(client("New Client", day(1990, 1, 1), day(2015, 2, 1)))
	f.verifyOK()
}
