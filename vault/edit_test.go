package vault

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// An edit is an amendment: the new values are the record's, the old ones
// are in its history, the name index follows a new name, and the audit
// event names the fields, never their values.
func TestEditIsAnAmendment(t *testing.T) {
	tv := newTestVault(t)
	ids := tv.add(t, &records.Record{Name: "Jane Doe", DOB: records.Date{Year: 1990, Month: 4, Day: 2}, Phone: "+1 555 0100"})
	id := ids[0].String()
	ed, err := tv.Edit("Jane Doe", func(r *records.Record) error {
		r.Name = "Jane Roe"
		r.Phone = "+1 555 0199"
		r.Allergies = []string{"latex"}
		return nil
	})
	if err != nil || ed.ID != id || ed.Amendment != 1 || strings.Join(ed.Fields, ",") != "allergies,name,phone" {
		t.Fatalf("Edit = %+v, %v", ed, err)
	}
	s, err := tv.View("jane roe")
	if err != nil || s.Phone != "+1 555 0199" || len(s.Amendments) != 1 || string(s.Amendments[0].Previous["name"]) != `"Jane Doe"` {
		t.Fatalf("view by the new name: %v %+v", err, s)
	}
	if _, err := tv.View("Jane Doe"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the old name still finds the record: %v", err)
	}
	if _, err := tv.Edit(id, func(r *records.Record) error { return nil }); !errors.Is(err, ErrInvalid) || !errors.Is(err, records.ErrNoChange) {
		t.Errorf("no change: %v", err)
	}
	if _, err := tv.Edit(id, func(r *records.Record) error { r.Email = "not-an-email"; return nil }); !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "not-an-email") {
		t.Errorf("invalid edit: %v", err)
	}
	if _, err := tv.Edit(id, func(r *records.Record) error {
		r.Treatments = append(r.Treatments, records.Treatment{Service: "facial"})
		return nil
	}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a treatment added by an edit: %v", err)
	}
	rep, err := tv.Verify()
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	events, err := tv.Audit(AuditFilter{Record: id})
	if err != nil {
		t.Fatal(err)
	}
	var edit *Event
	for i := range events {
		if events[i].Action == "edit" {
			edit = &events[i]
		}
	}
	if edit == nil || edit.Detail != "amendment 1: allergies, name, phone" {
		t.Fatalf("audit: %+v", events)
	}
}

// An edit reaches a coworker's shared copy at once (it is sealed again),
// without the history, and the coworker's view has the record's own dates
// and the scope.
func TestEditOfASharedRecord(t *testing.T) {
	f := newFixture(t)
	f.clk.t = f.clk.t.Add(48 * time.Hour) // the share is younger than the record
	f.consent(t, f.jane, "Bea", consent.Contact, consent.Treatments)
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	owner, err := f.v.View(f.jane.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Edit(f.jane.String(), func(r *records.Record) error { r.Phone = "+1 555 0177"; return nil }); err != nil {
		t.Fatal(err)
	}
	v := f.asStaff(t, f.bea)
	s, err := v.View(f.jane.String())
	if err != nil {
		t.Fatal(err)
	}
	if s.Phone != "+1 555 0177" || len(s.Amendments) != 0 || len(s.Allergies) != 0 {
		t.Errorf("coworker's copy after the edit: %+v", s.Record)
	}
	if strings.Join(s.Scope, ",") != "contact,treatments" || !s.Created.Equal(owner.Created) || s.RetainUntil != owner.RetainUntil {
		t.Errorf("coworker's view: scope %v, created %v (record %v), retain until %v (record %v)",
			s.Scope, s.Created, owner.Created, s.RetainUntil, owner.RetainUntil)
	}
}
