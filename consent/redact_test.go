package consent

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/clientvault/clientvault/records"
)

// fullRecord returns a record with every field set.
func fullRecord() *records.Record {
	return &records.Record{
		Name:             "Jane Doe",
		PreferredName:    "Jay",
		DOB:              records.Date{Year: 1990, Month: time.April, Day: 2},
		Phone:            "+1 555 0100",
		Email:            "jane@example.com",
		Address:          "1 Main St",
		EmergencyContact: "John Doe +1 555 0101",
		Birthday:         "--04-02",
		FirstVisit:       records.Date{Year: 2015, Month: time.June, Day: 1},
		LastVisited:      records.Date{Year: 2025, Month: time.March, Day: 9},

		SkinType:          "III",
		Conditions:        []string{"eczema"},
		Medications:       []string{"isotretinoin"},
		Allergies:         []string{"latex"},
		Contraindications: []string{"recent sun exposure"},
		Pregnant:          true,
		Notes:             "prefers afternoon appointments",

		PatchTests: []records.PatchTest{{
			Date: records.Date{Year: 2026, Month: time.January, Day: 10}, Product: "lash tint",
			Area: "behind ear", Result: "negative", ReadAt: records.Date{Year: 2026, Month: time.January, Day: 12},
		}},
		Treatments: []records.Treatment{{
			N: 1, Date: records.Date{Year: 2026, Month: time.February, Day: 1}, Service: "laser hair removal",
			Area: "underarm", Products: []string{"cooling gel"},
			Settings:   records.Settings{"wavelength_nm": json.Number("755")},
			Technician: "owner", Outcome: "mild erythema", Aftercare: "SPF 50",
		}},
		Amendments: []records.Amendment{{N: 1, Date: records.Date{Year: 2026, Month: time.February, Day: 2},
			Fields: []string{"phone"}, Previous: map[string]json.RawMessage{"phone": json.RawMessage(`"+1 555 0109"`)}}},
	}
}

// partOf assigns every field of records.Record to the part that shares it,
// or to "" for the fields always kept. A field missing here fails
// TestRedactFieldsAssigned, so that a new field gets a deliberate decision.
var partOf = map[string]string{
	"Name": "", "PreferredName": "",
	"DOB": Contact, "Birthday": Contact, "Phone": Contact, "Email": Contact, "Address": Contact, "EmergencyContact": Contact,
	"SkinType": Health, "Conditions": Health, "Medications": Health, "Allergies": Health,
	"Contraindications": Health, "Pregnant": Health, "Notes": Health,
	"PatchTests": PatchTests,
	"Treatments": Treatments, "FirstVisit": Treatments, "LastVisited": Treatments,
	// The history of edits holds previous values of every part: it goes
	// only with the whole record.
	"Amendments": Full,
}

func TestRedactFieldsAssigned(t *testing.T) {
	full := reflect.ValueOf(fullRecord()).Elem()
	for i := range full.NumField() {
		name := full.Type().Field(i).Name
		if _, ok := partOf[name]; !ok {
			t.Errorf("records.Record.%s belongs to no part: assign it in Redact and in partOf", name)
		}
		if full.Field(i).IsZero() {
			t.Errorf("fullRecord leaves %s unset", name)
		}
	}
}

func TestRedact(t *testing.T) {
	scopes := [][]string{
		{Full}, {Contact}, {Health}, {PatchTests}, {Treatments},
		{Contact, Treatments}, {Health, PatchTests, Treatments},
		{"Health", " contact "}, {"billing"}, nil,
	}
	for _, scope := range scopes {
		r := fullRecord()
		got := reflect.ValueOf(Redact(r, scope)).Elem()
		for i := range got.NumField() {
			name := got.Type().Field(i).Name
			part := partOf[name]
			kept := !got.Field(i).IsZero()
			want := part == "" || covers(scope, part)
			if kept != want {
				t.Errorf("scope %q: %s kept = %v, want %v", scope, name, kept, want)
			}
			if kept && !reflect.DeepEqual(got.Field(i).Interface(), reflect.ValueOf(r).Elem().Field(i).Interface()) {
				t.Errorf("scope %q: %s changed in the copy", scope, name)
			}
		}
	}
}

func TestRedactCopies(t *testing.T) {
	r := fullRecord()
	c := Redact(r, []string{Health, Treatments})
	c.Conditions[0] = "changed"
	c.Treatments[0].Products[0] = "changed"
	c.Treatments[0].Settings["wavelength_nm"] = "changed"
	c.Name = "changed"
	if r.Conditions[0] != "eczema" || r.Treatments[0].Products[0] != "cooling gel" ||
		r.Treatments[0].Settings["wavelength_nm"] != json.Number("755") || r.Name != "Jane Doe" {
		t.Error("changing the redacted copy changed the original")
	}
	f := Redact(r, []string{Full})
	f.Allergies = append(f.Allergies[:0], "changed")
	if !slices.Equal(r.Allergies, []string{"latex"}) {
		t.Error("changing a full copy changed the original")
	}
	if Redact(nil, []string{Full}) != nil {
		t.Error("Redact(nil) is not nil")
	}
}
