package vault

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"github.com/clientvault/clientvault/vault/store"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/clientvault/clientvault/records"
	"golang.org/x/crypto/ssh"
)

func TestViewByIDPrefixAndName(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, &records.Record{Name: "José  O'Brien", DOB: records.Date{Year: 1990, Month: 4, Day: 2}}, fakeRecord(2))
	for _, ref := range []string{ids[0].String(), ids[0].String()[:6], "jose obrien", "JOSÉ O'BRIEN", " José O'Brien "} {
		s, err := tv.View(ref)
		if err != nil || s.ID != ids[0].String() {
			t.Errorf("View(%q) = %v, %v", ref, s, err)
		}
	}
	if _, err := tv.View("Nobody Here"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := tv.View(""); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty ref: %v", err)
	}
}

func TestAmbiguousNameListsCandidatesWithoutClientDataInError(t *testing.T) {
	tv := newTestVault(t)
	a := &records.Record{Name: "Sam Lee", DOB: records.Date{Year: 1990, Month: 1, Day: 1}}
	b := &records.Record{Name: "sam lee", DOB: records.Date{Year: 2001, Month: 2, Day: 3}}
	tv.add(t, a, b)
	_, err := tv.View("Sam Lee")
	var amb *AmbiguousError
	if !errors.As(err, &amb) || len(amb.Candidates) != 2 {
		t.Fatalf("View = %v, want ambiguity with 2 candidates", err)
	}
	if strings.Contains(strings.ToLower(err.Error()), "sam") || strings.Contains(err.Error(), "1990") {
		t.Errorf("error %q carries client data", err)
	}
	if amb.Candidates[0].DOB == "" {
		t.Error("candidates have no date of birth to tell them apart")
	}
}

func TestNoteAppendsAndAmendmentsKeepTheOriginal(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1))
	d := records.Date{Year: 2026, Month: 2, Day: 1}
	// The fake client takes isotretinoin: laser is refused until accepted,
	// and then recorded with its warnings.
	laser := records.Treatment{Date: d, Service: "laser", Settings: records.Settings{"fluence_j_cm2": 18}}
	var ce *records.ContraindicationError
	if _, err := tv.Note(ids[0].String(), laser); !errors.Is(err, ErrRefused) || !errors.As(err, &ce) {
		t.Fatalf("laser on isotretinoin: %v", err)
	}
	laser.AcceptWarnings()
	n1, err := tv.Note(ids[0].String(), laser)
	if err != nil || n1 != 1 {
		t.Fatalf("Note = %d, %v", n1, err)
	}
	amend := records.Treatment{Date: d, Service: "laser", Amends: 1, Settings: records.Settings{"fluence_j_cm2": 16}}
	amend.AcceptWarnings()
	n2, err := tv.Note(ids[0].String(), amend)
	if err != nil || n2 != 2 {
		t.Fatalf("amend = %d, %v", n2, err)
	}
	if _, err := tv.Note(ids[0].String(), records.Treatment{Date: d, Service: "x", Amends: 9}); !errors.Is(err, ErrInvalid) {
		t.Errorf("amending a missing entry: %v", err)
	}
	future := records.Date{Year: 2027, Month: 1, Day: 1}
	if _, err := tv.Note(ids[0].String(), records.Treatment{Date: future, Service: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("future treatment: %v", err)
	}
	s, err := tv.View(ids[0].String())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Treatments) != 2 || s.Treatments[0].Amends != 0 || s.Treatments[1].Amends != 1 || len(s.Treatments[0].Warnings) == 0 {
		t.Errorf("treatments = %+v", s.Treatments)
	}
	if want := (records.Date{Year: 2033, Month: 2, Day: 28}); s.RetainUntil != want {
		t.Errorf("retain until %v, want %v (7 years after the last treatment, to the end of the month)", s.RetainUntil, want)
	}
}

func TestAddIsAllOrNothing(t *testing.T) {
	tv := newTestVault(t)
	tv.add(t, fakeRecord(0))
	var indexBefore int
	tv.engine().View(func(tx store.Tx) error { indexBefore = keyCount(tx.Bucket(bucketIndex)); return nil })
	defer func(n int) { publishEvery = n }(publishEvery)
	// One transaction; staged batches; staged batches whose IDs and index
	// entries are written before the end.
	for _, batch := range []int{1000, 2, -2} {
		publishEvery = 100_000
		if batch < 0 {
			batch, publishEvery = -batch, 3
		}
		recs := []*records.Record{fakeRecord(1), fakeRecord(2), fakeRecord(3), fakeRecord(4), {Name: "Bad Dob", DOB: records.Date{Year: 2099, Month: 1, Day: 1}}}
		_, err := tv.Add(context.Background(), sliceSource(recs), AddOptions{BatchSize: batch})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "record 5 of the input") {
			t.Fatalf("batch %d: Add = %v, want invalid naming record 5", batch, err)
		}
		if strings.Contains(err.Error(), "Bad Dob") {
			t.Errorf("error carries client data: %v", err)
		}
		list, err := tv.List()
		if err != nil || len(list) != 1 {
			t.Errorf("batch %d: %d records after failed add, want 1", batch, len(list))
		}
	}
	rep, err := tv.Verify()
	if err != nil || !rep.OK() || rep.PendingStages != 0 {
		t.Errorf("verify after failed adds: %+v %v", rep, err)
	}
	var n, ids, index int
	tv.engine().View(func(tx store.Tx) error {
		n, ids, index = keyCount(tx.Bucket(bucketRecords)), keyCount(tx.Bucket(bucketIDs)), keyCount(tx.Bucket(bucketIndex))
		return nil
	})
	if n != 1 || ids != 1 || index != indexBefore {
		t.Errorf("after failed staged adds: %d entries, %d IDs, %d index entries; want 1, 1, %d", n, ids, index, indexBefore)
	}
	// A staged add whose IDs were published early is whole once it ends.
	publishEvery = 3
	recs := []*records.Record{fakeRecord(1), fakeRecord(2), fakeRecord(3), fakeRecord(4), fakeRecord(5), fakeRecord(6), fakeRecord(7)}
	if _, err := tv.Add(context.Background(), sliceSource(recs), AddOptions{BatchSize: 2}); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, err := tv.View(r.Name); err != nil {
			t.Errorf("view %d after a staged add: %v", r.DOB.Day, err)
		}
	}
	if rep, err := tv.Verify(); err != nil || !rep.OK() || rep.Records != 8 {
		t.Errorf("verify after a staged add: %+v %v", rep, err)
	}
}

func TestInterruptedStageIsInvisibleThenRemoved(t *testing.T) {
	beatsLongStopped(t)
	tv := newTestVault(t)
	tv.add(t, fakeRecord(0))
	// What a process killed after its first batch leaves: entries written
	// under a stage that was never published.
	err := tv.update(func(tx *txn) error {
		stage, err := tv.beginStage(tx)
		if err != nil {
			return err
		}
		for i := 1; i <= 3; i++ {
			id, _ := newID()
			e := &entry{ID: id, Created: testClock(), Stage: stage}
			rec := fakeRecord(i)
			if err := tv.keys.seal(e, rec, nil); err != nil {
				return err
			}
			// A staged batch only appends entries; publishing maps their IDs.
			slot, _ := tx.Bucket(bucketRecords).NextSequence()
			if err := tx.Bucket(bucketRecords).Put(seqKey(slot), e.marshal(tv.keys)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tv.close(t)
	v, err := Open(tv.path, Options{Now: testClock, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock(tv.owner); err != nil {
		t.Fatal(err)
	}
	rep, _ := v.Verify()
	if rep.Records != 1 || rep.PendingStages != 1 {
		t.Errorf("read-only verify: %d records, %d pending stages; want 1, 1", rep.Records, rep.PendingStages)
	}
	v.view(func(tx *txn) error {
		if _, _, err := v.resolve(tx, fakeRecord(2).Name); !errors.Is(err, ErrNotFound) {
			t.Errorf("a staged record is visible: %v", err)
		}
		return nil
	})
	v.Close()
	tv.reopen(t) // a writer removes the stage
	rep, _ = tv.Verify()
	if !rep.OK() || rep.Records != 1 || rep.PendingStages != 0 || rep.IndexEntries != 2 {
		t.Errorf("after cleanup: %+v", rep)
	}
	var n int
	tv.withDB(t, func(tx store.Tx) error { n = keyCount(tx.Bucket(bucketRecords)); return nil })
	if n != 1 {
		t.Errorf("%d entries left after cleanup, want 1", n)
	}
}

func TestPassphraseIdentity(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "identity.age")
	id, _ := GenerateIdentity()
	if err := WriteIdentity(path, id, "correct horse", 10); err != nil {
		t.Fatal(err)
	}
	if err := WriteIdentity(path, id, "other", 10); !errors.Is(err, ErrExists) {
		t.Errorf("overwriting an identity: %v", err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "AGE-SECRET-KEY") {
		t.Fatal("passphrase-protected identity holds the key in the clear")
	}
	vaultPath := filepath.Join(dir, "v.db")
	if err := Create(vaultPath, CreateOptions{Owner: []age.Recipient{id.Recipient()}, Now: testClock}); err != nil {
		t.Fatal(err)
	}
	try := func(answers ...string) (int, error) {
		asked := 0
		p := Prompter{Attempts: 3, Passphrase: func(label string, attempt int) (string, error) {
			asked++
			return answers[attempt-1], nil
		}}
		ids, err := LoadIdentities(path, p)
		if err != nil {
			return asked, err
		}
		v, err := Open(vaultPath, Options{Now: testClock})
		if err != nil {
			return asked, err
		}
		defer v.Close()
		return asked, v.Unlock(ids...)
	}
	if n, err := try("correct horse"); err != nil || n != 1 {
		t.Errorf("right passphrase: asked %d, %v", n, err)
	}
	if n, err := try("wrong", "correct horse"); err != nil || n != 2 {
		t.Errorf("wrong then right: asked %d, %v", n, err)
	}
	if n, err := try("a", "b", "c"); !errors.Is(err, ErrWrongPassphrase) || n != 3 {
		t.Errorf("three wrong: asked %d, %v; want ErrWrongPassphrase after 3", n, err)
	}
	// No terminal: a clear error, not a hang or a tamper report.
	ids, _ := LoadIdentities(path, Prompter{})
	v, _ := Open(vaultPath, Options{Now: testClock})
	if err := v.Unlock(ids...); err == nil || errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "no terminal") {
		t.Errorf("no prompter: %v", err)
	}
	v.Close()
	if err := ChangePassphrase(path, "wrong", "new one", 10); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("passwd with the wrong passphrase: %v", err)
	}
	if err := ChangePassphrase(path, "correct horse", "new one", 10); err != nil {
		t.Fatal(err)
	}
	if _, err := try("new one"); err != nil {
		t.Errorf("after passwd: %v", err)
	}
}

func TestSSHIdentityOpensVault(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "id_ed25519")
	os.WriteFile(keyPath, pem.EncodeToMemory(block), 0o600)
	ids, err := LoadIdentities(keyPath, Prompter{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Recipients(ids)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(RecipientString(rs[0]), "ssh-ed25519 ") {
		t.Errorf("recipient = %q", RecipientString(rs[0]))
	}
	vp := filepath.Join(dir, "v.db")
	if err := Create(vp, CreateOptions{Owner: rs, Now: testClock}); err != nil {
		t.Fatal(err)
	}
	v, _ := Open(vp, Options{Now: testClock})
	defer v.Close()
	if err := v.Unlock(ids...); err != nil {
		t.Errorf("ssh key does not open its vault: %v", err)
	}
}

func TestIdentityFileErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"public key":  "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n",
		"garbage":     "hello\n",
		"empty":       "",
		"bad ssh key": "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
	}
	for name, contents := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(p, []byte(contents), 0o600)
		if _, err := LoadIdentities(p, Prompter{}); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if _, err := LoadIdentities(filepath.Join(dir, "missing"), Prompter{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
}

func TestBusyVault(t *testing.T) {
	fileOnly(t, "the file's lock: etcd has none, a reader never waits")
	tv := newTestVault(t)
	v, err := Open(tv.path, Options{Now: testClock, LockTimeout: 50e6})
	if err == nil {
		v.Close()
	}
	if !errors.Is(err, ErrBusy) {
		t.Errorf("second open while held = %v, want ErrBusy", err)
	}
}

func FuzzUnmarshalEntry(f *testing.F) {
	k, _ := newKeySet()
	e := &entry{ID: ID{1, 2, 3}, Created: testClock(), Readers: []string{"ann"}, Sealed: []byte("age-encryption.org/v1\n")}
	f.Add(e.marshal(k))
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := unmarshalEntry(b)
		if err != nil {
			return
		}
		// A parsed entry re-encodes to the same body.
		again := e.marshal(k)
		if string(again[:len(again)-macLen]) != string(b[:len(b)-macLen]) {
			t.Fatalf("round trip changed the entry")
		}
	})
}
