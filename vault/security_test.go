package vault

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/clientvault/clientvault/vault/store"
	"os"
	"reflect"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/clientvault/clientvault/records"
	bolt "go.etcd.io/bbolt"
)

// Promise 1: nothing readable at rest.
func TestNoPlaintextInVaultFile(t *testing.T) {
	tv := newTestVault(t)
	secrets := []string{"Quillon Marchbanks", "+1 555 867 5309", "zebrafinch-note", "Accutane-Xyzzy", "quillon@example.test"}
	rec := &records.Record{
		Name: secrets[0], Phone: secrets[1], Notes: secrets[2], Medications: []string{secrets[3]}, Email: secrets[4],
		DOB: records.Date{Year: 1984, Month: 7, Day: 9}, Allergies: []string{"latex"},
		Treatments: []records.Treatment{{Date: records.Date{Year: 2026, Month: 2, Day: 1}, Service: "laser hair removal", Outcome: "mild erythema"}},
	}
	ids := tv.add(t, rec)
	// A peel on Accutane: recorded with its contraindication warning, which
	// is sealed like the rest of the entry.
	peel := records.Treatment{Date: records.Date{Year: 2026, Month: 3, Day: 1}, Service: "peel", Outcome: "zebrafinch-outcome"}
	peel.AcceptWarnings()
	if _, err := tv.Note(ids[0].String(), peel); err != nil {
		t.Fatal(err)
	}
	if _, err := tv.View(secrets[0]); err != nil {
		t.Fatal(err)
	}
	tv.close(t)
	raw := storedBytes(t, tv.path)
	lower := bytes.ToLower(raw)
	// The sealed directory (issue 14) holds the name, its search tokens,
	// phone, email and dates of each record: it must be there, and sealed.
	assertDirectoryRows(t, tv.path, 1)
	for _, s := range append(secrets, "zebrafinch-outcome", "Quillon", "Marchbanks", "8675309", "1984-07-09",
		"quillon marchbanks", "15558675309", "19840709") {
		if bytes.Contains(raw, []byte(s)) || bytes.Contains(lower, []byte(strings.ToLower(s))) {
			t.Errorf("vault file contains %q in the clear", s)
		}
	}
}

// Promise 2: each record is an ordinary age ciphertext, sealed to the vault
// key only, with its ID bound inside.
func TestRecordIsPlainAgeCiphertext(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1))
	var sealed []byte
	tv.withDB(t, func(tx store.Tx) error {
		slot := tx.Bucket(bucketIDs).Get(ids[0][:])
		e, err := unmarshalEntry(tx.Bucket(bucketRecords).Get(slot))
		if err != nil {
			return err
		}
		sealed = clone(e.Sealed)
		return nil
	})
	if !bytes.HasPrefix(sealed, []byte("age-encryption.org/v1\n")) {
		t.Fatalf("stored record is not an age file")
	}
	if n := bytes.Count(sealed, []byte("\n-> X25519 ")); n != 1 {
		t.Errorf("record sealed to %d X25519 recipients, want 1 (the vault key)", n)
	}
	// The owner's own key does not open a record directly: it opens the
	// vault key, which opens the record.
	if _, err := age.Decrypt(bytes.NewReader(sealed), tv.owner); err == nil {
		t.Error("owner key opened a record directly; records must be sealed to the vault key")
	}
	tv.reopen(t)
	r, err := age.Decrypt(bytes.NewReader(sealed), tv.keys.identity)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(r)
	id, rec, err := records.DecodeSealed(buf.Bytes())
	if err != nil || id != ids[0].String() || rec.Name != fakeRecord(1).Name {
		t.Errorf("payload = %q %v %v; want the record bound to its ID", id, rec, err)
	}
}

func TestFlipAnyByteOfAnEntryIsDetected(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1), fakeRecord(2))
	var slot, orig []byte
	tv.withDB(t, func(tx store.Tx) error {
		slot = clone(tx.Bucket(bucketIDs).Get(ids[0][:]))
		orig = clone(tx.Bucket(bucketRecords).Get(slot))
		return nil
	})
	// Every byte of a short entry is too slow to re-open the file for;
	// flip each byte of the metadata and MAC, and a spread of the rest.
	var positions []int
	for i := 0; i < len(orig); i++ {
		if i < 40 || i >= len(orig)-40 || i%37 == 0 {
			positions = append(positions, i)
		}
	}
	// The vault stays open while the attacker edits the entry under it:
	// through its own database handle on a file (bbolt's lock is per
	// process), with another client of the engine on etcd.
	edit := func(fn func(store.Tx) error) error { return rawEngine(t, tv.path, false, fn) }
	var v *Vault
	if pathEngine != nil {
		tv.reopen(t)
		v = tv.Vault
	} else {
		db, err := bolt.Open(tv.path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		v = &Vault{db: db, path: tv.path, opts: Options{Now: testClock, Actor: "owner"}, pending: map[uint64]bool{}, rooted: map[string]map[byte]bool{}}
		if err := v.view(v.readHeader); err != nil {
			t.Fatal(err)
		}
		if err := v.Unlock(tv.owner); err != nil {
			t.Fatal(err)
		}
		edit = func(fn func(store.Tx) error) error { return v.engine().Update(fn) }
	}
	for _, pos := range positions {
		bad := clone(orig)
		bad[pos] ^= 0x01
		if err := edit(func(tx store.Tx) error { return tx.Bucket(bucketRecords).Put(slot, bad) }); err != nil {
			t.Fatal(err)
		}
		_, err := v.View(ids[0].String())
		if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), ids[0].String()) {
			t.Fatalf("byte %d flipped: View error = %v, want tampered naming the record", pos, err)
		}
	}
	rep, err := v.Verify()
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(rep, ids[0].String()) {
		t.Errorf("verify did not report the flipped record: %v", rep.Problems)
	}
	if hasProblem(rep, ids[1].String()) {
		t.Errorf("verify blamed the intact record: %v", rep.Problems)
	}
}

func TestSwappedEntriesAreDetected(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1), fakeRecord(2))
	tv.withDB(t, func(tx store.Tx) error {
		recs := tx.Bucket(bucketRecords)
		s0, s1 := clone(tx.Bucket(bucketIDs).Get(ids[0][:])), clone(tx.Bucket(bucketIDs).Get(ids[1][:]))
		e0, e1 := clone(recs.Get(s0)), clone(recs.Get(s1))
		if err := recs.Put(s0, e1); err != nil {
			return err
		}
		return recs.Put(s1, e0)
	})
	tv.reopen(t)
	for _, id := range ids {
		if _, err := tv.View(id.String()); !errors.Is(err, ErrTampered) {
			t.Errorf("record %s after swap: %v, want tampered", id, err)
		}
	}
	// Swapping only the ciphertexts, keeping each entry's header and MAC:
	tv2 := newTestVault(t)
	ids = tv2.add(t, fakeRecord(1), fakeRecord(2))
	tv2.withDB(t, func(tx store.Tx) error {
		recs := tx.Bucket(bucketRecords)
		s0, s1 := clone(tx.Bucket(bucketIDs).Get(ids[0][:])), clone(tx.Bucket(bucketIDs).Get(ids[1][:]))
		a, _ := unmarshalEntry(recs.Get(s0))
		b, _ := unmarshalEntry(recs.Get(s1))
		a.Sealed, b.Sealed = b.Sealed, a.Sealed
		// The attacker has no MAC key: re-encode with a random one.
		k, _ := newKeySet()
		if err := recs.Put(s0, a.marshal(k)); err != nil {
			return err
		}
		return recs.Put(s1, b.marshal(k))
	})
	tv2.reopen(t)
	rep, err := tv2.Verify()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := tv2.View(id.String()); !errors.Is(err, ErrTampered) {
			t.Errorf("record %s with swapped ciphertext: %v, want tampered", id, err)
		}
		if !hasProblem(rep, id.String()) {
			t.Errorf("verify did not report %s", id)
		}
	}
}

// A ciphertext forged to the vault's public key (which the header shows) or
// to the owner's, with the right ID inside, is refused: it has no valid MAC.
func TestForgedCiphertextIsRefused(t *testing.T) {
	for _, to := range []string{"vault key", "owner key"} {
		t.Run(to, func(t *testing.T) {
			tv := newTestVault(t)
			ids := tv.add(t, fakeRecord(1))
			var recipient age.Recipient = tv.owner.Recipient()
			if to == "vault key" {
				recipient = tv.keys.recipient
			}
			forged := &records.Record{Name: fakeRecord(1).Name, Notes: "forged: no allergies"}
			payload, _ := records.Encode(ids[0].String(), forged)
			ct, err := encrypt(payload, recipient)
			if err != nil {
				t.Fatal(err)
			}
			tv.withDB(t, func(tx store.Tx) error {
				slot := tx.Bucket(bucketIDs).Get(ids[0][:])
				e, err := unmarshalEntry(tx.Bucket(bucketRecords).Get(slot))
				if err != nil {
					return err
				}
				e.Sealed = ct
				// Keep the old MAC bytes: the attacker cannot compute a new one.
				raw := tx.Bucket(bucketRecords).Get(slot)
				k, _ := newKeySet()
				b := e.marshal(k)
				copy(b[len(b)-macLen:], raw[len(raw)-macLen:])
				return tx.Bucket(bucketRecords).Put(clone(slot), b)
			})
			tv.reopen(t)
			if _, err := tv.View(ids[0].String()); !errors.Is(err, ErrTampered) {
				t.Errorf("forged record: %v, want tampered", err)
			}
		})
	}
}

func TestIndexForgeryCannotRedirectAName(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1), fakeRecord(2))
	// Point record 1's name tag at record 2.
	tag := tv.keys.nameTag(fakeRecord(1).Name)
	tv.withDB(t, func(tx store.Tx) error {
		idx := tx.Bucket(bucketIndex)
		if err := idx.Delete(append(clone(tag), ids[0][:]...)); err != nil {
			return err
		}
		return idx.Put(append(clone(tag), ids[1][:]...), []byte{})
	})
	tv.reopen(t)
	if s, err := tv.View(fakeRecord(1).Name); !errors.Is(err, ErrNotFound) {
		t.Errorf("view by name through a forged index entry = %v, %v; want not found", s, err)
	}
	rep, _ := tv.Verify()
	if !hasProblem(rep, ids[0].String()) || !hasProblem(rep, ids[1].String()) {
		t.Errorf("verify did not report the index damage: %v", rep.Problems)
	}
}

func TestAuditTamperingIsDetected(t *testing.T) {
	cases := map[string]func(tx store.Tx) error{
		"flip a byte": func(tx store.Tx) error {
			b := tx.Bucket(bucketAudit)
			v := clone(b.Get(seqKey(2)))
			v[len(v)-5] ^= 1
			return b.Put(seqKey(2), v)
		},
		"edit the action": func(tx store.Tx) error {
			b := tx.Bucket(bucketAudit)
			v := bytes.Replace(clone(b.Get(seqKey(3))), []byte(`"view"`), []byte(`"list"`), 1)
			return b.Put(seqKey(3), v)
		},
		"delete an entry": func(tx store.Tx) error { return tx.Bucket(bucketAudit).Delete(seqKey(2)) },
		"delete the last entry": func(tx store.Tx) error {
			b := tx.Bucket(bucketAudit)
			k, _ := b.Cursor().Last()
			return b.Delete(clone(k))
		},
		"swap two entries": func(tx store.Tx) error {
			b := tx.Bucket(bucketAudit)
			a, c := clone(b.Get(seqKey(2))), clone(b.Get(seqKey(3)))
			b.Put(seqKey(2), c)
			return b.Put(seqKey(3), a)
		},
	}
	for name, attack := range cases {
		t.Run(name, func(t *testing.T) {
			tv := newTestVault(t)
			ids := tv.add(t, fakeRecord(1))
			tv.View(ids[0].String())
			tv.View(ids[0].String())
			if _, err := tv.VerifyAudit(); err != nil {
				t.Fatalf("intact log: %v", err)
			}
			tv.withDB(t, attack)
			tv.reopen(t)
			if _, err := tv.VerifyAudit(); !errors.Is(err, ErrTampered) {
				t.Errorf("VerifyAudit = %v, want tampered", err)
			}
			rep, _ := tv.Verify()
			if rep.OK() {
				t.Error("verify passed a tampered audit log")
			}
		})
	}
}

func TestWrongKeyAndRecoveryKey(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1))
	tv.close(t)
	stranger, _ := GenerateIdentity()
	v, err := Open(tv.path, Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock(stranger); !errors.Is(err, ErrWrongKey) {
		t.Errorf("stranger's key: %v, want ErrWrongKey", err)
	}
	if _, err := v.View(ids[0].String()); !errors.Is(err, ErrLocked) {
		t.Errorf("view while locked: %v", err)
	}
	if err := v.Unlock(tv.recovery); err != nil {
		t.Fatalf("recovery key: %v", err)
	}
	if s, err := v.View(ids[0].String()); err != nil || s.Name != fakeRecord(1).Name {
		t.Errorf("view with recovery key: %v", err)
	}
}

func TestRekey(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1), fakeRecord(2))
	newOwner, _ := GenerateIdentity()
	wrong, _ := GenerateIdentity()
	if err := tv.Rekey([]age.Recipient{newOwner.Recipient()}, nil, []age.Identity{wrong}); !errors.Is(err, ErrRefused) {
		t.Fatalf("rekey checked with an identity that cannot open it: %v, want refused", err)
	}
	if err := tv.Rekey([]age.Recipient{newOwner.Recipient()}, nil, []age.Identity{newOwner}); err != nil {
		t.Fatal(err)
	}
	tv.close(t)
	v, err := Open(tv.path, Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock(tv.owner); !errors.Is(err, ErrWrongKey) {
		t.Errorf("old owner key after rekey: %v, want ErrWrongKey", err)
	}
	if err := v.Unlock(newOwner); err != nil {
		t.Fatalf("new owner key: %v", err)
	}
	for i, id := range ids {
		if s, err := v.View(id.String()); err != nil || s.Name != fakeRecord(i+1).Name {
			t.Errorf("record %s after rekey: %v", id, err)
		}
	}
	if rep, _ := v.Verify(); !rep.OK() {
		t.Errorf("verify after rekey: %v", rep.Problems)
	}
	v.Close()
	v2, _ := Open(tv.path, Options{Now: testClock})
	defer v2.Close()
	if err := v2.Unlock(tv.recovery); err != nil {
		t.Errorf("recovery key after rekey: %v", err)
	}
}

func TestBadVaultFiles(t *testing.T) {
	fileOnly(t, "files that are not vaults, cut short, damaged")
	tv := newTestVault(t)
	tv.add(t, fakeRecord(1))
	tv.close(t)
	good, _ := os.ReadFile(tv.path)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := dir + "/" + name
		os.WriteFile(p, b, 0o600)
		return p
	}
	cases := []struct {
		name string
		path string
		want error
	}{
		{"missing", dir + "/nope.db", ErrNoVault},
		{"empty", write("empty.db", nil), ErrCorrupt},
		{"text", write("text.db", bytes.Repeat([]byte("not a vault\n"), 1000)), ErrCorrupt},
		{"truncated", write("trunc.db", good[:100]), ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Open(c.path, Options{Now: testClock})
			if err == nil {
				v.Close()
			}
			if !errors.Is(err, c.want) {
				t.Errorf("Open = %v, want %v", err, c.want)
			}
		})
	}
	t.Run("cut short anywhere", func(t *testing.T) {
		// bbolt reads through a memory map: a page past the end of the
		// file was a fault that crashed the program, not an error.
		var pages int64
		db, err := bolt.Open(write("whole.db", good), 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		db.View(func(tx *bolt.Tx) error { pages = tx.Size(); return nil })
		db.Close()
		step := int64(vaultPageSize / 3)
		for n := int64(0); n < int64(len(good)); n += step {
			v, err := Open(write("cut.db", good[:n]), Options{Now: testClock})
			if n < pages {
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("cut at %d of %d (pages end at %d): Open = %v, want ErrCorrupt", n, len(good), pages, err)
				}
				if err == nil {
					v.Close()
				}
				continue
			}
			// Only the zeros bbolt grew the file by are gone.
			if err != nil {
				t.Fatalf("cut at %d, after the last page (%d): %v", n, pages, err)
			}
			if err := v.Unlock(tv.owner); err != nil {
				t.Fatal(err)
			}
			if rep, err := v.Verify(); err != nil || !rep.OK() {
				t.Errorf("cut at %d, after the last page: verify %+v, %v", n, rep, err)
			}
			v.Close()
		}
	})
	t.Run("a bbolt file that is not a vault", func(t *testing.T) {
		p := dir + "/other.db"
		db, _ := bolt.Open(p, 0o600, nil)
		db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err })
		db.Close()
		if _, err := Open(p, Options{Now: testClock}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Open = %v, want ErrCorrupt", err)
		}
	})
	t.Run("newer format", func(t *testing.T) {
		p := write("newer.db", good)
		db, _ := bolt.Open(p, 0o600, nil)
		db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keyFormat, binary.BigEndian.AppendUint32(nil, FormatVersion+1))
		})
		db.Close()
		if _, err := Open(p, Options{Now: testClock}); !errors.Is(err, ErrNewerFormat) {
			t.Errorf("Open = %v, want ErrNewerFormat", err)
		}
	})
	t.Run("header swapped", func(t *testing.T) {
		p := write("hdr.db", good)
		other := newTestVault(t)
		other.close(t)
		var otherHdr []byte
		odb, _ := bolt.Open(other.path, 0o600, nil)
		odb.View(func(tx *bolt.Tx) error { otherHdr = clone(tx.Bucket(bucketMeta).Get(keyHeader)); return nil })
		odb.Close()
		db, _ := bolt.Open(p, 0o600, nil)
		db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyHeader, otherHdr) })
		db.Close()
		v, err := Open(p, Options{Now: testClock})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if err := v.Unlock(tv.owner); !errors.Is(err, ErrTampered) {
			t.Errorf("Unlock with another vault's header = %v, want tampered", err)
		}
	})
}

func TestCreateNeverOverwrites(t *testing.T) {
	tv := newTestVault(t)
	tv.add(t, fakeRecord(1))
	tv.close(t)
	before := snapshotOf(t, tv.path)
	o, _ := GenerateIdentity()
	err := Create(tv.path, CreateOptions{Owner: []age.Recipient{o.Recipient()}, Now: testClock})
	if !errors.Is(err, ErrExists) {
		t.Errorf("Create over a vault = %v, want ErrExists", err)
	}
	if after := snapshotOf(t, tv.path); !reflect.DeepEqual(before, after) {
		t.Error("Create changed an existing vault")
	}
	if pathEngine != nil {
		return // no file, no mode
	}
	fi, _ := os.Stat(tv.path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("vault mode = %v, want 0600", fi.Mode().Perm())
	}
}

func hasProblem(rep *Report, id string) bool {
	for _, p := range rep.Problems {
		if p.Record == id {
			return true
		}
	}
	return false
}

// TestDamagedPages flips bits in the page headers and first elements of
// every page a vault uses. bbolt trusts its pages: such a flip made it panic
// or fault, which killed clientvault with a stack trace. Every operation
// must instead succeed or return one of the vault's errors.
func TestDamagedPages(t *testing.T) {
	fileOnly(t, "bbolt's pages")
	tv := newTestVault(t)
	for i := range 60 {
		tv.add(t, fakeRecord(i))
	}
	tv.close(t)
	good, _ := os.ReadFile(tv.path)
	var pages int
	db, err := bolt.Open(tv.path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error { pages = int(tx.Size() / vaultPageSize); return nil })
	db.Close()
	known := func(err error) bool {
		return err == nil || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTampered) || errors.Is(err, ErrWrongKey)
	}
	dir := t.TempDir()
	damaged := 0
	// The page header (id, flags, count, overflow) and the first element's
	// header (flags or position, key and value sizes).
	for page := 2; page < pages; page++ { // 0 and 1 are the checksummed meta pages
		for _, at := range []int{0, 7, 8, 10, 11, 12, 15, 19, 23, 27, 31} {
			for _, flip := range []byte{0x01, 0xff} {
				b := bytes.Clone(good)
				b[page*vaultPageSize+at] ^= flip
				// A name of its own: a panic inside bbolt.Open can leave the
				// file open and locked.
				p := fmt.Sprintf("%s/p%d-%d-%x.db", dir, page, at, flip)
				os.WriteFile(p, b, 0o600)
				var errs []error
				// As verify opens it (read only), then as a command that
				// writes does.
				v, err := Open(p, Options{Now: testClock, ReadOnly: true})
				if err == nil {
					if err = v.Unlock(tv.owner); err == nil {
						_, err = v.Verify()
					}
					v.Close()
				}
				errs = append(errs, err)
				// A copy: a panic inside bbolt.Open leaves the file open and
				// locked by this process (openBolt).
				os.WriteFile(p+"w", b, 0o600)
				v, err = Open(p+"w", Options{Now: testClock})
				errs = append(errs, err)
				if err == nil {
					if err = v.Unlock(tv.owner); err == nil {
						_, err = v.List()
						errs = append(errs, err)
						_, err = v.Verify()
						errs = append(errs, err)
						_, err = v.Add(context.Background(), sliceSource([]*records.Record{fakeRecord(99)}), AddOptions{})
					}
					errs = append(errs, err)
					v.Close()
				}
				for _, err := range errs {
					if !known(err) {
						t.Errorf("page %d byte %d ^%#x: %v", page, at, flip, err)
					}
					if errors.Is(err, ErrCorrupt) {
						damaged++
					}
				}
			}
		}
	}
	if damaged == 0 {
		t.Error("no flip was found damaged: the test flips nothing bbolt reads")
	}
	t.Logf("%d pages, %d operations refused as damaged", pages, damaged)
}
