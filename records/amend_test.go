package records

import (
	"errors"
	"strings"
	"testing"
)

func TestAmendKeepsPreviousValues(t *testing.T) {
	prev := &Record{Name: "Jane Doe", Phone: "+1 555 0100", Allergies: []string{"latex"},
		Treatments: []Treatment{{N: 1, Date: Date{2026, 1, 5}, Service: "facial"}}}
	next := prev.Clone()
	next.Phone = "+1 555 0199"
	next.Allergies = append(next.Allergies, "nuts")
	next.Pregnant = true
	fields, err := Amend(prev, next, Date{2026, 3, 1})
	if err != nil || strings.Join(fields, ",") != "allergies,phone,pregnant" {
		t.Fatalf("Amend = %v, %v", fields, err)
	}
	a := next.Amendments[0]
	if a.N != 1 || a.Date != (Date{2026, 3, 1}) || string(a.Previous["phone"]) != `"+1 555 0100"` ||
		string(a.Previous["allergies"]) != `["latex"]` || a.Previous["pregnant"] != nil {
		t.Errorf("amendment %+v", a)
	}
	// A second edit adds to the history, which survives the sealed encoding.
	third := next.Clone()
	third.Phone = ""
	if _, err := Amend(next, third, Date{2026, 3, 2}); err != nil || len(third.Amendments) != 2 || third.Amendments[1].N != 2 {
		t.Fatalf("second amendment: %v %+v", err, third.Amendments)
	}
	b, err := Encode("7f3a9c2e01b4d5e6", third)
	if err != nil {
		t.Fatal(err)
	}
	if _, back, err := DecodeSealed(b); err != nil || len(back.Amendments) != 2 {
		t.Fatalf("round trip: %v", err)
	}

	if _, err := Amend(prev, prev.Clone(), Date{2026, 3, 1}); !errors.Is(err, ErrNoChange) {
		t.Errorf("no change: %v", err)
	}
	moved := prev.Clone()
	moved.Treatments[0].Service = "peel"
	var fe *FieldError
	if _, err := Amend(prev, moved, Date{2026, 3, 1}); !errors.As(err, &fe) || fe.Field != "treatments" || !errors.Is(err, ErrFixedField) || strings.Contains(err.Error(), "peel") {
		t.Errorf("treatment changed by an edit: %v", err)
	}
}

// A patch test is added by an edit, and the history keeps the list before.
func TestAmendAddsAPatchTest(t *testing.T) {
	prev := &Record{Name: "Jane Doe"}
	next := prev.Clone()
	next.PatchTests = []PatchTest{{Date: Date{2026, 3, 1}, Product: "lash tint", Result: "negative"}}
	if fields, err := Amend(prev, next, Date{2026, 3, 1}); err != nil || strings.Join(fields, ",") != "patch_tests" {
		t.Fatalf("Amend = %v, %v", fields, err)
	}
}

func TestApplyJSON(t *testing.T) {
	r := &Record{Name: "Jane Doe", Phone: "+1 555 0100", Email: "jane@example.com", Allergies: []string{"latex"}}
	got, err := ApplyJSON(r, []byte("\xef\xbb\xbf"+`{"phone": "+1 555 0199", "email": null, "pregnant": true}`))
	if err != nil || got.Phone != "+1 555 0199" || got.Email != "" || !got.Pregnant || got.Name != "Jane Doe" || got.Allergies[0] != "latex" {
		t.Fatalf("ApplyJSON = %+v, %v", got, err)
	}
	if r.Phone != "+1 555 0100" {
		t.Error("ApplyJSON changed its input")
	}
	for _, bad := range []string{`{"phnoe": "1"}`, `{"phone": "1", "phone": "2"}`, `[{"phone": "1"}]`, ``, `{"phone": `} {
		if _, err := ApplyJSON(r, []byte(bad)); !errors.Is(err, ErrJSON) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
