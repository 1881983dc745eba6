package records

import (
	"errors"
	"strings"
	"testing"
)

func TestContraindicationRules(t *testing.T) {
	day := Date{2026, 3, 1}
	for _, c := range []struct {
		name    string
		rec     Record
		entry   Treatment
		want    []string // rule IDs, in the order of Rules
		keyword string   // in the first warning
	}{
		{"laser on isotretinoin", Record{Medications: []string{"Isotretinoin 20 mg"}},
			Treatment{Service: "Laser hair removal"}, []string{"isotretinoin-resurfacing", "photosensitivity-laser"}, "isotretinoin"},
		{"peel on a brand name", Record{Medications: []string{"Roaccutane"}},
			Treatment{Service: "chemical peel"}, []string{"isotretinoin-resurfacing"}, "peels"},
		{"waxing on isotretinoin", Record{Medications: []string{"isotretinoin"}},
			Treatment{Service: "brow wax"}, []string{"isotretinoin-resurfacing"}, "waxing"},
		{"facial on isotretinoin", Record{Medications: []string{"isotretinoin"}},
			Treatment{Service: "hydrating facial"}, nil, ""},
		{"isotretinoin stopped 4 months ago", Record{Contraindications: []string{"isotretinoin until 2025-11-01"}},
			Treatment{Date: day, Service: "waxing"}, []string{"isotretinoin-resurfacing"}, "6 months"},
		{"isotretinoin stopped 8 months ago", Record{Contraindications: []string{"isotretinoin until 2025-07-01"}},
			Treatment{Date: day, Service: "waxing"}, nil, ""},
		{"laser with doxycycline", Record{Medications: []string{"doxycycline"}},
			Treatment{Service: "IPL photofacial"}, []string{"photosensitivity-laser"}, "doxycycline"},
		{"laser after sun", Record{Contraindications: []string{"recent sun exposure"}},
			Treatment{Service: "laser"}, []string{"photosensitivity-laser"}, "sun exposure"},
		{"facial after sun", Record{Contraindications: []string{"recent sun exposure"}},
			Treatment{Service: "facial"}, nil, ""},
		{"product with a positive patch test", Record{PatchTests: []PatchTest{{Product: "Lash Tint", Result: "positive"}}},
			Treatment{Service: "lash tint", Products: []string{"lash tint"}}, []string{"positive-patch-test"}, "Lash Tint"},
		{"product with a negative patch test", Record{PatchTests: []PatchTest{{Product: "lash tint", Result: "negative"}}},
			Treatment{Service: "lash tint", Products: []string{"lash tint"}}, nil, ""},
		{"retinol in pregnancy", Record{Pregnant: true},
			Treatment{Service: "facial", Products: []string{"retinol serum"}}, []string{"pregnancy-retinoid"}, "pregnancy"},
		{"on tretinoin in pregnancy", Record{Pregnant: true, Medications: []string{"tretinoin cream"}},
			Treatment{Service: "facial"}, []string{"pregnancy-retinoid"}, "pregnancy"},
		{"retinol, not pregnant", Record{},
			Treatment{Service: "facial", Products: []string{"retinol serum"}}, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, r := range Rules {
				if r.Meets(&c.rec, &c.entry) {
					got = append(got, r.ID)
				}
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("rules %v, want %v", got, c.want)
			}
			w := Contraindications(&c.rec, &c.entry)
			if len(w) != len(c.want) || (c.keyword != "" && !strings.Contains(w[0], c.keyword)) {
				t.Errorf("warnings %q, want %d with %q", w, len(c.want), c.keyword)
			}
		})
	}
}

// CheckEntry refuses an entry that meets a rule, with an error that holds
// no client data, and keeps the warnings in an accepted one.
func TestCheckEntryWarnings(t *testing.T) {
	r := &Record{Medications: []string{"isotretinoin"}}
	e := Treatment{Service: "laser"}
	err := r.CheckEntry(&e)
	var ce *ContraindicationError
	if !errors.As(err, &ce) || len(ce.Warnings) != 2 || strings.Contains(err.Error(), "isotretinoin") {
		t.Fatalf("CheckEntry: %v", err)
	}
	e.AcceptWarnings()
	if err := r.CheckEntry(&e); err != nil || len(e.Warnings) != 2 {
		t.Fatalf("accepted: %v, warnings %q", err, e.Warnings)
	}
	clean := Treatment{Service: "facial", Warnings: []string{"forged"}}
	if err := r.CheckEntry(&clean); err != nil || clean.Warnings != nil {
		t.Errorf("an entry meeting no rule: %v, warnings %q", err, clean.Warnings)
	}
}
