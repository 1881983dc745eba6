//go:build linux || darwin

package agent

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// testKeySet is a vault's key set in a test format: the vault identity, the
// MAC key and the index key, sealed to the owner with age (the vault's own
// format is the vault package's business; the agent is given a function
// that opens it).
type testKeySet struct {
	owner    *age.X25519Identity
	vault    *age.X25519Identity
	mac, idx []byte
	wrapped  []byte
	// fileKey is the wrapped key set's own file key, which no response
	// may hold.
	fileKey []byte
}

func newTestKeySet(t *testing.T) *testKeySet {
	t.Helper()
	k := &testKeySet{mac: make([]byte, 32), idx: make([]byte, 32)}
	var err error
	if k.owner, err = age.GenerateX25519Identity(); err != nil {
		t.Fatal(err)
	}
	if k.vault, err = age.GenerateX25519Identity(); err != nil {
		t.Fatal(err)
	}
	rand.Read(k.mac)
	rand.Read(k.idx)
	plain := fmt.Sprintf("%s\n%x\n%x\n", k.vault, k.mac, k.idx)
	k.wrapped = seal(t, []byte(plain), k.owner.Recipient())
	cap := &capture{id: k.owner}
	if _, err := age.Decrypt(bytes.NewReader(k.wrapped), cap); err != nil {
		t.Fatal(err)
	}
	k.fileKey = cap.fileKey
	return k
}

func openTestKeys(wrapped []byte, ids ...age.Identity) (*Keys, error) {
	r, err := age.Decrypt(bytes.NewReader(wrapped), ids...)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var id string
	k := &Keys{}
	if _, err := fmt.Sscanf(string(b), "%s\n%x\n%x\n", &id, &k.MAC, &k.Index); err != nil {
		return nil, err
	}
	if k.Identity, err = age.ParseX25519Identity(id); err != nil {
		return nil, err
	}
	return k, nil
}

func seal(t *testing.T, plain []byte, to ...age.Recipient) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := age.Encrypt(&b, to...)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// capture is an identity that remembers the stanzas it was given and the
// file key it unwrapped.
type capture struct {
	id      age.Identity
	stanzas []*age.Stanza
	fileKey []byte
}

func (c *capture) Unwrap(s []*age.Stanza) ([]byte, error) {
	c.stanzas = s
	if c.id == nil {
		return nil, age.ErrIncorrectIdentity
	}
	k, err := c.id.Unwrap(s)
	c.fileKey = k
	return k, err
}

func stanzasOf(t *testing.T, ct []byte) []*age.Stanza {
	t.Helper()
	c := &capture{}
	age.Decrypt(bytes.NewReader(ct), c)
	if len(c.stanzas) == 0 {
		t.Fatal("no stanzas")
	}
	return c.stanzas
}

// testAgent runs a server holding k's owner identity on a socket in a
// fresh directory, until the test ends.
type testAgent struct {
	srv  *Server
	sock string
	done chan error
}

func startAgent(t *testing.T, k *testKeySet, mod func(*Config)) *testAgent {
	t.Helper()
	dir, err := os.MkdirTemp("", "cva")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Identity: "/home/owner/key.age", Identities: []age.Identity{k.owner}, OpenKeys: openTestKeys,
		UID: os.Getuid(), Until: time.Unix(2000000000, 0), Now: time.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	a := &testAgent{srv: NewServer(cfg), sock: sock, done: make(chan error, 1)}
	go func() { a.done <- a.srv.Serve(l) }()
	t.Cleanup(a.srv.Close)
	return a
}

// rawConn is a raw client: it speaks the protocol itself, and keeps every
// byte the agent sent it.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	got  bytes.Buffer
}

func dialRaw(t *testing.T, sock string) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, conn: c}
}

func (r *rawConn) do(req *Request) *Response {
	r.t.Helper()
	r.conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := writeFrame(r.conn, req.marshal()); err != nil {
		r.t.Fatal(err)
	}
	b, err := readFrame(io.TeeReader(r.conn, &r.got))
	if err != nil {
		r.t.Fatal(err)
	}
	resp, err := unmarshalResponse(b)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp
}

func TestAgentRefusesKeySetStanzas(t *testing.T) {
	k := newTestKeySet(t)
	a := startAgent(t, k, nil)
	raw := dialRaw(t, a.sock)
	open := raw.do(&Request{Op: OpOpen, Wrapped: k.wrapped})
	if open.Status != StatusOK || open.Recipient != k.vault.Recipient().String() {
		t.Fatalf("open: status %d, recipient %q", open.Status, open.Recipient)
	}
	own := stanzasOf(t, k.wrapped)
	resp := raw.do(&Request{Op: OpUnwrap, Session: open.Session, Stanzas: [][]*age.Stanza{own}})
	if resp.Status != StatusRefused || len(resp.Out) != 0 {
		t.Fatalf("unwrap of the key set's own stanzas: status %d, %d results", resp.Status, len(resp.Out))
	}
	// Hidden among records' stanzas, and in a batch, still refused.
	rec := seal(t, []byte("a record"), k.vault.Recipient())
	mixed := append(stanzasOf(t, rec), own...)
	resp = raw.do(&Request{Op: OpUnwrap, Session: open.Session, Stanzas: [][]*age.Stanza{stanzasOf(t, rec), mixed}})
	if resp.Status != StatusRefused {
		t.Fatalf("a batch holding the key set's stanzas: status %d", resp.Status)
	}
	// Through the client too.
	c, err := Dial(a.sock, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.Open(k.wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Unwrap([][]*age.Stanza{own}); !errors.Is(err, ErrRefused) {
		t.Fatalf("client unwrap of the key set: %v", err)
	}
}

// TestAgentReturnsNoKeyBytes asks for everything the agent does, through a
// raw client, and looks for every key's bytes in what came back.
func TestAgentReturnsNoKeyBytes(t *testing.T) {
	k := newTestKeySet(t)
	a := startAgent(t, k, nil)
	raw := dialRaw(t, a.sock)
	raw.do(&Request{Op: OpStatus})
	open := raw.do(&Request{Op: OpOpen, Wrapped: k.wrapped})
	sess := open.Session
	recs := [][]byte{seal(t, []byte("record one"), k.vault.Recipient()), seal(t, []byte("record two"), k.vault.Recipient(), k.owner.Recipient())}
	unwrap := raw.do(&Request{Op: OpUnwrap, Session: sess, Stanzas: [][]*age.Stanza{stanzasOf(t, recs[0]), stanzasOf(t, recs[1])}})
	if unwrap.Status != StatusOK || len(unwrap.Out) != 2 || len(unwrap.Out[0]) != 16 || len(unwrap.Out[1]) != 16 {
		t.Fatalf("unwrap: status %d, %d results", unwrap.Status, len(unwrap.Out))
	}
	// A record's file key opens that record, and nothing else.
	for i, ct := range recs {
		r, err := age.Decrypt(bytes.NewReader(ct), age.NewInjectedFileKeyIdentity(unwrap.Out[i]))
		if err != nil {
			t.Fatalf("record %d with its file key: %v", i, err)
		}
		io.ReadAll(r)
		if _, err := age.Decrypt(bytes.NewReader(recs[1-i]), age.NewInjectedFileKeyIdentity(unwrap.Out[i])); err == nil {
			t.Errorf("record %d's file key opened the other record", i)
		}
	}
	msgs := [][]byte{k.mac, k.idx, []byte("entry"), {}}
	for _, key := range []KeyID{KeyMAC, KeyIndex} {
		resp := raw.do(&Request{Op: OpMAC, Session: sess, Key: key, Msgs: msgs})
		want := k.mac
		if key == KeyIndex {
			want = k.idx
		}
		for i, m := range msgs {
			h := hmac.New(sha256.New, want)
			h.Write(m)
			if !hmac.Equal(resp.Out[i], h.Sum(nil)) {
				t.Errorf("key %d message %d: wrong MAC", key, i)
			}
		}
	}
	sealed := raw.do(&Request{Op: OpSeal, Session: sess, Label: "directory", Msgs: [][]byte{[]byte("x"), []byte("a client directory entry")}, ADs: [][]byte{[]byte("1"), []byte("2")}})
	raw.do(&Request{Op: OpUnseal, Session: sess, Label: "directory", Msgs: sealed.Out, ADs: [][]byte{[]byte("1"), []byte("2")}})
	// Error answers too.
	raw.do(&Request{Op: OpUnwrap, Session: sess, Stanzas: [][]*age.Stanza{stanzasOf(t, k.wrapped)}})
	raw.do(&Request{Op: OpMAC, Session: sess, Key: 9, Msgs: msgs})
	raw.do(&Request{Op: 99, Session: sess})

	derived, err := hkdf.Key(sha256.New, k.mac, nil, aeadInfo+"directory", 32)
	if err != nil {
		t.Fatal(err)
	}
	got := raw.got.Bytes()
	secrets := map[string][]byte{
		"MAC key": k.mac, "index key": k.idx, "key set file key": k.fileKey, "derived key": derived,
		"owner identity": []byte(k.owner.String()), "vault identity": []byte(k.vault.String()),
		"owner scalar": scalar(t, k.owner), "vault scalar": scalar(t, k.vault),
	}
	for name, s := range secrets {
		if len(s) < 16 {
			t.Fatalf("%s: %d bytes", name, len(s))
		}
		// Any 12 bytes in a row of a key would be found.
		for i := 0; i+12 <= len(s); i++ {
			if bytes.Contains(got, s[i:i+12]) {
				t.Errorf("a response holds bytes of the %s", name)
				break
			}
		}
		if bytes.Contains(bytes.ToLower(got), bytes.ToLower(s)) || bytes.Contains(got, []byte(fmt.Sprintf("%x", s))) {
			t.Errorf("a response holds the %s in text", name)
		}
	}
}

// scalar decodes an age X25519 identity's Bech32 string to its 32 bytes.
func scalar(t *testing.T, id *age.X25519Identity) []byte {
	t.Helper()
	s := strings.ToLower(id.String())
	data := s[strings.LastIndexByte(s, '1')+1:]
	data = data[:len(data)-6] // the checksum
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	var out []byte
	acc, bits := 0, 0
	for _, c := range data {
		acc = acc<<5 | strings.IndexRune(charset, c)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	if len(out) != 32 {
		t.Fatalf("scalar of %d bytes", len(out))
	}
	return out
}

func TestAgentLockEndsEverything(t *testing.T) {
	k := newTestKeySet(t)
	a := startAgent(t, k, nil)
	c, err := Dial(a.sock, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.Open(k.wrapped)
	if err != nil {
		t.Fatal(err)
	}
	recA := seal(t, []byte("record A"), k.vault.Recipient())
	recB := seal(t, []byte("record B"), k.vault.Recipient())
	keys, err := s.Unwrap([][]*age.Stanza{stanzasOf(t, recA)})
	if err != nil || keys[0] == nil {
		t.Fatalf("unwrap: %v", err)
	}
	idle := dialRaw(t, a.sock)
	idle.do(&Request{Op: OpStatus})

	if err := c.Lock(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.done:
	case <-time.After(2 * time.Second):
		t.Fatal("Serve did not return after lock")
	}
	// Every connection is closed, and no new one is answered.
	idle.conn.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := idle.conn.Read(make([]byte, 1)); err == nil || n != 0 {
		t.Error("an idle connection outlived the lock")
	}
	if _, err := s.MAC(KeyMAC, [][]byte{[]byte("x")}); err == nil {
		t.Error("a session answered after lock")
	}
	if _, err := Dial(a.sock, time.Now); err == nil {
		t.Error("the socket still answers after lock")
	}
	if len(a.srv.sessions) != 0 {
		t.Error("the locked agent still holds key sets")
	}
	// What was received before the lock is useless after it: the old
	// session is unknown to a new agent holding the same identity, and the
	// one record's file key opens no other record.
	b := startAgent(t, k, nil)
	raw := dialRaw(t, b.sock)
	if resp := raw.do(&Request{Op: OpMAC, Session: s.id, Key: KeyMAC, Msgs: [][]byte{[]byte("x")}}); resp.Status != StatusNoSession {
		t.Errorf("the old session in a new agent: status %d", resp.Status)
	}
	if _, err := age.Decrypt(bytes.NewReader(recB), age.NewInjectedFileKeyIdentity(keys[0])); err == nil {
		t.Error("an old file key opened another record")
	}
	if _, err := age.Decrypt(bytes.NewReader(k.wrapped), age.NewInjectedFileKeyIdentity(keys[0])); err == nil {
		t.Error("an old file key opened the key set")
	}
}

func TestAgentServesConcurrently(t *testing.T) {
	k := newTestKeySet(t)
	a := startAgent(t, k, func(c *Config) { c.IdleTimeout = time.Minute })
	for range 3 {
		c := dialRaw(t, a.sock)
		// A frame begun and never finished, and idle connections.
		c.conn.Write([]byte{0, 0, 1})
	}
	start := time.Now()
	c, err := Dial(a.sock, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.Open(k.wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MAC(KeyIndex, [][]byte{[]byte("x")}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("a fourth client waited %v", d)
	}
}

func TestAgentBusyAndIdle(t *testing.T) {
	k := newTestKeySet(t)
	a := startAgent(t, k, func(c *Config) { c.MaxConns = 2; c.IdleTimeout = 200 * time.Millisecond })
	dialRaw(t, a.sock)
	dialRaw(t, a.sock)
	time.Sleep(50 * time.Millisecond)
	third := dialRaw(t, a.sock)
	if resp := third.do(&Request{Op: OpStatus}); resp.Status != StatusBusy {
		t.Fatal("a connection over the limit was not told busy")
	}
	// The idle ones are closed after the idle timeout, and their slots
	// serve again.
	time.Sleep(400 * time.Millisecond)
	c, err := Dial(a.sock, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.Status(); err != nil {
		t.Fatalf("after the idle ones timed out: %v", err)
	}
	// A client whose connection the agent closed while idle redials.
	time.Sleep(400 * time.Millisecond)
	if _, _, err := c.Status(); err != nil {
		t.Fatalf("after its own connection idled out: %v", err)
	}
}

func TestAgentOtherUserRefused(t *testing.T) {
	k := newTestKeySet(t)
	// The agent is told to expect another user; the peer credentials are
	// this one's.
	a := startAgent(t, k, func(c *Config) { c.UID = os.Getuid() + 1 })
	c, err := Dial(a.sock, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Open(k.wrapped); err == nil {
		t.Fatal("the agent answered another user")
	}
	if err := c.Lock(); err == nil {
		t.Fatal("another user locked the agent")
	}
}

func TestAgentVersionAndMalformed(t *testing.T) {
	k := newTestKeySet(t)
	a := startAgent(t, k, nil)
	raw := dialRaw(t, a.sock)
	body := (&Request{Op: OpStatus}).marshal()
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)+1))
	frame = append(append(frame, Version+1), body...)
	raw.conn.Write(frame)
	b, err := readFrame(raw.conn)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := unmarshalResponse(b); resp.Status != StatusVersion {
		t.Fatalf("another version: status %d", resp.Status)
	}
	if resp := raw.do(&Request{Op: OpOpen, Wrapped: []byte("not a key set")}); resp.Status != StatusNoMatch {
		t.Fatalf("open of garbage: status %d", resp.Status)
	}
	other := newTestKeySet(t)
	if resp := raw.do(&Request{Op: OpOpen, Wrapped: other.wrapped}); resp.Status != StatusNoMatch {
		t.Fatalf("open of another owner's key set: status %d", resp.Status)
	}
	// A frame over the limit ends the connection without an allocation
	// of its size.
	raw.conn.Write(binary.BigEndian.AppendUint32(nil, MaxFrame+1))
	raw.conn.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := raw.conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("an oversized frame was read")
	}
}

func TestAgentSealMatchesLocal(t *testing.T) {
	k := newTestKeySet(t)
	a := startAgent(t, k, nil)
	c, err := Dial(a.sock, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.Open(k.wrapped)
	if err != nil {
		t.Fatal(err)
	}
	msgs := [][]byte{[]byte("a"), []byte("b"), {}}
	ads := [][]byte{[]byte("1"), []byte("2"), []byte("3")}
	sealed, err := s.Seal("clients", msgs, ads)
	if err != nil {
		t.Fatal(err)
	}
	local, err := DeriveAEAD(k.mac, "clients")
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := OpenBatch(local, sealed, ads)
	if err != nil || !bytes.Equal(plain[1], msgs[1]) {
		t.Fatalf("the agent's seal opened in process: %v", err)
	}
	mine, err := SealBatch(local, msgs, ads)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Unseal("clients", mine, ads); err != nil || !bytes.Equal(got[0], msgs[0]) {
		t.Fatalf("a seal made in process, opened by the agent: %v", err)
	}
	// Another label, a flipped bit, or the wrong additional data: refused,
	// naming the message.
	if _, err := s.Unseal("other", mine, ads); !errors.Is(err, ErrOpenFailed) {
		t.Errorf("another label: %v", err)
	}
	mine[2][len(mine[2])-1] ^= 1
	var oe *OpenError
	if _, err := s.Unseal("clients", mine, ads); !errors.As(err, &oe) || oe.Index != 2 {
		t.Errorf("a flipped bit: %v", err)
	}
	if _, err := s.Unseal("clients", sealed, [][]byte{[]byte("2"), []byte("1"), []byte("3")}); !errors.Is(err, ErrOpenFailed) {
		t.Errorf("swapped additional data: %v", err)
	}
}

// TestAgentBatchesSplit sends a batch larger than one frame may hold.
func TestAgentBatchesSplit(t *testing.T) {
	k := newTestKeySet(t)
	a := startAgent(t, k, nil)
	c, err := Dial(a.sock, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.Open(k.wrapped)
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([][]byte, 40000)
	for i := range msgs {
		msgs[i] = bytes.Repeat([]byte{byte(i)}, 600)
	}
	sums, err := s.MAC(KeyMAC, msgs)
	if err != nil || len(sums) != len(msgs) {
		t.Fatalf("%d MACs: %v", len(sums), err)
	}
	h := hmac.New(sha256.New, k.mac)
	h.Write(msgs[39999])
	if !hmac.Equal(sums[39999], h.Sum(nil)) {
		t.Fatal("the last MAC of a split batch is wrong")
	}
}

// TestAgentLockWhenFull: a lock is obeyed even when idle clients hold every
// connection slot.
func TestAgentLockWhenFull(t *testing.T) {
	k := newTestKeySet(t)
	a := startAgent(t, k, func(c *Config) { c.MaxConns = 2; c.IdleTimeout = time.Minute })
	dialRaw(t, a.sock)
	dialRaw(t, a.sock)
	time.Sleep(50 * time.Millisecond)
	c, err := Dial(a.sock, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Open(k.wrapped); !errors.Is(err, ErrBusy) {
		t.Fatalf("open over the limit: %v", err)
	}
	if err := c.Lock(); err != nil {
		t.Fatalf("lock over the limit: %v", err)
	}
	select {
	case <-a.done:
	case <-time.After(2 * time.Second):
		t.Fatal("the agent did not end")
	}
}
