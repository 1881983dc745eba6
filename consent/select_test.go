package consent

import (
	"slices"
	"testing"
	"time"

	"github.com/clientvault/clientvault/records"
)

func TestActiveFor(t *testing.T) {
	day := func(n int) time.Time { return now.AddDate(0, 0, -n) }
	mk := func(id, to string, given time.Time, scope ...string) Consent {
		c := validConsent()
		c.ID, c.To, c.GivenAt, c.Scope = id, to, given, scope
		return c
	}
	withdrawn := mk("w", "Ann Lee", day(1), Full)
	withdrawn.WithdrawnAt, withdrawn.WithdrawnBy = day(0), "Ann Lee"
	expired := mk("x", "Ann Lee", day(40), Full)
	expired.Expires = records.DateOf(day(10))
	future := mk("f", "Ann Lee", now.Add(time.Hour), Full)

	tests := []struct {
		name      string
		consents  []Consent
		to        string
		wantID    string // "" for none
		wantScope []string
	}{
		{"none", nil, "Ann Lee", "", nil},
		{"one active", []Consent{mk("a", "Ann Lee", day(5), Health)}, "Ann Lee", "a", []string{Health}},
		{"name trimmed", []Consent{mk("a", "Ann Lee", day(5), Health)}, " Ann Lee ", "a", []string{Health}},
		{"other coworker", []Consent{mk("a", "Bea Ito", day(5), Full)}, "Ann Lee", "", nil},
		{"near name does not match", []Consent{mk("a", "Ann Lee", day(5), Full)}, "ann lee", "", nil},
		{"empty name", []Consent{mk("a", "Ann Lee", day(5), Full)}, " ", "", nil},
		{"withdrawn", []Consent{withdrawn}, "Ann Lee", "", nil},
		{"expired", []Consent{expired}, "Ann Lee", "", nil},
		{"not yet given", []Consent{future}, "Ann Lee", "", nil},
		{"latest of several", []Consent{
			mk("old", "Ann Lee", day(9), Contact),
			mk("new", "Ann Lee", day(2), Treatments),
			mk("mid", "Ann Lee", day(5), Health),
		}, "Ann Lee", "new", []string{Contact, Health, Treatments}},
		{"active among inactive", []Consent{
			withdrawn, expired, future,
			mk("b", "Bea Ito", day(1), Full),
			mk("a", "Ann Lee", day(20), PatchTests),
		}, "Ann Lee", "a", []string{PatchTests}},
		{"full wins the merge", []Consent{
			mk("a", "Ann Lee", day(3), Contact),
			mk("b", "Ann Lee", day(4), Full),
		}, "Ann Lee", "a", []string{Full}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := ActiveFor(tt.consents, tt.to, now)
			if ok != (tt.wantID != "") || c.ID != tt.wantID {
				t.Errorf("ActiveFor = %q, %v; want %q", c.ID, ok, tt.wantID)
			}
			if got := ActiveScope(tt.consents, tt.to, now); !slices.Equal(got, tt.wantScope) {
				t.Errorf("ActiveScope = %q, want %q", got, tt.wantScope)
			}
		})
	}
}
