package vault

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	bolt "go.etcd.io/bbolt"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// The package's tests run on a bbolt file by default. With
// CLIENTVAULT_TEST_ENGINE=etcd, every test that creates or opens a vault by
// path runs on an etcd server inside the test process instead: each path is
// a prefix of its own on one server (pathEngine). The tests that are about
// the file itself (they edit its bytes with bbolt, cut it short, copy it
// back, count its pages) say so with fileOnly and are run on the file only.
//
//	CLIENTVAULT_TEST_ENGINE=etcd go test ./vault
var testEngine = os.Getenv("CLIENTVAULT_TEST_ENGINE")

// testEtcd is the server of an etcd run, nil in a child process (which
// reaches its parent's server through CLIENTVAULT_TEST_ETCD).
var testEtcd *etcdtest.Server

func TestMain(m *testing.M) {
	switch testEngine {
	case "", "bbolt":
		os.Exit(m.Run())
	case "etcd":
	default:
		fmt.Fprintf(os.Stderr, "CLIENTVAULT_TEST_ENGINE=%s: bbolt or etcd\n", testEngine)
		os.Exit(2)
	}
	os.Exit(runOnEtcd(m))
}

// runOnEtcd runs the tests with every path on an etcd server: a new one, or
// for a child process (kill_test.go), its parent's.
func runOnEtcd(m *testing.M) int {
	endpoint := os.Getenv("CLIENTVAULT_TEST_ETCD")
	if endpoint == "" {
		// The limits raised as a salon's cluster would be for bulk writes
		// (README: A salon on several computers).
		var stop func()
		var err error
		testEtcd, stop, err = etcdtest.StartMain(etcdtest.MaxTxnOps(testMaxOps), etcdtest.MaxRequestBytes(testMaxBytes))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer stop()
		endpoint = testEtcd.Endpoint
		os.Setenv("CLIENTVAULT_TEST_ETCD", endpoint) // for the children
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second,
		Logger: zap.NewNop(), MaxCallSendMsgSize: testMaxBytes + 64<<10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cli.Close()
	pathEngine = func(path string) store.Engine {
		e, err := store.NewEtcd(cli, pathPrefix(path), store.EtcdOptions{MaxTxnOps: testMaxOps, MaxRequestBytes: testMaxBytes})
		if err != nil {
			panic(err)
		}
		return e
	}
	return m.Run()
}

const (
	testMaxOps   = 8192
	testMaxBytes = 16 << 20
)

// pathPrefix is the etcd prefix that stands for path: the same in every
// process of a run.
func pathPrefix(path string) string {
	h := sha256.Sum256([]byte(filepath.Clean(path)))
	return "/test/" + hex.EncodeToString(h[:8]) + "/"
}

// fileOnly marks a test that is about the vault file itself (its lock, its
// pages, its memory map, the crash of a compaction that copies it), which
// has no equivalent on etcd. The attacks on stored bytes are not among
// them: they run on etcd's keys too (withDB, snapshots).
func fileOnly(t testing.TB, why string) {
	t.Helper()
	if pathEngine != nil {
		t.Skipf("about the vault file (%s): run on bbolt", why)
	}
}

// keyCount counts the keys of b, on any engine (bbolt's Stats().KeyN).
func keyCount(b store.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// storedBytes returns every byte the engine of path keeps on disk where
// live and deleted data lie: the vault file, or the etcd member's database
// file (its write-ahead log is another matter: README, destroyed means
// gone). etcd writes its database in batches; they are committed first.
func storedBytes(t testing.TB, path string) []byte {
	t.Helper()
	file := path
	if testEtcd != nil {
		testEtcd.Etcd.Server.Backend().ForceCommit()
		file = filepath.Join(testEtcd.Dir, "member", "snap", "db")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// snapshotOf reads every bucket of the vault at path, through its engine
// alone (the attacker's view).
func snapshotOf(t testing.TB, path string) snapshot {
	t.Helper()
	s := snapshot{}
	err := rawEngine(t, path, true, func(tx store.Tx) error {
		return tx.ForEach(func(name []byte, b store.Bucket) error {
			m := map[string][]byte{}
			s[string(name)] = m
			return b.ForEach(func(k, v []byte) error {
				m[string(k)] = clone(v)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawEngine runs fn on the store of the vault at path, as an attacker with
// the engine alone: bbolt opening the file, or an etcd client.
func rawEngine(t testing.TB, path string, readOnly bool, fn func(store.Tx) error) error {
	t.Helper()
	if pathEngine != nil {
		if readOnly {
			return pathEngine(path).View(fn)
		}
		return pathEngine(path).Update(fn)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if readOnly {
		return db.View(func(tx *bolt.Tx) error { return fn(store.BoltTx{Tx: tx}) })
	}
	return db.Update(func(tx *bolt.Tx) error { return fn(store.BoltTx{Tx: tx}) })
}

// copyVault copies the vault at from over the one at to, whole: cp of the
// file, or every key of from's prefix in place of to's.
func copyVault(t testing.TB, from, to string) {
	t.Helper()
	if pathEngine == nil {
		if err := copyFile(to, from); err != nil {
			t.Fatal(err)
		}
		return
	}
	snap := snapshotOf(t, from)
	err := pathEngine(to).Update(func(tx store.Tx) error {
		var names [][]byte
		tx.ForEach(func(name []byte, _ store.Bucket) error { names = append(names, clone(name)); return nil })
		for _, n := range names {
			if err := tx.DeleteBucket(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = pathEngine(to).Update(func(tx store.Tx) error {
		for name, m := range snap {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for k, v := range m {
				if err := b.Put([]byte(k), v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// asFile returns a vault file holding the vault at path, byte for byte in
// every bucket: path itself on bbolt, a new file copied from etcd's keys
// otherwise (for Restore, which reads backups from files).
func asFile(t testing.TB, path string) string {
	t.Helper()
	if pathEngine == nil {
		return path
	}
	file := filepath.Join(t.TempDir(), "copy.db")
	db, err := bolt.Open(file, 0o600, &bolt.Options{Timeout: time.Second, PageSize: vaultPageSize})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = pathEngine(path).View(func(src store.Tx) error {
		return copyStore(store.Bolt{DB: db}, src, &MigrateReport{})
	})
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// beatsLongStopped makes a staged add that stopped beating count as
// interrupted at once (stageAlive), as it does on a file: for the tests
// that kill an add and open the vault right after, which on etcd would
// otherwise wait for stageAlive to pass.
func beatsLongStopped(t testing.TB) {
	saved := stageAlive
	stageAlive = 0
	t.Cleanup(func() { stageAlive = saved })
}
