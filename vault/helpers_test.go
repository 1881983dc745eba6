package vault

import (
	"context"
	"fmt"
	"github.com/clientvault/clientvault/vault/store"
	"io"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/records"
	bolt "go.etcd.io/bbolt"
)

// testClock is a fixed clock for tests.
func testClock() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }

// testVault is a vault in a temporary directory with its owner and recovery
// identities (plain X25519 keys, so no scrypt cost).
type testVault struct {
	*Vault
	path     string
	owner    *age.X25519Identity
	recovery *age.X25519Identity
}

func newTestVault(t testing.TB) *testVault {
	t.Helper()
	owner, _ := GenerateIdentity()
	recovery, _ := GenerateIdentity()
	path := filepath.Join(t.TempDir(), "vault.db")
	err := Create(path, CreateOptions{
		Owner: []age.Recipient{owner.Recipient()}, Recovery: []age.Recipient{recovery.Recipient()}, Now: testClock,
	})
	if err != nil {
		t.Fatal(err)
	}
	tv := &testVault{path: path, owner: owner, recovery: recovery}
	tv.reopen(t)
	t.Cleanup(func() { tv.close(t) })
	return tv
}

// reopen opens and unlocks the vault again with the owner's key.
func (tv *testVault) reopen(t testing.TB) {
	t.Helper()
	if tv.Vault != nil {
		tv.close(t)
	}
	v, err := Open(tv.path, Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock(tv.owner); err != nil {
		t.Fatal(err)
	}
	tv.Vault = v
}

// close closes the vault after checking bbolt's own consistency.
func (tv *testVault) close(t testing.TB) {
	t.Helper()
	if tv.Vault == nil {
		return
	}
	err := tv.engine().View(func(tx store.Tx) error {
		if f := store.BoltOf(tx); f != nil {
			for err := range f.Check() {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("bbolt check: %v", err)
	}
	tv.Vault.Close()
	tv.Vault = nil
}

// add stores recs and returns their IDs.
func (tv *testVault) add(t testing.TB, recs ...*records.Record) []ID {
	t.Helper()
	ids, err := tv.Add(context.Background(), sliceSource(recs), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func sliceSource(recs []*records.Record) func() (*records.Record, error) {
	i := 0
	return func() (*records.Record, error) {
		if i == len(recs) {
			return nil, io.EOF
		}
		i++
		return recs[i-1], nil
	}
}

// fakeRecord returns a record with distinctive, obviously fake data.
func fakeRecord(n int) *records.Record {
	return &records.Record{
		Name:        fmt.Sprintf("Testclient Numbered%05d", n),
		DOB:         records.Date{Year: 1980 + n%30, Month: time.Month(1 + n%12), Day: 1 + n%28},
		Phone:       fmt.Sprintf("+1 555 %04d", n%10000),
		Email:       fmt.Sprintf("client%d@example.test", n),
		Medications: []string{"isotretinoin"},
		Notes:       "prefers afternoons",
	}
}

// withDB closes the vault, runs fn on the raw store (the attacker's view:
// the bbolt file, or the etcd keys, edited with the engine alone), and
// reopens nothing: callers reopen as they need.
func (tv *testVault) withDB(t testing.TB, fn func(tx store.Tx) error) {
	t.Helper()
	tv.close(t)
	if pathEngine != nil {
		if err := pathEngine(tv.path).Update(fn); err != nil {
			t.Fatal(err)
		}
		return
	}
	db, err := bolt.Open(tv.path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { return fn(store.BoltTx{Tx: tx}) }); err != nil {
		t.Fatal(err)
	}
}
