package vault

import (
	"bytes"
	"crypto/cipher"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sync"

	"filippo.io/age"
	"github.com/clientvault/clientvault/internal/agent"
	"github.com/clientvault/clientvault/records"
)

// The vault's keys held by the unlock agent (internal/agent). The agent
// opened the wrapped key set itself and answers operations on it; this side
// keeps only the session. The keySet's methods keep their names and
// meaning, backed by the agent:
//
//   - identity is an age.Identity whose Unwrap asks the agent for the one
//     record's file key (as an age plugin does);
//   - macHash and indexHash are hash.Hash values that buffer what is
//     written and ask the agent for the HMAC at Sum;
//   - aead seals and opens through the agent.
//
// A round trip costs tens of microseconds, so the paths that make a MAC or
// unwrap a record per record ask for them in batches first (prime, macs):
// the later calls find their answers here instead of asking one by one.
//
// If the agent stops answering during a command (locked, or its time up),
// the failure is kept (fail) and every transaction ends with it instead of
// its own result, and rolls back: a MAC that could not be made is never
// mistaken for tampering, nor stored.

// errAgentHeld is returned by what needs the keys themselves while the
// agent holds them.
var errAgentHeld = fmt.Errorf("the unlock agent holds the vault's keys and never hands them out; run 'clientvault lock' and use the identity file: %w", ErrRefused)

// remoteKeys is the agent's session for this vault.
type remoteKeys struct {
	s *agent.Session

	mu  sync.Mutex
	err error
	// macs and fileKeys hold answers asked for in batches, until used.
	macs     map[[32]byte][]byte
	fileKeys map[[32]byte][]byte
}

// AgentKeys opens the wrapped key set with ids, for the unlock agent, which
// keeps it in its memory and answers operations on it. Nothing else should
// need the keys themselves.
func AgentKeys(wrapped []byte, ids ...age.Identity) (*agent.Keys, error) {
	k, err := unwrapKeySet(wrapped, ids...)
	if err != nil {
		return nil, err
	}
	return &agent.Keys{Identity: k.identity.(*age.X25519Identity), MAC: k.macKey, Index: k.indexKey}, nil
}

// UnlockWithAgent unlocks the vault through a running unlock agent, which
// opens the vault's wrapped key set with the identity it holds: ErrWrongKey
// if that identity does not open this vault. The keys stay in the agent.
func (v *Vault) UnlockWithAgent(c *agent.Client) error {
	wrapped, hdrBytes, hdrMAC, err := v.readKeys()
	if err != nil {
		return err
	}
	s, err := c.Open(wrapped)
	if errors.Is(err, agent.ErrNoMatch) {
		return ErrWrongKey
	}
	if err != nil {
		return fmt.Errorf("unlock agent: %w", err)
	}
	r, err := age.ParseX25519Recipient(s.Recipient)
	if err != nil {
		return fmt.Errorf("unlock agent: %w", agent.ErrBadRequest)
	}
	rk := &remoteKeys{s: s, macs: map[[32]byte][]byte{}, fileKeys: map[[32]byte][]byte{}}
	keys := &keySet{identity: agentIdentity{rk}, recipient: r, remote: rk}
	return v.unlockWith(keys, wrapped, hdrBytes, hdrMAC)
}

// fail keeps the first failure of the agent.
func (r *remoteKeys) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = fmt.Errorf("the unlock agent stopped answering during the command (locked, or its time is up); run the command again: %w", err)
	}
}

// failure returns the first failure of the agent, if the keys are there.
func (k *keySet) failure() error {
	if k == nil || k.remote == nil {
		return nil
	}
	k.remote.mu.Lock()
	defer k.remote.mu.Unlock()
	return k.remote.err
}

func macCacheKey(which agent.KeyID, msg []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{byte(which)})
	h.Write(msg)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// sum is the HMAC of msg under the key named: asked for in a batch before,
// or now. A failure gives a MAC that matches nothing, and is kept.
func (r *remoteKeys) sum(which agent.KeyID, msg []byte) []byte {
	key := macCacheKey(which, msg)
	r.mu.Lock()
	m, ok := r.macs[key]
	delete(r.macs, key)
	r.mu.Unlock()
	if ok {
		return m
	}
	out, err := r.s.MAC(which, [][]byte{msg})
	if err != nil {
		r.fail(err)
		return make([]byte, sha256.Size)
	}
	return out[0]
}

// primeMACs asks for the HMACs of msgs in one batch, for sum to find.
func (r *remoteKeys) primeMACs(which agent.KeyID, msgs [][]byte) {
	if len(msgs) == 0 {
		return
	}
	out, err := r.s.MAC(which, msgs)
	if err != nil {
		r.fail(err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, m := range msgs {
		r.macs[macCacheKey(which, m)] = out[i]
	}
}

// hash is a hash.Hash for the key named whose Sum asks the agent.
func (r *remoteKeys) hash(which agent.KeyID) hash.Hash { return &agentHash{r: r, key: which} }

// agentHash buffers what is written, and asks the agent for its HMAC at Sum.
type agentHash struct {
	r   *remoteKeys
	key agent.KeyID
	buf []byte
}

func (h *agentHash) Write(p []byte) (int, error) { h.buf = append(h.buf, p...); return len(p), nil }
func (h *agentHash) Sum(b []byte) []byte         { return append(b, h.r.sum(h.key, h.buf)...) }
func (h *agentHash) Reset()                      { h.buf = h.buf[:0] }
func (h *agentHash) Size() int                   { return sha256.Size }
func (h *agentHash) BlockSize() int              { return sha256.BlockSize }

// agentIdentity is the vault's identity in the agent: Unwrap asks it for the
// file key of one record.
type agentIdentity struct{ r *remoteKeys }

// Unwrap implements age.Identity. An agent that stopped answering is
// reported as it is (as a plugin's failure is), never as tampering.
func (i agentIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	x := x25519Stanzas(stanzas)
	if len(x) == 0 {
		return nil, age.ErrIncorrectIdentity
	}
	key := stanzasKey(x)
	i.r.mu.Lock()
	k, ok := i.r.fileKeys[key]
	delete(i.r.fileKeys, key)
	i.r.mu.Unlock()
	if ok {
		return k, nil
	}
	keys, err := i.r.s.Unwrap([][]*age.Stanza{x})
	if err != nil {
		i.r.fail(err)
		return nil, &promptError{err}
	}
	if keys[0] == nil {
		return nil, age.ErrIncorrectIdentity
	}
	return keys[0], nil
}

func x25519Stanzas(stanzas []*age.Stanza) []*age.Stanza {
	var x []*age.Stanza
	for _, s := range stanzas {
		if s.Type == "X25519" {
			x = append(x, s)
		}
	}
	return x
}

func stanzasKey(stanzas []*age.Stanza) [32]byte {
	h := sha256.New()
	for _, s := range stanzas {
		writePart(h, []byte(s.Type))
		for _, a := range s.Args {
			writePart(h, []byte(a))
		}
		writePart(h, s.Body)
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// primeUnwrap asks for the file keys of the age ciphertexts cts in one
// batch, for agentIdentity.Unwrap to find.
func (r *remoteKeys) primeUnwrap(cts [][]byte) {
	items := make([][]*age.Stanza, len(cts))
	parallel(len(cts), func(i int) {
		if cts[i] != nil {
			items[i] = x25519Stanzas(stanzasOf(cts[i]))
		}
	})
	items = slices.DeleteFunc(items, func(x []*age.Stanza) bool { return len(x) == 0 })
	if len(items) == 0 {
		return
	}
	keys, err := r.s.Unwrap(items)
	if err != nil {
		r.fail(err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, k := range keys {
		if k != nil {
			r.fileKeys[stanzasKey(items[i])] = k
		}
	}
}

// stanzasOf returns the recipient stanzas of an age ciphertext (none if it
// is malformed): age hands them to the identity it is given.
func stanzasOf(ct []byte) []*age.Stanza {
	var c stanzaCollector
	age.Decrypt(bytes.NewReader(ct), &c)
	return c.stanzas
}

type stanzaCollector struct{ stanzas []*age.Stanza }

func (c *stanzaCollector) Unwrap(s []*age.Stanza) ([]byte, error) {
	c.stanzas = s
	return nil, age.ErrIncorrectIdentity
}

// macMessage is what mac(label, parts...) authenticates.
func macMessage(label string, parts ...[]byte) []byte {
	n := 8 + len(label)
	for _, p := range parts {
		n += 8 + len(p)
	}
	var b bytes.Buffer
	b.Grow(n)
	writePart(&b, []byte(label))
	for _, p := range parts {
		writePart(&b, p)
	}
	return b.Bytes()
}

// macs returns mac(label, parts...) of each parts in one batch: in process,
// one by one; with the agent, one request.
func (k *keySet) macs(label string, parts [][][]byte) [][]byte {
	out := make([][]byte, len(parts))
	if k.remote == nil {
		for i, p := range parts {
			out[i] = k.mac(label, p...)
		}
		return out
	}
	msgs := make([][]byte, len(parts))
	for i, p := range parts {
		msgs[i] = macMessage(label, p...)
	}
	sums, err := k.remote.s.MAC(agent.KeyMAC, msgs)
	if err != nil {
		k.remote.fail(err)
		for i := range out {
			out[i] = make([]byte, sha256.Size)
		}
		return out
	}
	return sums
}

// prime readies the keys for opening the stored entries raws (open): with
// the agent, their MACs and their records' file keys are asked for in two
// batches. In process it does nothing.
func (k *keySet) prime(raws [][]byte) {
	if k.remote == nil || len(raws) == 0 {
		return
	}
	k.primeEntryMACs(raws)
	cts := make([][]byte, len(raws))
	for i, raw := range raws {
		if e, err := unmarshalEntry(raw); err == nil {
			cts[i] = e.Sealed
		}
	}
	k.remote.primeUnwrap(cts)
}

// primeEntryMACs asks the agent for the MACs of the stored entries raws
// (authentic) in one batch.
func (k *keySet) primeEntryMACs(raws [][]byte) {
	if k.remote == nil {
		return
	}
	msgs := make([][]byte, len(raws))
	parallel(len(raws), func(i int) {
		if raw := raws[i]; len(raw) >= 1+8+macLen {
			msgs[i] = macMessage(macEntry, raw[:len(raw)-macLen])
		}
	})
	k.remote.primeMACs(agent.KeyMAC, slices.DeleteFunc(msgs, func(m []byte) bool { return m == nil }))
}

// primeExpiryRows asks the agent for the MACs of every row of the expiry
// table (expiryReader.read) in one batch.
func (k *keySet) primeExpiryRows(exp *bucket) {
	if k.remote == nil || exp == nil {
		return
	}
	var msgs [][]byte
	c := exp.Cursor()
	for slot, val := c.First(); slot != nil; slot, val = c.Next() {
		if len(val) == expiryLen {
			msgs = append(msgs, macMessage(macExpiry, slot, val[:expiryBodyLen]))
		}
	}
	k.remote.primeMACs(agent.KeyMAC, msgs)
}

// aeadKey seals and opens batches of small messages with AES-256-GCM under
// a key derived from the MAC key by HKDF-SHA256 with a label. With the
// unlock agent, the agent derives the key and does the work; the key never
// leaves it.
type aeadKey struct {
	label  string
	local  cipher.AEAD
	err    error
	remote *remoteKeys
}

// aead returns the sealer for label. Each use of it has its own label.
func (k *keySet) aead(label string) *aeadKey {
	if k.remote != nil {
		return &aeadKey{label: label, remote: k.remote}
	}
	a, err := agent.DeriveAEAD(k.macKey, label)
	return &aeadKey{label: label, local: a, err: err}
}

// Seal seals each message with a random nonce, binding ads[i] (none, or
// one per message) as additional data.
func (a *aeadKey) Seal(msgs, ads [][]byte) ([][]byte, error) {
	if a.err != nil {
		return nil, a.err
	}
	if a.remote != nil {
		out, err := a.remote.s.Seal(a.label, msgs, ads)
		if err != nil {
			a.remote.fail(err)
		}
		return out, err
	}
	return agent.SealBatch(a.local, msgs, ads)
}

// Open opens what Seal sealed with the same label and additional data. A
// message that does not open is ErrTampered, naming its position.
func (a *aeadKey) Open(sealed, ads [][]byte) ([][]byte, error) {
	if a.err != nil {
		return nil, a.err
	}
	var out [][]byte
	var err error
	i := 0
	if a.remote != nil {
		out, err = a.remote.s.Unseal(a.label, sealed, ads)
		var oe *agent.OpenError
		if errors.As(err, &oe) {
			i = oe.Index
		} else if err != nil {
			a.remote.fail(err)
			return nil, err
		}
	} else {
		out, i, err = agent.OpenBatch(a.local, sealed, ads)
	}
	if errors.Is(err, agent.ErrOpenFailed) {
		return nil, fmt.Errorf("sealed item %d: %w", i, ErrTampered)
	}
	return out, err
}

// primeTags asks the agent for the blind index tags of a run of records
// (indexTags, sealTags) in one batch, before they are sealed.
func (k *keySet) primeTags(run []*sealed) {
	if k.remote == nil {
		return
	}
	recs := make([]*records.Record, 0, len(run))
	for _, s := range run {
		if s.err == nil {
			recs = append(recs, s.record)
		}
	}
	k.primeIndexTags(recs)
}

// primeIndexTags asks the agent for the blind index tags of recs (nil ones
// skipped) in one batch.
func (k *keySet) primeIndexTags(recs []*records.Record) {
	if k.remote == nil {
		return
	}
	msgs := make([][]byte, 0, 2*len(recs))
	for _, r := range recs {
		if r == nil {
			continue
		}
		name := []byte(records.NormalizeName(r.Name))
		msgs = append(msgs, macMessage(idxName, name), macMessage(idxPerson, name, []byte(r.DOB.String())))
	}
	k.remote.primeMACs(agent.KeyIndex, msgs)
}

// primeBatch asks the agent, for a batch of a bulk write about to be
// written under stage from slot first on (bulk.writeBatch), for the entries'
// MACs in one request, encoding the entries that have no bytes yet, and
// then for their expiry rows' MACs in another.
func (k *keySet) primeBatch(batch []*sealed, stage, first uint64) {
	if k.remote == nil || len(batch) == 0 {
		return
	}
	raws := make([][]byte, len(batch))
	var msgs [][]byte
	var at []int
	for i, s := range batch {
		if s.raw != nil && s.entry.Stage == stage {
			raws[i] = s.raw
			continue
		}
		e := *s.entry
		e.Stage = stage
		raws[i] = e.appendBody(make([]byte, 0, 64+len(e.Sealed)+macLen))
		msgs = append(msgs, macMessage(macEntry, raws[i]))
		at = append(at, i)
	}
	if len(msgs) > 0 {
		sums, err := k.remote.s.MAC(agent.KeyMAC, msgs)
		if err != nil {
			k.remote.fail(err)
			return
		}
		// The entries are encoded here, as writeBatch would encode them
		// (under the batch's stage), so it stores these bytes as they are.
		for j, i := range at {
			raws[i] = append(raws[i], sums[j]...)
			batch[i].entry.Stage, batch[i].raw = stage, raws[i]
		}
	}
	exp := make([][]byte, 0, len(batch))
	for i, s := range batch {
		e := *s.entry
		e.Stage = stage
		slot := seqKey(first + uint64(i))
		body, err := expiryBody(e.ID, slot, &e, entryTag(raws[i]))
		if err != nil {
			continue
		}
		exp = append(exp, macMessage(macExpiry, slot, body))
	}
	k.remote.primeMACs(agent.KeyMAC, exp)
}
