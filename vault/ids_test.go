package vault

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/records"
)

func TestIDsNeedsNoUnlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault.db")
	owner, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	if err := Create(path, CreateOptions{Owner: []age.Recipient{owner.Recipient()}, Now: now}); err != nil {
		t.Fatal(err)
	}
	v, err := Open(path, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock(owner); err != nil {
		t.Fatal(err)
	}
	recs := []*records.Record{{Name: "Jane Doe"}, {Name: "Ann Lee"}, {Name: "Bo Chan"}}
	i := 0
	added, err := v.Add(context.Background(), func() (*records.Record, error) {
		if i == len(recs) {
			return nil, io.EOF
		}
		i++
		return recs[i-1], nil
	}, AddOptions{})
	v.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := idStrings(added)
	slices.Sort(want)

	// A read-only open that is never unlocked: no identity, no passphrase.
	v, err = Open(path, Options{Now: now, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	got, err := v.IDs("")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("IDs = %v, want %v", got, want)
	}
	one, err := v.IDs(strings.ToUpper(want[1][:5]))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(one, want[1]) || len(one) > 1 && one[0][:5] != want[1][:5] {
		t.Errorf("IDs(%q) = %v", want[1][:5], one)
	}
	if none, _ := v.IDs("zz"); len(none) != 0 {
		t.Errorf("IDs(zz) = %v", none)
	}
}
