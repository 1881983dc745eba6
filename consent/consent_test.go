package consent

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clientvault/clientvault/records"
)

// now is the fixed clock of the tests.
var now = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

// validConsent returns a valid written consent by the client. Its text
// fields hold distinctive values, so that a test can check that no error
// repeats them.
func validConsent() Consent {
	return Consent{
		ID:         "c1",
		Record:     "rec7f3a",
		GivenBy:    "client",
		To:         "Quilla Varnhagen",
		Scope:      []string{"health", "treatments"},
		Purpose:    "Zorbly covers the Saturday laser appointments",
		Method:     "written",
		Evidence:   "form XQ-77 v3",
		ObtainedBy: "Ottoline Prewitt",
		GivenAt:    now.Add(-24 * time.Hour),
	}
}

// fields returns the field names of the *records.FieldError values in err.
func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []string
	for _, e := range errs {
		var fe *records.FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %q is not a *records.FieldError", e)
		}
		out = append(out, fe.Field)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// noValues fails the test if err repeats any of values.
func noValues(t *testing.T, err error, values ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, v := range values {
		if len(v) >= 4 && strings.Contains(err.Error(), v) {
			t.Errorf("error %q repeats a field's value", err)
		}
	}
}

func TestConsentValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Consent)
		want   []string // the fields reported, sorted; nil for valid
	}{
		{"valid written", func(*Consent) {}, nil},
		{"valid electronic", func(c *Consent) { c.Method = "electronic" }, nil},
		{"valid verbal with witness", func(c *Consent) {
			c.Method, c.Evidence, c.Witness = "verbal", "", "Wilhelmina Stroud"
		}, nil},
		{"valid guardian", func(c *Consent) {
			c.GivenBy, c.Guardian, c.GuardianAuthority = "guardian", "Harriet Vole", "parent"
		}, nil},
		{"valid expiry on the day given", func(c *Consent) { c.Expires = records.DateOf(c.GivenAt) }, nil},
		{"valid withdrawn", func(c *Consent) { c.WithdrawnAt, c.WithdrawnBy = now, "Ottoline Prewitt" }, nil},
		{"keywords in any case", func(c *Consent) { c.GivenBy, c.Method = " Client", "WRITTEN " }, nil},
		{"name containing a group word", func(c *Consent) { c.To = "Stafford Allen" }, nil},

		{"no record", func(c *Consent) { c.Record = " " }, []string{"record"}},
		{"unknown given_by", func(c *Consent) { c.GivenBy = "friend" }, []string{"given_by"}},
		{"guardian without authority", func(c *Consent) {
			c.GivenBy, c.Guardian = "guardian", "Harriet Vole"
		}, []string{"guardian_authority"}},
		{"guardian without name", func(c *Consent) {
			c.GivenBy, c.GuardianAuthority = "guardian", "court order 123"
		}, []string{"guardian"}},
		{"client with guardian fields", func(c *Consent) {
			c.Guardian, c.GuardianAuthority = "Harriet Vole", "parent"
		}, []string{"guardian", "guardian_authority"}},

		{"to missing", func(c *Consent) { c.To = "" }, []string{"to"}},
		{"to all", func(c *Consent) { c.To = "all" }, []string{"to"}},
		{"to everyone", func(c *Consent) { c.To = "Everyone" }, []string{"to"}},
		{"to staff", func(c *Consent) { c.To = "staff" }, []string{"to"}},
		{"to team", func(c *Consent) { c.To = "TEAM" }, []string{"to"}},
		{"to all staff", func(c *Consent) { c.To = "All Staff" }, []string{"to"}},
		{"to the whole team", func(c *Consent) { c.To = "the whole team" }, []string{"to"}},
		{"to front desk", func(c *Consent) { c.To = "front desk" }, []string{"to"}},
		{"to a wildcard", func(c *Consent) { c.To = "*" }, []string{"to"}},
		{"to two people with and", func(c *Consent) { c.To = "Quilla and Ottoline" }, []string{"to"}},
		{"to two people with a comma", func(c *Consent) { c.To = "Quilla, Ottoline" }, []string{"to"}},
		{"to with a newline", func(c *Consent) { c.To = "Quilla\nVarnhagen" }, []string{"to"}},

		{"no scope", func(c *Consent) { c.Scope = nil }, []string{"scope"}},
		{"blank scope", func(c *Consent) { c.Scope = []string{" "} }, []string{"scope"}},
		{"unknown scope", func(c *Consent) { c.Scope = []string{"health", "billing"} }, []string{"scope"}},
		{"full with another part", func(c *Consent) { c.Scope = []string{"full", "contact"} }, []string{"scope"}},

		{"no purpose", func(c *Consent) { c.Purpose = "" }, []string{"purpose"}},
		{"unknown method", func(c *Consent) { c.Method = "telepathy" }, []string{"method"}},
		{"verbal without witness", func(c *Consent) { c.Method, c.Evidence = "verbal", "" }, []string{"witness"}},
		{"verbal witnessed by who obtained it", func(c *Consent) {
			c.Method, c.Witness = "verbal", "ottoline  PREWITT"
		}, []string{"witness"}},
		{"written without evidence", func(c *Consent) { c.Evidence = "" }, []string{"evidence"}},
		{"electronic without evidence", func(c *Consent) { c.Method, c.Evidence = "electronic", " " }, []string{"evidence"}},
		{"no obtained_by", func(c *Consent) { c.ObtainedBy = "" }, []string{"obtained_by"}},

		{"no given_at", func(c *Consent) { c.GivenAt = time.Time{} }, []string{"given_at"}},
		{"given_at in the future", func(c *Consent) { c.GivenAt = now.Add(time.Minute) }, []string{"given_at"}},
		{"expires before given", func(c *Consent) {
			c.Expires = records.DateOf(c.GivenAt).AddYears(-1)
		}, []string{"expires"}},

		{"withdrawn_by without withdrawn_at", func(c *Consent) { c.WithdrawnBy = "Ottoline Prewitt" }, []string{"withdrawn_by"}},
		{"withdrawn_at without withdrawn_by", func(c *Consent) { c.WithdrawnAt = now }, []string{"withdrawn_by"}},
		{"withdrawn before given", func(c *Consent) {
			c.WithdrawnAt, c.WithdrawnBy = c.GivenAt.Add(-time.Hour), "Ottoline Prewitt"
		}, []string{"withdrawn_at"}},
		{"withdrawn in the future", func(c *Consent) {
			c.WithdrawnAt, c.WithdrawnBy = now.Add(time.Hour), "Ottoline Prewitt"
		}, []string{"withdrawn_at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConsent()
			tt.change(&c)
			values := []string{c.Record, c.Guardian, c.GuardianAuthority, c.To, c.Purpose,
				c.Witness, c.Evidence, c.ObtainedBy, c.WithdrawnBy}
			err := c.Validate(now)
			if got := fields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("Validate: fields %q, want %q (error: %v)", got, tt.want, err)
			}
			noValues(t, err, values...)
		})
	}
}

func TestConsentValidateNormalizes(t *testing.T) {
	c := validConsent()
	c.GivenBy, c.Method = " Client ", "Electronic"
	c.To = "  Quilla Varnhagen "
	c.Scope = []string{"Treatments", "contact", "treatments", " ", "HEALTH"}
	if err := c.Validate(now); err != nil {
		t.Fatal(err)
	}
	if c.GivenBy != "client" || c.Method != "electronic" || c.To != "Quilla Varnhagen" {
		t.Errorf("not normalised: given_by %q, method %q, to %q", c.GivenBy, c.Method, c.To)
	}
	if want := []string{"contact", "health", "treatments"}; !slices.Equal(c.Scope, want) {
		t.Errorf("scope %q, want %q", c.Scope, want)
	}
}

func TestConsentActive(t *testing.T) {
	given := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	expires := records.Date{Year: 2026, Month: time.March, Day: 31}
	newYork := time.FixedZone("UTC-5", -5*3600)
	berlin := time.FixedZone("UTC+2", 2*3600)
	tests := []struct {
		name      string
		expires   records.Date
		withdrawn time.Time
		now       time.Time
		active    bool
		lapsed    bool
	}{
		{"no expiry", records.Date{}, time.Time{}, now, true, false},
		{"before expiry", expires, time.Time{}, now, true, false},
		{"first moment of expiry day", expires, time.Time{}, time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), true, false},
		{"last moment of expiry day", expires, time.Time{}, time.Date(2026, 3, 31, 23, 59, 59, 999999999, time.UTC), true, false},
		{"day after expiry", expires, time.Time{}, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), false, true},
		{"expiry day locally, next day in UTC", expires, time.Time{}, time.Date(2026, 3, 31, 20, 0, 0, 0, newYork), false, true},
		{"next day locally, expiry day in UTC", expires, time.Time{}, time.Date(2026, 4, 1, 1, 0, 0, 0, berlin), true, false},
		{"withdrawn", records.Date{}, now.Add(-time.Hour), now, false, false},
		{"withdrawn and expired", expires, given.Add(time.Hour), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false, false},
		{"before it was given", records.Date{}, time.Time{}, given.Add(-time.Second), false, false},
		{"the moment it was given", records.Date{}, time.Time{}, given, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConsent()
			c.GivenAt, c.Expires, c.WithdrawnAt = given, tt.expires, tt.withdrawn
			if !tt.withdrawn.IsZero() {
				c.WithdrawnBy = "Ottoline Prewitt"
			}
			if got := c.Active(tt.now); got != tt.active {
				t.Errorf("Active = %v, want %v", got, tt.active)
			}
			if got := c.Lapsed(tt.now); got != tt.lapsed {
				t.Errorf("Lapsed = %v, want %v", got, tt.lapsed)
			}
		})
	}
}

func TestConsentActiveNeedsGivenAt(t *testing.T) {
	c := validConsent()
	c.GivenAt = time.Time{}
	if c.Active(now) {
		t.Error("a consent with no given_at is active")
	}
}

func TestConsentWithdraw(t *testing.T) {
	c := validConsent()
	if err := c.Withdraw(now, "  "); err == nil {
		t.Fatal("Withdraw with no name succeeded")
	}
	if c.Withdrawn() {
		t.Fatal("a failed Withdraw changed the consent")
	}
	if err := c.Withdraw(c.GivenAt.Add(-time.Hour), "Ottoline Prewitt"); err == nil {
		t.Fatal("Withdraw before the consent was given succeeded")
	}
	if err := c.Withdraw(now, " Ottoline Prewitt "); err != nil {
		t.Fatal(err)
	}
	if !c.WithdrawnAt.Equal(now) || c.WithdrawnBy != "Ottoline Prewitt" {
		t.Errorf("withdrawn at %v by %q", c.WithdrawnAt, c.WithdrawnBy)
	}
	if c.Active(now) {
		t.Error("a withdrawn consent is active")
	}
	if err := c.Validate(now); err != nil {
		t.Errorf("a withdrawn consent does not validate: %v", err)
	}
	err := c.Withdraw(now.Add(time.Hour), "Wilhelmina Stroud")
	if !errors.Is(err, ErrWithdrawn) {
		t.Errorf("second Withdraw: %v, want ErrWithdrawn", err)
	}
	if !c.WithdrawnAt.Equal(now) || c.WithdrawnBy != "Ottoline Prewitt" {
		t.Error("a second Withdraw overwrote the first")
	}
	if c.ID != "c1" || c.To == "" || len(c.Scope) == 0 {
		t.Error("Withdraw cleared the consent's details")
	}
}

func TestConsentCovers(t *testing.T) {
	tests := []struct {
		scope []string
		part  string
		want  bool
	}{
		{[]string{"full"}, "contact", true},
		{[]string{"full"}, "health", true},
		{[]string{"full"}, "patch_tests", true},
		{[]string{"full"}, "treatments", true},
		{[]string{"full"}, "full", true},
		{[]string{"contact"}, "contact", true},
		{[]string{"contact"}, "health", false},
		{[]string{"contact"}, "full", false},
		{[]string{"health", "treatments"}, "treatments", true},
		{[]string{"health", "treatments"}, "patch_tests", false},
		{[]string{"Health"}, " HEALTH", true},
		{[]string{"full"}, "billing", false},
		{[]string{"full"}, "", false},
		{nil, "contact", false},
	}
	for _, tt := range tests {
		c := Consent{Scope: tt.scope}
		if got := c.Covers(tt.part); got != tt.want {
			t.Errorf("scope %q covers %q = %v, want %v", tt.scope, tt.part, got, tt.want)
		}
	}
}

func TestFormOptionsValidate(t *testing.T) {
	for _, m := range Methods() {
		if err := ValidateMethod(m); err != nil {
			t.Errorf("method %q from Methods: %v", m, err)
		}
	}
	for _, g := range Givers() {
		if err := ValidateGivenBy(g); err != nil {
			t.Errorf("given_by %q from Givers: %v", g, err)
		}
	}
	for _, s := range Scopes() {
		if err := ValidateScope([]string{s}); err != nil {
			t.Errorf("scope %q from Scopes: %v", s, err)
		}
	}
	m := Methods()
	m[0] = "telepathy"
	if ValidateMethod("telepathy") == nil || ValidateMethod(Written) != nil {
		t.Error("changing the slice Methods returned changed what validates")
	}
}

func TestValidateExpires(t *testing.T) {
	given := records.Date{Year: 2026, Month: time.March, Day: 1}
	tests := []struct {
		in string
		ok bool
	}{
		{"", true},
		{" ", true},
		{"2026-03-01", true},
		{"2027-03-01", true},
		{"2026-02-28", false},
		{"2026-02-30", false},
		{"next year", false},
	}
	for _, tt := range tests {
		if err := ValidateExpires(tt.in, given); (err == nil) != tt.ok {
			t.Errorf("ValidateExpires(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}

func TestConsentJSON(t *testing.T) {
	c := validConsent()
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"expires"`, `"withdrawn_at"`, `"withdrawn_by"`, `"guardian"`, `"witness"`} {
		if strings.Contains(string(b), key) {
			t.Errorf("unset %s is written: %s", key, b)
		}
	}
	c.Expires = records.Date{Year: 2027, Month: time.January, Day: 31}
	c.WithdrawnAt, c.WithdrawnBy = now, "Ottoline Prewitt"
	b, err = json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"expires":"2027-01-31"`) {
		t.Errorf("expires not written as a date: %s", b)
	}
	var back Consent
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Expires != c.Expires || !back.WithdrawnAt.Equal(c.WithdrawnAt) || !slices.Equal(back.Scope, c.Scope) {
		t.Errorf("round trip changed the consent: %+v", back)
	}
}
