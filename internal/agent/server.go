package agent

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
)

// Config is what a Server serves and how.
type Config struct {
	// Identity is the path of the identity file the agent holds, which
	// Status reports so that a command uses the agent only for the same
	// identity it would load itself.
	Identity string
	// Identities are the owner's unlocked identities. They are used for one
	// thing only: opening a wrapped key set a client sends (OpenKeys).
	Identities []age.Identity
	// OpenKeys opens a vault's wrapped key set with ids; the vault package
	// knows its format (vault.AgentKeys).
	OpenKeys func(wrapped []byte, ids ...age.Identity) (*Keys, error)
	// UID is the only user whose processes are answered.
	UID int
	// Until is when the agent ends, as Status reports it.
	Until time.Time
	// Now is the clock, for the connections' deadlines; required.
	Now func() time.Time
	// MaxConns bounds the connections served at once (0: 16); one more is
	// told StatusBusy and closed.
	MaxConns int
	// IdleTimeout is how long a connection may wait between requests, and
	// how long a request may take to arrive (0: 30 s).
	IdleTimeout time.Duration
}

// Server serves the unlock agent's protocol on a unix socket, one goroutine
// per connection.
type Server struct {
	cfg   Config
	slots chan struct{}

	mu       sync.Mutex
	closed   bool
	listener net.Listener
	conns    map[net.Conn]struct{}
	// sessions are the opened key sets, by session ID; byWrapped finds the
	// session of a key set already opened, so that it is unwrapped once.
	sessions  map[string]*session
	byWrapped map[[32]byte]string
	// ownStanzas are the stanzas of every wrapped key set opened: a
	// request to unwrap one of them is refused.
	ownStanzas map[[32]byte]bool
	wg         sync.WaitGroup
	// requests counts the requests answered, for tests and measurements.
	requests atomic.Uint64
}

// session is one opened key set.
type session struct {
	keys  *Keys
	mu    sync.Mutex
	aeads map[string]cipher.AEAD
}

// NewServer returns a server for cfg.
func NewServer(cfg Config) *Server {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 16
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	return &Server{
		cfg: cfg, slots: make(chan struct{}, cfg.MaxConns), conns: map[net.Conn]struct{}{},
		sessions: map[string]*session{}, byWrapped: map[[32]byte]string{}, ownStanzas: map[[32]byte]bool{},
	}
}

// Serve accepts connections on l until the server is closed (Close, a lock
// request) or l fails, and waits for the connections it serves to end.
func (s *Server) Serve(l *net.UnixListener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listener = l
	s.mu.Unlock()
	defer s.wg.Wait()
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			s.Close()
			return nil
		}
		select {
		case s.slots <- struct{}{}:
		default:
			s.refuseBusy(conn)
			continue
		}
		if !s.track(conn) {
			<-s.slots
			conn.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.slots }()
			defer s.untrack(conn)
			s.serveConn(conn)
		}()
	}
}

// refuseBusy answers a connection over the limit once, on a goroutine of
// its own with a short deadline: a lock is obeyed even when every slot is
// taken (by idle clients, say), anything else is told StatusBusy.
func (s *Server) refuseBusy(conn *net.UnixConn) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer conn.Close()
		if uid, err := PeerUID(conn); err != nil || uid != s.cfg.UID {
			return
		}
		conn.SetDeadline(s.cfg.Now().Add(time.Second))
		resp := &Response{Status: StatusBusy}
		b, err := readFrame(conn)
		lock := false
		if err == nil {
			if req, err := unmarshalRequest(b); err == nil && req.Op == OpLock {
				resp, lock = &Response{}, true
			}
		}
		writeFrame(conn, resp.marshal())
		if lock {
			s.Close()
		}
	}()
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

// Close locks the agent: it stops listening, ends every connection and
// forgets every key set. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.listener != nil {
		s.listener.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	for _, ss := range s.sessions {
		ss.keys.wipe()
	}
	clear(s.sessions)
	clear(s.byWrapped)
}

// serveConn answers the requests of one connection, from a process of the
// agent's own user only, until it closes, idles too long or the agent locks.
func (s *Server) serveConn(conn *net.UnixConn) {
	if uid, err := PeerUID(conn); err != nil || uid != s.cfg.UID {
		return
	}
	for {
		conn.SetReadDeadline(s.cfg.Now().Add(s.cfg.IdleTimeout))
		b, err := readFrame(conn)
		var resp *Response
		lock := false
		switch {
		case errors.Is(err, errFrameVersion):
			resp = &Response{Status: StatusVersion}
		case err != nil:
			return
		default:
			req, err := unmarshalRequest(b)
			if err != nil {
				resp = &Response{Status: StatusBadRequest}
			} else {
				lock = req.Op == OpLock
				resp = s.handle(req)
			}
		}
		conn.SetWriteDeadline(s.cfg.Now().Add(s.cfg.IdleTimeout))
		err = writeFrame(conn, resp.marshal())
		if lock {
			s.Close()
			return
		}
		if err != nil {
			return
		}
	}
}

// Requests returns how many requests the server has answered: what a
// command costs in round trips.
func (s *Server) Requests() uint64 { return s.requests.Load() }

// handle answers one request.
func (s *Server) handle(req *Request) *Response {
	s.requests.Add(1)
	switch req.Op {
	case OpStatus:
		return &Response{Identity: s.cfg.Identity, Until: s.cfg.Until.Unix()}
	case OpLock:
		return &Response{}
	case OpOpen:
		return s.open(req.Wrapped)
	}
	ss := s.session(req.Session)
	if ss == nil {
		return &Response{Status: StatusNoSession}
	}
	switch req.Op {
	case OpUnwrap:
		return s.unwrap(ss, req.Stanzas)
	case OpMAC:
		out, err := ss.keys.hmacs(req.Key, req.Msgs)
		if err != nil {
			return &Response{Status: StatusBadRequest}
		}
		return &Response{Out: out}
	case OpSeal, OpUnseal:
		a, err := ss.aead(req.Label)
		if err != nil {
			return &Response{Status: StatusBadRequest}
		}
		if req.Op == OpSeal {
			out, err := SealBatch(a, req.Msgs, req.ADs)
			if err != nil {
				return &Response{Status: StatusBadRequest}
			}
			return &Response{Out: out}
		}
		out, i, err := OpenBatch(a, req.Msgs, req.ADs)
		switch {
		case errors.Is(err, ErrOpenFailed):
			return &Response{Status: StatusOpenFailed, Index: uint64(i)}
		case err != nil:
			return &Response{Status: StatusBadRequest}
		}
		return &Response{Out: out}
	}
	return &Response{Status: StatusBadRequest}
}

func (s *Server) session(id []byte) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[string(id)]
}

// open opens a wrapped key set with the owner's identities, once: later
// requests for the same bytes get the same session. The stanzas the owner's
// identities saw are remembered, so that no client can have them unwrapped.
func (s *Server) open(wrapped []byte) *Response {
	sum := sha256.Sum256(wrapped)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return &Response{Status: StatusNoSession}
	}
	if id, ok := s.byWrapped[sum]; ok {
		return &Response{Session: []byte(id), Recipient: s.sessions[id].keys.Identity.Recipient().String()}
	}
	rec := &recorder{}
	ids := make([]age.Identity, len(s.cfg.Identities))
	for i, id := range s.cfg.Identities {
		ids[i] = &recordingIdentity{id, rec}
	}
	keys, err := s.cfg.OpenKeys(wrapped, ids...)
	if err != nil || keys == nil || keys.Identity == nil {
		return &Response{Status: StatusNoMatch}
	}
	for _, h := range rec.seen {
		s.ownStanzas[h] = true
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return &Response{Status: StatusBadRequest}
	}
	s.sessions[string(id)] = &session{keys: keys, aeads: map[string]cipher.AEAD{}}
	s.byWrapped[sum] = string(id)
	return &Response{Session: id, Recipient: keys.Identity.Recipient().String()}
}

// unwrap unwraps each record's X25519 stanzas with the vault's identity. It
// refuses the whole request if any stanza is one of a key set's own.
func (s *Server) unwrap(ss *session, items [][]*age.Stanza) *Response {
	s.mu.Lock()
	for _, stanzas := range items {
		for _, st := range stanzas {
			if s.ownStanzas[stanzaHash(st)] {
				s.mu.Unlock()
				return &Response{Status: StatusRefused}
			}
		}
	}
	s.mu.Unlock()
	out := make([][]byte, len(items))
	one := func(i int) {
		x := make([]*age.Stanza, 0, len(items[i]))
		for _, st := range items[i] {
			if st.Type == "X25519" {
				x = append(x, st)
			}
		}
		if len(x) == 0 {
			return
		}
		if k, err := ss.keys.Identity.Unwrap(x); err == nil {
			out[i] = k
		}
	}
	// An X25519 unwrap is some 50 µs of CPU: a list's batch of thousands
	// runs on every core, as the vault's own workers would.
	workers := min(runtime.GOMAXPROCS(0), 1+len(items)/64)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(items); i += workers {
				one(i)
			}
		})
	}
	wg.Wait()
	return &Response{Out: out}
}

func (ss *session) aead(label string) (cipher.AEAD, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if a, ok := ss.aeads[label]; ok {
		return a, nil
	}
	a, err := DeriveAEAD(ss.keys.MAC, label)
	if err != nil {
		return nil, err
	}
	ss.aeads[label] = a
	return a, nil
}

// recorder keeps the hashes of the stanzas an identity was asked to unwrap.
type recorder struct {
	mu   sync.Mutex
	seen [][32]byte
}

type recordingIdentity struct {
	age.Identity
	rec *recorder
}

func (r *recordingIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	r.rec.mu.Lock()
	for _, s := range stanzas {
		r.rec.seen = append(r.rec.seen, stanzaHash(s))
	}
	r.rec.mu.Unlock()
	return r.Identity.Unwrap(stanzas)
}
