package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

// The unlock agent keeps the owner's unlocked identity in the memory of a
// small background process for a while, so that each command does not pay
// for scrypt and the passphrase is typed once. Commands reach it through a
// unix socket in a directory only the user can enter (0700), and it answers
// only processes of the same user (peer credentials, checked on both
// sides). It never hands out the identity: a command sends the stanzas of
// the vault's wrapped key, and the agent returns the file key that opens
// them, as the identity would. Nothing of the key is written to disk; the
// parent passes it to the agent through a pipe. The agent exits when its
// time is up or on 'clientvault lock'.

// maxUnlock bounds --for.
const maxUnlock = 12 * time.Hour

type agentRequest struct {
	Op       string        `json:"op"` // "unwrap", "status" or "lock"
	Identity string        `json:"identity,omitempty"`
	Stanzas  []agentStanza `json:"stanzas,omitempty"`
}

type agentStanza struct {
	Type string   `json:"type"`
	Args []string `json:"args"`
	Body []byte   `json:"body"`
}

type agentResponse struct {
	FileKey  []byte    `json:"file_key,omitempty"`
	NoMatch  bool      `json:"no_match,omitempty"`
	Identity string    `json:"identity,omitempty"`
	Until    time.Time `json:"until,omitzero"`
	Error    string    `json:"error,omitempty"`
}

func newUnlockCmd(a *App) *cobra.Command {
	var d time.Duration
	c := &cobra.Command{
		Use:   "unlock --for DURATION",
		Short: "Keep the identity unlocked for a while, so commands stop asking",
		Long: `Ask for the passphrase once and keep the unlocked identity in a small
background agent for DURATION (at most 12h): until then, commands open the
vault without asking, in milliseconds. The agent answers only your own user,
through a socket in a private directory, and never writes the key to disk.
'clientvault lock' ends it at once; so does the end of DURATION.`,
		Example: `  clientvault unlock --for 15m
  clientvault unlock --for 8h && clientvault list
  clientvault lock`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return runUnlock(a, d) },
	}
	c.Flags().DurationVar(&d, "for", 15*time.Minute, "how long to stay unlocked, e.g. 15m or 8h")
	return c
}

func newLockCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use:   "lock",
		Short: "End the unlock agent now",
		Example: `  clientvault lock
  clientvault unlock --for 15m; clientvault view "Jane Doe"; clientvault lock`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			_, err := agentCall(a, agentRequest{Op: "lock"})
			if a.jsonOut {
				return printJSON(a.Out, struct {
					WasUnlocked bool `json:"was_unlocked"`
				}{err == nil})
			}
			if err != nil {
				fmt.Fprintln(a.Err, "clientvault: no unlock agent was running")
				return nil
			}
			fmt.Fprintln(a.Err, "clientvault: locked")
			return nil
		},
	}
}

// newAgentCmd is the agent process itself, started by unlock; hidden.
func newAgentCmd(a *App) *cobra.Command {
	var d time.Duration
	var identity string
	c := &cobra.Command{
		Use:    "__agent",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE:   func(c *cobra.Command, args []string) error { return runAgent(a, d, identity) },
	}
	c.Flags().DurationVar(&d, "for", 0, "")
	c.Flags().StringVar(&identity, "serve-identity", "", "")
	return c
}

func runUnlock(a *App, d time.Duration) error {
	if d <= 0 || d > maxUnlock {
		return usagef("--for must be more than 0 and at most %s", maxUnlock)
	}
	if !agentSupported {
		return errors.New("unlock is not supported on this system yet")
	}
	path, err := filepath.Abs(a.IdentityPath())
	if err != nil {
		return err
	}
	// Already unlocked: say so and ask nothing. 'lock' first to start over.
	if resp, err := agentCall(a, agentRequest{Op: "status"}); err == nil && resp.Identity == path {
		fmt.Fprintf(a.Err, "clientvault: already unlocked until %s; 'clientvault lock' locks it now\n", resp.Until.Local().Format("15:04"))
		return nil
	}
	ids, err := a.identities()
	if err != nil {
		return err
	}
	var keys []string
	for _, id := range ids {
		if e, ok := id.(*vault.EncryptedIdentity); ok {
			inner, err := e.Identities()
			if err != nil {
				return err
			}
			for _, id := range inner {
				s, ok := id.(fmt.Stringer)
				if !ok {
					return usagef("unlock keeps age keys only")
				}
				keys = append(keys, s.String())
			}
			continue
		}
		return usagef("unlock is for a passphrase-protected identity; %s needs no passphrase", filepath.Base(path))
	}
	// One agent at a time: the new one replaces any other.
	agentCall(a, agentRequest{Op: "lock"})

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "__agent", "--for", d.String(), "--serve-identity", path)
	cmd.Stdin = strings.NewReader(strings.Join(keys, "\n") + "\n")
	ready, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(ready).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		if s != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			if s == "" {
				s = "the agent did not start"
			}
			return errors.New(s)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return errors.New("the agent did not start in time")
	}
	cmd.Process.Release()
	until := a.Now().Add(d)
	fmt.Fprintf(a.Err, "clientvault: unlocked until %s; 'clientvault lock' locks now\n", until.Local().Format("15:04"))
	return nil
}

// runAgent serves the identities read from standard input until d has
// passed or a lock request comes. Requests are served one at a time.
func runAgent(a *App, d time.Duration, identity string) error {
	hardenAgent()
	say := func(err error) error { fmt.Fprintln(a.Out, err); return err }
	if d <= 0 || d > maxUnlock || identity == "" {
		return say(errors.New("the agent was started wrongly"))
	}
	keys, err := io.ReadAll(io.LimitReader(a.In, 1<<16))
	if err != nil {
		return say(err)
	}
	ids, err := vault.ParseIdentities(keys, "agent", vault.Prompter{})
	clear(keys)
	if err != nil {
		return say(err)
	}
	dir := agentDir(a)
	if err := ensurePrivateDir(dir); err != nil {
		return say(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	os.Remove(sock) // a stale socket of an agent that died; a live one was locked
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return say(err)
	}
	defer l.Close() // also removes the socket
	if err := os.Chmod(sock, 0o600); err != nil {
		return say(err)
	}
	until := a.Now().Add(d)
	time.AfterFunc(d, func() { l.Close() })
	fmt.Fprintln(a.Out, "ready")
	uid := os.Getuid()
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			return nil // closed: time is up, or locked
		}
		if serveAgentConn(conn, uid, identity, until, ids) {
			return nil
		}
	}
}

// serveAgentConn answers one request on conn, from a process of user uid
// only, and reports whether it was a lock.
func serveAgentConn(conn *net.UnixConn, uid int, identity string, until time.Time, ids []age.Identity) (lock bool) {
	defer conn.Close()
	if peer, err := peerUID(conn); err != nil || peer != uid {
		return false
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	var req agentRequest
	if err := json.NewDecoder(io.LimitReader(conn, 1<<20)).Decode(&req); err != nil {
		return false
	}
	var resp agentResponse
	switch req.Op {
	case "status":
		resp = agentResponse{Identity: identity, Until: until}
	case "lock":
		json.NewEncoder(conn).Encode(agentResponse{})
		return true
	case "unwrap":
		resp = unwrapFor(req, identity, ids)
	default:
		resp.Error = "unknown request"
	}
	json.NewEncoder(conn).Encode(resp)
	return false
}

func unwrapFor(req agentRequest, identity string, ids []age.Identity) agentResponse {
	if req.Identity != identity {
		return agentResponse{Error: "the agent holds another identity"}
	}
	stanzas := make([]*age.Stanza, len(req.Stanzas))
	for i, s := range req.Stanzas {
		stanzas[i] = &age.Stanza{Type: s.Type, Args: s.Args, Body: s.Body}
	}
	for _, id := range ids {
		k, err := id.Unwrap(stanzas)
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		if err != nil {
			return agentResponse{Error: "unwrap failed"}
		}
		return agentResponse{FileKey: k}
	}
	return agentResponse{NoMatch: true}
}

// agentDir is the agent's private directory: under $XDG_RUNTIME_DIR (a
// per-user tmpfs, gone at logout), else under the config directory.
func agentDir(a *App) string {
	if d := a.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "clientvault")
	}
	return filepath.Join(configDir(a), "clientvault", "run")
}

// agentCall sends one request to the running agent, after checking that its
// directory is private and that the process answering is the same user's.
func agentCall(a *App, req agentRequest) (*agentResponse, error) {
	if !agentSupported {
		return nil, errors.New("no agent on this system")
	}
	dir := agentDir(a)
	if err := checkPrivateDir(dir); err != nil {
		return nil, err
	}
	conn, err := net.DialTimeout("unix", filepath.Join(dir, "agent.sock"), time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	uc := conn.(*net.UnixConn)
	if peer, err := peerUID(uc); err != nil || peer != os.Getuid() {
		return nil, errors.New("the agent socket belongs to another user")
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return nil, err
	}
	var resp agentResponse
	if err := json.NewDecoder(io.LimitReader(conn, 1<<20)).Decode(&resp); err != nil {
		return nil, err
	}
	if resp.Error != "" {
		return nil, errors.New(resp.Error)
	}
	return &resp, nil
}

// agentServes reports whether a running agent holds the identity at path.
func (a *App) agentServes() bool {
	path, err := filepath.Abs(a.IdentityPath())
	if err != nil {
		return false
	}
	resp, err := agentCall(a, agentRequest{Op: "status"})
	return err == nil && resp.Identity == path
}

// viaAgent wraps ids so that the agent, when it runs and holds the same
// identity, unwraps instead of them: no passphrase, no scrypt. Without an
// agent they are used as before (and ask for the passphrase as before).
func (a *App) viaAgent(ids []age.Identity) []age.Identity {
	if !agentSupported {
		return ids
	}
	if _, err := os.Stat(filepath.Join(agentDir(a), "agent.sock")); err != nil {
		return ids
	}
	path, err := filepath.Abs(a.IdentityPath())
	if err != nil {
		return ids
	}
	return []age.Identity{&agentIdentity{a: a, path: path, fallback: ids}}
}

// agentIdentity is an age.Identity answered by the unlock agent.
type agentIdentity struct {
	a        *App
	path     string
	fallback []age.Identity
}

// Unwrap implements age.Identity.
func (i *agentIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	req := agentRequest{Op: "unwrap", Identity: i.path}
	for _, s := range stanzas {
		req.Stanzas = append(req.Stanzas, agentStanza{Type: s.Type, Args: s.Args, Body: s.Body})
	}
	if resp, err := i.a.agentCall(req); err == nil {
		if resp.NoMatch {
			return nil, age.ErrIncorrectIdentity
		}
		return resp.FileKey, nil
	}
	// The agent has gone or holds another identity: the identity file, as
	// without an agent.
	for _, id := range i.fallback {
		k, err := id.Unwrap(stanzas)
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		return k, err
	}
	return nil, age.ErrIncorrectIdentity
}

func (a *App) agentCall(req agentRequest) (*agentResponse, error) { return agentCall(a, req) }
