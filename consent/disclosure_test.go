package consent

import (
	"slices"
	"testing"
	"time"

	"github.com/clientvault/clientvault/records"
)

func validDisclosure() Disclosure {
	return Disclosure{
		Record:    "rec7f3a",
		Recipient: "Marlowe County Court",
		Basis:     "subpoena",
		Reference: "SUBP-2026-0419",
		Scope:     []string{"treatments"},
		By:        "Ottoline Prewitt",
		At:        now.Add(-time.Hour),
	}
}

func TestDisclosureValidate(t *testing.T) {
	today := records.DateOf(now)
	tests := []struct {
		name   string
		change func(*Disclosure)
		want   []string
	}{
		{"valid", func(*Disclosure) {}, nil},
		{"basis in any case", func(d *Disclosure) { d.Basis = " Court_Order " }, nil},
		{"notified", func(d *Disclosure) { d.ClientNotified, d.NotifiedAt = true, today }, nil},
		{"no basis", func(d *Disclosure) { d.Basis = "" }, []string{"basis"}},
		{"unknown basis", func(d *Disclosure) { d.Basis = "curiosity" }, []string{"basis"}},
		{"no reference", func(d *Disclosure) { d.Reference = "  " }, []string{"reference"}},
		{"other without reference", func(d *Disclosure) { d.Basis, d.Reference = "other", "" }, []string{"reference"}},
		{"no recipient", func(d *Disclosure) { d.Recipient = "" }, []string{"recipient"}},
		{"no record", func(d *Disclosure) { d.Record = "" }, []string{"record"}},
		{"no scope", func(d *Disclosure) { d.Scope = nil }, []string{"scope"}},
		{"full with a part", func(d *Disclosure) { d.Scope = []string{"full", "health"} }, []string{"scope"}},
		{"notified without date", func(d *Disclosure) { d.ClientNotified = true }, []string{"notified_at"}},
		{"date without notified", func(d *Disclosure) { d.NotifiedAt = today }, []string{"notified_at"}},
		{"notified in the future", func(d *Disclosure) {
			d.ClientNotified, d.NotifiedAt = true, records.DateOf(now.AddDate(0, 0, 1))
		}, []string{"notified_at"}},
		{"no by", func(d *Disclosure) { d.By = "" }, []string{"by"}},
		{"no at", func(d *Disclosure) { d.At = time.Time{} }, []string{"at"}},
		{"at in the future", func(d *Disclosure) { d.At = now.Add(time.Second) }, []string{"at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDisclosure()
			tt.change(&d)
			values := []string{d.Record, d.Recipient, d.Reference, d.By}
			err := d.Validate(now)
			if got := fields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("Validate: fields %q, want %q (error: %v)", got, tt.want, err)
			}
			noValues(t, err, values...)
		})
	}
	for _, b := range Bases() {
		d := validDisclosure()
		d.Basis = b
		if err := d.Validate(now); err != nil {
			t.Errorf("basis %q from Bases: %v", b, err)
		}
	}
}
