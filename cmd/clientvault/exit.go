package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/charmbracelet/huh"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
	"github.com/clientvault/clientvault/vault/store"
)

// Exit codes, documented in the README. Each failure a script may want to
// tell apart has its own.
const (
	exitOK              = 0
	exitError           = 1   // anything not listed below
	exitUsage           = 2   // bad flags, arguments or input data
	exitNotFound        = 3   // no such record, identity file or input file
	exitNoVault         = 4   // no vault at the path: run init
	exitWrongPassphrase = 5   // the passphrase does not open the identity
	exitWrongKey        = 6   // the identity does not open the vault or record
	exitNewerFormat     = 7   // written by a newer clientvault
	exitCorrupt         = 8   // not a vault, or damaged
	exitTampered        = 9   // an entry failed authentication; verify found problems
	exitBusy            = 10  // another process holds the vault
	exitRefused         = 11  // refused by a rule (consent, retention, hold, no overwrite)
	exitAmbiguous       = 12  // a name or ID prefix matches several records
	exitNoConsent       = 13  // sharing needs an active consent: record one with consent add
	exitPermission      = 14  // a file cannot be read or written: permissions, a read-only file or disk
	exitRolledBack      = 15  // the vault is older than one this account already opened
	exitOwnerUnknown    = 16  // a coworker has not pinned the vault owner's key: run trust
	exitEngine          = 17  // the etcd cluster did not answer in time, or is out of space: nothing was written
	exitCanceled        = 130 // the person cancelled a form or prompt
)

// errCanceled is returned when the person leaves a form or prompt.
var errCanceled = errors.New("cancelled; nothing was changed")

// usageError marks a mistake in how the command was called.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// hintError carries a line that says what to do next.
type hintError struct {
	error
	hint string
}

func (e hintError) Unwrap() error { return e.error }

func withHint(err error, hint string) error { return hintError{err, hint} }

// exitCode maps an error to its exit code: the one place that does.
func exitCode(err error) int {
	var amb *vault.AmbiguousError
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errCanceled), errors.Is(err, huh.ErrUserAborted):
		return exitCanceled
	case errors.As(err, &usage), errors.Is(err, vault.ErrInvalid), errors.Is(err, errNoTerminal), errors.Is(err, records.ErrJSON):
		return exitUsage
	case errors.As(err, &amb):
		return exitAmbiguous
	case errors.Is(err, vault.ErrNoConsent):
		return exitNoConsent
	case errors.Is(err, vault.ErrBusy), errors.Is(err, store.ErrSnapshotGone):
		return exitBusy
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrNoSpace):
		return exitEngine
	case errors.Is(err, store.ErrAccessDenied):
		return exitPermission
	case errors.Is(err, vault.ErrRolledBack):
		return exitRolledBack
	case errors.Is(err, vault.ErrOwnerUnknown):
		return exitOwnerUnknown
	case errors.Is(err, vault.ErrRetention):
		// erase or expire refused: a legal hold stands, or the retention
		// period has not ended and the erasure was not forced.
		return exitRefused
	case errors.Is(err, vault.ErrNoVault):
		return exitNoVault
	case errors.Is(err, vault.ErrWrongPassphrase):
		return exitWrongPassphrase
	case errors.Is(err, vault.ErrWrongKey):
		return exitWrongKey
	case errors.Is(err, vault.ErrNewerFormat):
		return exitNewerFormat
	case errors.Is(err, vault.ErrCorrupt):
		return exitCorrupt
	case errors.Is(err, vault.ErrTampered):
		return exitTampered
	case errors.Is(err, vault.ErrNotFound):
		return exitNotFound
	case errors.Is(err, vault.ErrRefused), errors.Is(err, vault.ErrExists):
		return exitRefused
	case permissionDenied(err):
		return exitPermission
	}
	return exitError
}

// defaultHint says what to do next for the errors a person meets most.
func defaultHint(err error) string {
	switch {
	case errors.Is(err, vault.ErrNoVault):
		return "run 'clientvault init' to create a vault, or pass --vault PATH"
	case errors.Is(err, vault.ErrWrongPassphrase):
		return "the passphrase is the one chosen at 'clientvault init'; if it is lost, use the recovery key: --identity FILE"
	case errors.Is(err, vault.ErrNotShared):
		return "ask the vault's owner to share it with you (the client's consent is needed)"
	case errors.Is(err, vault.ErrWrongKey):
		return "pass the identity that owns this vault with --identity FILE (or CLIENTVAULT_IDENTITY)"
	case errors.Is(err, vault.ErrNewerFormat):
		return "install a newer clientvault to open this vault"
	case errors.Is(err, vault.ErrCorrupt):
		return "check --vault names the right file; restore the vault from a backup if it is damaged"
	case errors.Is(err, vault.ErrAnchorTampered):
		return "the file named above remembers the newest vault this account has seen, and it was edited; if 'clientvault verify' finds the vault as you expect, remove that file and run the command again"
	case errors.Is(err, vault.ErrTampered):
		return "do not trust this vault: run 'clientvault verify' and restore it from a backup"
	case errors.Is(err, vault.ErrBusy):
		return "wait for the other clientvault command to finish (on etcd: another computer's), then run this one again"
	case errors.Is(err, store.ErrSnapshotGone):
		return "another computer erased, expired or restored records while this command read the vault; nothing was changed: run it again"
	case errors.Is(err, vault.ErrOwnerUnknown):
		return "ask the vault's owner for the line 'clientvault staff add' printed for you ('clientvault trust cvowner1…') and run it once"
	case errors.Is(err, vault.ErrRolledBack):
		return "an older copy was put in place of the vault: put the newest one back, and find out who can write the vault file; to go back to a backup on purpose, 'clientvault restore FILE' is the only way"
	case errors.Is(err, vault.ErrInvalid):
		return "correct the fields named above and run the command again"
	case errors.Is(err, records.ErrDateForm), errors.Is(err, records.ErrNotRealDate):
		return "write dates as YYYY-MM-DD, e.g. 1990-04-02"
	case errors.Is(err, records.ErrJSON):
		return "give one JSON object, or one object per line, in the shape 'clientvault view --json' prints (README: A record as JSON)"
	case errors.Is(err, errNoTerminal):
		return "run it on a terminal, or for scripts pass a plain age key file with --identity FILE"
	case errors.Is(err, vault.ErrNotFound):
		return notFoundHint(err)
	case errors.Is(err, vault.ErrExists) && strings.HasPrefix(err.Error(), "staff "):
		return "staff names are unique, whatever their case: choose another, or 'clientvault staff remove NAME' first"
	case errors.Is(err, vault.ErrExists):
		return "clientvault never overwrites: choose another name or file"
	case errors.Is(err, store.ErrUnavailable):
		return "check that the etcd cluster is running and reachable from here (the URL's hosts and ports, --ca/--cert/--key), then run the command again: nothing was written"
	case errors.Is(err, store.ErrNoSpace):
		return "etcd is out of space (its NOSPACE alarm): compact and defragment it, or raise --quota-backend-bytes, then 'etcdctl alarm disarm'; nothing was written"
	case errors.Is(err, store.ErrAccessAdmin):
		return "a coworker's etcd user is made by etcd's root: connect as root (--cert/--key of a certificate whose CN is root, or of a user with the root role) and run the command again; nothing was written"
	case errors.Is(err, store.ErrAccessDenied):
		return "etcd refused this certificate those keys: ask the vault's owner to share the record with you, or check --cert"
	case permissionDenied(err):
		return "check the file's permissions and that its disk is not read-only (ls -l), or pass another path"
	case diskFull(err):
		return "free space on the disk that holds the vault (expire, erase and backup need room for a copy of it), then run the command again"
	}
	return ""
}

// printError writes the one-line error and its hint to w.
func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "clientvault: %s\n", oneLine(err))
	var amb *vault.AmbiguousError
	if errors.As(err, &amb) {
		// Names and dates of birth only for a person at the terminal
		// (nameCandidates); an error may end up in a script's log.
		var named namedCandidates
		errors.As(err, &named)
		for _, c := range amb.Candidates {
			line := "  " + c.ID
			if name := named.names[c.ID]; name != "" {
				line += "  " + name
				if c.DOB != "" {
					line += "  born " + c.DOB
				}
			}
			fmt.Fprintln(w, line)
		}
		fmt.Fprintln(w, "hint: name the record by its ID")
		return
	}
	var h hintError
	hint := defaultHint(err)
	if errors.As(err, &h) {
		hint = h.hint
	}
	if hint != "" {
		fmt.Fprintf(w, "hint: %s\n", hint)
	}
}

// notFoundHint says where to look for what was not found. The messages are
// the vault's own ("staff NAME: not found", "consent ID: not found"), which
// name the kind of object first.
func notFoundHint(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "staff "):
		return "see 'clientvault staff list' for the coworkers' names; add one with 'clientvault staff add NAME KEY'"
	case strings.HasPrefix(msg, "consent "):
		return "see 'clientvault consent list RECORD' for the consents' IDs"
	case strings.Contains(msg, "no legal hold"):
		return "see 'clientvault hold list' for the holds that stand"
	case strings.HasPrefix(msg, "input file "), strings.HasPrefix(msg, "backup "), strings.HasPrefix(msg, "identity file "), strings.HasPrefix(msg, "no identity file "),
		strings.HasPrefix(msg, "--ca "), strings.HasPrefix(msg, "--cert "), strings.HasPrefix(msg, "--key "):
		return "check the path and run the command again"
	}
	return "see 'clientvault list' for the records' IDs and names"
}

// permissionDenied reports whether err is a file that may not be read or
// written: its permissions, or a read-only file system.
func permissionDenied(err error) bool {
	return errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EROFS)
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// diskFull reports whether err is a write refused for lack of room: a full
// disk, a quota, or a file size limit.
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG)
}
