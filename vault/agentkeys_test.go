package vault

import (
	"errors"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

func TestUnlockWithKeys(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, fakeRecord(1))
	keys, err := tv.ExportKeys()
	if err != nil {
		t.Fatal(err)
	}
	tv.close(t)
	v, _ := Open(tv.path, Options{Now: testClock})
	if err := v.UnlockWithKeys(keys); err != nil {
		t.Fatal(err)
	}
	if _, err := v.View(ids[0].String()); err != nil {
		t.Error(err)
	}
	v.Close()
	other := newTestVault(t)
	otherKeys, _ := other.ExportKeys()
	v2, err := Open(tv.path, Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	if err := v2.UnlockWithKeys(otherKeys); !errors.Is(err, ErrWrongKey) {
		t.Errorf("another vault's keys: %v, want ErrWrongKey", err)
	}
	if err := v2.UnlockWithKeys([]byte("garbage")); !errors.Is(err, ErrWrongKey) {
		t.Errorf("garbage keys: %v", err)
	}
}

// BenchmarkUnlock compares opening a vault with the default
// passphrase-protected identity (age's scrypt work factor) with opening it
// with keys from the unlock agent. 1 record; unlocking does not depend on size.
func BenchmarkUnlock(b *testing.B) {
	dir := b.TempDir()
	id, _ := GenerateIdentity()
	idPath := filepath.Join(dir, "identity.age")
	if err := WriteIdentity(idPath, id, "correct horse battery", 0); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "v.db")
	if err := Create(path, CreateOptions{Owner: []age.Recipient{id.Recipient()}, Now: testClock}); err != nil {
		b.Fatal(err)
	}
	v, _ := Open(path, Options{Now: testClock})
	v.Unlock(id)
	keys, _ := v.ExportKeys()
	v.Close()
	prompt := Prompter{Passphrase: func(string, int) (string, error) { return "correct horse battery", nil }}
	b.Run("passphrase-identity", func(b *testing.B) {
		for b.Loop() {
			ids, _ := LoadIdentities(idPath, prompt)
			v, _ := Open(path, Options{Now: testClock, ReadOnly: true})
			if err := v.Unlock(ids...); err != nil {
				b.Fatal(err)
			}
			v.Close()
		}
	})
	b.Run("agent-keys", func(b *testing.B) {
		for b.Loop() {
			v, _ := Open(path, Options{Now: testClock, ReadOnly: true})
			if err := v.UnlockWithKeys(keys); err != nil {
				b.Fatal(err)
			}
			v.Close()
		}
	})
}
