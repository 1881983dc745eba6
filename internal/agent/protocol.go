// Package agent is clientvault's unlock agent: a small process that holds a
// vault's unwrapped key set for a while and does the operations that need
// it, so that commands need no passphrase, as ssh-agent does for SSH keys.
//
// The agent never hands out long-lived key material. A client sends the
// vault's wrapped key set once (Open); the agent opens it with the owner's
// identity it holds and from then on answers only operations on it:
//
//   - unwrap one age X25519 stanza of a record with the vault's identity,
//     returning that one file's key, as an age plugin would;
//   - HMAC-SHA256 of a batch of messages under the MAC key or the index key;
//   - AES-256-GCM seal and open of a batch of messages under a key derived
//     from the MAC key by HKDF with a label.
//
// It never returns the owner's identity, the vault's identity, the key set's
// own file key, the MAC key, the index key or a derived key; a request to
// unwrap the key set's own stanzas is refused. A process of the same user can
// still ask it to MAC, seal or decrypt while it runs: that is what it is for.
// Lock (Client.Lock, Server.Close) ends every session and connection at once.
//
// The protocol is binary, versioned and length-prefixed (protocol.go); the
// socket is answered only for processes of the agent's own user, checked by
// peer credentials on both sides (peer_*.go).
//
// The package never prints, and reads the clock only through the Now
// functions it is given (for its sockets' deadlines).
package agent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
)

// Version is the protocol version. Every frame carries it; the agent refuses
// a request of another version, so that a client and an agent of different
// releases never misread each other.
const Version = 1

// MaxFrame is the largest frame either side reads. Clients split batches so
// that their requests stay well under it (maxBatchBytes).
const MaxFrame = 16 << 20

// maxBatchBytes and maxBatchItems bound what one request of a batch holds;
// a longer batch is sent as several requests.
const (
	maxBatchBytes = 4 << 20
	maxBatchItems = 1 << 15
)

// Op is what a request asks for.
type Op byte

// The operations.
const (
	OpStatus Op = 1 // which identity the agent holds, until when
	OpLock   Op = 2 // end the agent
	OpOpen   Op = 3 // open a wrapped key set: a session for it
	OpUnwrap Op = 4 // unwrap records' X25519 stanzas with the vault identity
	OpMAC    Op = 5 // HMAC-SHA256 of messages under the MAC or index key
	OpSeal   Op = 6 // AES-256-GCM seal under a key derived from the MAC key
	OpUnseal Op = 7 // and open
)

// KeyID names one of the key set's two symmetric keys.
type KeyID byte

// The keys an OpMAC request may name.
const (
	KeyMAC   KeyID = 1 // authenticates stored entries
	KeyIndex KeyID = 2 // keys the blind index
)

// Status is the result of a request: 0 is success.
type Status byte

// The statuses, each an error on the client's side.
const (
	StatusOK         Status = 0
	StatusBadRequest Status = 1 // malformed, or of an unknown op
	StatusVersion    Status = 2 // another protocol version
	StatusRefused    Status = 3 // never served: the key set's own stanzas
	StatusNoMatch    Status = 4 // the identity the agent holds does not open it
	StatusNoSession  Status = 5 // no such session: the agent was locked or replaced
	StatusOpenFailed Status = 6 // a sealed message does not open (Index says which)
	StatusBusy       Status = 7 // too many connections
)

// Errors a client returns for the statuses. None holds client data.
var (
	ErrBadRequest = errors.New("the unlock agent did not understand the request")
	ErrVersion    = errors.New("the unlock agent speaks another protocol version (run 'clientvault lock' and unlock again)")
	ErrRefused    = errors.New("the unlock agent refused: it never unwraps the vault's key set for a client")
	ErrNoMatch    = errors.New("the identity in the unlock agent does not open this")
	ErrNoSession  = errors.New("the unlock agent was locked or replaced")
	ErrOpenFailed = errors.New("a sealed message does not open with its key (damaged or forged)")
	ErrBusy       = errors.New("the unlock agent is serving too many connections")
)

func (s Status) err() error {
	switch s {
	case StatusOK:
		return nil
	case StatusVersion:
		return ErrVersion
	case StatusRefused:
		return ErrRefused
	case StatusNoMatch:
		return ErrNoMatch
	case StatusNoSession:
		return ErrNoSession
	case StatusOpenFailed:
		return ErrOpenFailed
	case StatusBusy:
		return ErrBusy
	default:
		return ErrBadRequest
	}
}

// Request is one request. Which fields an op reads is said beside each.
type Request struct {
	Op      Op
	Session []byte          // every op but status, lock and open
	Wrapped []byte          // open: the vault's wrapped key set, as stored
	Key     KeyID           // mac
	Label   string          // seal, unseal: the derived key's label
	Msgs    [][]byte        // mac, seal, unseal
	ADs     [][]byte        // seal, unseal: additional data, none or one per message
	Stanzas [][]*age.Stanza // unwrap: each record's X25519 stanzas
}

// Response is the answer to one request.
type Response struct {
	Status    Status
	Index     uint64 // OpenFailed: the first message that did not open
	Identity  string // status: the identity file the agent serves
	Until     int64  // status: when it ends, in Unix seconds
	Session   []byte // open
	Recipient string // open: the vault's public key, to check against the header
	// Out holds one result per item: the MACs, the sealed or opened
	// messages, or the file keys (empty for a record the vault identity
	// does not open).
	Out [][]byte
}

// The frame: a 4-byte big-endian length, then the version, then the body.

func writeFrame(w io.Writer, body []byte) error {
	if len(body)+1 > MaxFrame {
		return fmt.Errorf("unlock agent: a request of %d bytes is over the frame limit", len(body))
	}
	b := make([]byte, 0, 5+len(body))
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)+1))
	b = append(b, Version)
	_, err := w.Write(append(b, body...))
	return err
}

// errFrameVersion is a frame of another version: answered, not dropped.
var errFrameVersion = errors.New("another protocol version")

func readFrame(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size < 1 || size > MaxFrame {
		return nil, errors.New("unlock agent: frame size out of bounds")
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	if b[0] != Version {
		return nil, errFrameVersion
	}
	return b[1:], nil
}

// encoder appends fields: integers as uvarints, byte strings with their
// length first.
type encoder struct{ b []byte }

func (e *encoder) uint(n uint64)  { e.b = binary.AppendUvarint(e.b, n) }
func (e *encoder) bytes(p []byte) { e.uint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *encoder) string(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) list(ps [][]byte) {
	e.uint(uint64(len(ps)))
	for _, p := range ps {
		e.bytes(p)
	}
}

// decoder reads what encoder wrote, remembering the first error.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uint() uint64 {
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *decoder) bytes() []byte {
	n := d.uint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) list() [][]byte {
	n := d.uint()
	// Each item takes at least one byte: a count beyond what is left is
	// malformed, and is not allowed to allocate.
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	out := make([][]byte, 0, n)
	for range n {
		out = append(out, d.bytes())
	}
	return out
}

func (d *decoder) done() error {
	if d.bad || len(d.b) != 0 {
		return ErrBadRequest
	}
	return nil
}

func (r *Request) marshal() []byte {
	e := encoder{b: make([]byte, 0, 64+r.size())}
	e.b = append(e.b, byte(r.Op), byte(r.Key))
	e.bytes(r.Session)
	e.bytes(r.Wrapped)
	e.string(r.Label)
	e.list(r.Msgs)
	e.list(r.ADs)
	e.uint(uint64(len(r.Stanzas)))
	for _, ss := range r.Stanzas {
		e.uint(uint64(len(ss)))
		for _, s := range ss {
			e.string(s.Type)
			e.uint(uint64(len(s.Args)))
			for _, a := range s.Args {
				e.string(a)
			}
			e.bytes(s.Body)
		}
	}
	return e.b
}

// size is about how many bytes the request's batches take.
func (r *Request) size() int {
	n := len(r.Wrapped)
	for _, m := range r.Msgs {
		n += len(m) + 3
	}
	for _, m := range r.ADs {
		n += len(m) + 3
	}
	for _, ss := range r.Stanzas {
		for _, s := range ss {
			n += len(s.Type) + len(s.Body) + 16
			for _, a := range s.Args {
				n += len(a) + 2
			}
		}
	}
	return n
}

func unmarshalRequest(b []byte) (*Request, error) {
	if len(b) < 2 {
		return nil, ErrBadRequest
	}
	r := &Request{Op: Op(b[0]), Key: KeyID(b[1])}
	d := decoder{b: b[2:]}
	r.Session = d.bytes()
	r.Wrapped = d.bytes()
	r.Label = d.string()
	r.Msgs = d.list()
	r.ADs = d.list()
	n := d.uint()
	if n > uint64(len(d.b)) {
		return nil, ErrBadRequest
	}
	for range n {
		m := d.uint()
		if d.bad || m > uint64(len(d.b)) {
			return nil, ErrBadRequest
		}
		ss := make([]*age.Stanza, 0, m)
		for range m {
			s := &age.Stanza{Type: d.string()}
			k := d.uint()
			if d.bad || k > uint64(len(d.b)) {
				return nil, ErrBadRequest
			}
			for range k {
				s.Args = append(s.Args, d.string())
			}
			s.Body = d.bytes()
			ss = append(ss, s)
		}
		r.Stanzas = append(r.Stanzas, ss)
	}
	return r, d.done()
}

func (r *Response) marshal() []byte {
	n := 64 + len(r.Identity) + len(r.Recipient)
	for _, o := range r.Out {
		n += len(o) + 3
	}
	e := encoder{b: make([]byte, 0, n)}
	e.b = append(e.b, byte(r.Status))
	e.uint(r.Index)
	e.string(r.Identity)
	e.uint(uint64(r.Until))
	e.bytes(r.Session)
	e.string(r.Recipient)
	e.list(r.Out)
	return e.b
}

func unmarshalResponse(b []byte) (*Response, error) {
	if len(b) < 1 {
		return nil, ErrBadRequest
	}
	r := &Response{Status: Status(b[0])}
	d := decoder{b: b[1:]}
	r.Index = d.uint()
	r.Identity = d.string()
	r.Until = int64(d.uint())
	r.Session = d.bytes()
	r.Recipient = d.string()
	r.Out = d.list()
	return r, d.done()
}
