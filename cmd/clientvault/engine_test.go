package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	bolt "go.etcd.io/bbolt"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// The CLI's tests run on a vault file by default. With
// CLIENTVAULT_TEST_ENGINE=etcd, every vault they make is on an etcd server
// inside the test process instead, named as a salon names its vault: by an
// etcd URL (etcd://127.0.0.1:PORT/PREFIX?tls=off): each Go test's a prefix
// of its own on the one server of the test binary (the tests run one at a
// time), each script's on a server of the script's own (scripts run side
// by side, and etcd compacts all of a server's keys at once: TestScripts).
//
//	CLIENTVAULT_TEST_ENGINE=etcd go test ./cmd/clientvault
//
// The URL reaches the command the way it reaches a person's: a machine
// that names its vault (newTestEnv, a script's $VAULT) names it by
// CLIENTVAULT_VAULT; a person's machine (newPersonEnv, newPtyEnv, a
// script's home) has it in the config file, where a salon writes it once.
// The commands, including the ones run as processes, get no test hook: the
// code that dials etcd is the product's. The steps that are about the vault
// file itself (its mode, size, bytes, lock) are file-only: a Go test
// asserts what etcd does instead (onEtcd), a script marks them [!etcd].
var testEngine = os.Getenv("CLIENTVAULT_TEST_ENGINE")

// testEtcd is the etcd server of an etcd run, started once for the test
// binary by etcdMain; nil on the file engine and in the processes the tests
// run as clientvault.
var testEtcd *etcdtest.Server

// etcdMain is the test binary's run (testscript.Main calls it in the test
// process only, not in the commands it runs): on etcd, with the server
// started before the tests and stopped after them.
type etcdMain struct{ m *testing.M }

func (e etcdMain) Run() int {
	switch testEngine {
	case "", "bbolt":
		return e.m.Run()
	case "etcd":
	default:
		fmt.Fprintf(os.Stderr, "CLIENTVAULT_TEST_ENGINE=%s: bbolt or etcd\n", testEngine)
		return 2
	}
	var stop func()
	var err error
	if testEtcd, stop, err = etcdtest.StartMain(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return e.m.Run()
}

// onEtcd reports whether the tests' vaults are on etcd.
func onEtcd() bool { return testEtcd != nil }

// testVault is where the vault named file in dir is: the file itself, or,
// on etcd, a prefix of its own (the same for the same path, so that two
// machines of one test reach one vault by one path).
func testVault(dir, file string) string {
	path := filepath.Join(dir, file)
	if !onEtcd() {
		return path
	}
	h := sha256.Sum256([]byte(path))
	return etcdURL(testEtcd, strings.TrimSuffix(file, filepath.Ext(file))+"-"+hex.EncodeToString(h[:6]))
}

// etcdURL names the vault at prefix on the etcd server srv.
func etcdURL(srv *etcdtest.Server, prefix string) string {
	return "etcd://" + strings.TrimPrefix(srv.Endpoint, "http://") + "/" + prefix + "?tls=off"
}

// nameVaultInConfig writes the config file in configDir that names the
// machine's vault, on etcd (where a person's vault is not a file in their
// data directory), and returns that vault's location; on the file engine
// it writes nothing and returns "".
func nameVaultInConfig(configDir string) (string, error) {
	if !onEtcd() {
		return "", nil
	}
	loc := testVault(configDir, "vault.db")
	return loc, writeVaultConfig(configDir, loc)
}

// writeVaultConfig writes the config file in configDir that names the
// vault at loc.
func writeVaultConfig(configDir, loc string) error {
	b, err := json.Marshal(vaultConfig{Vault: loc})
	if err != nil {
		return err
	}
	dir := filepath.Join(configDir, "clientvault")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600)
}

// storedVault returns everything stored of the vault at loc, to tell
// whether a command changed it: the file's bytes, or every key and value
// under its etcd prefix.
func storedVault(t testing.TB, loc string) []byte {
	t.Helper()
	b, err := readStored(loc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readStored is storedVault for a script's command (stored).
func readStored(loc string) ([]byte, error) {
	if !isRemote(loc) {
		return os.ReadFile(loc)
	}
	resp, err := getPrefix(loc)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, kv := range resp.Kvs {
		b.Write(kv.Key)
		b.WriteByte(0)
		b.Write(kv.Value)
		b.WriteByte(0)
	}
	return b.Bytes(), nil
}

// storedSize is how many bytes the vault at loc takes: the file's size, or
// the bytes of the keys and values under its etcd prefix.
func storedSize(loc string) (int64, error) {
	if !isRemote(loc) {
		fi, err := os.Stat(loc)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	resp, err := getPrefix(loc)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, kv := range resp.Kvs {
		n += int64(len(kv.Key) + len(kv.Value))
	}
	return n, nil
}

// getPrefix reads every key of the etcd vault at loc, on whichever of the
// tests' servers the URL names.
func getPrefix(loc string) (*clientv3.GetResponse, error) {
	target, err := parseEtcdURL(loc)
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: target.endpoints, DialTimeout: 5 * time.Second,
		Logger: zap.NewNop(), MaxCallRecvMsgSize: math.MaxInt32})
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	return cli.Get(context.Background(), target.prefix, clientv3.WithPrefix())
}

// viewStore reads the vault at loc through its engine alone, as someone
// with the file or the etcd keys, but no key of the vault's, would.
func viewStore(t testing.TB, loc string, fn func(store.Tx) error) {
	t.Helper()
	var e store.Engine
	if isRemote(loc) {
		target, err := parseEtcdURL(loc)
		if err != nil {
			t.Fatal(err)
		}
		if e, err = store.NewEtcd(testEtcd.Client, target.prefix, store.EtcdOptions{}); err != nil {
			t.Fatal(err)
		}
	} else {
		db, err := bolt.Open(loc, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		e = store.Bolt{DB: db}
	}
	if err := e.View(fn); err != nil {
		t.Fatal(err)
	}
}
