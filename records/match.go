package records

import "strings"

// What a phone number or an email address shared by two rows is, as
// SharedContact says it.
const (
	ContactPhone = "phone"
	ContactEmail = "email"
)

// How alike two names are, for SharedContact.
type NameLikeness int

const (
	// OtherNames have nothing in common that tells: a mother's and her
	// daughter's, twins', a husband's and a wife's.
	OtherNames NameLikeness = iota
	// SameGivenName: the first word is the same, the rest is not: a
	// surname changed on marriage ("Ann Smith", "Ann Jones-Smith").
	SameGivenName
	// SameName: the names fold to the same (FoldName).
	SameName
)

// CompareNames says how alike two names are: the same as FoldName folds
// them, or with the same first word (GivenName), or neither.
func CompareNames(a, b string) NameLikeness {
	a, b = FoldName(a), FoldName(b)
	switch {
	case a == b:
		return SameName
	case a != "" && GivenName(a) == GivenName(b):
		return SameGivenName
	}
	return OtherNames
}

// GivenName returns the first word of a name folded by FoldName.
func GivenName(folded string) string {
	given, _, _ := strings.Cut(folded, " ")
	return given
}

// SharedContact reports whether a phone number or an email address (kind,
// ContactPhone or ContactEmail) that a row and a client have in common
// makes the row likely that client. names is how alike their names are;
// a and b are their dates of birth; holders is how many clients hold the
// number or address, the one compared with included. False means that
// the row is another client who shares it.
//
// A name is what tells clients apart first; a phone or an email that two
// rows share says something too, but less than it seems: families share a
// landline and often an email, twins a birthday and a phone.
//
//   - Of one name (SameName), the same phone or email is likely one client
//     whatever the dates of birth, as LikelySameClient has it.
//   - With the same given name and another surname (SameGivenName: a name
//     changed on marriage), the same email address and the same date of
//     birth, or no date of birth on one side to tell them apart, is likely
//     one client; the same phone number only with the same date of birth
//     on both sides (a phone is a household's more often than an email).
//   - With other given names (OtherNames: a mother and her daughter,
//     twins, a husband who books with his wife's email) it is two clients
//     who share the number or address, whatever the dates of birth.
//   - A number or an address that several clients hold already (a
//     family's landline, a parent's email given for the children, the
//     salon's own number typed in for a client who gave none) tells no one
//     apart: it is shared, never a match.
//
// Phones compare by PhoneKey (SamePhoneKey), emails by EmailKey.
func SharedContact(kind string, names NameLikeness, a, b Date, holders int) bool {
	if holders != 1 || names == OtherNames || kind != ContactEmail && kind != ContactPhone {
		return false
	}
	sameDOB := !a.IsZero() && a == b
	switch {
	case names == SameName, sameDOB:
		return true
	case kind == ContactEmail:
		return a.IsZero() || b.IsZero()
	}
	return false
}

// MinPhoneKey is how many digits a PhoneKey needs to be compared at all:
// fewer (a local number without its area code, a short extension typed in
// the wrong column) say too little about who has it.
const MinPhoneKey = 7

// PhoneKey returns the digits of a phone number that tell it from others:
// without an extension ("ext. 4"), without leading zeros (a national
// trunk prefix "0", an international "00") and without the trunk prefix
// written in brackets after the country code ("+44 (0) 7700 900123"). Written with and without the
// country code, one number's keys end alike: "+1 212-555-0110" is
// "12125550110" and "(212) 555 0110" is "2125550110"; "+44 7700 900123"
// and "07700 900123" end in "7700900123". SamePhone compares them.
func PhoneKey(s string) string {
	return string(appendPhoneKey(nil, s))
}

// appendPhoneKey appends PhoneKey(s) to b.
func appendPhoneKey(b []byte, s string) []byte {
	s = trimExtension(s)
	if before, after, ok := strings.Cut(s, "(0)"); ok {
		s = before + after
	}
	start := len(b)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' && (c != '0' || len(b) > start) {
			b = append(b, c)
		}
	}
	return b
}

// SamePhone reports whether two phone numbers are one: their keys
// (PhoneKey) have at least MinPhoneKey digits and one ends with the other.
func SamePhone(a, b string) bool {
	return SamePhoneKey(PhoneKey(a), PhoneKey(b))
}

// SamePhoneKey is SamePhone on keys that PhoneKey returned.
func SamePhoneKey(a, b string) bool {
	if len(a) < MinPhoneKey || len(b) < MinPhoneKey {
		return false
	}
	return strings.HasSuffix(a, b) || strings.HasSuffix(b, a)
}

// EmailKey returns an email address as it is compared: trimmed, in lower
// case ("Ann@Example.com" and "ann@example.com" are one address).
func EmailKey(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}
