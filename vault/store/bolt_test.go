package store_test

import (
	"path/filepath"
	"testing"

	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/storetest"
	bolt "go.etcd.io/bbolt"
)

// openBolt opens a bbolt file in a temporary directory. Its map is made
// large at once, as the vault's is (boltopts.go): bbolt grows its map only
// when no reader holds the old one, so a commit that needs a larger map
// waits for the Views open at the time.
func openBolt(t testing.TB) store.Engine {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "store.db"), 0o600, &bolt.Options{InitialMmapSize: 64 << 20, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return store.Bolt{DB: db}
}

func TestBolt(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Engine { return openBolt(t) })
}
