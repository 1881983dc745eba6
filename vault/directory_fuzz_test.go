package vault

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clientvault/clientvault/records"
)

// FuzzDirectoryRow: opening a stored row never panics and accepts only rows
// sealed under the key for that slot; the plaintext decoder never panics,
// and what it accepts encodes back to the same bytes (one encoding per
// row's fields).
func FuzzDirectoryRow(f *testing.F) {
	k, err := newKeySet()
	if err != nil {
		f.Fatal(err)
	}
	id, slot := ID{1, 2, 3, 4, 5, 6, 7, 8}, seqKey(42)
	fields := directoryFields(&records.Record{Name: "Ingrid Ødegård", PreferredName: "Inga", Phone: "+1 415 555 0142", Email: "i@example.test"})
	good, err := k.sealDirectory(id, 9, slot, fields)
	if err != nil {
		f.Fatal(err)
	}
	plain := fields.appendPlain(nil)
	f.Add(good, plain)
	f.Add(good[:len(good)-1], plain[:len(plain)-1])
	f.Add([]byte{}, []byte{})
	o := k.newDirOpener()
	f.Fuzz(func(t *testing.T, val, p []byte) {
		if row, err := o.open(slot, val); err == nil && !bytes.Equal(val, good) {
			t.Fatalf("opened a row it was not given: %x (%v)", val, row.id)
		}
		d, ok := decodeDir(p)
		if !ok {
			return
		}
		if back := d.fields().appendPlain(nil); !bytes.Equal(back, p) {
			t.Fatalf("accepted %x, which encodes back as %x", p, back)
		}
	})
}

// FuzzSearchTokens: folding never panics, and for ASCII the cheap spelling
// the directory's reader uses is the same as SearchTokens.
func FuzzSearchTokens(f *testing.F) {
	for _, s := range []string{"Ingrid Ødegård", "O'Brien-Smith, Mary", "ANNA`s \"Q\" 42", "Łukasz Straße", ""} {
		f.Add(s, "Jay")
	}
	f.Fuzz(func(t *testing.T, name, pref string) {
		want := strings.Join(append(records.SearchTokens(name), records.SearchTokens(pref)...), " ")
		got, ok := spellTokens(nil, []byte(name), []byte(pref))
		ascii := !strings.ContainsFunc(name+pref, func(r rune) bool { return r >= 0x80 })
		if ok != ascii || ok && string(got) != want {
			t.Fatalf("%q %q: spelled %q (%v), SearchTokens %q", name, pref, got, ok, want)
		}
	})
}
