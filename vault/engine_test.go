package vault

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
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

func TestMain(m *testing.M) {
	switch testEngine {
	case "", "bbolt":
		os.Exit(m.Run())
	case "etcd":
	default:
		fmt.Fprintf(os.Stderr, "CLIENTVAULT_TEST_ENGINE=%s: bbolt or etcd\n", testEngine)
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "clientvault-etcd-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The limits raised as a salon's cluster would be for bulk writes
	// (README: A salon on several computers).
	srv, err := etcdtest.StartIn(dir, etcdtest.MaxTxnOps(8192), etcdtest.MaxRequestBytes(16<<20))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cli, err := srv.Dial("", "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var mu sync.Mutex
	prefixes := map[string]string{}
	pathEngine = func(path string) store.Engine {
		mu.Lock()
		p, ok := prefixes[path]
		if !ok {
			p = fmt.Sprintf("/test/%d/", len(prefixes))
			prefixes[path] = p
		}
		mu.Unlock()
		e, err := store.NewEtcd(cli, p, store.EtcdOptions{MaxTxnOps: 8192, MaxRequestBytes: 16 << 20})
		if err != nil {
			panic(err)
		}
		return e
	}
	code := m.Run()
	cli.Close()
	srv.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fileOnly marks a test that is about the vault file itself, which on etcd
// has no equivalent (the engine's own integrity is tested by the attacks
// in etcd_attack_test.go).
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
