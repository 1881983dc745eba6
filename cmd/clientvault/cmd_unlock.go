package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newUnlockCmd(a *App) *cobra.Command {
	var d time.Duration
	c := &cobra.Command{
		Use:   "unlock",
		Short: "Unlock the vault for a while, so commands stop asking for the passphrase",
		Long: `Unlock the vault once and keep its keys in a small background process for
--for (15 minutes by default), or until 'clientvault lock'. While it runs,
commands on this vault open it in milliseconds and ask for no passphrase.

The keys stay in that process's memory, reachable only by your own processes
through a socket in a directory only you can enter; nothing is written to disk.`,
		Example: `  clientvault unlock
  clientvault unlock --for 2h
  clientvault lock`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if !agentSupported {
				return usagef("unlock is not supported on this system")
			}
			if d <= 0 || d > 24*time.Hour {
				return usagef("--for takes a duration from 1s to 24h, e.g. 15m")
			}
			return runUnlock(a, d)
		},
	}
	c.Flags().DurationVar(&d, "for", 15*time.Minute, "how long to stay unlocked")
	return c
}

func runUnlock(a *App, d time.Duration) error {
	sock, err := a.agentSocket()
	if err != nil {
		return err
	}
	agentRequest(sock, "lock") // replace a running agent, if any
	v, err := a.open(openOpts{})
	if err != nil {
		return err
	}
	keys, err := v.ExportKeys()
	v.Close()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	// argv[0] is the program's name, so that the agent is "clientvault" in
	// a process list (and in tests, where the test binary stands in for it).
	cmd := &exec.Cmd{Path: exe, Args: []string{"clientvault", "__agent", "--socket", sock, "--for", d.String()}}
	detach(cmd)
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	in.Write(keys)
	in.Close()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		return errors.New("the unlock agent did not start")
	}
	go cmd.Wait()
	fmt.Fprintf(a.Err, "clientvault: unlocked for %s; 'clientvault lock' locks it now\n", d)
	return nil
}

func newLockCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use:     "lock",
		Short:   "Lock the vault now: stop the unlock agent",
		Example: "  clientvault lock",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			sock, err := a.agentSocket()
			if err != nil {
				return err
			}
			if _, err := agentRequest(sock, "lock"); err != nil {
				if errors.Is(err, errNoAgent) {
					fmt.Fprintln(a.Err, "clientvault: already locked")
					return nil
				}
				return err
			}
			fmt.Fprintln(a.Err, "clientvault: locked")
			return nil
		},
	}
}

// newAgentCmd is the hidden agent process that 'unlock' starts.
func newAgentCmd(a *App) *cobra.Command {
	var sock string
	var d time.Duration
	c := &cobra.Command{
		Use:    "__agent",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return serveAgent(sock, d, a.In, os.Stdout)
		},
	}
	c.Flags().StringVar(&sock, "socket", "", "")
	c.Flags().DurationVar(&d, "for", 0, "")
	return c
}
