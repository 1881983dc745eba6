package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
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

	// Global flag values.
	vaultPath    string
	identityPath string
	jsonOut      bool
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
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(a.In)
	root.SetOut(a.Out)
	root.SetErr(a.Err)
	err := root.Execute()
	if err != nil {
		printError(a.Err, err)
	}
	return exitCode(err)
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
		Version:       version,
	}
	root.SetVersionTemplate("clientvault {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.vaultPath, "vault", "", "vault file (env CLIENTVAULT_VAULT; default "+displayPath(defaultVaultPath(a))+")")
	pf.StringVar(&a.identityPath, "identity", "", "identity file: passphrase-protected, age key, SSH key or plugin (env CLIENTVAULT_IDENTITY)")
	pf.BoolVar(&a.jsonOut, "json", false, "print JSON")
	pf.BoolVar(&a.Accessible, "accessible", a.Getenv("ACCESSIBLE") != "", "accessible forms for screen readers (env ACCESSIBLE)")
	root.AddCommand(
		newInitCmd(a), newKeygenCmd(a), newAddCmd(a), newNoteCmd(a), newViewCmd(a), newImportCmd(a),
		newListCmd(a), newVerifyCmd(a), newAuditCmd(a), newRekeyCmd(a), newPasswdCmd(a),
		newVersionCmd(a), newUnlockCmd(a), newLockCmd(a), newAgentCmd(a),
		newRetentionCmd(a), newExpireCmd(a), newHoldCmd(a), newReleaseCmd(a), newEraseCmd(a),
		newBackupCmd(a), newRestoreCmd(a),
		newStaffCmd(a), newConsentCmd(a), newShareCmd(a), newUnshareCmd(a), newDiscloseCmd(a), newExportCmd(a),
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
	return defaultVaultPath(a)
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

func displayPath(p string) string { return p }

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
	ids, err := vault.LoadIdentities(path, a.prompter())
	if errors.Is(err, vault.ErrNotFound) {
		return nil, withHint(fmt.Errorf("no identity file at %s: %w", path, vault.ErrNotFound),
			"pass the vault's identity with --identity FILE (or CLIENTVAULT_IDENTITY)")
	}
	if err == nil {
		a.ids = ids
	}
	return ids, err
}

// vaultOptions are the options every command opens the vault with: the
// clock, and the rollback anchors kept under the user's config directory.
func (a *App) vaultOptions() vault.Options {
	return vault.Options{Now: a.Now, AnchorDir: filepath.Join(configDir(a), "clientvault", "anchors")}
}

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
	v, err := vault.Open(path, opts)
	if errors.Is(err, vault.ErrNoVault) && o.autoInit {
		if err := a.firstUse(); err != nil {
			return nil, err
		}
		v, err = vault.Open(path, opts)
	}
	if err != nil {
		return nil, err
	}
	ids, err := a.identities()
	if err == nil {
		err = a.unlockVault(v, ids)
		if errors.Is(err, vault.ErrWrongKey) && o.staff && v.UnlockAsStaff(ids...) == nil {
			err = nil
		}
	}
	if err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// firstUse creates the default vault the first time a person adds a record,
// as init would. A script gets an error that says to run init.
func (a *App) firstUse() error {
	if !a.interactive() || a.ReadSecret == nil {
		return withHint(fmt.Errorf("vault %s: %w", a.VaultPath(), vault.ErrNoVault),
			"run 'clientvault init' first (scripts: 'clientvault init --identity KEY --recovery-out FILE')")
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

// count says n of a noun in English: "1 record", "2 records".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
