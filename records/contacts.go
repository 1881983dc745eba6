package records

import (
	"hash/maphash"
	"slices"
)

// A ContactBook keeps the phone numbers and email addresses of the clients
// that a reading of a file has met so far, to tell which of them a new row
// shares one with (SharedContact then says what that makes of it).
// Clients are numbers that the caller gives (a row's, a group of rows');
// the book keeps each phone as the number its key spells (PhoneKey) and
// each email only as a hash, in memory, never written: about 40 bytes a
// phone and 20 an email, so that a million rows fit. A ContactBook is not
// safe for concurrent use.
type ContactBook struct {
	seed   maphash.Seed
	tails  map[uint32]int32 // the last MinPhoneKey digits of a key -> its first phone
	phones []bookPhone
	emails map[uint64]int32 // a hash of EmailKey -> its first holder
	// the holders after the first, of the few that have several
	morePhone map[int32][]int32
	moreEmail map[uint64][]int32
}

// bookPhone is a phone number of the book: its key's last 19 digits as a
// number (no key is longer than 20 digits, which ValidatePhone allows),
// how many digits the key has, its first holder, and the next phone of
// the same tail (-1: none).
type bookPhone struct {
	num    uint64
	digits uint8
	first  int32
	next   int32
}

// NewContactBook returns an empty ContactBook.
func NewContactBook() *ContactBook {
	return &ContactBook{seed: maphash.MakeSeed(), tails: map[uint32]int32{}, emails: map[uint64]int32{},
		morePhone: map[int32][]int32{}, moreEmail: map[uint64][]int32{}}
}

// MaxHolders is how many holders of one phone or email the book keeps and
// Holders returns at most: more say nothing that two do not (it is
// shared), and a number that thousands of rows give (the salon's own) is
// not kept or listed thousands of times.
const MaxHolders = 8

// Contacts are a row's phone and email as a ContactBook compares them,
// worked out once for all the books and lookups of the row.
type Contacts struct {
	phone  uint64 // the number its key spells (phoneNum); 0: none to compare
	digits uint8
	email  string // EmailKey
}

// ContactsOf returns the Contacts of a phone number and an email address
// (either may be empty).
func ContactsOf(phone, email string) Contacts {
	num, digits, _ := phoneNum(phone)
	return Contacts{phone: num, digits: digits, email: EmailKey(email)}
}

// Add notes that client holds c's phone number and email address.
func (b *ContactBook) Add(client int32, c Contacts) {
	b.addPhone(client, c.phone, c.digits)
	b.addEmail(client, c.email)
}

func (b *ContactBook) addPhone(client int32, num uint64, digits uint8) {
	if digits == 0 {
		return
	}
	n := int32(len(b.phones))
	tail := uint32(num % 1e7)
	if i, ok := b.tails[tail]; !ok {
		b.tails[tail] = n
	} else {
		for {
			p := &b.phones[i]
			if p.num == num && p.digits == digits {
				if p.first != client {
					b.morePhone[i] = addHolder(b.morePhone[i], client)
				}
				return
			}
			if p.next < 0 {
				p.next = n // the new phone is the last of its tail
				break
			}
			i = p.next
		}
	}
	b.phones = append(b.phones, bookPhone{num: num, digits: digits, first: client, next: -1})
}

func (b *ContactBook) addEmail(client int32, email string) {
	if email != "" {
		k := maphash.String(b.seed, email)
		if first, ok := b.emails[k]; !ok {
			b.emails[k] = client
		} else if first != client {
			b.moreEmail[k] = addHolder(b.moreEmail[k], client)
		}
	}
}

func addHolder(more []int32, client int32) []int32 {
	if len(more) < MaxHolders-1 && !slices.Contains(more, client) {
		more = append(more, client)
	}
	return more
}

// Holders appends to buf the clients that hold c's phone number (kind
// ContactPhone: the same number by SamePhoneKey, however written) or its
// email address (ContactEmail), each once and at most MaxHolders in all,
// and returns it.
func (b *ContactBook) Holders(kind string, c Contacts, buf []int32) []int32 {
	switch {
	case kind == ContactPhone && c.digits > 0:
		for i, ok := b.tails[uint32(c.phone%1e7)]; ok; i, ok = b.phones[i].next, b.phones[i].next >= 0 {
			if p := b.phones[i]; sameNum(p.num, p.digits, c.phone, c.digits) {
				buf = appendHolders(buf, p.first, b.morePhone[i])
			}
		}
	case kind == ContactEmail && c.email != "":
		k := maphash.String(b.seed, c.email)
		if first, ok := b.emails[k]; ok {
			buf = appendHolders(buf, first, b.moreEmail[k])
		}
	}
	return buf
}

func appendHolders(out []int32, first int32, more []int32) []int32 {
	for i := -1; i < len(more) && len(out) < MaxHolders; i++ {
		c := first
		if i >= 0 {
			c = more[i]
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// phoneNum returns the number that a phone's key (PhoneKey) spells, at
// most its last 19 digits, and how many digits that is; false if the key
// has fewer than MinPhoneKey.
func phoneNum(phone string) (num uint64, digits uint8, ok bool) {
	var buf [24]byte
	key := appendPhoneKey(buf[:0], phone)
	if len(key) < MinPhoneKey {
		return 0, 0, false
	}
	key = key[max(0, len(key)-19):]
	for _, c := range key {
		num = num*10 + uint64(c-'0')
	}
	return num, uint8(len(key)), true
}

// sameNum is SamePhoneKey on the numbers keys spell (phoneNum): one ends
// with the other.
func sameNum(a uint64, da uint8, b uint64, db uint8) bool {
	if da < db {
		a, da, b, db = b, db, a, da
	}
	pow := uint64(1)
	for range db {
		pow *= 10
	}
	return a%pow == b
}
