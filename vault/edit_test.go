package vault

import (
	"errors"
	"strings"
	"testing"

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
