package vault

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clientvault/clientvault/records"
)

// sealEntry's bytes are exactly what marshal writes for the entry it fills
// in, for ciphertext lengths whose varint takes two bytes (the room it
// leaves) and three; they parse, authenticate under the entry's ID only,
// and open to the record bound to that ID.
func TestSealEntryIsMarshal(t *testing.T) {
	tv := newTestVault(t)
	k := tv.keys
	for _, notes := range []string{"", strings.Repeat("n", 20000)} {
		id, _ := newID()
		e := &entry{ID: id, Created: testClock(), Updated: testClock(), RetainUntil: records.Date{Year: 2033, Month: 1, Day: 2}, Stage: 12345}
		rec := fakeRecord(1)
		rec.Notes = notes
		raw, err := k.sealEntry(e, rec)
		if err != nil {
			t.Fatal(err)
		}
		if want := e.marshal(k); !bytes.Equal(raw, want) {
			t.Fatalf("notes of %d bytes: sealEntry differs from marshal", len(notes))
		}
		if len(notes) > 0 && len(e.Sealed) < 1<<14 {
			t.Fatalf("ciphertext of %d bytes: the three-byte length is not exercised", len(e.Sealed))
		}
		if !authentic(k, id, raw) {
			t.Fatal("not authentic under its own ID")
		}
		other, _ := newID()
		if authentic(k, other, raw) {
			t.Fatal("authentic under another ID")
		}
		back, err := unmarshalEntry(raw)
		if err != nil || back.Stage != 12345 || back.ID != id {
			t.Fatalf("unmarshal: %+v %v", back, err)
		}
		_, got, err := k.open(id, raw)
		if err != nil || got.Name != rec.Name || got.Notes != notes {
			t.Fatalf("open: %v", err)
		}
		// A flipped bit anywhere is refused.
		for _, at := range []int{10, len(raw) / 2, len(raw) - 1} {
			bad := bytes.Clone(raw)
			bad[at] ^= 1
			if _, _, err := k.open(id, bad); err == nil {
				t.Errorf("byte %d flipped: opened", at)
			}
		}
	}
}

// The pooled MACs are the MACs: the same tags and entry MAC as the
// unpooled functions, however often a pooled HMAC is reused, and the two
// keys are never mixed up.
func TestPooledMACs(t *testing.T) {
	tv := newTestVault(t)
	k := tv.keys
	for i := range 5 {
		rec := fakeRecord(i)
		if got, want := k.sealTags(rec), k.indexTags(rec); len(got) != 2 || !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], want[1]) {
			t.Fatalf("record %d: sealTags %x, indexTags %x", i, got, want)
		}
		msg := []byte(rec.Name)
		if got, want := k.appendMAC([]byte("x"), macEntry, msg), k.mac(macEntry, msg); string(got[1:]) != string(want) || got[0] != 'x' {
			t.Fatalf("appendMAC %x, mac %x", got, want)
		}
	}
	if bytes.Equal(k.appendMAC(nil, idxName, []byte("a"))[:tagLen], k.sealTags(&records.Record{Name: "a"})[0]) {
		t.Fatal("index tags are keyed with the MAC key")
	}
}
