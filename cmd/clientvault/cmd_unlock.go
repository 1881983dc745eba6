package main

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/clientvault/clientvault/internal/harden"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/internal/agent"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

// The unlock agent keeps the owner's unlocked identity, and the vault's keys
// it opens, in the memory of a small background process for a while, so
// that each command does not pay for scrypt and the passphrase is typed
// once. Commands reach it through a unix socket in a directory only the
// user can enter (0700), and it answers only processes of the same user
// (peer credentials, checked on both sides). It never hands out a key: a
// command sends the vault's wrapped key set, the agent opens it with the
// owner's identity it holds, and from then on it MACs, unwraps one record's
// file key, or seals, on request (internal/agent). Nothing of a key is
// written to disk; the parent passes the identity to the agent through a
// pipe. The agent exits when its time is up or on 'clientvault lock'.

// maxUnlock bounds --for.
const maxUnlock = 12 * time.Hour

func newUnlockCmd(a *App) *cobra.Command {
	var d time.Duration
	c := &cobra.Command{
		Use:   "unlock --for DURATION",
		Short: "Keep the identity unlocked for a while, so commands stop asking",
		Long: `Ask for the passphrase once and keep the unlocked identity, and the vault's
keys it opens, in a small background agent for DURATION (at most 12h): until
then, commands open the vault without asking, in milliseconds. The agent
answers only your own user, through a socket in a private directory. It does
the key operations itself and never hands out a key, nor writes one to disk;
while it runs, any process of yours can ask it to decrypt or authenticate,
as with ssh-agent. Unlocking again while unlocked asks nothing.
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
			locked := lockAgent(a)
			if a.jsonOut {
				return printJSON(a.Out, struct {
					WasUnlocked bool `json:"was_unlocked"`
				}{locked})
			}
			if !locked {
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
	if !agent.Supported {
		return errors.New("unlock is not supported on this system yet")
	}
	path, err := filepath.Abs(a.IdentityPath())
	if err != nil {
		return err
	}
	if until, ok := a.agentUntil(path); ok {
		fmt.Fprintf(a.Err, "clientvault: already unlocked until %s; 'clientvault lock' locks now\n", until.Local().Format("15:04"))
		return nil
	}
	ids, err := a.identities()
	if err != nil {
		return err
	}
	var keys []string
	for _, id := range ids {
		if err := unlockable(id, filepath.Base(path)); err != nil {
			return err
		}
		inner, err := id.(*vault.EncryptedIdentity).Identities()
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
	}
	// One agent at a time: the new one replaces any other (of another
	// identity: one of the same was found above).
	lockAgent(a)

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

// unlockable says, truly, why the agent cannot hold id, if it cannot: it
// holds passphrase-protected age identities, the ones that cost a
// passphrase and scrypt at every command.
func unlockable(id age.Identity, file string) error {
	switch vault.KindOf(id) {
	case vault.KindPassphrase:
		return nil
	case vault.KindAgeKey, vault.KindSSHKey:
		return usagef("%s needs no passphrase: commands open the vault without asking, so there is nothing to unlock", file)
	case vault.KindEncryptedSSH:
		return usagef("unlock holds passphrase-protected age identities only; %s is an SSH key with a passphrase of its own, which each command asks for", file)
	case vault.KindPlugin:
		return usagef("unlock holds passphrase-protected age identities only; %s is an age plugin identity (a hardware key), which asks for itself", file)
	}
	return usagef("unlock holds passphrase-protected age identities only")
}

// runAgent serves the identities read from standard input until d has
// passed or a lock request comes, a goroutine per connection.
func runAgent(a *App, d time.Duration, identity string) error {
	say := func(err error) error { fmt.Fprintln(a.Out, err); return err }
	if err := harden.Process(); err != nil {
		return say(fmt.Errorf("the agent could not keep its memory private: %w", err))
	}
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
	if err := os.Chmod(sock, 0o600); err != nil {
		l.Close()
		return say(err)
	}
	srv := agent.NewServer(agent.Config{
		Identity: identity, Identities: ids, OpenKeys: vault.AgentKeys,
		UID: os.Getuid(), Until: a.Now().Add(d), Now: time.Now,
	})
	time.AfterFunc(d, srv.Close)
	fmt.Fprintln(a.Out, "ready")
	return srv.Serve(l) // closing the listener removes the socket
}

// agentDir is the agent's private directory: under $XDG_RUNTIME_DIR (a
// per-user tmpfs, gone at logout), else under the config directory.
func agentDir(a *App) string {
	if d := a.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "clientvault")
	}
	return filepath.Join(configDir(a), "clientvault", "run")
}

// dialAgent connects to the running agent, after checking that its
// directory is private; the client checks that the process answering is
// the same user's. Sockets use the real clock for their deadlines.
func dialAgent(a *App) (*agent.Client, error) {
	if !agent.Supported {
		return nil, errors.New("no agent on this system")
	}
	dir := agentDir(a)
	if err := checkPrivateDir(dir); err != nil {
		return nil, err
	}
	return agent.Dial(filepath.Join(dir, "agent.sock"), time.Now)
}

// lockAgent ends the running agent, and reports whether there was one.
func lockAgent(a *App) bool {
	c, err := dialAgent(a)
	if err != nil {
		return false
	}
	defer c.Close()
	return c.Lock() == nil
}

// agentUntil reports whether a running agent holds the identity at path,
// and until when.
func (a *App) agentUntil(path string) (time.Time, bool) {
	c, err := dialAgent(a)
	if err != nil {
		return time.Time{}, false
	}
	defer c.Close()
	id, until, err := c.Status()
	return until, err == nil && id == path
}

// agentServes reports whether a running agent holds the identity at the
// identity path.
func (a *App) agentServes() bool {
	path, err := filepath.Abs(a.IdentityPath())
	if err != nil {
		return false
	}
	_, ok := a.agentUntil(path)
	return ok
}

// unlockVault unlocks v through the unlock agent when one runs and holds
// the identity at the identity path, and with ids (asking for the
// passphrase as before) otherwise, or when the agent's identity does not
// open this vault or it stopped answering. A vault the agent found
// tampered with or rolled back is not tried again. The agent's connection
// stays open while the process runs: the vault uses it until it is closed.
func (a *App) unlockVault(v *vault.Vault, ids []age.Identity) error {
	path, err := filepath.Abs(a.IdentityPath())
	if err != nil || !agent.Supported {
		return v.Unlock(ids...)
	}
	c, err := dialAgent(a)
	if err != nil {
		return v.Unlock(ids...)
	}
	if id, _, err := c.Status(); err != nil || id != path {
		c.Close()
		return v.Unlock(ids...)
	}
	err = v.UnlockWithAgent(c)
	switch {
	case err == nil:
		return nil
	case v.Unlocked(), errors.Is(err, vault.ErrTampered), errors.Is(err, vault.ErrRolledBack):
		c.Close()
		return err
	}
	c.Close()
	return v.Unlock(ids...)
}
