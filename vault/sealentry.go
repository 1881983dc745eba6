package vault

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"

	"filippo.io/age"
	"github.com/clientvault/clientvault/internal/agent"
	"github.com/clientvault/clientvault/records"
)

// sealEntry seals rec for e.ID to the vault key alone and returns the
// entry's stored bytes, MAC included, as e.marshal would encode them; it
// sets e.Sealed to the ciphertext inside them. With the unlock agent it
// returns no bytes, only e.Sealed. It is the bulk add's sealing
// step, run on the sealing workers, and does in one buffer what seal and
// marshal do in three: age writes the ciphertext straight after the
// entry's metadata, so the ciphertext is never copied, and the MAC is
// computed here rather than on the committer, which a bulk add's final
// transaction waits for.
func (k *keySet) sealEntry(e *entry, rec *records.Record) ([]byte, error) {
	plain := payloadPool.Get().(*payloadBuf)
	defer plain.release()
	var err error
	if plain.b, err = records.AppendEncode(plain.b[:0], e.ID.String(), rec); err != nil {
		return nil, err
	}

	// The metadata, up to the ciphertext's length: appendBody of an entry
	// without ciphertext ends with that length, a zero in one byte.
	sealed := e.Sealed
	e.Sealed = nil
	b := e.appendBody(make([]byte, 0, 64+len(plain.b)+sealOverhead+macLen))
	e.Sealed = sealed
	b = b[:len(b)-1]
	at := len(b)
	// Room for the length as a two-byte varint (128 to 16,383 bytes: a
	// record of a few KB); it is moved below if it takes another size.
	const room = 2
	b = append(b, make([]byte, room)...)

	out := appendWriter{b}
	w, err := age.Encrypt(&out, k.recipient)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain.b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b = out.b
	n := len(b) - at - room
	var size [binary.MaxVarintLen64]byte
	sz := binary.PutUvarint(size[:], uint64(n))
	if sz != room {
		// The encoding is canonical (unmarshalEntry rejects padded
		// varints), so the ciphertext moves instead.
		if sz > room {
			b = append(b, make([]byte, sz-room)...)
		}
		copy(b[at+sz:], b[at+room:at+room+n])
		b = b[:at+sz+n]
	}
	copy(b[at:], size[:sz])
	e.Sealed = b[at+sz : at+sz+n : at+sz+n]
	if k.remote != nil {
		// With the unlock agent, the MAC is asked for with the rest of
		// its batch when the batch is written (primeBatch): the entry is
		// encoded there (bulk.writeBatch, for an entry without raw bytes).
		return nil, nil
	}
	return k.appendMAC(b, macEntry, b), nil
}

// sealOverhead is about how much age adds to a payload sealed to one X25519
// recipient: the header (about 180 bytes) and the payload's nonce and tag.
const sealOverhead = 256

// appendMAC appends to dst the MAC that k.mac(label, parts...) returns.
func (k *keySet) appendMAC(dst []byte, label string, parts ...[]byte) []byte {
	h := k.pooledHash(&k.macPool, agent.KeyMAC)
	defer k.macPool.Put(h)
	writePart(h, []byte(label))
	for _, p := range parts {
		writePart(h, p)
	}
	return h.Sum(dst)
}

// sealTags returns indexTags(rec), computed with pooled HMACs into one
// allocation.
func (k *keySet) sealTags(rec *records.Record) [][]byte {
	name := records.NormalizeName(rec.Name)
	h := k.pooledHash(&k.indexPool, agent.KeyIndex)
	defer k.indexPool.Put(h)
	var sum [sha256.Size]byte
	tags := make([]byte, 0, 2*tagLen)
	writePart(h, []byte(idxName))
	writePart(h, []byte(name))
	tags = append(tags, h.Sum(sum[:0])[:tagLen]...)
	h.Reset()
	writePart(h, []byte(idxPerson))
	writePart(h, []byte(name))
	writePart(h, []byte(rec.DOB.String()))
	tags = append(tags, h.Sum(sum[:0])[:tagLen]...)
	return [][]byte{tags[:tagLen:tagLen], tags[tagLen:]}
}

// pooledHash returns an HMAC-SHA256 keyed with the key named, reset, from
// pool; the caller puts it back when done. A bulk add makes three MACs per
// record: keying or cloning an HMAC for each allocated more than the rest
// of the vault's work on the record, and the reused ones reset without
// allocating. With the unlock agent, it is the agent's (macHash).
func (k *keySet) pooledHash(pool *sync.Pool, which agent.KeyID) hash.Hash {
	if h, ok := pool.Get().(hash.Hash); ok {
		h.Reset()
		return h
	}
	switch {
	case k.remote != nil:
		return k.remote.hash(which)
	case which == agent.KeyIndex:
		return hmac.New(sha256.New, k.indexKey)
	}
	return hmac.New(sha256.New, k.macKey)
}

// appendWriter is an io.Writer that appends to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// payloadBuf holds a record's plaintext while it is sealed. The buffers are
// reused, so a bulk add does not allocate (and collect) one per record;
// release wipes the plaintext before the buffer goes back.
type payloadBuf struct{ b []byte }

var payloadPool = sync.Pool{New: func() any { return &payloadBuf{b: make([]byte, 0, 2048)} }}

func (p *payloadBuf) release() {
	clear(p.b[:cap(p.b)])
	if cap(p.b) > 64<<10 {
		return // an outsized record: let it go rather than keep it
	}
	payloadPool.Put(p)
}

// BulkGCPercent is the garbage collector setting (runtime/debug.SetGCPercent)
// that a program adding many records at once may use while it does. Sealing
// makes much short-lived garbage (age's own is most of it) while the live heap
// stays a few MB, so at the default of 100 the collector runs every few MB
// of allocation; at 400 it runs a quarter as often, and a 10,000-record Add
// used about 10% less CPU (bench/README.md, issue 2), for a heap of a few
// tens of MB. The vault never changes it itself: it is a process-wide
// setting.
const BulkGCPercent = 400
