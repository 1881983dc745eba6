// Package consent holds the rules that decide who may read a client's
// record and for how long it is kept: a client's consent to share with a
// named coworker, a disclosure without consent on a legal basis, a legal
// hold, and the retention policy.
//
// It is pure Go: it does no I/O, never prints and never reads the clock;
// the current time is always passed in. Its errors name fields, never their
// values, since every value may be client data.
package consent

import (
	"errors"
	"strings"
	"time"

	"github.com/clientvault/clientvault/records"
)

// ErrWithdrawn is returned by Consent.Withdraw for a consent that has
// already been withdrawn. The first withdrawal stands, so that the record of
// when and by whom is never overwritten.
var ErrWithdrawn = errors.New("consent is already withdrawn")

// Consent is a client's agreement that one named coworker may read some or
// all of their record, for a purpose, until it expires or is withdrawn. A
// withdrawn consent is kept, never deleted, as proof of what was allowed
// when.
type Consent struct {
	// ID is assigned by the vault when the consent is recorded.
	ID string `json:"id"`
	// Record is the ID of the record the consent belongs to.
	Record string `json:"record"`
	// GivenBy is who consented: ByClient or ByGuardian.
	GivenBy string `json:"given_by"`
	// Guardian is the guardian's name, required when GivenBy is ByGuardian.
	Guardian string `json:"guardian,omitempty"`
	// GuardianAuthority is what entitles the guardian to consent, such as
	// "parent" or "court order 123"; required when GivenBy is ByGuardian.
	GuardianAuthority string `json:"guardian_authority,omitempty"`
	// To is the staff name of the one coworker the record may be shared
	// with; never a group such as "all staff".
	To string `json:"to"`
	// Scope is the parts of the record shared: Full alone, or any of
	// Contact, Health, PatchTests and Treatments.
	Scope []string `json:"scope"`
	// Purpose says why the record is shared.
	Purpose string `json:"purpose"`
	// Method is how the consent was given: Written, Verbal or Electronic.
	Method string `json:"method"`
	// Witness is who witnessed a verbal consent; required when Method is
	// Verbal.
	Witness string `json:"witness,omitempty"`
	// Evidence identifies the form or the version of the consent text the
	// client was shown; required for a written or electronic consent.
	Evidence string `json:"evidence"`
	// ObtainedBy is the staff member who obtained the consent.
	ObtainedBy string `json:"obtained_by"`
	// GivenAt is when the consent was given.
	GivenAt time.Time `json:"given_at"`
	// Expires is the last day on which the consent holds; zero means it
	// holds until withdrawn.
	Expires records.Date `json:"expires,omitzero"`
	// WithdrawnAt is when the consent was withdrawn; zero while it stands.
	WithdrawnAt time.Time `json:"withdrawn_at,omitzero"`
	// WithdrawnBy is who withdrew the consent (or recorded its withdrawal).
	WithdrawnBy string `json:"withdrawn_by,omitempty"`
}

// Validate checks every field of c against the current time now and
// returns all problems joined, each a *records.FieldError. It also
// normalises what has one canonical form (trimmed text, lower-case keywords,
// the scope's order), so that flags, JSON and forms store the same thing.
func (c *Consent) Validate(now time.Time) error {
	var errs fieldErrors
	c.Record = strings.TrimSpace(c.Record)
	errs.add("record", requiredText(c.Record, maxShort, false))

	c.GivenBy = normWord(c.GivenBy)
	errs.add("given_by", ValidateGivenBy(c.GivenBy))
	c.Guardian = strings.TrimSpace(c.Guardian)
	errs.add("guardian", ValidateGuardian(c.GivenBy, c.Guardian))
	c.GuardianAuthority = strings.TrimSpace(c.GuardianAuthority)
	errs.add("guardian_authority", ValidateGuardianAuthority(c.GivenBy, c.GuardianAuthority))

	c.To = strings.TrimSpace(c.To)
	errs.add("to", ValidateTo(c.To))
	scope, err := NormalizeScope(c.Scope)
	errs.add("scope", err)
	if err == nil {
		c.Scope = scope
	}
	c.Purpose = strings.TrimSpace(c.Purpose)
	errs.add("purpose", ValidatePurpose(c.Purpose))

	c.Method = normWord(c.Method)
	errs.add("method", ValidateMethod(c.Method))
	c.Witness = strings.TrimSpace(c.Witness)
	errs.add("witness", ValidateWitness(c.Method, c.Witness))
	c.Evidence = strings.TrimSpace(c.Evidence)
	errs.add("evidence", ValidateEvidence(c.Method, c.Evidence))
	c.ObtainedBy = strings.TrimSpace(c.ObtainedBy)
	errs.add("obtained_by", ValidatePerson(c.ObtainedBy))
	if c.Witness != "" && c.ObtainedBy != "" &&
		records.NormalizeName(c.Witness) == records.NormalizeName(c.ObtainedBy) {
		errs.add("witness", errors.New("must be someone other than who obtained the consent"))
	}

	errs.add("given_at", checkMoment(c.GivenAt, now))
	if !c.Expires.IsZero() && !c.GivenAt.IsZero() {
		errs.add("expires", checkExpires(c.Expires, c.givenOn()))
	}

	c.WithdrawnBy = strings.TrimSpace(c.WithdrawnBy)
	if c.WithdrawnAt.IsZero() {
		if c.WithdrawnBy != "" {
			errs.add("withdrawn_by", errors.New("is set but withdrawn_at is not"))
		}
	} else {
		errs.add("withdrawn_at", checkMoment(c.WithdrawnAt, now))
		if c.WithdrawnAt.Before(c.GivenAt) {
			errs.add("withdrawn_at", errors.New("is before the consent was given"))
		}
		errs.add("withdrawn_by", ValidatePerson(c.WithdrawnBy))
	}
	return errs.join()
}

// givenOn is the calendar date, in UTC, on which the consent was given.
func (c *Consent) givenOn() records.Date { return records.DateOf(c.GivenAt.UTC()) }

// Withdrawn reports whether the consent has been withdrawn.
func (c *Consent) Withdrawn() bool { return !c.WithdrawnAt.IsZero() }

// expired reports whether now is past the consent's expiry date. The expiry
// date is inclusive: the consent holds until the end of that day in UTC.
func (c *Consent) expired(now time.Time) bool {
	return !c.Expires.IsZero() && records.DateOf(now.UTC()).After(c.Expires)
}

// Active reports whether the consent allows sharing at now: it has been
// given, is not withdrawn and has not expired. The expiry date is inclusive
// through the end of that day in UTC.
func (c *Consent) Active(now time.Time) bool {
	if c.GivenAt.IsZero() || now.Before(c.GivenAt) {
		return false
	}
	return !c.Withdrawn() && !c.expired(now)
}

// Lapsed reports whether the consent ended by expiring rather than by being
// withdrawn: past its expiry date at now, and not withdrawn. The vault's
// expire command uses it to re-seal records without the coworker.
func (c *Consent) Lapsed(now time.Time) bool { return !c.Withdrawn() && c.expired(now) }

// Withdraw records that the consent was withdrawn at now by the person
// named by. The consent is kept, with when and by whom; it is never deleted.
// Withdrawing twice returns ErrWithdrawn and leaves the first withdrawal as
// it was.
func (c *Consent) Withdraw(now time.Time, by string) error {
	if c.Withdrawn() {
		return ErrWithdrawn
	}
	by = strings.TrimSpace(by)
	if err := ValidatePerson(by); err != nil {
		return &records.FieldError{Field: "withdrawn_by", Problem: err.Error()}
	}
	if now.Before(c.GivenAt) {
		return &records.FieldError{Field: "withdrawn_at", Problem: "is before the consent was given"}
	}
	c.WithdrawnAt = now
	c.WithdrawnBy = by
	return nil
}

// Covers reports whether the consent's scope includes part (one of the
// parts Scopes lists); Full covers every part. It does not check that the
// consent is active: see Active.
func (c *Consent) Covers(part string) bool { return covers(c.Scope, part) }
