package consent

import "github.com/clientvault/clientvault/records"

// Redact returns a deep copy of r that keeps only the parts scope covers,
// for a coworker or a recipient who may see no more. The name and preferred
// name are always kept, so that the reader knows whose file it is. A scope
// of Full keeps everything.
//
// Redact builds the copy up from an empty record rather than clearing what
// the scope leaves out, so that a field added to records.Record later is
// withheld until it is assigned to a part here. The history of edits
// (Amendments) holds earlier values of every part, so only Full keeps it.
// Unknown parts in scope are
// ignored, which withholds more, never less. Redact(nil, ...) is nil.
func Redact(r *records.Record, scope []string) *records.Record {
	if r == nil {
		return nil
	}
	c := r.Clone()
	if covers(scope, Full) {
		return c
	}
	out := &records.Record{Name: c.Name, PreferredName: c.PreferredName}
	if covers(scope, Contact) {
		out.DOB = c.DOB
		out.Birthday = c.Birthday
		out.Phone = c.Phone
		out.Email = c.Email
		out.Address = c.Address
		out.EmergencyContact = c.EmergencyContact
	}
	if covers(scope, Health) {
		out.SkinType = c.SkinType
		out.Conditions = c.Conditions
		out.Medications = c.Medications
		out.Allergies = c.Allergies
		out.Contraindications = c.Contraindications
		out.Pregnant = c.Pregnant
		out.Notes = c.Notes
	}
	if covers(scope, PatchTests) {
		out.PatchTests = c.PatchTests
	}
	if covers(scope, Treatments) {
		out.Treatments = c.Treatments
		// The visit dates a previous system recorded are treatment history.
		out.FirstVisit = c.FirstVisit
		out.LastVisited = c.LastVisited
	}
	return out
}
