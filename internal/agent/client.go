package agent

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"filippo.io/age"
)

// Client talks to a running agent over one connection, redialled if the
// agent closed it while it was idle. It is safe for concurrent use: the
// requests take turns.
type Client struct {
	path string
	now  func() time.Time

	mu   sync.Mutex
	conn *net.UnixConn
}

// callTimeout bounds one request and its answer.
const callTimeout = 10 * time.Second

// ErrOtherUser is returned when the process at the socket is not of this
// user: a socket planted by someone else is never used.
var ErrOtherUser = errors.New("the unlock agent's socket is answered by another user")

// Dial connects to the agent at the socket path and checks that the
// process answering is this user's. now is the clock for deadlines.
func Dial(path string, now func() time.Time) (*Client, error) {
	c := &Client{path: path, now: now}
	conn, err := c.dial()
	if err != nil {
		return nil, err
	}
	c.conn = conn
	return c, nil
}

func (c *Client) dial() (*net.UnixConn, error) {
	d := net.Dialer{Deadline: c.now().Add(time.Second)}
	nc, err := d.Dial("unix", c.path)
	if err != nil {
		return nil, err
	}
	conn := nc.(*net.UnixConn)
	if uid, err := PeerUID(conn); err != nil || uid != os.Getuid() {
		conn.Close()
		return nil, ErrOtherUser
	}
	return conn, nil
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

// call sends req and returns the answer, or the error its status means.
func (c *Client) call(req *Request) (*Response, error) {
	body := req.marshal()
	c.mu.Lock()
	defer c.mu.Unlock()
	fresh := false
	for {
		if c.conn == nil {
			conn, err := c.dial()
			if err != nil {
				return nil, err
			}
			c.conn, fresh = conn, true
		}
		resp, err := c.roundTrip(body)
		if err == nil {
			return resp, resp.Status.err()
		}
		c.conn.Close()
		c.conn = nil
		if fresh {
			return nil, fmt.Errorf("unlock agent: %w", err)
		}
		// The agent may have closed an idle connection: once more, on a
		// new one.
	}
}

func (c *Client) roundTrip(body []byte) (*Response, error) {
	c.conn.SetDeadline(c.now().Add(callTimeout))
	if err := writeFrame(c.conn, body); err != nil {
		return nil, err
	}
	b, err := readFrame(c.conn)
	if errors.Is(err, errFrameVersion) {
		return &Response{Status: StatusVersion}, nil
	}
	if err != nil {
		return nil, err
	}
	return unmarshalResponse(b)
}

// Status returns the path of the identity file the agent holds and when
// it ends.
func (c *Client) Status() (identity string, until time.Time, err error) {
	resp, err := c.call(&Request{Op: OpStatus})
	if err != nil {
		return "", time.Time{}, err
	}
	return resp.Identity, time.Unix(resp.Until, 0), nil
}

// Lock ends the agent.
func (c *Client) Lock() error {
	_, err := c.call(&Request{Op: OpLock})
	return err
}

// Session is a vault's key set opened in the agent.
type Session struct {
	c  *Client
	id []byte
	// Recipient is the vault's public key, which the caller checks
	// against the vault's header.
	Recipient string
}

// Open has the agent open a vault's wrapped key set with the identity it
// holds; ErrNoMatch if that identity does not open it.
func (c *Client) Open(wrapped []byte) (*Session, error) {
	resp, err := c.call(&Request{Op: OpOpen, Wrapped: wrapped})
	if err != nil {
		return nil, err
	}
	return &Session{c: c, id: resp.Session, Recipient: resp.Recipient}, nil
}

// Unwrap returns, for each record's stanzas, the file key that the vault's
// identity unwraps from its X25519 stanzas, or nil if it unwraps none.
func (s *Session) Unwrap(items [][]*age.Stanza) ([][]byte, error) {
	out := make([][]byte, 0, len(items))
	for len(items) > 0 {
		n, size := 0, 0
		for n < len(items) && n < maxBatchItems && size < maxBatchBytes {
			for _, st := range items[n] {
				size += len(st.Body) + 128
			}
			n++
		}
		resp, err := s.c.call(&Request{Op: OpUnwrap, Session: s.id, Stanzas: items[:n]})
		if err != nil {
			return nil, err
		}
		if len(resp.Out) != n {
			return nil, ErrBadRequest
		}
		for _, k := range resp.Out {
			if len(k) == 0 {
				k = nil
			}
			out = append(out, k)
		}
		items = items[n:]
	}
	return out, nil
}

// MAC returns HMAC-SHA256 of each message under the key named.
func (s *Session) MAC(key KeyID, msgs [][]byte) ([][]byte, error) {
	return s.batch(&Request{Op: OpMAC, Key: key}, msgs, nil)
}

// Seal seals each message under the key derived from the MAC key for
// label, with ads (none, or one per message) as additional data.
func (s *Session) Seal(label string, msgs, ads [][]byte) ([][]byte, error) {
	return s.batch(&Request{Op: OpSeal, Label: label}, msgs, ads)
}

// OpenError says which sealed message did not open.
type OpenError struct{ Index int }

func (e *OpenError) Error() string { return fmt.Sprintf("message %d: %v", e.Index, ErrOpenFailed) }
func (e *OpenError) Unwrap() error { return ErrOpenFailed }

// Unseal opens what Seal sealed; *OpenError (ErrOpenFailed) names the first
// message that does not open.
func (s *Session) Unseal(label string, sealed, ads [][]byte) ([][]byte, error) {
	return s.batch(&Request{Op: OpUnseal, Label: label}, sealed, ads)
}

// batch sends msgs (and ads) in as few requests of the kind tmpl as the
// frame limit allows, and returns one result per message.
func (s *Session) batch(tmpl *Request, msgs, ads [][]byte) ([][]byte, error) {
	if len(ads) != 0 && len(ads) != len(msgs) {
		return nil, ErrBadRequest
	}
	out := make([][]byte, 0, len(msgs))
	for done := 0; done < len(msgs); {
		n, size := 0, 0
		for done+n < len(msgs) && n < maxBatchItems && size < maxBatchBytes {
			size += len(msgs[done+n]) + len(adOf(ads, done+n))
			n++
		}
		req := *tmpl
		req.Session = s.id
		req.Msgs = msgs[done : done+n]
		if len(ads) != 0 {
			req.ADs = ads[done : done+n]
		}
		resp, err := s.c.call(&req)
		if errors.Is(err, ErrOpenFailed) {
			return nil, &OpenError{Index: done + int(resp.Index)}
		}
		if err != nil {
			return nil, err
		}
		if len(resp.Out) != n {
			return nil, ErrBadRequest
		}
		out = append(out, resp.Out...)
		done += n
	}
	return out, nil
}
