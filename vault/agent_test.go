//go:build linux || darwin

package vault

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/internal/agent"
)

// testAgent is an unlock agent served in this process, holding ids.
type testAgent struct {
	srv  *agent.Server
	sock string
}

func startTestAgent(tb testing.TB, ids ...age.Identity) *testAgent {
	tb.Helper()
	dir, err := os.MkdirTemp("", "cva")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		tb.Fatal(err)
	}
	srv := agent.NewServer(agent.Config{
		Identity: "test", Identities: ids, OpenKeys: AgentKeys, UID: os.Getuid(), Now: time.Now,
	})
	go srv.Serve(l)
	tb.Cleanup(srv.Close)
	return &testAgent{srv: srv, sock: sock}
}

// openWithAgent opens the vault at path and unlocks it through a.
func (a *testAgent) open(tb testing.TB, path string) *Vault {
	tb.Helper()
	c, err := agent.Dial(a.sock, time.Now)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	v, err := Open(path, Options{Now: testClock})
	if err != nil {
		tb.Fatal(err)
	}
	if err := v.UnlockWithAgent(c); err != nil {
		v.Close()
		tb.Fatal(err)
	}
	return v
}

func TestAgentUnlockedVault(t *testing.T) {
	tv := newTestVault(t)
	recs, _ := benchRecords(0, 50)
	ids, err := tv.Add(context.Background(), source(recs), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tv.close(t)
	a := startTestAgent(t, tv.owner)
	v := a.open(t, tv.path)
	if v.keys.remote == nil || v.keys.macKey != nil || v.keys.indexKey != nil {
		t.Fatal("the vault holds keys of its own with the agent")
	}
	// Read by ID and by name, list, add, note and verify, all through the
	// agent.
	s, err := v.View(ids[3].String())
	if err != nil || s.Name != recs[3].Name {
		t.Fatalf("view by id: %v", err)
	}
	if s, err = v.View(recs[7].Name); err != nil || s.ID != ids[7].String() {
		t.Fatalf("view by name: %v", err)
	}
	list, err := v.List()
	if err != nil || len(list) != 50 {
		t.Fatalf("list: %d, %v", len(list), err)
	}
	more, _ := benchRecords(50, 20)
	added, err := v.Add(context.Background(), source(more), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := v.Verify()
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("verify through the agent: %v %+v", err, rep)
	}
	// What the agent sealed and MAC'd, the vault's own keys read: the state
	// root the agent's batches kept is the one they compute.
	sealed, err := v.keys.aead("directory").Seal([][]byte{[]byte("entry")}, [][]byte{[]byte("ad")})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	tv.reopen(t)
	rep, err = tv.Verify()
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("verify in process after the agent wrote: %v %+v", err, rep)
	}
	if s, err := tv.View(more[5].Name); err != nil || s.ID != added[5].String() {
		t.Fatalf("a record added through the agent: %v", err)
	}
	plain, err := tv.keys.aead("directory").Open(sealed, [][]byte{[]byte("ad")})
	if err != nil || string(plain[0]) != "entry" {
		t.Fatalf("the agent's seal opened in process: %v", err)
	}
	if _, err := tv.keys.aead("directory").Open(sealed, [][]byte{[]byte("other")}); !errors.Is(err, ErrTampered) {
		t.Fatalf("another additional data: %v", err)
	}
	mine, _ := tv.keys.aead("directory").Seal([][]byte{[]byte("mine")}, nil)
	tv.close(t)

	v = a.open(t, tv.path)
	defer v.Close()
	if got, err := v.keys.aead("directory").Open(mine, nil); err != nil || string(got[0]) != "mine" {
		t.Fatalf("a seal made in process, opened by the agent: %v", err)
	}
	// Rekey needs the keys themselves: refused, and says why.
	other, _ := GenerateIdentity()
	err = v.Rekey([]age.Recipient{other.Recipient()}, nil, []age.Identity{other})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "lock") {
		t.Fatalf("rekey through the agent: %v", err)
	}
}

func TestAgentUnlockAnotherVault(t *testing.T) {
	tv := newTestVault(t)
	tv.close(t)
	stranger, _ := GenerateIdentity()
	a := startTestAgent(t, stranger)
	c, err := agent.Dial(a.sock, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := Open(tv.path, Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.UnlockWithAgent(c); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("an agent holding another identity: %v", err)
	}
	if v.Unlocked() {
		t.Fatal("unlocked")
	}
}

// TestAgentLockedMidCommand: an agent locked while a command runs makes it
// fail with the agent's error, never "tampered", and nothing it computed
// is stored.
func TestAgentLockedMidCommand(t *testing.T) {
	tv := newTestVault(t)
	recs, _ := benchRecords(0, 10)
	ids, err := tv.Add(context.Background(), source(recs), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tv.close(t)
	a := startTestAgent(t, tv.owner)
	v := a.open(t, tv.path)
	defer v.Close()
	a.srv.Close()
	if _, err := v.View(ids[0].String()); err == nil || errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "unlock agent") {
		t.Fatalf("view after the agent was locked: %v", err)
	}
	more, _ := benchRecords(10, 5)
	if _, err := v.Add(context.Background(), source(more), AddOptions{}); err == nil || errors.Is(err, ErrTampered) {
		t.Fatalf("add after the agent was locked: %v", err)
	}
	if _, err := v.List(); err == nil || errors.Is(err, ErrTampered) {
		t.Fatalf("list after the agent was locked: %v", err)
	}
	if rep, err := v.Verify(); err == nil || errors.Is(err, ErrTampered) {
		t.Fatalf("verify after the agent was locked: %v %+v", err, rep)
	}
	v.Close()
	tv.reopen(t)
	rep, err := tv.Verify()
	if err != nil || len(rep.Problems) != 0 || rep.Records != 10 {
		t.Fatalf("verify after the failed commands: %v %+v", err, rep)
	}
}

// TestAgentRoundTrips counts the requests of a list and of a bulk add of
// n records: batched, not one or more per record.
func TestAgentRoundTrips(t *testing.T) {
	const n = 300
	tv := newTestVault(t)
	recs, _ := benchRecords(0, n)
	if _, err := tv.Add(context.Background(), source(recs), AddOptions{}); err != nil {
		t.Fatal(err)
	}
	tv.close(t)
	a := startTestAgent(t, tv.owner)
	v := a.open(t, tv.path)
	defer v.Close()
	before := a.srv.Requests()
	if _, err := v.List(); err != nil {
		t.Fatal(err)
	}
	list := a.srv.Requests() - before
	before = a.srv.Requests()
	if _, err := v.View(recs[n/2].Name); err != nil {
		t.Fatal(err)
	}
	view := a.srv.Requests() - before
	more, _ := benchRecords(n, n)
	before = a.srv.Requests()
	if _, err := v.Add(context.Background(), source(more), AddOptions{}); err != nil {
		t.Fatal(err)
	}
	add := a.srv.Requests() - before
	before = a.srv.Requests()
	if rep, err := v.Verify(); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	verify := a.srv.Requests() - before
	before = a.srv.Requests()
	if _, err := v.Expire(ExpireOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	expire := a.srv.Requests() - before
	t.Logf("requests at %d records: list %d, view %d, add of %d: %d, verify %d, expire --dry-run %d", n, list, view, n, add, verify, expire)
	if add > 4*n/32+10 || verify > 40 || expire > 10 {
		t.Errorf("add, verify or expire asked one by one: %d, %d, %d requests", add, verify, expire)
	}
	if list > 10 {
		t.Errorf("list of %d records made %d requests", n, list)
	}
	if view > 10 {
		t.Errorf("view made %d requests", view)
	}
}

func TestAgentKeysOnlyForTheAgent(t *testing.T) {
	// AgentKeys opens the same key set as Unlock, and nothing opens it with
	// another identity.
	tv := newTestVault(t)
	var wrapped []byte
	tv.view(func(tx *txn) error { wrapped = clone(tx.Bucket(bucketMeta).Get(keyKeys)); return nil })
	k, err := AgentKeys(wrapped, tv.owner)
	if err != nil || !bytes.Equal(k.MAC, tv.keys.macKey) || k.Identity.Recipient().String() != tv.keys.recipient.String() {
		t.Fatalf("AgentKeys: %v", err)
	}
	other, _ := GenerateIdentity()
	if _, err := AgentKeys(wrapped, other); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("another identity: %v", err)
	}
}
