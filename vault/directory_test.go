package vault

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/clientvault/clientvault/vault/store"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// assertDirectoryRows checks that the vault file at path has a directory
// with n rows, none of them readable: each must open only with the key.
func assertDirectoryRows(t *testing.T, path string, n int) {
	t.Helper()
	err := rawEngine(t, path, true, func(tx store.Tx) error {
		b := tx.Bucket(bucketDirectory)
		if b == nil {
			t.Fatal("the vault has no directory")
		}
		if got := keyCount(b); got != n {
			t.Errorf("directory has %d rows, want %d", got, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func findIDs(t *testing.T, v *Vault, q string) []string {
	t.Helper()
	found, err := v.Find(q)
	if err != nil {
		t.Fatalf("find %q: %v", q, err)
	}
	var out []string
	for _, c := range found {
		out = append(out, c.ID)
	}
	return out
}

func TestFindByNamePhoneEmail(t *testing.T) {
	tv := newTestVault(t)
	recs := []*records.Record{
		{Name: "Ingrid Ødegård", DOB: records.Date{Year: 1980, Month: 1, Day: 2}, Phone: "+1 415 555-0142", Email: "Ingrid@Example.test"},
		{Name: "Quentin Łukasiewicz", PreferredName: "Quen", Phone: "(415) 555 0199"},
		{Name: "Anna Straße-Müller", Email: "anna@example.test"},
		{Name: "Quincy Adams", DOB: records.Date{Year: 1990, Month: 3, Day: 4}},
	}
	ids := tv.add(t, recs...)
	id := func(i ...int) []string {
		var out []string
		for _, n := range i {
			out = append(out, ids[n].String())
		}
		return out
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"odegard", id(0)},
		{"ØDEGÅRD ingrid", id(0)},
		{"ingr", id(0)},
		{"lukas", id(1)},
		{"quen", id(1)},
		{"qu", id(3, 1)},
		{"strasse", id(2)},
		{"muller anna", id(2)},
		{"5550142", id(0)},
		{"415 555 01", id(0, 1)},
		{"ingrid@example", id(0)},
		{"@example.test", id(2, 0)},
		{"nobody", nil},
	} {
		got := findIDs(t, tv.Vault, c.q)
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("find %q = %v, want %v", c.q, got, want)
		}
	}
	if _, err := tv.Find("  "); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty query: %v, want ErrInvalid", err)
	}
}

func TestFindReadOnlyAndDirectoryFollowsWrites(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1), fakeRecord(2), fakeRecord(3))
	// A note changes the last visit and retain-until in the directory.
	if _, err := tv.Note(ids[0].String(), records.Treatment{Date: records.Date{Year: 2026, Month: 3, Day: 1}, Service: "brow tint"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tv.Hold(ids[1].String(), HoldOptions{Reason: "subpoena 12"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tv.Erase(ids[2].String(), EraseOptions{Reason: "client asked", Force: true}); err != nil {
		t.Fatal(err)
	}
	tv.close(t)
	v, err := Open(tv.path, Options{Now: testClock, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock(tv.owner); err != nil {
		t.Fatal(err)
	}
	var got []Client
	if err := v.Clients(ListOptions{}, func(c Client) error { got = append(got, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != ids[0].String() || got[1].ID != ids[1].String() {
		t.Fatalf("clients = %+v", got)
	}
	if got[0].LastVisit != (records.Date{Year: 2026, Month: 3, Day: 1}) || got[0].RetainUntil.IsZero() {
		t.Errorf("after a note: %+v", got[0])
	}
	if !got[1].Held {
		t.Errorf("after a hold: %+v", got[1])
	}
	if ids := findIDs(t, v, "numbered00003"); ids != nil {
		t.Errorf("an erased client is found: %v", ids)
	}
	rep, err := v.Verify()
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

func TestListSortLimitDueBefore(t *testing.T) {
	tv := newTestVault(t)
	mk := func(name string, visit records.Date) *records.Record {
		r := &records.Record{Name: name}
		if !visit.IsZero() {
			r.Treatments = []records.Treatment{{Date: visit, Service: "facial"}}
		}
		return r
	}
	ids := tv.add(t,
		mk("Carla Cole", records.Date{Year: 2020, Month: 5, Day: 1}),
		mk("Anna Abel", records.Date{Year: 2025, Month: 5, Day: 1}),
		mk("Bea Bell", records.Date{Year: 2018, Month: 5, Day: 1}),
	)
	list := func(o ListOptions) []string {
		var out []string
		if err := tv.Clients(o, func(c Client) error { out = append(out, c.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	s := func(i ...int) []string {
		var out []string
		for _, n := range i {
			out = append(out, ids[n].String())
		}
		return out
	}
	for _, c := range []struct {
		o    ListOptions
		want []string
	}{
		{ListOptions{}, s(1, 2, 0)},
		{ListOptions{Sort: SortLastVisit}, s(1, 0, 2)},
		{ListOptions{Sort: SortRetainUntil}, s(2, 0, 1)},
		{ListOptions{Sort: SortRetainUntil, Limit: 1}, s(2)},
		{ListOptions{DueBefore: records.Date{Year: 2027, Month: 12, Day: 31}}, s(2, 0)},
	} {
		if got := list(c.o); !slices.Equal(got, c.want) {
			t.Errorf("%+v: %v, want %v", c.o, got, c.want)
		}
	}
	if err := tv.Clients(ListOptions{Sort: "age"}, func(Client) error { return nil }); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad sort: %v", err)
	}
}

func TestDirectoryTamperingIsDetected(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1), fakeRecord(2))
	slots := map[ID][]byte{}
	rows := map[ID][]byte{}
	tv.withDB(t, func(tx store.Tx) error {
		for _, id := range ids {
			slots[id] = clone(tx.Bucket(bucketIDs).Get(id[:]))
			rows[id] = clone(tx.Bucket(bucketDirectory).Get(slots[id]))
		}
		return nil
	})
	a, b := ids[0], ids[1]
	for _, c := range []struct {
		name  string
		edit  func(d store.Bucket) error
		find  bool // Find fails too
		wants []string
	}{
		{"flip", func(d store.Bucket) error {
			v := clone(rows[a])
			v[len(v)-3] ^= 1
			return d.Put(slots[a], v)
		}, true, []string{a.String()}},
		{"swap", func(d store.Bucket) error {
			if err := d.Put(slots[a], rows[b]); err != nil {
				return err
			}
			return d.Put(slots[b], rows[a])
		}, false, []string{a.String(), b.String()}},
		{"relabel", func(d store.Bucket) error {
			v := clone(rows[a])
			copy(v[1:9], b[:])
			return d.Put(slots[a], v)
		}, true, []string{a.String()}},
		{"missing", func(d store.Bucket) error { return d.Delete(slots[a]) }, false, []string{a.String()}},
		{"orphaned", func(d store.Bucket) error { return d.Put([]byte("\xff\xff\xff\xff\xff\xff\xff\xff"), rows[b]) }, false, []string{b.String()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tv.withDB(t, func(tx store.Tx) error {
				d := tx.Bucket(bucketDirectory)
				for _, id := range ids {
					if err := d.Put(slots[id], rows[id]); err != nil {
						return err
					}
				}
				d.Delete([]byte("\xff\xff\xff\xff\xff\xff\xff\xff"))
				return c.edit(d)
			})
			tv.reopen(t)
			rep, err := tv.Verify()
			if err != nil {
				t.Fatal(err)
			}
			var named []string
			for _, p := range rep.Problems {
				// The state root's own problem names no record.
				if p.Record != "" && strings.Contains(p.What, "directory") {
					named = append(named, p.Record)
				}
			}
			slices.Sort(named)
			named = slices.Compact(named)
			wants := slices.Sorted(slices.Values(c.wants))
			if !slices.Equal(named, wants) {
				t.Errorf("verify names %v, want %v (%v)", named, c.wants, rep.Problems)
			}
			_, err = tv.Find("testclient")
			if c.find && !errors.Is(err, ErrTampered) {
				t.Errorf("find: %v, want ErrTampered", err)
			}
		})
	}
}

func TestDirectoryStaleRowIsReported(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1))
	var slot, old []byte
	tv.withDB(t, func(tx store.Tx) error {
		slot = clone(tx.Bucket(bucketIDs).Get(ids[0][:]))
		old = clone(tx.Bucket(bucketDirectory).Get(slot))
		return nil
	})
	tv.reopen(t)
	if _, err := tv.Note(ids[0].String(), records.Treatment{Date: records.Date{Year: 2026, Month: 3, Day: 1}, Service: "brow tint"}); err != nil {
		t.Fatal(err)
	}
	// An authentic row from before the note, put back.
	tv.withDB(t, func(tx store.Tx) error { return tx.Bucket(bucketDirectory).Put(slot, old) })
	tv.reopen(t)
	rep, err := tv.Verify()
	if err != nil {
		t.Fatal(err)
	}
	// The row named, and the directory's state root (which names no record).
	if len(rep.Problems) != 2 || rep.Problems[1].Record != ids[0].String() || !strings.Contains(rep.Problems[1].What, "stale") ||
		rep.Problems[0].What != stateMismatch(bucketDirectory) {
		t.Errorf("problems = %v", rep.Problems)
	}
}

// A vault made before the directory gets it at the first Unlock that may
// write; read-only, Find says it is missing.
func TestDirectoryIsBuiltForOlderVaults(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1), fakeRecord(2))
	tv.withDB(t, func(tx store.Tx) error { return tx.DeleteBucket(bucketDirectory) })
	v, err := Open(tv.path, Options{Now: testClock, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock(tv.owner); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Find("testclient"); !errors.Is(err, ErrNoDirectory) {
		t.Errorf("read-only find without a directory: %v", err)
	}
	v.Close()
	tv.reopen(t)
	if got := findIDs(t, tv.Vault, "numbered00002"); len(got) != 1 || got[0] != ids[1].String() {
		t.Errorf("after the rebuild: %v", got)
	}
	// The bucket was deleted by hand: rebuilt, its rows are right, and its
	// root says it was edited outside clientvault.
	rep, err := tv.Verify()
	if err != nil || len(rep.Problems) != 1 || rep.Problems[0].What != stateMismatch(bucketDirectory) {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

func TestDirectoryRowsGoWithExpiredRecords(t *testing.T) {
	tv := newTestVault(t)
	old := fakeRecord(1)
	old.Treatments = []records.Treatment{{Date: records.Date{Year: 2010, Month: 1, Day: 1}, Service: "peel"}}
	tv.add(t, old, fakeRecord(2))
	if _, err := tv.Expire(ExpireOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := findIDs(t, tv.Vault, "testclient"); len(got) != 1 {
		t.Errorf("after expire: %v", got)
	}
	tv.close(t)
	assertDirectoryRows(t, tv.path, 1)
	if bytes.Contains(storedBytes(t, tv.path), []byte("Numbered00001")) {
		t.Error("plaintext")
	}
}

func TestDuplicates(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, &records.Record{Name: "Ingrid Ødegård", DOB: records.Date{Year: 1980, Month: 1, Day: 2}, Phone: "+1 415 555-0142", Email: "ingrid@example.test"})
	for _, c := range []struct {
		rec   records.Record
		match string
	}{
		{records.Record{Name: "ingrid odegard", DOB: records.Date{Year: 1980, Month: 1, Day: 2}}, MatchNameDOB},
		{records.Record{Name: "Someone Else", Phone: "415.555.0142"}, MatchPhone},
		{records.Record{Name: "Someone Else", Email: " INGRID@example.test"}, MatchEmail},
		{records.Record{Name: "Ingrid Ødegård", DOB: records.Date{Year: 1981, Month: 1, Day: 2}}, ""},
	} {
		got, err := tv.Duplicates(&c.rec)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case c.match == "" && len(got) != 0:
			t.Errorf("%+v: %v, want none", c.rec, got)
		case c.match != "" && (len(got) != 1 || got[0].Match != c.match || got[0].Record != ids[0].String()):
			t.Errorf("%+v: %v, want %s of %s", c.rec, got, c.match, ids[0])
		}
	}
	// A bulk add: rows that duplicate the vault or earlier rows are all
	// reported, and nothing is added.
	recs := []*records.Record{
		{Name: "New One", Email: "new@example.test"},
		{Name: "Ingrid Odegard", DOB: records.Date{Year: 1980, Month: 1, Day: 2}},
		{Name: "New Two", Email: "new@example.test"},
	}
	_, err := tv.Add(t.Context(), tv.CheckDuplicates(sliceSource(recs)), AddOptions{})
	var de *DuplicatesError
	if !errors.As(err, &de) || !errors.Is(err, ErrRefused) || de.Rows != 2 {
		t.Fatalf("bulk add: %v", err)
	}
	want := []DuplicateClient{{Row: 2, Record: ids[0].String(), Match: MatchNameDOB}, {Row: 3, SameAs: 1, Match: MatchEmail}}
	if !slices.Equal(de.Duplicates, want) {
		t.Errorf("duplicates %+v, want %+v", de.Duplicates, want)
	}
	if got := findIDs(t, tv.Vault, "new"); got != nil {
		t.Errorf("added despite duplicates: %v", got)
	}
	if _, err := tv.Add(t.Context(), tv.CheckDuplicates(sliceSource(recs[:1])), AddOptions{}); err != nil {
		t.Errorf("no duplicate: %v", err)
	}
}

// Read in parts on several goroutines, find and list say what one read
// says.
func TestFindAndListInParts(t *testing.T) {
	tv := newTestVault(t)
	var recs []*records.Record
	for i := range 60 {
		r := fakeRecord(i)
		r.Treatments = []records.Treatment{{Date: records.Date{Year: 2020 + i%6, Month: time.Month(1 + i%12), Day: 1 + i%27}, Service: "peel"}}
		recs = append(recs, r)
	}
	tv.add(t, recs...)
	run := func() (found []Client, lists [3][]Client) {
		var err error
		if found, err = tv.Find("testclient"); err != nil {
			t.Fatal(err)
		}
		for i, sort := range []string{SortName, SortLastVisit, SortRetainUntil} {
			err := tv.Clients(ListOptions{Sort: sort}, func(c Client) error { lists[i] = append(lists[i], c); return nil })
			if err != nil {
				t.Fatal(err)
			}
		}
		return found, lists
	}
	oneFound, oneLists := run()
	saved := minPartRows
	minPartRows = 1
	defer func() { minPartRows = saved }()
	found, lists := run()
	if len(found) != 60 || !slices.Equal(found, oneFound) {
		t.Errorf("find in parts: %d clients, differs: %v", len(found), !slices.Equal(found, oneFound))
	}
	for i := range lists {
		if len(lists[i]) != 60 || !slices.Equal(lists[i], oneLists[i]) {
			t.Errorf("list %d in parts: %d clients, differs", i, len(lists[i]))
		}
	}
	if !slices.IsSortedFunc(lists[1], func(a, b Client) int { return -a.LastVisit.Time().Compare(b.LastVisit.Time()) }) {
		t.Error("not by last visit")
	}
}

// The tokens a row spells out for an ASCII name are those SearchTokens
// makes; a name that is not ASCII keeps its own.
func TestSpelledTokensAreSearchTokens(t *testing.T) {
	names := []string{"Jane Doe", "O'Brien-Smith, Mary Jr.", "  a  b ", "ANNA`s \"Q\" 42", "x_y.z@w", "", "---", "Ødegård", "Zoë"}
	for _, name := range names {
		for _, pref := range []string{"", "Jay", "  ", "Łu", "Ann-Marie"} {
			rec := &records.Record{Name: name, PreferredName: pref}
			want := strings.Join(append(records.SearchTokens(name), records.SearchTokens(pref)...), " ")
			got, ok := spellTokens(nil, []byte(name), []byte(pref))
			ascii := !strings.ContainsFunc(name+pref, func(r rune) bool { return r >= 0x80 })
			if ok != ascii || ok && string(got) != want {
				t.Errorf("%q %q: %q %v, want %q", name, pref, got, ok, want)
			}
			f := directoryFields(rec)
			if (f.tokens == "") != ascii && want != "" {
				t.Errorf("%q %q: stored tokens %q", name, pref, f.tokens)
			}
		}
	}
}

// An import that updates a client, a retention change, and a bulk add of
// several batches keep the directory as the records are; verify agrees.
func TestDirectoryFollowsImportUpdatesAndRetention(t *testing.T) {
	tv := newTestVault(t)
	old := fakeRecord(1)
	old.Treatments = []records.Treatment{{Date: records.Date{Year: 2020, Month: 1, Day: 1}, Service: "peel"}}
	ids := tv.add(t, old)
	row := *fakeRecord(1)
	row.Phone = "+44 20 7946 0958"
	row.Email = "moved@example.test"
	row.Treatments = nil
	rep, err := tv.Import(t.Context(), rowSource(rowsOf(&row)), ImportOptions{OnDuplicate: DuplicateUpdate})
	if err != nil || rep.Updated != 1 {
		t.Fatalf("import: %v %+v", err, rep)
	}
	if got := findIDs(t, tv.Vault, "2079460958"); len(got) != 1 || got[0] != ids[0].String() {
		t.Errorf("the new phone: %v", got)
	}
	if got := findIDs(t, tv.Vault, "moved@"); len(got) != 1 {
		t.Errorf("the new email: %v", got)
	}
	before := clientsOf(t, tv.Vault)[0].RetainUntil
	if _, err := tv.SetRetention(consent.Policy{Years: 10, MinorAge: 18, MinorUntilAge: 25}); err != nil {
		t.Fatal(err)
	}
	after := clientsOf(t, tv.Vault)[0].RetainUntil
	if after.Year != before.Year+3 {
		t.Errorf("retain-until %v, then %v after 7 -> 10 years", before, after)
	}
	// Several batches, staged and published.
	var recs []*records.Record
	for i := range 25 {
		recs = append(recs, fakeRecord(100+i))
	}
	if _, err := tv.Add(t.Context(), sliceSource(recs), AddOptions{BatchSize: 4}); err != nil {
		t.Fatal(err)
	}
	if n := len(clientsOf(t, tv.Vault)); n != 26 {
		t.Errorf("%d clients, want 26", n)
	}
	rep2, err := tv.Verify()
	if err != nil || !rep2.OK() {
		t.Fatalf("verify: %v %+v", err, rep2)
	}
}

func clientsOf(t *testing.T, v *Vault) []Client {
	t.Helper()
	var out []Client
	if err := v.Clients(ListOptions{}, func(c Client) error { out = append(out, c); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// Every byte of a row matters: head, nonce, ciphertext and tag. A flip
// anywhere, or the row read under another slot, does not open.
func TestFlipAnyByteOfADirectoryRow(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1))
	var slot, row []byte
	err := tv.view(func(tx *txn) error {
		slot = clone(tx.Bucket(bucketIDs).Get(ids[0][:]))
		row = clone(tx.Bucket(bucketDirectory).Get(slot))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	o := tv.keys.newDirOpener()
	if r, err := o.open(slot, row); err != nil || r.id != ids[0] {
		t.Fatalf("the row as stored: %v", err)
	}
	for i := range row {
		flipped := clone(row)
		flipped[i] ^= 0x01
		if _, err := o.open(slot, flipped); err == nil {
			t.Errorf("byte %d flipped: the row still opens", i)
		}
	}
	other := seqKey(binary.BigEndian.Uint64(slot) + 1)
	if _, err := o.open(other, row); err == nil {
		t.Error("the row opens under another slot")
	}
	if _, err := o.open(slot, row[:len(row)-1]); err == nil {
		t.Error("the row cut short opens")
	}
}

// A build interrupted after some chunks leaves a marked, partial directory:
// find treats it as missing and the next writer builds it again, whole.
func TestInterruptedDirectoryBuildIsRedone(t *testing.T) {
	saved := buildChunk
	buildChunk = 2
	defer func() { buildChunk = saved }()
	tv := newTestVault(t)
	var recs []*records.Record
	for i := range 7 {
		recs = append(recs, fakeRecord(i))
	}
	tv.add(t, recs...)
	// Built in chunks of 2 from nothing. (The vault's own transactions make
	// the states a crash would leave, so the state root follows them.)
	if err := tv.update(func(tx *txn) error { return tx.DeleteBucket(bucketDirectory) }); err != nil {
		t.Fatal(err)
	}
	tv.reopen(t)
	if n := len(clientsOf(t, tv.Vault)); n != 7 {
		t.Fatalf("after a build in chunks: %d clients", n)
	}
	// Interrupted: the marker stands and some rows are gone.
	err := tv.update(func(tx *txn) error {
		if err := tx.Bucket(bucketMeta).Put(keyDirectoryBuilding, []byte{1}); err != nil {
			return err
		}
		k, _ := tx.Bucket(bucketDirectory).Cursor().Last()
		return tx.Bucket(bucketDirectory).Delete(clone(k))
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
	if _, err := v.Find("testclient"); !errors.Is(err, ErrNoDirectory) {
		t.Errorf("find in a half-built directory: %v", err)
	}
	if rep, err := v.Verify(); err != nil || !rep.OK() {
		t.Errorf("verify of a half-built directory: %v %+v", err, rep)
	}
	v.Close()
	tv.reopen(t)
	if n := len(clientsOf(t, tv.Vault)); n != 7 {
		t.Errorf("after the build was redone: %d clients", n)
	}
	if rep, err := tv.Verify(); err != nil || !rep.OK() {
		t.Errorf("verify: %v %+v", err, rep)
	}
}
