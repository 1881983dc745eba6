package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"filippo.io/age"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

type initOptions struct {
	recoveryOut string
	retain      string
}

func newInitCmd(a *App) *cobra.Command {
	o := &initOptions{}
	c := &cobra.Command{
		Use:   "init",
		Short: "Create the vault and the owner's identity",
		Long: `Create the vault and the owner's identity.

By default a new identity is made and kept under your config directory,
protected by a passphrase you choose. With --identity FILE, the vault is
bound to an existing age key file or SSH ed25519 key instead (for scripts).

A recovery key is made too: the vault opens with it if the passphrase or the
laptop is lost. It is written to --recovery-out FILE, or shown once on the
terminal. Keep it offline, away from the laptop.

On a terminal with no flags, a form asks how long records are kept and
where the recovery key goes. init never overwrites a vault or a key.`,
		Example: `  clientvault init
  clientvault init --recovery-out /media/usb/clientvault-recovery.txt
  clientvault init --identity ~/.ssh/id_ed25519 --recovery-out recovery.txt --retain 3y`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := noVaultYet(a); err != nil {
				return err
			}
			if c.Flags().NFlag()-countSet(c, "vault", "accessible") == 0 && a.interactive() && !a.identityGiven() {
				if err := a.runForm(buildInitForm(o)); err != nil {
					return err
				}
			}
			return runInit(a, o)
		},
	}
	c.Flags().StringVar(&o.recoveryOut, "recovery-out", "", "write the recovery key to this new file")
	c.Flags().StringVar(&o.retain, "retain", "", "years to keep a record after the last treatment, e.g. 7y (default 7y)")
	return c
}

// noVaultYet refuses when a vault is already at the path, file or etcd
// prefix, before any form or passphrase: init never overwrites one.
func noVaultYet(a *App) error {
	path := a.VaultPath()
	exists, err := a.vaultExists(path)
	if err != nil {
		return err
	}
	if exists {
		return withHint(fmt.Errorf("vault %s: %w", path, vault.ErrExists), "init never overwrites a vault; pass --vault with another file or etcd prefix for another one")
	}
	return nil
}

func runInit(a *App, o *initOptions) error {
	if err := noVaultYet(a); err != nil {
		return err
	}
	path := a.VaultPath()
	policy := consent.DefaultPolicy()
	if o.retain != "" {
		years, err := consent.ParsePeriod(o.retain)
		if err != nil {
			return usagef("--retain: %w", err)
		}
		policy.Years = years
	}
	if o.recoveryOut == "" && !a.StdoutTTY {
		return usagef("--recovery-out FILE is required when the recovery key cannot be shown on a terminal")
	}
	owner, err := a.ownerForInit()
	if err != nil {
		return err
	}
	recovery, err := vault.GenerateIdentity()
	if err != nil {
		return err
	}
	if o.recoveryOut != "" {
		if err := vault.WriteIdentity(o.recoveryOut, recovery, "", 0); err != nil {
			return fmt.Errorf("recovery key: %w", err)
		}
	}
	err = a.createVault(path, vault.CreateOptions{
		Owner: owner, Recovery: []age.Recipient{recovery.Recipient()}, Retention: policy, Now: a.Now,
	})
	if err != nil {
		if o.recoveryOut != "" {
			os.Remove(o.recoveryOut)
		}
		return err
	}
	fmt.Fprintf(a.Err, "clientvault: created vault %s\n", path)
	fmt.Fprintf(a.Out, "owner public key: %s\n", vault.RecipientString(owner[0]))
	if o.recoveryOut != "" {
		fmt.Fprintf(a.Err, "clientvault: recovery key written to %s; keep it offline\n", o.recoveryOut)
	} else {
		fmt.Fprintf(a.Out, "\nRecovery key (shown once; write it down or print it, and keep it offline):\n\n%s\n\n", recovery)
	}
	return nil
}

// ownerForInit returns the owner's public keys: from --identity when given,
// from the default identity when one exists, or from a new passphrase-protected
// identity written to the default path.
func (a *App) ownerForInit() ([]age.Recipient, error) {
	path := a.IdentityPath()
	if _, err := os.Stat(path); err == nil {
		ids, err := a.identities()
		if err != nil {
			return nil, err
		}
		return vault.Recipients(ids)
	}
	if a.identityGiven() {
		return nil, withHint(fmt.Errorf("no identity file at %s: %w", path, vault.ErrNotFound),
			"make one with 'clientvault keygen -o "+path+"'")
	}
	if a.ReadSecret == nil || !a.StdinTTY {
		return nil, withHint(usagef("a new identity needs a passphrase and there is no terminal to ask on"),
			"for scripts, make a key with 'clientvault keygen -o KEY' and pass --identity KEY")
	}
	pass, err := a.newPassphrase()
	if err != nil {
		return nil, err
	}
	id, err := vault.GenerateIdentity()
	if err != nil {
		return nil, err
	}
	if err := vault.WriteIdentity(path, id, pass, a.WorkFactor); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	fmt.Fprintf(a.Err, "clientvault: your identity is %s (passphrase-protected)\n", path)
	// The command goes on with the key in memory: the passphrase just set
	// is not asked for again (first use of add opens the vault next).
	a.ids = []age.Identity{id}
	return []age.Recipient{id.Recipient()}, nil
}

// newPassphrase asks for a new passphrase twice.
func (a *App) newPassphrase() (string, error) {
	for range 3 {
		p1, err := a.ReadSecret("New passphrase: ")
		if err != nil {
			return "", err
		}
		if len(p1) < 8 {
			fmt.Fprintln(a.Err, "clientvault: use at least 8 characters")
			continue
		}
		if why := weakPassphrase(p1); why != "" {
			fmt.Fprintf(a.Err, "clientvault: %s; a few unrelated words are easy to remember and hard to guess\n", why)
			continue
		}
		p2, err := a.ReadSecret("Same passphrase again: ")
		if err != nil {
			return "", err
		}
		if p1 == p2 {
			return p1, nil
		}
		fmt.Fprintln(a.Err, "clientvault: the passphrases differ")
	}
	return "", usagef("no passphrase was set")
}

func newKeygenCmd(a *App) *cobra.Command {
	var out, publicOf string
	c := &cobra.Command{
		Use:   "keygen -o FILE",
		Short: "Make a new age key file (for scripts and coworkers)",
		Long: `Make a new age key file, unencrypted, readable by you only, and print its
public key. A coworker uses one to be added with 'staff add'; a script passes
one to 'init --identity'. Protect the file as you would the vault.`,
		Example: `  clientvault keygen -o ~/.config/clientvault/script.key
  clientvault keygen -y ~/.config/clientvault/script.key > bea.pub
  clientvault init --identity ~/.config/clientvault/script.key --recovery-out recovery.txt`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if publicOf != "" {
				return printPublicKey(a, publicOf)
			}
			if out == "" {
				return usagef("-o FILE is required (or -y KEYFILE to print a key's public key)")
			}
			if err := parentExists(out); err != nil {
				return err
			}
			id, err := vault.GenerateIdentity()
			if err != nil {
				return err
			}
			if err := vault.WriteIdentity(out, id, "", 0); err != nil {
				return err
			}
			if a.jsonOut {
				return printJSON(a.Out, struct {
					File      string `json:"file"`
					PublicKey string `json:"public_key"`
				}{out, id.Recipient().String()})
			}
			fmt.Fprintf(a.Out, "public key: %s\n", id.Recipient())
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "the new key file (never overwritten)")
	c.Flags().StringVarP(&publicOf, "public-of", "y", "", "print the public key of this plain key file (for 'staff add'), as age-keygen -y does")
	c.MarkFlagsMutuallyExclusive("output", "public-of")
	return c
}

// printPublicKey prints the public key of a plain age key file: what a
// coworker gives the owner for 'staff add'.
func printPublicKey(a *App, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return withHint(usagef("%s is a folder, not a key file", path), "name the key file made by 'clientvault keygen -o FILE'")
	}
	ids, err := vault.LoadIdentities(path, vault.Prompter{})
	if errors.Is(err, vault.ErrNotFound) {
		return withHint(err, "name the key file made by 'clientvault keygen -o FILE'")
	}
	if err != nil {
		return withHint(usageError{err}, "name the key file made by 'clientvault keygen -o FILE'")
	}
	if _, ok := ids[0].(*vault.EncryptedIdentity); ok {
		return withHint(usagef("%s is passphrase-protected: keygen -y reads plain key files", path),
			"the owner's public key is the one 'clientvault init' printed; a coworker makes a plain key with 'clientvault keygen -o FILE'")
	}
	rs, err := vault.Recipients(ids)
	if err != nil {
		return withHint(usageError{err}, "name the key file made by 'clientvault keygen -o FILE'")
	}
	if a.jsonOut {
		return printJSON(a.Out, struct {
			File      string `json:"file"`
			PublicKey string `json:"public_key"`
		}{path, vault.RecipientString(rs[0])})
	}
	fmt.Fprintln(a.Out, vault.RecipientString(rs[0]))
	return nil
}

// parentExists refuses a path whose folder does not exist: a mistyped
// folder is not created, and the file does not land somewhere unexpected.
func parentExists(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return withHint(fmt.Errorf("folder %s: %w", dir, vault.ErrNotFound), "check the path, or make the folder first (mkdir)")
	case err != nil:
		return err
	case !fi.IsDir():
		return withHint(usagef("%s is not a folder", dir), "check the path")
	}
	return nil
}

// rekeyOptions are the flags of rekey.
type rekeyOptions struct {
	to           string
	keepIdentity bool
	recovery     string
	rotate       bool
}

func newRekeyCmd(a *App) *cobra.Command {
	o := &rekeyOptions{}
	c := &cobra.Command{
		Use:   "rekey",
		Short: "Replace the owner's identity, the recovery key, or all the vault's keys",
		Long: `Replace the owner's identity (a lost laptop, a leaked key), the recovery key,
or, with --rotate, every key of the vault.

Without --to, a new passphrase-protected identity replaces the default one.
With --to FILE, the vault is bound to that existing key file instead. With
--keep-identity, the owner's identity stays (with --recovery or --rotate).
--recovery KEY replaces the recovery key by the public key KEY (make one
with 'clientvault keygen -o FILE' and keep FILE offline).
Open the vault with the current identity (or the recovery key, --identity).

A plain rekey is quick: it re-wraps the vault's keys (its own age key, its
MAC key and its index key) to the new identity and the recovery key, and
records stay as they are. The old identity no longer opens this file, but
the vault's keys are the same: whoever has the old identity and a copy of
the file from before the rekey can still open every record in this file,
records added later included, and forge entries that verify.

--rotate makes new vault keys and rewrites the whole vault under them:
every record and every other sealed object is decrypted and sealed again,
every MAC is made again, the index, expiry table and client directory are
rebuilt. Afterwards nothing from before the rotation opens or verifies
anything in this file. It takes longer than adding every record (each is decrypted first).
The vault is written to a new file that replaces the old one only when
complete: an interrupted rotation leaves the old vault as it was, and
running the command again does the whole rotation again. The owner's
signing key changes too: each coworker must pin the new one with
'clientvault trust' (the lines to give them are printed).`,
		Example: `  clientvault rekey --rotate
  clientvault rekey --identity recovery.txt --to ~/.config/clientvault/new.key
  clientvault rekey --keep-identity --recovery age1…`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return runRekey(a, o) },
	}
	c.Flags().StringVar(&o.to, "to", "", "bind the vault to this existing key file")
	c.Flags().BoolVar(&o.keepIdentity, "keep-identity", false, "keep the owner's identity (with --recovery or --rotate)")
	c.Flags().StringVar(&o.recovery, "recovery", "", "replace the recovery key by this public key (age1…)")
	c.Flags().BoolVar(&o.rotate, "rotate", false, "make new vault keys and seal every record again under them")
	return c
}

func runRekey(a *App, o *rekeyOptions) error {
	if o.keepIdentity && o.to != "" {
		return usagef("--keep-identity and --to: the owner's identity either stays or is replaced; choose one")
	}
	if o.keepIdentity && !o.rotate && o.recovery == "" {
		return usagef("--keep-identity changes nothing by itself: add --recovery KEY or --rotate")
	}
	var recovery []age.Recipient
	if o.recovery != "" {
		r, err := vault.ParseRecipient(o.recovery)
		if err != nil {
			return withHint(usagef("--recovery: %v", err),
				"pass the public key (age1…) of a new key: 'clientvault keygen -o FILE' prints it; keep FILE offline")
		}
		recovery = []age.Recipient{r}
	}
	// The unlock agent holds the old identity and never hands out the
	// vault's keys, which re-wrapping and rotating need: it is locked, and
	// the identity file is asked for.
	if lockAgent(a) {
		fmt.Fprintln(a.Err, "clientvault: locked the unlock agent: rekey needs the identity file itself")
	}
	v, err := a.open(openOpts{write: true})
	if err != nil {
		return err
	}
	defer v.Close()
	res := rekeyResult{Recovery: o.recovery}
	switch {
	case o.keepIdentity:
		ids, err := a.identities()
		if err != nil {
			return err
		}
		if err := rekeyVault(a, v, o, nil, recovery, ids, &res); err != nil {
			if errors.Is(err, vault.ErrRefused) && o.recovery != "" {
				err = withHint(err, "open the vault with the owner's identity, not the recovery key being replaced")
			}
			return err
		}
		owner, _ := v.OwnerKeys()
		res.Identity, res.PublicKey = a.IdentityPath(), owner[0]
	case o.to != "":
		ids, err := vault.LoadIdentities(o.to, a.prompter())
		if err != nil {
			return err
		}
		rs, err := vault.Recipients(ids)
		if err != nil {
			return err
		}
		if err := rekeyVault(a, v, o, rs, recovery, ids, &res); err != nil {
			return err
		}
		res.Identity, res.PublicKey = o.to, vault.RecipientString(rs[0])
		if !a.jsonOut {
			fmt.Fprintf(a.Err, "clientvault: the vault now opens with %s; pass it with --identity\n", o.to)
		}
	default:
		if a.ReadSecret == nil || !a.StdinTTY {
			return usagef("rekey without --to asks for a new passphrase; pass --to KEYFILE in scripts")
		}
		pass, err := a.newPassphrase()
		if err != nil {
			return err
		}
		id, err := vault.GenerateIdentity()
		if err != nil {
			return err
		}
		// The new identity is on disk before the vault needs it, and the old one
		// is replaced only after the vault has been re-wrapped.
		path := defaultIdentityPath(a)
		staged := path + ".new"
		os.Remove(staged)
		if err := vault.WriteIdentity(staged, id, pass, a.WorkFactor); err != nil {
			return err
		}
		err = rekeyVault(a, v, o, []age.Recipient{id.Recipient()}, recovery, []age.Identity{id}, &res)
		if err != nil && res.Rotated == nil {
			os.Remove(staged)
			return err
		}
		// Rotated, even if something failed after: the vault opens only
		// with the new identity now.
		if rerr := os.Rename(staged, path); rerr != nil {
			return withHint(fmt.Errorf("the vault was rekeyed but the new identity is at %s: %w", staged, rerr),
				"move it to "+path+" by hand")
		}
		if err != nil {
			return err
		}
		res.Identity, res.PublicKey = path, id.Recipient().String()
		if !a.jsonOut {
			fmt.Fprintf(a.Err, "clientvault: rekeyed; the new identity is %s\n", path)
		}
	}
	if a.jsonOut {
		return printJSON(a.Out, res)
	}
	if o.recovery != "" {
		fmt.Fprintf(a.Err, "clientvault: the recovery key is now %s; the old one no longer opens this file\n", o.recovery)
	}
	if rot := res.Rotated; rot != nil {
		fmt.Fprintf(a.Err, "clientvault: rotated the vault's keys: %s and %s sealed again; keys and copies from before the rotation open nothing in this file\n",
			count(rot.Records, "record"), count(rot.Objects, "other object"))
		fmt.Fprintln(a.Err, "clientvault: take a new backup now: backups from before the rotation hold the old keys, and restore refuses them as another vault's")
		if len(rot.Staff) > 0 {
			fmt.Fprintln(a.Err, "clientvault: the owner key changed: until each coworker runs this line on their computer, they cannot read what is shared with them")
			for _, name := range rot.Staff {
				fmt.Fprintf(a.Out, "%s: clientvault trust %s\n", name, rot.OwnerKey)
			}
		}
	}
	return nil
}

// rekeyVault re-wraps the vault's keys to owner and recovery (nil keeps
// them), or with --rotate replaces them, checked with check.
func rekeyVault(a *App, v *vault.Vault, o *rekeyOptions, owner, recovery []age.Recipient, check []age.Identity, res *rekeyResult) error {
	if !o.rotate {
		return v.Rekey(owner, recovery, check)
	}
	if a.Getenv("GOGC") == "" {
		// Every record is sealed again: collect garbage less often, as
		// add --from does (vault.BulkGCPercent); GOGC overrides it.
		defer debug.SetGCPercent(debug.SetGCPercent(vault.BulkGCPercent))
	}
	rot, err := v.Rotate(vault.RotateOptions{Owner: owner, Recovery: recovery, Check: check})
	res.Rotated = rot // set when the vault was rotated, even if something failed after
	return err
}

// rekeyResult is what rekey --json prints: the identity the vault opens
// with now, and its public key; the new recovery key, if it was replaced;
// what a rotation did, with the owner's new key for the coworkers.
type rekeyResult struct {
	Identity  string          `json:"identity"`
	PublicKey string          `json:"public_key"`
	Recovery  string          `json:"recovery,omitempty"`
	Rotated   *vault.Rotation `json:"rotated,omitempty"`
}

// buildVersion is the version set by the release build (-ldflags), or else
// the module version that 'go install ...@v1.2.3' records in the binary,
// or else the commit it was built from.
func buildVersion() string {
	if version != "dev" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if len(rev) >= 12 {
		v := "dev+" + rev[:12]
		if modified == "true" {
			v += "-modified"
		}
		return v
	}
	return version
}

func newPasswdCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use:   "passwd",
		Short: "Change the passphrase of the identity file",
		Long: `Change the passphrase of the passphrase-protected identity file. The
current passphrase is asked first, then the new one twice. The vault itself
is not touched: only the identity file is sealed again.`,
		Example: `  clientvault passwd
  clientvault passwd --identity ~/.config/clientvault/identity.age`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			path := a.IdentityPath()
			if err := passphraseProtected(path); err != nil {
				return err
			}
			if a.ReadSecret == nil || !a.StdinTTY {
				return withHint(fmt.Errorf("passwd asks for passphrases: %w", errNoTerminal), "run 'clientvault passwd' on a terminal")
			}
			old, err := a.ReadSecret("Current passphrase: ")
			if err != nil {
				return err
			}
			pass, err := a.newPassphrase()
			if err != nil {
				return err
			}
			if err := vault.ChangePassphrase(path, old, pass, a.WorkFactor); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("no identity file at %s: %w", path, vault.ErrNotFound)
				}
				return err
			}
			fmt.Fprintln(a.Err, "clientvault: passphrase changed")
			return nil
		},
	}
}

// passphraseProtected refuses, before any passphrase is asked, an identity
// file that has none (a plain key, an SSH key) or that is missing.
func passphraseProtected(path string) error {
	ids, err := vault.LoadIdentities(path, vault.Prompter{})
	if errors.Is(err, vault.ErrNotFound) {
		return withHint(fmt.Errorf("no identity file at %s: %w", path, vault.ErrNotFound), "name it with --identity FILE")
	}
	if err != nil {
		return withHint(usageError{err}, "--identity names the passphrase-protected identity to change")
	}
	for _, id := range ids {
		if _, ok := id.(*vault.EncryptedIdentity); ok {
			return nil
		}
	}
	return withHint(usagef("%s is a plain key, not protected by a passphrase: there is no passphrase to change", path),
		"protect it by binding the vault to a new passphrase-protected identity: 'clientvault rekey' on a terminal")
}

func newVersionCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Example: `  clientvault version
  clientvault --version`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			v := buildVersion()
			if a.jsonOut {
				return printJSON(a.Out, struct {
					Version string `json:"version"`
				}{v})
			}
			fmt.Fprintf(a.Out, "clientvault %s\n", v)
			return nil
		},
	}
}
