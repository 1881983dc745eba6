package vault

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"filippo.io/age"
	"github.com/clientvault/clientvault/internal/agent"
	"github.com/clientvault/clientvault/records"
)

// keySet is what the owner's identity unlocks: the vault identity every record
// is sealed to, and two symmetric keys that only the vault's holders have.
// It is stored as one age ciphertext sealed to the owner and the recovery
// recipient, so changing the owner's key re-wraps this, not every record.
//
// The keys are either in this process, or held by the unlock agent
// (remote, keys_agent.go), which does the operations and never hands them
// out. Either way the methods are the same: identity opens records with
// age.Decrypt, mac, macHash, indexHash, nameTag and aead authenticate,
// index and seal; only wrap needs the keys themselves.
type keySet struct {
	// identity is the vault's *age.X25519Identity, or, when the agent
	// holds the keys, an identity whose Unwrap asks the agent.
	identity  age.Identity
	recipient *age.X25519Recipient
	// macKey authenticates stored entries, the header and the audit chain.
	// age alone gives confidentiality, not authenticity: anyone with the
	// vault's public key can make a valid age file. nil when remote.
	macKey []byte
	// indexKey keys the blind index, so that names are findable without
	// being stored. nil when remote.
	indexKey []byte
	// remote is the unlock agent's session when it holds the keys.
	remote *remoteKeys

	// keyed holds an HMAC keyed with macKey and one keyed with indexKey,
	// made once and cloned for each MAC: keying an HMAC costs more than
	// the MAC of a small message, and a bulk add makes several per record.
	keyedOnce          sync.Once
	macHMAC, indexHMAC hash.Hash
	// macPool and indexPool hold keyed HMACs for reuse (see pooledHash).
	macPool, indexPool sync.Pool

	// dirAEAD seals the client directory (directoryAEAD), keyed once.
	dirOnce sync.Once
	dirAEAD cipher.AEAD
}

// macHash and indexHash return a fresh HMAC-SHA256 keyed with macKey and
// indexKey. They are safe for concurrent use: the keyed templates are only
// read once made.
func (k *keySet) macHash() hash.Hash {
	if k.remote != nil {
		return k.remote.hash(agent.KeyMAC)
	}
	k.keyedOnce.Do(k.makeKeyed)
	return cloneHMAC(k.macHMAC, k.macKey)
}

func (k *keySet) indexHash() hash.Hash {
	if k.remote != nil {
		return k.remote.hash(agent.KeyIndex)
	}
	k.keyedOnce.Do(k.makeKeyed)
	return cloneHMAC(k.indexHMAC, k.indexKey)
}

func (k *keySet) makeKeyed() {
	k.macHMAC, k.indexHMAC = hmac.New(sha256.New, k.macKey), hmac.New(sha256.New, k.indexKey)
}

// cloneHMAC clones the unused keyed HMAC tmpl, or keys a new one.
func cloneHMAC(tmpl hash.Hash, key []byte) hash.Hash {
	if c, ok := tmpl.(hash.Cloner); ok {
		if h, err := c.Clone(); err == nil {
			return h.(hash.Hash)
		}
	}
	return hmac.New(sha256.New, key)
}

type keySetJSON struct {
	V        int    `json:"v"`
	Identity string `json:"identity"`
	MACKey   []byte `json:"mac_key"`
	IndexKey []byte `json:"index_key"`
}

func newKeySet() (*keySet, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	k := &keySet{identity: id, recipient: id.Recipient(), macKey: make([]byte, 32), indexKey: make([]byte, 32)}
	if _, err := rand.Read(k.macKey); err != nil {
		return nil, err
	}
	if _, err := rand.Read(k.indexKey); err != nil {
		return nil, err
	}
	return k, nil
}

// wrap seals the key set to the given recipients (owner and recovery). It
// is the one thing the unlock agent cannot do: it needs the keys.
func (k *keySet) wrap(to ...age.Recipient) ([]byte, error) {
	id, ok := k.identity.(*age.X25519Identity)
	if !ok || k.remote != nil {
		return nil, errAgentHeld
	}
	b, err := json.Marshal(keySetJSON{V: 1, Identity: id.String(), MACKey: k.macKey, IndexKey: k.indexKey})
	if err != nil {
		return nil, err
	}
	return encrypt(b, to...)
}

// unwrapKeySet opens the stored key set with the caller's identities.
func unwrapKeySet(sealed []byte, ids ...age.Identity) (*keySet, error) {
	b, err := decrypt(sealed, ids...)
	if err != nil {
		return nil, err
	}
	var j keySetJSON
	if err := json.Unmarshal(b, &j); err != nil || j.V != 1 || len(j.MACKey) != 32 || len(j.IndexKey) != 32 {
		return nil, fmt.Errorf("vault keys: %w", ErrCorrupt)
	}
	id, err := age.ParseX25519Identity(j.Identity)
	if err != nil {
		return nil, fmt.Errorf("vault keys: %w", ErrCorrupt)
	}
	return &keySet{identity: id, recipient: id.Recipient(), macKey: j.MACKey, indexKey: j.IndexKey}, nil
}

// encrypt is age encryption of a small payload held in memory.
func encrypt(plaintext []byte, to ...age.Recipient) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(plaintext) + 256*len(to))
	w, err := age.Encrypt(&buf, to...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decrypt opens an age ciphertext held in memory. A ciphertext that none of
// ids opens is ErrWrongKey; one that is damaged is ErrTampered; a wrong
// passphrase keeps its own error.
func decrypt(sealed []byte, ids ...age.Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(sealed), ids...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		switch {
		case errors.Is(err, ErrWrongPassphrase):
			return nil, ErrWrongPassphrase
		case errors.As(err, &noMatch):
			return nil, ErrWrongKey
		case isPluginOrPromptErr(err):
			return nil, err
		}
		return nil, ErrTampered
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, ErrTampered
	}
	return b, nil
}

// Domain separation labels for the MAC: a tag made for one kind of object
// never verifies as another.
const (
	macEntry  = "clientvault/v1/entry"
	macHeader = "clientvault/v1/header"
	macAudit  = "clientvault/v1/audit"
	macHead   = "clientvault/v1/audit-head"
	macObject = "clientvault/v1/object"
	idxName   = "clientvault/v1/index/name"
	idxPerson = "clientvault/v1/index/name+dob"
)

// mac is HMAC-SHA256 under the vault's MAC key of a label and some parts.
// Each part is length-prefixed so that parts cannot slide into each other.
func (k *keySet) mac(label string, parts ...[]byte) []byte {
	h := k.macHash()
	writePart(h, []byte(label))
	for _, p := range parts {
		writePart(h, p)
	}
	return h.Sum(nil)
}

func writePart(w io.Writer, p []byte) {
	var n [8]byte
	for i := range 8 {
		n[i] = byte(uint64(len(p)) >> (56 - 8*i))
	}
	w.Write(n[:])
	w.Write(p)
}

// tagLen is the length of a blind index tag: 128 bits, plenty against
// collisions in a vault of any practical size.
const tagLen = 16

// nameTag is the blind index tag of a client's name.
func (k *keySet) nameTag(name string) []byte {
	return k.normalizedNameTag(records.NormalizeName(name))
}

// normalizedNameTag is nameTag of a name already normalised.
func (k *keySet) normalizedNameTag(norm string) []byte {
	h := k.indexHash()
	writePart(h, []byte(idxName))
	writePart(h, []byte(norm))
	return h.Sum(nil)[:tagLen]
}

// normalizedPersonTag is the blind index tag of a name, already normalised,
// with a date of birth, used to find a client who is already in the vault.
func (k *keySet) normalizedPersonTag(norm string, dob records.Date) []byte {
	h := k.indexHash()
	writePart(h, []byte(idxPerson))
	writePart(h, []byte(norm))
	writePart(h, []byte(dob.String()))
	return h.Sum(nil)[:tagLen]
}
