package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clientvault/clientvault/vault"
)

// The unlock agent keeps one vault's keys in the memory of a small
// background process for a while, so that each command need not decrypt the
// passphrase-protected identity (about a second of scrypt). It answers on a
// unix socket in a directory only the user can enter, and only to processes
// of the same user (peer credentials). Nothing of the keys touches the disk:
// they reach the agent through a pipe.

// errNoAgent means no agent runs for the vault.
var errNoAgent = errors.New("no unlock agent is running for this vault")

// agentSocket returns the socket path for a vault: one agent per vault file.
func (a *App) agentSocket() (string, error) {
	abs, err := filepath.Abs(a.VaultPath())
	if err != nil {
		return "", err
	}
	dir, err := agentDir(a)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(dir, "agent-"+hex.EncodeToString(sum[:8])+".sock"), nil
}

// agentKeys asks a running agent for the vault's keys.
func (a *App) agentKeys() ([]byte, error) {
	sock, err := a.agentSocket()
	if err != nil {
		return nil, err
	}
	line, err := agentRequest(sock, "keys")
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(line)
}

// agentRequest sends one request line and reads one reply line.
func agentRequest(sock, req string) (string, error) {
	if _, err := os.Lstat(sock); err != nil {
		return "", errNoAgent
	}
	conn, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return "", errNoAgent
	}
	defer conn.Close()
	if err := checkPeer(conn); err != nil {
		return "", err
	}
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintln(conn, req); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(io.LimitReader(conn, 1<<16)).ReadString('\n')
	if err != nil {
		return "", errNoAgent
	}
	line = strings.TrimSpace(line)
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return "", errors.New(msg)
	}
	return strings.TrimPrefix(line, "ok "), nil
}

// serveAgent is the agent process: it reads the keys from stdin, listens,
// says "ready" on stdout, and answers until the time is up or it is locked.
func serveAgent(sock string, d time.Duration, in io.Reader, ready io.WriteCloser) error {
	keys, err := io.ReadAll(io.LimitReader(in, 1<<16))
	if err != nil || len(keys) == 0 {
		return errors.New("agent: no keys on standard input")
	}
	os.Remove(sock) // a stale socket of a dead agent
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	defer os.Remove(sock)
	if err := os.Chmod(sock, 0o600); err != nil {
		return err
	}
	fmt.Fprintln(ready, "ready")
	ready.Close()
	timer := time.AfterFunc(d, func() { ln.Close() })
	defer timer.Stop()
	reply := "ok " + base64.StdEncoding.EncodeToString(keys)
	for {
		conn, err := ln.Accept()
		if err != nil {
			return nil // closed: time is up, or locked
		}
		if checkPeer(conn) != nil {
			conn.Close()
			continue
		}
		conn.SetDeadline(time.Now().Add(2 * time.Second))
		req, _ := bufio.NewReader(io.LimitReader(conn, 256)).ReadString('\n')
		switch strings.TrimSpace(req) {
		case "keys":
			fmt.Fprintln(conn, reply)
		case "lock":
			fmt.Fprintln(conn, "ok locked")
			conn.Close()
			return nil
		default:
			fmt.Fprintln(conn, "error unknown request")
		}
		conn.Close()
	}
}

// unlockWithAgent unlocks v with a running agent's keys, if there is one.
func (a *App) unlockWithAgent(v *vault.Vault) bool {
	keys, err := a.agentKeys()
	if err != nil {
		return false
	}
	return v.UnlockWithKeys(keys) == nil
}
