package consent

import (
	"errors"
	"slices"
	"strings"

	"github.com/clientvault/clientvault/records"
)

// Who may give a consent.
const (
	ByClient   = "client"   // the client themself
	ByGuardian = "guardian" // a guardian, whose name and authority are recorded
)

// How a consent was given.
const (
	Written    = "written"    // a signed form; its number or version is the evidence
	Verbal     = "verbal"     // spoken, in front of a witness
	Electronic = "electronic" // a form signed on a screen or by e-mail; its version is the evidence
)

var (
	givers  = [...]string{ByClient, ByGuardian}
	methods = [...]string{Written, Verbal, Electronic}
)

// Givers returns who may give a consent, for a form's options.
func Givers() []string { return slices.Clone(givers[:]) }

// Methods returns how a consent may be given, for a form's options.
func Methods() []string { return slices.Clone(methods[:]) }

// ValidatePerson checks the name of a person (a guardian, a witness, the
// staff member who obtained or withdrew a consent): required, one line, with
// at least one letter or digit.
func ValidatePerson(s string) error {
	if err := requiredText(s, maxShort, false); err != nil {
		return err
	}
	if records.NormalizeName(s) == "" {
		return errors.New("has no letters or digits")
	}
	return nil
}

// ValidateGivenBy checks who gave a consent: client or guardian.
func ValidateGivenBy(s string) error {
	if !slices.Contains(givers[:], normWord(s)) {
		return errors.New("must be client or guardian")
	}
	return nil
}

// ValidateMethod checks how a consent was given: written, verbal or
// electronic.
func ValidateMethod(s string) error {
	if !slices.Contains(methods[:], normWord(s)) {
		return errors.New("must be written, verbal or electronic")
	}
	return nil
}

// groupWords are words that name a group of people rather than one person.
// A consent is to a named coworker, so a name made only of these (with the
// filler words below) is refused: "all", "All Staff", "the team".
var groupWords = map[string]bool{
	"all": true, "any": true, "anyone": true, "anybody": true, "every": true,
	"everyone": true, "everybody": true, "whole": true, "public": true,
	"staff": true, "team": true, "teams": true, "group": true, "department": true,
	"employee": true, "employees": true, "personnel": true, "people": true,
	"colleague": true, "colleagues": true, "coworker": true, "coworkers": true,
	"member": true, "members": true, "worker": true, "workers": true,
	"salon": true, "clinic": true, "spa": true, "reception": true, "desk": true,
	"front": true, "esthetician": true, "estheticians": true,
	"therapist": true, "therapists": true, "technician": true, "technicians": true,
}

// fillerWords may appear around group words: "all of the staff".
var fillerWords = map[string]bool{"the": true, "of": true, "our": true, "my": true, "in": true}

// ValidateTo checks the coworker a consent is to: the staff name of one
// person, never a group such as "all staff" or "everyone", and never a list
// of people ("Ann and Bea"); each person needs their own consent.
func ValidateTo(s string) error {
	if err := ValidatePerson(s); err != nil {
		return err
	}
	if strings.ContainsAny(s, ",;&+/*") {
		return errors.New("must name one person; record a consent for each coworker")
	}
	words := strings.Fields(records.NormalizeName(s))
	group := true
	for _, w := range words {
		if w == "and" {
			return errors.New("must name one person; record a consent for each coworker")
		}
		if !groupWords[w] && !fillerWords[w] {
			group = false
		}
	}
	if group {
		return errors.New("must name a person, not a group of people")
	}
	return nil
}

// ValidateGuardian checks a guardian's name: required when a guardian gave
// the consent, and empty when the client did.
func ValidateGuardian(givenBy, name string) error {
	if normWord(givenBy) != ByGuardian {
		return onlyForGuardian(name)
	}
	return ValidatePerson(name)
}

// ValidateGuardianAuthority checks a guardian's authority to consent for the
// client, such as "parent" or a court order's number: required when a
// guardian gave the consent, and empty when the client did.
func ValidateGuardianAuthority(givenBy, s string) error {
	if normWord(givenBy) != ByGuardian {
		return onlyForGuardian(s)
	}
	return requiredText(s, maxShort, false)
}

func onlyForGuardian(s string) error {
	if strings.TrimSpace(s) != "" {
		return errors.New("is only for a consent given by a guardian")
	}
	return nil
}

// ValidatePurpose checks why the client agreed to share: required.
func ValidatePurpose(s string) error { return requiredText(s, maxLong, true) }

// ValidateWitness checks the witness of a consent given by method: required
// for a verbal consent, optional otherwise.
func ValidateWitness(method, s string) error {
	if strings.TrimSpace(s) == "" && normWord(method) != Verbal {
		return nil
	}
	if err := ValidatePerson(s); err != nil {
		if strings.TrimSpace(s) == "" {
			return errors.New("is required for a verbal consent")
		}
		return err
	}
	return nil
}

// ValidateEvidence checks the evidence of a consent given by method (a form
// number, the version of the text shown): required for a written or an
// electronic consent, optional for a verbal one.
func ValidateEvidence(method, s string) error {
	if strings.TrimSpace(s) == "" {
		if normWord(method) == Verbal {
			return nil
		}
		return errors.New("is required for a written or electronic consent")
	}
	return checkText(s, maxShort, false)
}

// ValidateExpires checks an expiry date given as text: empty (no expiry), or
// a YYYY-MM-DD date that is not before the date the consent was given.
func ValidateExpires(s string, given records.Date) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	d, err := records.ParseDate(s)
	if err != nil {
		return err
	}
	return checkExpires(d, given)
}

func checkExpires(d, given records.Date) error {
	if !given.IsZero() && d.Before(given) {
		return errors.New("is before the date the consent was given")
	}
	return nil
}

// normWord trims and lower-cases a keyword such as a method or a basis.
func normWord(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
