package consent

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/clientvault/clientvault/records"
)

// The legal bases on which a record may be disclosed without consent.
const (
	Subpoena     = "subpoena"
	CourtOrder   = "court_order"
	Regulator    = "regulator"     // a licensing board's or regulator's demand
	PublicHealth = "public_health" // a reportable condition
	Safeguarding = "safeguarding"  // a risk of harm to the client or others
	OtherBasis   = "other"         // anything else; the reference must say what
)

var bases = [...]string{Subpoena, CourtOrder, Regulator, PublicHealth, Safeguarding, OtherBasis}

// Bases returns the legal bases a disclosure may give, for a form's options.
func Bases() []string { return slices.Clone(bases[:]) }

// Disclosure records that a record, or part of it, was given to someone
// without the client's consent because a legal basis required it. It is
// kept as proof of what was disclosed, to whom, why and when.
type Disclosure struct {
	// ID is assigned by the vault when the disclosure is recorded.
	ID string `json:"id"`
	// Record is the ID of the record disclosed.
	Record string `json:"record"`
	// Recipient is who received the disclosure: a person or a body.
	Recipient string `json:"recipient"`
	// Basis is the legal basis, one of Bases.
	Basis string `json:"basis"`
	// Reference identifies the demand, such as a subpoena's number.
	Reference string `json:"reference"`
	// Scope is the parts of the record disclosed, as for a Consent.
	Scope []string `json:"scope"`
	// ClientNotified says whether the client was told of the disclosure.
	ClientNotified bool `json:"client_notified"`
	// NotifiedAt is when the client was told; set exactly when
	// ClientNotified is.
	NotifiedAt records.Date `json:"notified_at,omitzero"`
	// By is the staff member who made the disclosure.
	By string `json:"by"`
	// At is when the disclosure was made.
	At time.Time `json:"at"`
}

// ValidateBasis checks a disclosure's legal basis: one of Bases.
func ValidateBasis(s string) error {
	if !slices.Contains(bases[:], normWord(s)) {
		return errors.New("must be subpoena, court_order, regulator, public_health, safeguarding or other")
	}
	return nil
}

// ValidateReference checks the reference of a disclosure's legal basis,
// such as a subpoena's number: required.
func ValidateReference(s string) error { return requiredText(s, maxShort, false) }

// Validate checks every field of d against the current time now and
// returns all problems joined, each a *records.FieldError. A disclosure
// without a recipient, a basis from Bases or the basis's reference is
// refused. Validate normalises the text, the basis and the scope.
func (d *Disclosure) Validate(now time.Time) error {
	var errs fieldErrors
	d.Record = strings.TrimSpace(d.Record)
	errs.add("record", requiredText(d.Record, maxShort, false))
	d.Recipient = strings.TrimSpace(d.Recipient)
	errs.add("recipient", ValidatePerson(d.Recipient))
	d.Basis = normWord(d.Basis)
	errs.add("basis", ValidateBasis(d.Basis))
	d.Reference = strings.TrimSpace(d.Reference)
	errs.add("reference", ValidateReference(d.Reference))
	scope, err := NormalizeScope(d.Scope)
	errs.add("scope", err)
	if err == nil {
		d.Scope = scope
	}
	switch {
	case d.ClientNotified && d.NotifiedAt.IsZero():
		errs.add("notified_at", errors.New("is required when the client was notified"))
	case !d.ClientNotified && !d.NotifiedAt.IsZero():
		errs.add("notified_at", errors.New("is set but client_notified is not"))
	case d.NotifiedAt.After(records.DateOf(now.UTC())):
		errs.add("notified_at", errors.New("is in the future"))
	}
	d.By = strings.TrimSpace(d.By)
	errs.add("by", ValidatePerson(d.By))
	errs.add("at", checkMoment(d.At, now))
	return errs.join()
}
