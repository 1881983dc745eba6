package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// version is set at release time with -ldflags "-X main.version=...".
var version = "dev"

// App is what every command needs from the world: streams, the environment,
// the clock and the terminal. Tests build one with their own.
type App struct {
	In       io.Reader
	Out, Err io.Writer
	// StdinTTY and StdoutTTY say whether a person is at the keyboard; forms
	// and prompts appear only when both are true.
	StdinTTY, StdoutTTY bool
	// ErrTTY says whether stderr is a terminal (for progress bars).
	ErrTTY bool
	Getenv func(string) string
	Now    func() time.Time
	// ReadSecret reads a passphrase without echo; nil when there is no
	// terminal to ask on.
	ReadSecret func(prompt string) (string, error)
	// WorkFactor is the scrypt work factor (log2) for new passphrase-protected
	// identities; 0 is age's default. Tests lower it.
	WorkFactor int
	// Accessible switches forms to huh's accessible mode.
	Accessible bool

	// ids caches the owner's identities once loaded (and, for a
	// passphrase-protected one, unlocked), so that a command asks for the
	// passphrase once even when it opens the vault after a form.
	ids []age.Identity
	// opened are the vaults this command opened, for the warnings that
	// follow a change (vault.AnchorErr).
	opened []*vault.Vault

	// cfg is the config file, once read (engine.go).
	cfg *vaultConfig

	// Global flag values.
	etcdCA, etcdCert, etcdKey string
	vaultPath                 string
	identityPath              string
	jsonOut                   bool
}

// System returns the App of the real process.
func System() *App {
	a := &App{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY:    term.IsTerminal(int(os.Stderr.Fd())),
		Getenv:    os.Getenv,
		Now:       time.Now,
	}
	a.ReadSecret = readSecretFromTerminal(a.Err)
	return a
}

// readSecretFromTerminal reads from the terminal even when stdin is a pipe
// (as age does), so that `clientvault add --from - < file` can still ask for
// the passphrase. It returns nil when there is no terminal at all.
func readSecretFromTerminal(prompt io.Writer) func(string) (string, error) {
	return func(label string) (string, error) {
		var fd int
		if term.IsTerminal(int(os.Stdin.Fd())) {
			fd = int(os.Stdin.Fd())
		} else {
			tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
			if err != nil {
				return "", errNoTerminal
			}
			defer tty.Close()
			fd = int(tty.Fd())
		}
		return readSecret(fd, prompt, label)
	}
}

var errNoTerminal = errors.New("a passphrase is needed and there is no terminal to ask on")

// Run runs clientvault with args and returns the exit code.
func Run(args []string, a *App) int {
	a.opened = nil
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(a.In)
	root.SetOut(a.Out)
	root.SetErr(a.Err)
	// cobra shows the help of a command group (staff, consent, retention)
	// for an unknown subcommand and exits 0: it is an unknown command.
	if c, rest, err := root.Find(args); err == nil && c != root && !c.Runnable() && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		msg := fmt.Sprintf("unknown command %q for %q", rest[0], c.CommandPath())
		if c.SuggestionsMinimumDistance <= 0 {
			c.SuggestionsMinimumDistance = 2 // cobra's own default
		}
		if s := c.SuggestionsFor(rest[0]); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + s[0] + "\n"
		}
		err := explain(c, errors.New(msg))
		printError(a.Err, err)
		return exitCode(err)
	}
	c, err := root.ExecuteC()
	for _, v := range a.opened {
		if aerr := v.AnchorErr(); aerr != nil {
			// The change stands; only the record of it outside the vault
			// lags, which the next command mends.
			fmt.Fprintf(a.Err, "clientvault: warning: the change was made, but the rollback anchor could not be updated: %v\n", aerr)
			break
		}
	}
	if err != nil {
		err = a.nameCandidates(explain(c, err))
		printError(a.Err, err)
	}
	return exitCode(err)
}

// explain gives the errors that cobra itself returns, and usage errors that
// carry no hint of their own, the contract's shape: one line, a hint, exit 2.
// A record that was not found by a short hex reference is told that an ID
// prefix needs 4 or more characters.
func explain(c *cobra.Command, err error) error {
	var h hintError
	if errors.As(err, &h) {
		return err
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "unknown command ") {
		first, rest, _ := strings.Cut(msg, "\n")
		hint := fmt.Sprintf("run '%s --help' for the commands", c.CommandPath())
		if _, sugg, ok := strings.Cut(rest, "Did you mean this?\n"); ok {
			if s := strings.Fields(sugg); len(s) > 0 {
				hint = fmt.Sprintf("did you mean '%s %s'? ", c.CommandPath(), s[0]) + hint
			}
		}
		return withHint(usageError{errors.New(first)}, hint)
	}
	if errors.Is(err, vault.ErrNotFound) && takesRecord(c) {
		if args := c.Flags().Args(); len(args) > 0 && shortHex(args[0]) {
			return withHint(err, "an ID prefix needs 4 or more characters: use 4 or more characters of the ID, or the client's name ('clientvault list' shows both)")
		}
	}
	var usage usageError
	if errors.As(err, &usage) && defaultHint(err) == "" {
		return withHint(err, fmt.Sprintf("see '%s --help'", c.CommandPath()))
	}
	return err
}

// namedCandidates is an ambiguous reference whose candidates are named, for
// the person at the terminal to choose from.
type namedCandidates struct {
	error
	names map[string]string // by ID
}

func (e namedCandidates) Unwrap() error { return e.error }

// nameCandidates gives the candidates of an ambiguous ID prefix their names
// and dates of birth when a person at the terminal may see them (a name's
// candidates have their dates of birth already). Reading them is a list of
// the vault, audited as one. Scripts get the IDs alone.
func (a *App) nameCandidates(err error) error {
	var amb *vault.AmbiguousError
	if !errors.As(err, &amb) || amb.Ref != "id prefix" || !a.interactive() {
		return err
	}
	list, lerr := withVault(a, openOpts{write: true}, (*vault.Vault).List)
	if lerr != nil {
		return err
	}
	byID := map[string]vault.Summary{}
	for _, s := range list {
		byID[s.ID] = s
	}
	names := map[string]string{}
	for i, c := range amb.Candidates {
		if s, ok := byID[c.ID]; ok {
			names[c.ID] = s.Name
			amb.Candidates[i].DOB = s.DOB.String()
		}
	}
	return namedCandidates{err, names}
}

// takesRecord reports whether c's first argument is a RECORD.
func takesRecord(c *cobra.Command) bool {
	return strings.Contains(c.Use, " RECORD") || strings.Contains(c.Use, " [RECORD]")
}

// shortHex reports whether s is 1 to 3 hex digits: too short to be an ID
// prefix, and what a person who meant one typed.
func shortHex(s string) bool {
	if len(s) == 0 || len(s) > 3 {
		return false
	}
	for _, r := range strings.ToLower(s) {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

func newRootCmd(a *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "clientvault",
		Short: "Keep client records encrypted, shared only with consent",
		Long: `clientvault keeps the client records of estheticians, beauty operators and
laser technicians in one encrypted vault file: each record sealed with age,
shared with a coworker only after the client consents, kept as long as the
rules say, and every access written to a tamper-evident audit log.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(),
	}
	root.SetVersionTemplate("clientvault {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.vaultPath, "vault", "", "vault file, or etcd://HOST:2379/PREFIX for a vault on etcd (env CLIENTVAULT_VAULT; default "+defaultVaultPath(a)+")")
	pf.StringVar(&a.etcdCA, "ca", "", "etcd vault: the cluster's CA certificate, PEM (env CLIENTVAULT_CA)")
	pf.StringVar(&a.etcdCert, "cert", "", "etcd vault: this person's client certificate, PEM (env CLIENTVAULT_CERT)")
	pf.StringVar(&a.etcdKey, "key", "", "etcd vault: the client certificate's private key, PEM (env CLIENTVAULT_KEY)")
	pf.StringVar(&a.identityPath, "identity", "", "identity file: passphrase-protected, age key, SSH key or plugin (env CLIENTVAULT_IDENTITY)")
	pf.BoolVar(&a.jsonOut, "json", false, "print JSON")
	pf.BoolVar(&a.Accessible, "accessible", a.Getenv("ACCESSIBLE") != "", "accessible forms for screen readers (env ACCESSIBLE)")
	root.AddCommand(
		newInitCmd(a), newKeygenCmd(a), newAddCmd(a), newEditCmd(a), newNoteCmd(a), newViewCmd(a), newImportCmd(a),
		newListCmd(a), newFindCmd(a), newVerifyCmd(a), newAuditCmd(a), newRekeyCmd(a), newPasswdCmd(a),
		newVersionCmd(a), newUnlockCmd(a), newLockCmd(a), newAgentCmd(a),
		newRetentionCmd(a), newExpireCmd(a), newHoldCmd(a), newReleaseCmd(a), newEraseCmd(a),
		newBackupCmd(a), newRestoreCmd(a), newMigrateCmd(a),
		newStaffCmd(a), newTrustCmd(a), newConsentCmd(a), newShareCmd(a), newUnshareCmd(a), newDiscloseCmd(a), newExportCmd(a),
	)
	wireCompletion(a, root)
	return root
}

// interactive reports whether a person can answer forms.
func (a *App) interactive() bool { return a.StdinTTY && a.StdoutTTY }

// VaultPath is where the vault is: --vault, CLIENTVAULT_VAULT, or the default.
func (a *App) VaultPath() string {
	if a.vaultPath != "" {
		return a.vaultPath
	}
	if p := a.Getenv("CLIENTVAULT_VAULT"); p != "" {
		return p
	}
	return a.usualVault()
}

// IdentityPath is the owner's identity: --identity, CLIENTVAULT_IDENTITY, or
// the default passphrase-protected one.
func (a *App) IdentityPath() string {
	if a.identityPath != "" {
		return a.identityPath
	}
	if p := a.Getenv("CLIENTVAULT_IDENTITY"); p != "" {
		return p
	}
	return defaultIdentityPath(a)
}

// identityGiven reports whether the identity was named by flag or env.
func (a *App) identityGiven() bool {
	return a.identityPath != "" || a.Getenv("CLIENTVAULT_IDENTITY") != ""
}

func (a *App) vaultGiven() bool { return a.vaultPath != "" || a.Getenv("CLIENTVAULT_VAULT") != "" }

// usualVault is where the vault is when neither --vault nor
// CLIENTVAULT_VAULT names one: the config file's, or the default path.
func (a *App) usualVault() string {
	if c, err := a.config(); err == nil && c.Vault != "" {
		return c.Vault
	}
	return defaultVaultPath(a)
}

// defaultVaultPath is under the user's data directory.
func defaultVaultPath(a *App) string { return filepath.Join(dataDir(a), "clientvault", "vault.db") }

// defaultIdentityPath is under the user's config directory.
func defaultIdentityPath(a *App) string {
	return filepath.Join(configDir(a), "clientvault", "identity.age")
}

func dataDir(a *App) string {
	home := a.Getenv("HOME")
	switch runtime.GOOS {
	case "windows":
		if d := a.Getenv("LocalAppData"); d != "" {
			return d
		}
	case "darwin":
		return filepath.Join(home, "Library", "Application Support")
	default:
		if d := a.Getenv("XDG_DATA_HOME"); d != "" {
			return d
		}
	}
	return filepath.Join(home, ".local", "share")
}

func configDir(a *App) string {
	switch runtime.GOOS {
	case "windows":
		if d := a.Getenv("AppData"); d != "" {
			return d
		}
	case "darwin":
		return filepath.Join(a.Getenv("HOME"), "Library", "Application Support")
	default:
		if d := a.Getenv("XDG_CONFIG_HOME"); d != "" {
			return d
		}
	}
	return filepath.Join(a.Getenv("HOME"), ".config")
}

// prompter is what the vault uses to ask for passphrases: on a terminal, up
// to three tries; otherwise none, and the error says what to pass instead.
func (a *App) prompter() vault.Prompter {
	p := vault.Prompter{Attempts: 1}
	if a.ReadSecret == nil {
		return p
	}
	if a.StdinTTY {
		p.Attempts = 3
	}
	p.Passphrase = func(label string, attempt int) (string, error) {
		if attempt > 1 {
			fmt.Fprintln(a.Err, "clientvault: wrong passphrase, try again")
		}
		pass, err := a.ReadSecret(fmt.Sprintf("Passphrase for %s: ", label))
		if errors.Is(err, errNoTerminal) {
			return "", withHint(err, "for scripts, pass a plain age key file with --identity FILE")
		}
		return pass, err
	}
	return p
}

// identities loads the identity file the command should use.
func (a *App) identities() ([]age.Identity, error) {
	if a.ids != nil {
		return a.ids, nil
	}
	path := a.IdentityPath()
	fi, err := os.Stat(path)
	if err == nil && fi.IsDir() {
		return nil, withHint(usagef("identity %s is a folder, not a key file", path),
			"pass the identity file itself with --identity FILE (or CLIENTVAULT_IDENTITY)")
	}
	if err == nil && fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows" {
		// As ssh does: a key others can read is a key others may have.
		fmt.Fprintf(a.Err, "clientvault: warning: identity %s can be read by other users (mode %04o); run: chmod 600 %s\n",
			path, fi.Mode().Perm(), path)
	}
	ids, err := vault.LoadIdentities(path, a.prompter())
	if errors.Is(err, vault.ErrNotFound) {
		return nil, withHint(fmt.Errorf("no identity file at %s: %w", path, vault.ErrNotFound),
			"pass the vault's identity with --identity FILE (or CLIENTVAULT_IDENTITY)")
	}
	if err != nil && !permissionDenied(err) {
		// Loading only reads and parses the file (a passphrase is asked
		// when a key is first used): what fails here is not an identity.
		return nil, withHint(usageError{err},
			"--identity takes a passphrase-protected identity, a plain age key file ('clientvault keygen -o FILE'), an SSH private key or an age plugin identity")
	}
	if err == nil {
		a.ids = ids
	}
	return ids, err
}

// vaultOptions are the options every command opens the vault with: the
// clock, and the rollback anchors kept under the user's config directory.
func (a *App) vaultOptions() vault.Options {
	o := vault.Options{Now: a.Now}
	// With no home directory (HOME unset) there is no config directory to
	// keep them in, and a relative one would scatter them where the
	// command runs.
	if cfg := configDir(a); filepath.IsAbs(cfg) {
		o.AnchorDir, o.TrustDir = filepath.Join(cfg, "clientvault", "anchors"), trustDir(a)
	}
	return o
}

// trustDir holds the owner keys a coworker pinned ('clientvault trust').
func trustDir(a *App) string { return filepath.Join(configDir(a), "clientvault", "owners") }

// openOpts say what a command needs of the vault.
type openOpts struct {
	write    bool // take the write lock (every command that audits)
	autoInit bool // create the default vault on first use, as init would
	staff    bool // a coworker's key may open it, for what is shared with them
	// restoring opens a vault older than its rollback anchor, so that
	// restore can replace it.
	restoring bool
}

// open opens and unlocks the vault.
func (a *App) open(o openOpts) (*vault.Vault, error) {
	path := a.VaultPath()
	opts := a.vaultOptions()
	opts.ReadOnly, opts.Restoring = !o.write, o.restoring
	v, err := a.openVault(path, opts)
	if errors.Is(err, vault.ErrNoVault) && o.autoInit && !isRemote(path) {
		if err := a.firstUse(); err != nil {
			return nil, err
		}
		v, err = a.openVault(path, opts)
	}
	if err != nil {
		return nil, err
	}
	ids, err := a.identities()
	if err == nil && o.write && a.isRecoveryKey(v, ids) {
		// The audit log names who acted: the recovery key, not the owner.
		v.Close()
		if v, err = a.openVault(path, vault.Options{Now: a.Now, Actor: "recovery"}); err != nil {
			return nil, err
		}
	}
	if err == nil {
		err = a.unlockVault(v, ids)
		if errors.Is(err, vault.ErrWrongKey) && o.staff {
			// A coworker's key: their own errors (no owner key pinned, a
			// forged staff entry) say more than "does not open the vault".
			if serr := v.UnlockAsStaff(ids...); serr == nil || !errors.Is(serr, vault.ErrWrongKey) {
				err = serr
			}
		}
	}
	if err != nil {
		v.Close()
		return nil, err
	}
	a.opened = append(a.opened, v)
	return v, nil
}

// isRecoveryKey reports whether ids are the vault's recovery key: a plain
// key whose public key the vault's header lists as the recovery key. A
// passphrase-protected identity is never it (that would mean decrypting it
// to tell).
func (a *App) isRecoveryKey(v *vault.Vault, ids []age.Identity) bool {
	for _, id := range ids {
		if _, ok := id.(*vault.EncryptedIdentity); ok {
			return false
		}
	}
	rs, err := vault.Recipients(ids)
	if err != nil {
		return false
	}
	_, recovery := v.OwnerKeys()
	for _, r := range rs {
		if slices.Contains(recovery, vault.RecipientString(r)) {
			return true
		}
	}
	return false
}

// firstUse creates the default vault the first time a person adds a record,
// as init would. A script gets an error that says to run init.
func (a *App) firstUse() error {
	if !a.interactive() || a.ReadSecret == nil {
		return withHint(fmt.Errorf("vault %s: %w", a.VaultPath(), vault.ErrNoVault),
			"run 'clientvault init' first (scripts: 'clientvault init --identity KEY --recovery-out FILE')")
	}
	// A path typed with --vault (or CLIENTVAULT_VAULT) while a vault exists
	// where the person's vault usually is (the config file's, or the
	// default path) is likely a typo: ask before making a second one.
	if usual := a.usualVault(); a.vaultGiven() && filepath.Clean(a.VaultPath()) != filepath.Clean(usual) {
		// A cluster that does not answer may hold it: ask as well.
		if exists, err := a.vaultExists(usual); exists || err != nil {
			if err := a.confirmWith(fmt.Sprintf("No vault at %s. Create a second vault there?", a.VaultPath()),
				fmt.Sprintf("Your vault is at %s; a mistyped --vault would start an empty one.", usual)); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(a.Err, "clientvault: no vault yet; creating one at %s\n", a.VaultPath())
	return runInit(a, &initOptions{})
}

// withVault opens the vault as o says, calls do with it and closes it, so
// that a command holds the vault's lock only while it works on it, not
// while it prints.
func withVault[T any](a *App, o openOpts, do func(*vault.Vault) (T, error)) (T, error) {
	v, err := a.open(o)
	if err != nil {
		var zero T
		return zero, err
	}
	defer v.Close()
	return do(v)
}

// countIs says n of a noun with its verb: "1 record is", "2 records are".
func countIs(n int, noun string) string {
	if n == 1 {
		return count(n, noun) + " is"
	}
	return count(n, noun) + " are"
}

// count says n of a noun in English: "1 record", "2 records".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") && !strings.ContainsAny(noun[max(len(noun)-2, 0):len(noun)-1], "aeiou") {
		return fmt.Sprintf("%d %sies", n, noun[:len(noun)-1])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
