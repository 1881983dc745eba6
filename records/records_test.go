package records

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

var today = Date{2026, 11, 23}

func TestParseDate(t *testing.T) {
	for _, c := range []struct {
		in   string
		ok   bool
		want Date
	}{
		{"2026-03-01", true, Date{2026, 3, 1}},
		{"2024-02-29", true, Date{2024, 2, 29}},
		{"2026-02-29", false, Date{}},
		{"2026-02-30", false, Date{}},
		{"01/03/2026", false, Date{}},
		{"2026-3-1", false, Date{}},
		{"", false, Date{}},
	} {
		got, err := ParseDate(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseDate(%q) = %v, %v", c.in, got, err)
		}
		if err != nil && c.in != "" && strings.Contains(err.Error(), c.in) {
			t.Errorf("error echoes the input: %v", err)
		}
	}
}

func TestValidate(t *testing.T) {
	valid := func() *Record {
		return &Record{Name: "Jane Doe", DOB: Date{1990, 4, 2}, Phone: "+1 555 0100", Email: "jane@example.com", SkinType: "3"}
	}
	cases := []struct {
		name  string
		edit  func(r *Record)
		field string // "" means valid
	}{
		{"valid", func(r *Record) {}, ""},
		{"missing name", func(r *Record) { r.Name = "  " }, "name"},
		{"punctuation name", func(r *Record) { r.Name = "--" }, "name"},
		{"name with newline", func(r *Record) { r.Name = "Jane\nDoe" }, "name"},
		{"future dob", func(r *Record) { r.DOB = Date{2030, 1, 1} }, "dob"},
		{"ancient dob", func(r *Record) { r.DOB = Date{1850, 1, 1} }, "dob"},
		{"bad email", func(r *Record) { r.Email = "jane at example" }, "email"},
		{"email with name", func(r *Record) { r.Email = "Jane <jane@example.com>" }, "email"},
		{"bad phone", func(r *Record) { r.Phone = "call me" }, "phone"},
		{"short phone", func(r *Record) { r.Phone = "12" }, "phone"},
		{"skin type VII", func(r *Record) { r.SkinType = "VII" }, "skin_type"},
		{"invalid utf8 note", func(r *Record) { r.Notes = "\xff" }, "notes"},
		{"treatment without service", func(r *Record) { r.Treatments = []Treatment{{Date: Date{2026, 1, 1}}} }, "treatments[0].service"},
		{"future treatment", func(r *Record) { r.Treatments = []Treatment{{Date: Date{2027, 1, 1}, Service: "peel"}} }, "treatments[0].date"},
		{"bad setting", func(r *Record) {
			r.Treatments = []Treatment{{Date: Date{2026, 1, 1}, Service: "laser", Settings: Settings{"x": []any{1}}}}
		}, "treatments[0].settings.x"},
		{"patch read before test", func(r *Record) {
			r.PatchTests = []PatchTest{{Date: Date{2026, 1, 10}, Product: "tint", ReadAt: Date{2026, 1, 9}}}
		}, "patch_tests[0].read_at"},
		{"patch result", func(r *Record) {
			r.PatchTests = []PatchTest{{Date: Date{2026, 1, 10}, Product: "tint", Result: "maybe"}}
		}, "patch_tests[0].result"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := valid()
			c.edit(r)
			err := r.Validate(today)
			if c.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				if r.SkinType != "III" {
					t.Errorf("skin type not normalised: %q", r.SkinType)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.field+":") {
				t.Fatalf("Validate = %v, want a problem with %s", err, c.field)
			}
			for _, v := range []string{"Jane", "example", "call me", "maybe"} {
				if strings.Contains(err.Error(), v) {
					t.Errorf("error %q echoes a value", err)
				}
			}
		})
	}
}

func TestNormalizeName(t *testing.T) {
	same := [][]string{
		{"José O'Brien", "jose obrien", "  JOSÉ   O’BRIEN ", "Jose\tOBrien"},
		{"Anne-Marie Smith", "anne marie smith", "Anne Marie  Smith"},
	}
	for _, group := range same {
		for _, s := range group[1:] {
			if NormalizeName(s) != NormalizeName(group[0]) {
				t.Errorf("NormalizeName(%q) = %q, want %q", s, NormalizeName(s), NormalizeName(group[0]))
			}
		}
	}
	if NormalizeName("Jane Doe") == NormalizeName("Jane Doer") {
		t.Error("different names normalise alike")
	}
}

func TestDecoder(t *testing.T) {
	in := `{"name": "A One", "dob": "1990-04-02", "treatments": [{"date": "2026-02-01", "service": "laser",
	  "settings": {"wavelength_nm": 755, "mode": "burst"}}]}
{"name":"B Two"}
{"name":"C Three"}`
	d := NewDecoder(strings.NewReader(in))
	var names []string
	for {
		r, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, r.Name)
		if r.Name == "A One" && r.Treatments[0].Settings["wavelength_nm"].(interface{ String() string }).String() != "755" {
			t.Errorf("number setting not kept exactly: %v", r.Treatments[0].Settings)
		}
	}
	if strings.Join(names, ",") != "A One,B Two,C Three" {
		t.Errorf("names = %v", names)
	}
}

func TestDecoderErrorsCarryNoValues(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"name":"Secret Person","nmae":"x"}`, `record 1: unknown field "nmae"`},
		{`{"name":"Secret Person","dob":"02/04/1990"}`, "record 1: not a date"},
		{`{"name":"Secret Person","allergies":"latex"}`, "record 1: allergies: must be a JSON array"},
		{`{"name":"Secret Person"} {"name": "Other Secret",}`, "record 2: invalid JSON"},
		{`{"name":"Secret Person"`, "record 1: JSON ends in the middle"},
		{`{"id":"abc","name":"Secret Person"}`, `unknown field "id"`},
	} {
		d := NewDecoder(strings.NewReader(c.in))
		var err error
		for err == nil {
			_, err = d.Next()
		}
		if errors.Is(err, io.EOF) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.in, err, c.want)
		}
		if strings.Contains(err.Error(), "Secret") || strings.Contains(err.Error(), "latex") {
			t.Errorf("error %q carries client data", err)
		}
	}
}

func TestSealedEncodingRoundTrip(t *testing.T) {
	r := &Record{Name: "A One", Allergies: []string{"latex"}}
	b, err := Encode("00112233aabbccdd", r)
	if err != nil {
		t.Fatal(err)
	}
	id, got, err := DecodeSealed(b)
	if err != nil || id != "00112233aabbccdd" || got.Name != "A One" || got.Allergies[0] != "latex" {
		t.Errorf("DecodeSealed = %q %+v %v", id, got, err)
	}
	if _, _, err := DecodeSealed([]byte(`{"v":2,"id":"x","record":{"name":"a"}}`)); !errors.Is(err, ErrNewerEncoding) {
		t.Errorf("newer payload: %v", err)
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add(`{"name":"Jane Doe","dob":"1990-04-02","treatments":[{"date":"2026-02-01","service":"x","settings":{"a":1}}]}`)
	f.Add(`{"name":"a"}{"name":"b"}`)
	f.Add(`[1,2]`)
	f.Fuzz(func(t *testing.T, in string) {
		d := NewDecoder(strings.NewReader(in))
		for range 100 {
			r, err := d.Next()
			if err != nil {
				return
			}
			r.Validate(today)
			// A decoded record encodes and decodes to the same name.
			b, err := Encode("id", r)
			if err != nil {
				t.Fatal(err)
			}
			if _, back, err := DecodeSealed(b); err != nil || back.Name != r.Name {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}

// Date.String formats by hand what fmt formats.
func TestDateStringIsSprintf(t *testing.T) {
	for _, d := range []Date{{2026, 2, 1}, {1, 1, 1}, {9999, 12, 31}, {1990, 10, 9}, {10000, 1, 1}, {-5, 3, 4}, {2020, 13, 1}} {
		if got, want := d.String(), fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}
