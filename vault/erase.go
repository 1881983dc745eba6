package vault

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// RetentionError is returned when a record may not be destroyed: a legal
// hold stands, or its retention period has not ended and the erasure was not
// forced. It matches ErrRetention. It names the record by ID only.
type RetentionError struct {
	ID string
	// Held is true when a legal hold stands.
	Held bool
	// Until is the last day the record must be kept.
	Until records.Date
}

func (e *RetentionError) Error() string {
	if e.Held {
		return fmt.Sprintf("record %s: a legal hold stands: %v", e.ID, ErrRetention)
	}
	return fmt.Sprintf("record %s: must be kept until %s: %v", e.ID, e.Until, ErrRetention)
}

// Is makes errors.Is(err, ErrRetention) true.
func (e *RetentionError) Is(target error) bool { return target == ErrRetention }

// maxReason bounds an erasure's reason, in characters.
const maxReason = 2000

// EraseOptions describe an erasure request.
type EraseOptions struct {
	// Reason says why, such as the client's request and its date; required.
	// It may name the client, so it is stored sealed in the audit event.
	Reason string
	// Force erases before the retention period has ended. Nothing erases
	// a record while a legal hold stands.
	Force bool
}

// EraseReport says what Erase destroyed.
type EraseReport struct {
	ID          string       `json:"id"`
	RetainUntil records.Date `json:"retain_until"`
	// Forced is true when the record was erased before its retention ended.
	Forced     bool  `json:"forced"`
	SizeBefore int64 `json:"size_before"`
	SizeAfter  int64 `json:"size_after"`
}

// Erase destroys the record ref names on request, as Expire destroys a
// record past retention: in one transaction with an "erase" audit event
// carrying a reason code and the sealed reason, then compaction. It returns a
// *RetentionError while a legal hold stands, and before the retention period
// ends unless o.Force.
func (v *Vault) Erase(ref string, o EraseOptions) (*EraseReport, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	reason := strings.TrimSpace(o.Reason)
	switch {
	case reason == "":
		return nil, fmt.Errorf("reason: %w: is required", ErrInvalid)
	case utf8.RuneCountInString(reason) > maxReason || !utf8.ValidString(reason):
		return nil, fmt.Errorf("reason: %w: must be valid text of at most %d characters", ErrInvalid, maxReason)
	}
	today := records.DateOf(v.now())
	rep := &EraseReport{SizeBefore: fileSize(v.path)}
	err := v.update(func(tx *txn) error {
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		e := m.entry
		rep.ID, rep.RetainUntil = e.ID.String(), e.RetainUntil
		if e.Held {
			return &RetentionError{ID: e.ID.String(), Held: true, Until: e.RetainUntil}
		}
		detail := ReasonErasure
		if !consent.Due(e.RetainUntil, today, false) {
			if !o.Force {
				return &RetentionError{ID: e.ID.String(), Until: e.RetainUntil}
			}
			rep.Forced, detail = true, ReasonErasureForced
		}
		note, err := encrypt([]byte(reason), v.keys.recipient)
		if err != nil {
			return err
		}
		return v.destroy(tx, []ID{e.ID}, Event{Action: ActionErase, Detail: detail, Note: note})
	})
	if err != nil {
		return nil, err
	}
	if err := v.compact(); err != nil {
		return rep, fmt.Errorf("record %s erased, but %w; the next command that writes tries again", rep.ID, err)
	}
	rep.SizeAfter = fileSize(v.path)
	return rep, nil
}

// OpenNote decrypts the sealed note of an audit event, such as an erasure's
// reason; "" when it has none.
func (v *Vault) OpenNote(e Event) (string, error) {
	if v.keys == nil {
		return "", ErrLocked
	}
	if len(e.Note) == 0 {
		return "", nil
	}
	b, err := decrypt(e.Note, v.keys.identity)
	if err != nil {
		return "", fmt.Errorf("audit entry %d: note: %w", e.Seq, err)
	}
	return string(b), nil
}
