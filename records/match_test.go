package records

import (
	"slices"
	"testing"
)

// One number written as booking systems write it is one number; two
// numbers that differ in their area code are two.
func TestSamePhone(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"+1 212-555-0110", "(212) 555 0110", true},
		{"+1 212-555-0110", "212.555.0110", true},
		{"(212) 555-0110 ext. 4", "+1 212 555 0110", true},
		{"+44 7700 900123", "07700 900123", true},
		{"0044 7700 900123", "+44 (0) 7700 900123", true},
		{"0044 7700 900123", "+44 7700 900123", true},
		{"+1 212-555-0110", "+1 312-555-0110", false},
		{"(212) 555-0110", "(212) 555-0111", false},
		{"555 0110", "+1 212 555 0110", true}, // seven digits: a local number
		{"55 0110", "+1 212 555 0110", false}, // too few to tell
		{"", "", false},
	} {
		if got := SamePhone(c.a, c.b); got != c.want {
			t.Errorf("SamePhone(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := SamePhone(c.b, c.a); got != c.want {
			t.Errorf("SamePhone(%q, %q) = %v, want %v", c.b, c.a, got, c.want)
		}
	}
	if k := PhoneKey("(212) 555-0110 ext. 4"); k != "2125550110" {
		t.Errorf("PhoneKey with an extension = %q", k)
	}
}

// The rule for a phone or an email that a row and a client share, when
// their names alone do not make them one.
func TestSharedContact(t *testing.T) {
	dob, other, none := Date{1990, 4, 2}, Date{1962, 8, 30}, Date{}
	for _, c := range []struct {
		name    string
		kind    string
		names   NameLikeness
		a, b    Date
		holders int
		want    bool
	}{
		{"email, a surname changed, same birth date", ContactEmail, SameGivenName, dob, dob, 1, true},
		{"email, a surname changed, no birth date on one side", ContactEmail, SameGivenName, dob, none, 1, true},
		{"email, a surname changed, no birth dates", ContactEmail, SameGivenName, none, none, 1, true},
		{"email, a surname changed, another birth date", ContactEmail, SameGivenName, dob, other, 1, false},
		{"email, other names, same birth date: twins", ContactEmail, OtherNames, dob, dob, 1, false},
		{"email, other names, no birth date: a husband", ContactEmail, OtherNames, dob, none, 1, false},
		{"email held by two clients already", ContactEmail, SameGivenName, dob, dob, 2, false},
		{"email, same name, another birth date", ContactEmail, SameName, dob, other, 1, true},
		{"phone, a surname changed, same birth date", ContactPhone, SameGivenName, dob, dob, 1, true},
		{"phone, a surname changed, no birth date on one side", ContactPhone, SameGivenName, dob, none, 1, false},
		{"phone, other names, same birth date: twins", ContactPhone, OtherNames, dob, dob, 1, false},
		{"phone, mother and daughter", ContactPhone, OtherNames, dob, other, 1, false},
		{"phone, same name, no birth date", ContactPhone, SameName, none, dob, 1, true},
		{"phone held by several clients", ContactPhone, SameGivenName, dob, dob, 3, false},
		{"phone, same name, but several hold it", ContactPhone, SameName, dob, dob, 2, false},
		{"not a phone or an email", "address", SameName, dob, dob, 1, false},
	} {
		if got := SharedContact(c.kind, c.names, c.a, c.b, c.holders); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		if got := SharedContact(c.kind, c.names, c.b, c.a, c.holders); got != c.want {
			t.Errorf("%s (sides swapped): %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCompareNames(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want NameLikeness
	}{
		{"Søren Łukasz-Straße", "soren lukasz strasse", SameName},
		{"Ann Testsmith", "Ann Testjones-Smith", SameGivenName},
		{"Ánn Testsmith", "ann testjones", SameGivenName},
		{"Ann Testsmith", "Bea Testsmith", OtherNames},
		{"Ann Testsmith", "Anne Testsmith", OtherNames},
		{"", "", SameName},
		{"", "Ann", OtherNames},
	} {
		if got := CompareNames(c.a, c.b); got != c.want {
			t.Errorf("CompareNames(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// A contact book finds a number however it is written, an email whatever
// its case, each holder once, and no more than MaxHolders of them.
func TestContactBook(t *testing.T) {
	b := NewContactBook()
	b.Add(2, ContactsOf("+1 212-555-0110", "Ann@Example.test"))
	b.Add(3, ContactsOf("(212) 555 0110", ""))
	b.Add(3, ContactsOf("212.555.0110", "bea@example.test"))
	b.Add(4, ContactsOf("+1 312-555-0110", ""))
	for _, c := range []struct {
		kind, value string
		want        []int32
	}{
		{ContactPhone, "212 555 0110", []int32{2, 3}},
		{ContactPhone, "+1 (212) 555-0110 ext. 9", []int32{2, 3}},
		{ContactPhone, "312 555 0110", []int32{4}},
		{ContactPhone, "555 0110", []int32{2, 3, 4}},
		{ContactPhone, "0110", nil},
		{ContactEmail, " ann@example.TEST", []int32{2}},
		{ContactEmail, "bea@example.test", []int32{3}},
		{ContactEmail, "cat@example.test", nil},
		{ContactEmail, "", nil},
	} {
		contacts := ContactsOf(c.value, "")
		if c.kind == ContactEmail {
			contacts = ContactsOf("", c.value)
		}
		got := b.Holders(c.kind, contacts, nil)
		if !slices.Equal(got, c.want) {
			t.Errorf("Holders(%s %q) = %v, want %v", c.kind, c.value, got, c.want)
		}
	}
	for i := range 1000 {
		b.Add(int32(100+i), ContactsOf("+1 415 555 0100", "salon@example.test"))
	}
	if got := b.Holders(ContactPhone, ContactsOf("415-555-0100", ""), nil); len(got) != MaxHolders || got[0] != 100 {
		t.Errorf("a number of 1000 rows: holders %v", got)
	}
	if got := b.Holders(ContactEmail, ContactsOf("", "salon@example.test"), nil); len(got) != MaxHolders {
		t.Errorf("an email of 1000 rows: holders %v", got)
	}
}
