package vault

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Callers test them with errors.Is; the CLI maps each to its
// own exit code. None of the errors of this package carries client data: they
// name records by ID.
var (
	// ErrNoVault is returned by Open when there is no vault at the path.
	ErrNoVault = errors.New("no vault")
	// ErrExists is returned by Create when a vault or identity is already there.
	ErrExists = errors.New("already exists")
	// ErrBusy is returned when another process holds the vault for longer than
	// the lock timeout.
	ErrBusy = errors.New("vault is busy: another clientvault command is using it")
	// ErrCorrupt is returned for a file that is not a clientvault vault or
	// whose structure is damaged.
	ErrCorrupt = errors.New("vault file is damaged or not a clientvault vault")
	// ErrNewerFormat is returned for a vault written by a newer clientvault.
	ErrNewerFormat = errors.New("vault was written by a newer clientvault")
	// ErrWrongPassphrase is returned when the passphrase does not open the
	// identity file.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrWrongKey is returned when the identity given does not open the vault
	// (or the record: "not shared with you").
	ErrWrongKey = errors.New("this identity does not open the vault")
	// ErrLocked is returned by a method that needs the vault's keys before
	// Unlock succeeded.
	ErrLocked = errors.New("vault is locked")
	// ErrTampered is returned when a stored entry fails authentication: a byte
	// was changed, an entry was moved, or a ciphertext was forged.
	ErrTampered = errors.New("tampered with")
	// ErrNotFound is returned when no record matches an ID or name.
	ErrNotFound = errors.New("not found")
	// ErrInvalid is returned for input that fails validation; it wraps the
	// records.FieldError values.
	ErrInvalid = errors.New("invalid input")
	// ErrRefused is returned when a change would leave the vault unopenable
	// or otherwise break a promise of the product.
	ErrRefused = errors.New("refused")
	// ErrRetention is returned when a record may not be destroyed yet: its
	// retention period has not ended (erase without force) or a legal hold
	// stands. *RetentionError says which, and until when.
	ErrRetention = errors.New("retention forbids destroying the record")
	// ErrNoConsent is returned by Share when no active consent of the client
	// covers the coworker: sharing needs one recorded first (consent add).
	ErrNoConsent = errors.New("no active consent")
	// ErrNotShared is returned to a coworker (UnlockAsStaff) who asks for a
	// record that is not shared with them; errors.Is(err, ErrWrongKey) is
	// true for it too.
	ErrNotShared error = &kindOf{"not shared with you", ErrWrongKey}
	// ErrRolledBack is returned by Unlock when the vault's state is older
	// than one this user already saw (the rollback anchor, anchor.go): an
	// older copy was put in place of the vault. Restore is the only way to
	// go back on purpose.
	ErrRolledBack = errors.New("vault was rolled back to an older copy")
	// ErrOwnerUnknown is returned by UnlockAsStaff when no owner key is
	// pinned for the vault (Options.OwnerKey, TrustOwner): a coworker
	// cannot tell the owner's shares from forged ones without it.
	ErrOwnerUnknown = errors.New("the vault owner's key is not trusted on this computer yet")

	// ErrAnchorTampered is returned by Unlock when the rollback anchor kept
	// outside the vault (anchor.go) fails its MAC. It wraps ErrTampered.
	ErrAnchorTampered error = &kindOf{"the rollback anchor was edited", ErrTampered}

	// errCoworkerAction is a coworker's audit event of an action that only
	// the owner can take (anything but a view). It wraps ErrTampered.
	errCoworkerAction error = &kindOf{"claims an action only the owner can take", ErrTampered}
)

// AmbiguousError is returned when a name or ID prefix matches more than one
// record. Its message holds only the count; the candidates are for the caller
// to show to a person who may see them.
type AmbiguousError struct {
	Ref        string // "name" or "id prefix", never the name itself
	Candidates []Candidate
}

// Candidate is one of the records an ambiguous reference matches.
type Candidate struct {
	ID  string
	DOB string // shown to tell clients apart; client data, never put in an error string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%s matches %d records", e.Ref, len(e.Candidates))
}

// recordErr names a record in an error: "record 7f3a9c2e01b4d5e6: ...".
func recordErr(id ID, err error) error { return fmt.Errorf("record %s: %w", id, err) }

// indexed prefixes each error with a 1-based position in the input.
func indexed(n int, err error) error {
	return fmt.Errorf("record %d of the input: %w", n, err)
}

// joinLines is used for errors that hold several validation problems: one
// line, problems separated by "; ".
func joinLines(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// kindOf is a sentinel error that is also a kind of a more general one.
type kindOf struct {
	msg  string
	kind error
}

func (e *kindOf) Error() string { return e.msg }
func (e *kindOf) Unwrap() error { return e.kind }
