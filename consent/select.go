package consent

import (
	"strings"
	"time"
)

// ActiveFor returns the consent among consents, which are one record's,
// that allows sharing with the coworker named to at now. When several are
// active it returns the one given last. The name is matched exactly (after
// trimming spaces), as Validate stored it: a near match never opens a
// record.
func ActiveFor(consents []Consent, to string, now time.Time) (Consent, bool) {
	to = strings.TrimSpace(to)
	best := -1
	for i := range consents {
		c := &consents[i]
		if to == "" || c.To != to || !c.Active(now) {
			continue
		}
		if best < 0 || !c.GivenAt.Before(consents[best].GivenAt) {
			best = i
		}
	}
	if best < 0 {
		return Consent{}, false
	}
	return consents[best], true
}

// ActiveScope merges the scopes of all the consents among consents (one
// record's) that are active at now for the coworker named to. The result is
// normalised: Full alone if any consent covers the whole record, otherwise
// the parts covered in the order of Scopes, or nil if no consent is active.
func ActiveScope(consents []Consent, to string, now time.Time) []string {
	to = strings.TrimSpace(to)
	var covered [len(scopes)]bool
	found := false
	for i := range consents {
		c := &consents[i]
		if to == "" || c.To != to || !c.Active(now) {
			continue
		}
		for j, part := range scopes {
			if c.Covers(part) {
				covered[j] = true
				found = true
			}
		}
	}
	if !found {
		return nil
	}
	if covered[0] { // scopes[0] is Full
		return []string{Full}
	}
	var out []string
	for j, part := range scopes {
		if covered[j] {
			out = append(out, part)
		}
	}
	return out
}
