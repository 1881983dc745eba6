// Package records defines a client record: its fields, their validation, the
// JSON form that scripts read and write, and the versioned encoding that is
// sealed into the vault. It does no I/O beyond the readers it is given, never
// reads the clock (today's date is passed in) and never puts a field's value
// in an error, since every value may be client data.
package records

import (
	"encoding/json"
	"fmt"
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
