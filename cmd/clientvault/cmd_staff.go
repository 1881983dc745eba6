package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

func newStaffCmd(a *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "staff",
		Short: "The coworkers records can be shared with",
		Long: `The coworkers records can be shared with, each by name and public key: an age
key (age1…, from 'clientvault keygen' or age-keygen) or an SSH public key
(ssh-ed25519, ssh-rsa). A record opens to a coworker only after the client's
consent is recorded ('consent add') and the record is shared ('share').`,
		Example: `  clientvault staff add "Bea Lopez" age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  clientvault staff list
  clientvault staff remove "Bea Lopez"`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newStaffAddCmd(a), newStaffListCmd(a), newStaffRemoveCmd(a))
	return c
}

func newStaffAddCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use:   "add NAME KEY",
		Short: "Register a coworker by their public key (or a file holding it)",
		Example: `  clientvault staff add "Bea Lopez" age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  clientvault staff add "Bea Lopez" ~/keys/bea.pub
  clientvault staff add "Cal Ng" "$(cat ~/.ssh/cal_ed25519.pub)"`,
		Args: exactArgs(2, "NAME and KEY"),
		RunE: func(c *cobra.Command, args []string) error {
			key, err := readStaffKey(args[1])
			if err != nil {
				return err
			}
			// Names are unique without regard to case: "bea lopez" is the
			// Bea Lopez already registered, not a second coworker.
			var names []string
			if err := a.peek(func(v *vault.Vault) (err error) { names, err = v.StaffNames(""); return err }); err != nil {
				return err
			}
			if i := staffIndex(names, args[0]); i >= 0 {
				return fmt.Errorf("staff %s: %w as %s (names are the same whatever their case)", args[0], vault.ErrExists, names[i])
			}
			st, err := withVault(a, openOpts{write: true}, func(v *vault.Vault) (*vault.Staff, error) { return v.StaffAdd(args[0], key) })
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, st)
			}
			fmt.Fprintf(a.Err, "clientvault: added %s (%s)\n", st.Name, st.Recipient)
			if st.EngineUser != "" {
				fmt.Fprintf(a.Err, "clientvault: on etcd, %s is the user %s, allowed to read only what is shared with them: their client certificate's common name (CN) must be %s\n",
					st.Name, st.EngineUser, st.EngineUser)
				if st.Unenforced {
					fmt.Fprintf(a.Err, "clientvault: warning: etcd's authentication is not enabled, so etcd does not enforce that yet\n")
					fmt.Fprintf(a.Err, "hint: make a root user and enable it: etcdctl user add root --no-password && etcdctl user grant-role root root && etcdctl auth enable\n")
				}
			}
			fmt.Fprintf(a.Err, "clientvault: give %s the vault's owner key, in person or by a channel you trust; once, on their computer, they run:\n", st.Name)
			fmt.Fprintf(a.Out, "clientvault trust %s\n", st.OwnerKey)
			return nil
		},
	}
}

// readStaffKey reads a public key given as text or as a file holding one
// (a .pub file, or a line "# public key: age1…"). A file holding a private
// key is refused: the owner should never handle a coworker's secret.
func readStaffKey(arg string) (age.Recipient, error) {
	if r, err := vault.ParseStaffKey(arg); err == nil {
		return r, nil
	}
	b, err := os.ReadFile(arg)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(b) > 64<<10) {
		return nil, withHint(usagef("KEY: not an age (age1…) or SSH (ssh-ed25519, ssh-rsa) public key, nor a file holding one"),
			"the coworker prints theirs with 'clientvault keygen -y THEIR-KEY-FILE' (a new key: 'clientvault keygen -o FILE')")
	}
	if err != nil {
		return nil, err
	}
	if bytes.Contains(b, []byte("AGE-SECRET-KEY-")) || bytes.Contains(b, []byte("PRIVATE KEY-----")) ||
		bytes.HasPrefix(b, []byte("age-encryption.org/")) {
		return nil, withHint(usagef("KEY: %s holds a private key; the coworker keeps that, give their public key", arg),
			"the coworker prints it with 'clientvault keygen -y THEIR-KEY-FILE', or gives their SSH .pub file")
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "# public key:"))
		if r, err := vault.ParseStaffKey(line); err == nil {
			return r, nil
		}
	}
	return nil, usagef("KEY: %s holds no age or SSH public key", arg)
}

func newStaffListCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use: "list",
		Example: `  clientvault staff list
  clientvault staff list --json`,
		Short: "List the coworkers and how many records each can read",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			list, err := withVault(a, openOpts{}, (*vault.Vault).StaffList)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, list)
			}
			tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSHARED RECORDS\tADDED\tKEY")
			for _, s := range list {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", s.Name, s.Shares, s.Added.Format(time.DateOnly), s.Recipient)
			}
			return tw.Flush()
		},
	}
}

func newStaffRemoveCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use: "remove NAME",
		Example: `  clientvault staff remove "Bea Lopez"
  clientvault staff remove "Bea Lopez" --json`,
		Short: "Remove a coworker and every share they hold",
		Long: `Remove a coworker and, in the same transaction, every share they hold: the
vault file then holds nothing their key opens. Their consents are kept as
proof of what was allowed, but no longer apply, even if the same name is
registered again. What they read or copied before stays with them.`,
		Args: exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			rm, err := withVault(a, openOpts{write: true}, func(v *vault.Vault) (*vault.StaffRemoval, error) { return v.StaffRemove(args[0]) })
			if err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, rm)
			}
			fmt.Fprintf(a.Out, "removed %s: %d shared record(s) closed to them; %d consent(s) no longer apply\n",
				rm.Name, len(rm.Records), rm.Consents)
			if len(rm.Records) > 0 {
				fmt.Fprintf(a.Out, "cannot be undone: %s could read %d record(s) until now; anything they copied or wrote down stays with them\n",
					rm.Name, len(rm.Records))
			}
			for _, cp := range rm.Copies {
				fmt.Fprintf(a.Out, "  an age file of record %s was written for %s on %s and stays readable to them\n",
					cp.For, rm.Name, cp.At.Format(time.DateOnly))
			}
			return nil
		},
	}
}
