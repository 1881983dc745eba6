package agent

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash"
	"runtime"
	"sync"

	"filippo.io/age"
)

// Keys is a vault's unwrapped key set, as the agent holds it: the vault's
// own identity, which every record is sealed to, and its two symmetric
// keys. It never leaves the agent's process.
type Keys struct {
	Identity *age.X25519Identity
	MAC      []byte
	Index    []byte
}

// wipe overwrites the symmetric keys. (The X25519 identity's scalar is
// inside age's type, out of reach; it goes with the process.)
func (k *Keys) wipe() {
	clear(k.MAC)
	clear(k.Index)
}

// hmacs returns the HMAC-SHA256 of each message under the key named.
func (k *Keys) hmacs(id KeyID, msgs [][]byte) ([][]byte, error) {
	var key []byte
	switch id {
	case KeyMAC:
		key = k.MAC
	case KeyIndex:
		key = k.Index
	default:
		return nil, ErrBadRequest
	}
	out := make([][]byte, len(msgs))
	sums := make([]byte, len(msgs)*sha256.Size)
	// A large batch (a list's entries, some MB) on every core.
	size := 0
	for _, m := range msgs {
		size += len(m)
	}
	workers := min(runtime.GOMAXPROCS(0), 1+size/(256<<10))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			h := hmac.New(sha256.New, key)
			for i := w; i < len(msgs); i += workers {
				h.Reset()
				h.Write(msgs[i])
				out[i] = h.Sum(sums[i*sha256.Size : i*sha256.Size : (i+1)*sha256.Size])
			}
		})
	}
	wg.Wait()
	return out, nil
}

// aeadInfo is the HKDF info of a derived AEAD key: the label in a namespace
// of its own, so that no other use of the MAC key's HKDF output collides.
const aeadInfo = "clientvault/v1/aead/"

// MaxLabel bounds a derived key's label.
const MaxLabel = 200

// DeriveAEAD returns AES-256-GCM keyed with HKDF-SHA256(macKey, label). The
// vault uses it with its own keys in process, and the agent with the keys it
// holds, so that both seal alike.
func DeriveAEAD(macKey []byte, label string) (cipher.AEAD, error) {
	if label == "" || len(label) > MaxLabel {
		return nil, errors.New("a derived key needs a label of 1 to 200 bytes")
	}
	key, err := hkdf.Key(sha256.New, macKey, nil, aeadInfo+label, 32)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// SealBatch seals each message with a random nonce, which it puts first,
// binding ads[i] (if ads is not empty) as additional data.
func SealBatch(a cipher.AEAD, msgs, ads [][]byte) ([][]byte, error) {
	if len(ads) != 0 && len(ads) != len(msgs) {
		return nil, ErrBadRequest
	}
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		b := make([]byte, a.NonceSize(), a.NonceSize()+len(m)+a.Overhead())
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		out[i] = a.Seal(b, b, m, adOf(ads, i))
	}
	return out, nil
}

// OpenBatch opens what SealBatch sealed. If one does not open, it returns
// its index and ErrOpenFailed, and nothing else.
func OpenBatch(a cipher.AEAD, sealed, ads [][]byte) ([][]byte, int, error) {
	if len(ads) != 0 && len(ads) != len(sealed) {
		return nil, 0, ErrBadRequest
	}
	out := make([][]byte, len(sealed))
	for i, s := range sealed {
		if len(s) < a.NonceSize()+a.Overhead() {
			return nil, i, ErrOpenFailed
		}
		p, err := a.Open(nil, s[:a.NonceSize()], s[a.NonceSize():], adOf(ads, i))
		if err != nil {
			return nil, i, ErrOpenFailed
		}
		out[i] = p
	}
	return out, 0, nil
}

func adOf(ads [][]byte, i int) []byte {
	if len(ads) == 0 {
		return nil
	}
	return ads[i]
}

// stanzaHash identifies a stanza by what it holds, so that the agent can
// recognise the key set's own stanzas when a client sends them back.
func stanzaHash(s *age.Stanza) [32]byte {
	h := sha256.New()
	writeString(h, s.Type)
	for _, a := range s.Args {
		writeString(h, a)
	}
	writeString(h, string(s.Body))
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func writeString(h hash.Hash, s string) {
	var n [8]byte
	for i := range 8 {
		n[i] = byte(uint64(len(s)) >> (56 - 8*i))
	}
	h.Write(n[:])
	h.Write([]byte(s))
}
