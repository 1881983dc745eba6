// Package records defines a client record: its fields, their validation, the
// JSON form that scripts read and write, and the versioned encoding that is
// sealed into the vault. It does no I/O beyond the readers it is given, never
// reads the clock (today's date is passed in) and never puts a field's value
// in an error, since every value may be client data.
package records

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Record is one client's file: identity and contact details, health history,
// patch tests and treatments. The JSON tags are the shape documented in
// DESIGN.md; unknown keys are rejected on input.
type Record struct {
	Name          string `json:"name"`
	PreferredName string `json:"preferred_name,omitempty"`
	DOB           Date   `json:"dob,omitzero"`
	// Birthday is a birthday known without its year, "--MM-DD" (see
	// ParseBirthday), given only when DOB is not.
	Birthday         string `json:"birthday,omitempty"`
	Phone            string `json:"phone,omitempty"`
	Email            string `json:"email,omitempty"`
	Address          string `json:"address,omitempty"`
	EmergencyContact string `json:"emergency_contact,omitempty"`

	SkinType          string   `json:"skin_type,omitempty"`
	Conditions        []string `json:"conditions,omitempty"`
	Medications       []string `json:"medications,omitempty"`
	Allergies         []string `json:"allergies,omitempty"`
	Contraindications []string `json:"contraindications,omitempty"`
	Pregnant          bool     `json:"pregnant,omitempty"`
	Notes             string   `json:"notes,omitempty"`

	// FirstVisit and LastVisited are the client's first and latest visits
	// as a previous booking system recorded them (an import's "Customer
	// Since" and "Last Visit" columns), for clients whose treatments were
	// never entered here. Retention counts from the later of LastVisited
	// and the last treatment (see LastVisit).
	FirstVisit  Date `json:"first_visit,omitzero"`
	LastVisited Date `json:"last_visit,omitzero"`

	PatchTests []PatchTest `json:"patch_tests,omitempty"`
	Treatments []Treatment `json:"treatments,omitempty"`

	// Amendments is the record's history of edits, oldest first, each with
	// the values it replaced (see Amend).
	Amendments []Amendment `json:"amendments,omitempty"`
}

// PatchTest is a skin test of a product before its first use.
type PatchTest struct {
	Date    Date   `json:"date"`
	Product string `json:"product"`
	Area    string `json:"area,omitempty"`
	Result  string `json:"result,omitempty"`
	ReadAt  Date   `json:"read_at,omitzero"`
}

// Treatment is one dated entry of the treatment history. Entries are never
// overwritten: a correction is a new entry whose Amends names the entry it
// corrects, and both are kept.
type Treatment struct {
	// N numbers the entry within its record, from 1; the vault assigns it.
	N          int      `json:"n,omitempty"`
	Amends     int      `json:"amends,omitempty"`
	Date       Date     `json:"date"`
	Service    string   `json:"service"`
	Area       string   `json:"area,omitempty"`
	Products   []string `json:"products,omitempty"`
	Settings   Settings `json:"settings,omitempty"`
	Technician string   `json:"technician,omitempty"`
	Outcome    string   `json:"outcome,omitempty"`
	Aftercare  string   `json:"aftercare,omitempty"`
	// Warnings are the contraindication warnings the entry was recorded
	// with, once the person confirmed it (see Rules).
	Warnings []string `json:"warnings,omitempty"`

	// accepted marks an entry to be recorded even though it meets
	// contraindication rules (AcceptWarnings).
	accepted bool
}

// AcceptWarnings marks t to be recorded even if it meets contraindication
// rules: CheckEntry then keeps the warnings in it instead of refusing it.
func (t *Treatment) AcceptWarnings() { t.accepted = true }

// Settings are a device's settings for a treatment, such as wavelength_nm or
// fluence_j_cm2. Values are numbers (json.Number, to keep them exactly as
// given) or short strings.
type Settings map[string]any

// LastVisit is the date of the latest visit: the later of the latest
// treatment and LastVisited, or the zero Date when neither is known.
// Retention counts from it, so a client imported with a last visit eight
// years ago is due under a seven-year rule at once, not seven years after
// the import.
func (r *Record) LastVisit() Date {
	last := r.LastVisited
	for _, t := range r.Treatments {
		if t.Date.After(last) {
			last = t.Date
		}
	}
	return last
}

// Clone returns a deep copy, so that a caller may change it freely.
func (r *Record) Clone() *Record {
	b, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("records: marshal of a record failed: %v", err))
	}
	c := new(Record)
	if err := strictUnmarshal(b, c); err != nil {
		panic(fmt.Sprintf("records: unmarshal of a marshalled record failed: %v", err))
	}
	return c
}

// Covers reports whether r already holds everything that row gives: each
// field row sets has the same value in r, each entry of its lists is in
// r's, its patch tests and treatments are among r's. An import uses it to
// tell a row it imported before (a second run of the same file, or another
// export of the same clients) from a new row about the same client. The
// name, the phone and the email are the same however they are written as
// as long as nothing is learnt from the row's: a name that folds to r's
// (FoldName), one phone number written another way without a "+" or an
// extension that r's lacks ("(212) 555 0110" is "+1 212-555-0110"), an
// email in other case.
func (r *Record) Covers(row *Record) bool {
	if row.Name != "" && r.Name != row.Name && FoldName(r.Name) != FoldName(row.Name) {
		return false
	}
	if row.Phone != "" && r.Phone != row.Phone && !(digits(r.Phone) == digits(row.Phone) ||
		SamePhone(r.Phone, row.Phone) && (strings.HasPrefix(r.Phone, "+") || !strings.HasPrefix(row.Phone, "+")) &&
			trimExtension(row.Phone) == row.Phone) {
		return false
	}
	if row.Email != "" && !strings.EqualFold(r.Email, row.Email) {
		return false
	}
	for _, f := range [][2]string{
		{r.PreferredName, row.PreferredName}, {r.Birthday, row.Birthday}, {r.Address, row.Address},
		{r.EmergencyContact, row.EmergencyContact}, {r.SkinType, row.SkinType}, {r.Notes, row.Notes},
	} {
		if f[1] != "" && f[0] != f[1] {
			return false
		}
	}
	for _, d := range [][2]Date{{r.DOB, row.DOB}, {r.FirstVisit, row.FirstVisit}, {r.LastVisited, row.LastVisited}} {
		if !d[1].IsZero() && d[0] != d[1] {
			return false
		}
	}
	for _, l := range [][2][]string{
		{r.Conditions, row.Conditions}, {r.Medications, row.Medications},
		{r.Allergies, row.Allergies}, {r.Contraindications, row.Contraindications},
	} {
		for _, s := range l[1] {
			if !slices.Contains(l[0], s) {
				return false
			}
		}
	}
	if row.Pregnant && !r.Pregnant {
		return false
	}
	for _, p := range row.PatchTests {
		if !slices.ContainsFunc(r.PatchTests, func(q PatchTest) bool { return q == p }) {
			return false
		}
	}
	for _, t := range row.Treatments {
		if !slices.ContainsFunc(r.Treatments, func(u Treatment) bool { return sameTreatment(u, t) }) {
			return false
		}
	}
	return true
}

// sameTreatment compares two treatment entries, but for the number the
// vault gives an entry.
func sameTreatment(a, b Treatment) bool {
	a.N, b.N = 0, 0
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// Merge adds to r what row knows that r does not, as an import with
// --on-duplicate update does, and returns the JSON names of the fields it
// changed, in record order. It fills what r lacks and keeps what is
// better: an international phone (with +) is not replaced by one without,
// nor an address by a part of it (a city for a street address); notes
// gain the row's lines they lack rather than lose their own; lists gain
// the row's entries; the first visit becomes the earlier and the last
// visit the later. Otherwise a field the row gives replaces r's, as the
// newer export is taken to be the newer truth. Patch tests and treatments
// are kept as they are.
func (r *Record) Merge(row *Record) []string {
	var changed []string
	set := func(field string, dst *string, src string, keep func(old, new string) bool) {
		src = strings.TrimSpace(src)
		if src == "" || *dst == src || *dst != "" && keep != nil && keep(*dst, src) {
			return
		}
		*dst = src
		changed = append(changed, field)
	}
	set("preferred_name", &r.PreferredName, row.PreferredName, nil)
	if r.DOB.IsZero() && !row.DOB.IsZero() {
		r.DOB, r.Birthday = row.DOB, ""
		changed = append(changed, "dob")
	} else if r.DOB.IsZero() {
		set("birthday", &r.Birthday, row.Birthday, nil)
	}
	set("phone", &r.Phone, row.Phone, func(old, new string) bool {
		return strings.HasPrefix(old, "+") && !strings.HasPrefix(new, "+") || digits(old) == digits(new)
	})
	set("email", &r.Email, row.Email, func(old, new string) bool { return strings.EqualFold(old, new) })
	set("address", &r.Address, row.Address, func(old, new string) bool {
		return strings.Contains(strings.ToLower(old), strings.ToLower(new))
	})
	set("emergency_contact", &r.EmergencyContact, row.EmergencyContact, nil)
	set("skin_type", &r.SkinType, row.SkinType, nil)
	for _, l := range []struct {
		field    string
		dst, src *[]string
	}{
		{"conditions", &r.Conditions, &row.Conditions}, {"medications", &r.Medications, &row.Medications},
		{"allergies", &r.Allergies, &row.Allergies}, {"contraindications", &r.Contraindications, &row.Contraindications},
	} {
		added := false
		for _, s := range *l.src {
			if !slices.ContainsFunc(*l.dst, func(d string) bool { return strings.EqualFold(d, s) }) {
				*l.dst = append(*l.dst, s)
				added = true
			}
		}
		if added {
			changed = append(changed, l.field)
		}
	}
	if row.Pregnant && !r.Pregnant {
		r.Pregnant = true
		changed = append(changed, "pregnant")
	}
	var lines []string
	for _, line := range strings.Split(row.Notes, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.Contains(r.Notes, line) {
			lines = append(lines, line)
		}
	}
	if len(lines) > 0 {
		r.Notes = strings.TrimSpace(strings.Join(append([]string{r.Notes}, lines...), "\n"))
		changed = append(changed, "notes")
	}
	if !row.FirstVisit.IsZero() && (r.FirstVisit.IsZero() || row.FirstVisit.Before(r.FirstVisit)) {
		r.FirstVisit = row.FirstVisit
		changed = append(changed, "first_visit")
	}
	if row.LastVisited.After(r.LastVisited) {
		r.LastVisited = row.LastVisited
		changed = append(changed, "last_visit")
	}
	return changed
}

// digits returns the digits of a phone number, to tell two ways of writing
// one number from two numbers.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// LikelySameClient reports whether two records of one name (as FoldName
// folds it) are likely one client's: the same date of birth, or no date
// of birth on one side to tell them apart, or the same phone number
// (SamePhone, or the same 5 or 6 digits) or email address. Two clients of
// one name with different dates of birth and nothing else in common are
// two clients. (Records of different names are compared by their phones
// and emails with SharedContact.)
func LikelySameClient(a, b *Record) bool {
	if FoldName(a.Name) != FoldName(b.Name) {
		return false
	}
	switch {
	case a.DOB == b.DOB, a.DOB.IsZero(), b.DOB.IsZero():
		return true
	case SamePhone(a.Phone, b.Phone), len(digits(a.Phone)) >= 5 && digits(a.Phone) == digits(b.Phone):
		return true
	}
	return a.Email != "" && strings.EqualFold(a.Email, b.Email)
}
