package consent

import (
	"errors"
	"slices"
	"strings"
)

// The parts of a record that a consent or a disclosure may cover. Full is
// the whole record and stands alone in a scope; the others may be combined.
const (
	Full       = "full"
	Contact    = "contact"     // dob (or birthday), phone, email, address, emergency contact
	Health     = "health"      // skin type, conditions, medications, allergies, contraindications, pregnancy, notes
	PatchTests = "patch_tests" // every patch test
	Treatments = "treatments"  // every treatment entry, and the first and last visit dates
)

// scopes lists the parts in the order a normalised scope keeps them.
var scopes = [...]string{Full, Contact, Health, PatchTests, Treatments}

// Scopes returns the parts a scope may name, in order, for a form's options.
// It returns a new slice on each call, so that a caller cannot change what
// validation accepts.
func Scopes() []string { return slices.Clone(scopes[:]) }

var errScope = errors.New("must be full, or any of contact, health, patch_tests and treatments")

// NormalizeScope trims and lower-cases each part, drops empty and repeated
// ones and sorts the rest into the order of Scopes. It fails when the scope
// is empty, names an unknown part, or combines full with other parts (a
// consent must say plainly whether it covers the whole record).
func NormalizeScope(scope []string) ([]string, error) {
	seen := make(map[string]bool, len(scope))
	for _, s := range scope {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		if !slices.Contains(scopes[:], s) {
			return nil, errScope
		}
		seen[s] = true
	}
	if len(seen) == 0 {
		return nil, errors.New("is required")
	}
	if seen[Full] && len(seen) > 1 {
		return nil, errors.New("full covers the whole record and cannot be combined with other parts")
	}
	out := make([]string, 0, len(seen))
	for _, s := range scopes {
		if seen[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

// ValidateScope checks a scope as NormalizeScope reads it. Its signature
// suits a huh multi-select.
func ValidateScope(scope []string) error {
	_, err := NormalizeScope(scope)
	return err
}

// covers reports whether scope (normalised or not) includes part, counting
// full as every part. An unknown part is never covered.
func covers(scope []string, part string) bool {
	part = strings.ToLower(strings.TrimSpace(part))
	if !slices.Contains(scopes[:], part) {
		return false
	}
	for _, s := range scope {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == Full || s == part {
			return true
		}
	}
	return false
}
