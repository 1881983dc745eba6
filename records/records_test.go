package records

import (
	"errors"
	"fmt"
	"io"
	"reflect"
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
		{"phone with extension", func(r *Record) { r.Phone = "(212) 555-0110 ext. 4" }, ""},
		{"phone with extension word", func(r *Record) { r.Phone = "212 555 0110 Extension 12" }, ""},
		{"phone with hash extension", func(r *Record) { r.Phone = "212 555 0110 #7" }, ""},
		{"extension alone", func(r *Record) { r.Phone = "ext. 4" }, "phone"},
		{"extension too long", func(r *Record) { r.Phone = "212 555 0110 ext 1234567" }, "phone"},
		{"skin type VII", func(r *Record) { r.SkinType = "VII" }, "skin_type"},
		{"invalid utf8 note", func(r *Record) { r.Notes = "\xff" }, "notes"},
		{"birthday without year", func(r *Record) { r.DOB = Date{}; r.Birthday = "--02-29" }, ""},
		{"birthday and dob", func(r *Record) { r.Birthday = "--12-25" }, "birthday"},
		{"birthday 30 February", func(r *Record) { r.DOB = Date{}; r.Birthday = "--02-30" }, "birthday"},
		{"birthday as a date", func(r *Record) { r.DOB = Date{}; r.Birthday = "1990-12-25" }, "birthday"},
		{"visits", func(r *Record) { r.FirstVisit = Date{2015, 1, 2}; r.LastVisited = Date{2018, 3, 4} }, ""},
		{"future last visit", func(r *Record) { r.LastVisited = Date{2027, 1, 1} }, "last_visit"},
		{"last visit before first", func(r *Record) { r.FirstVisit = Date{2019, 1, 2}; r.LastVisited = Date{2018, 3, 4} }, "last_visit"},
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
	if _, _, err := DecodeSealed([]byte(`{"v":3,"id":"x","record":{"name":"a"}}`)); !errors.Is(err, ErrNewerEncoding) {
		t.Errorf("newer payload: %v", err)
	}
}

// A record without the fields of version 2 is still written as version 1,
// which every clientvault reads; one with them is version 2; payloads that
// older versions wrote still decode.
func TestSealedEncodingVersions(t *testing.T) {
	for _, c := range []struct {
		r    *Record
		want string
	}{
		{&Record{Name: "A One"}, `{"v":1,"id":"i","record":{"name":"A One"}}`},
		{&Record{Name: "A One", Birthday: "--07-04"}, `{"v":2,"id":"i","record":{"name":"A One","birthday":"--07-04"}}`},
		{&Record{Name: "A One", LastVisited: Date{2018, 3, 4}}, `{"v":2,"id":"i","record":{"name":"A One","last_visit":"2018-03-04"}}`},
		{&Record{Name: "A One", FirstVisit: Date{2015, 1, 2}}, `{"v":2,"id":"i","record":{"name":"A One","first_visit":"2015-01-02"}}`},
	} {
		b, err := Encode("i", c.r)
		if err != nil || string(b) != c.want {
			t.Errorf("Encode = %s, %v; want %s", b, err, c.want)
		}
		if _, back, err := DecodeSealed(b); err != nil || back.Birthday != c.r.Birthday || back.LastVisited != c.r.LastVisited || back.FirstVisit != c.r.FirstVisit {
			t.Errorf("DecodeSealed(%s) = %+v, %v", b, back, err)
		}
	}
	// What clientvault wrote before version 2.
	old := `{"v":1,"id":"00112233aabbccdd","record":{"name":"Jane Doe","dob":"1990-04-02","phone":"+1 555 0100",` +
		`"treatments":[{"n":1,"date":"2026-02-01","service":"peel"}]}}`
	if _, r, err := DecodeSealed([]byte(old)); err != nil || r.Name != "Jane Doe" || r.LastVisit() != (Date{2026, 2, 1}) {
		t.Errorf("version 1 payload: %+v, %v", r, err)
	}
	// Version 1 never had these fields.
	if _, _, err := DecodeSealed([]byte(`{"v":1,"id":"x","record":{"name":"a","last_visit":"2018-03-04"}}`)); err == nil {
		t.Error("a version 1 payload with a last visit was accepted")
	}
}

// The last visit is the later of the last treatment and the last visit a
// previous system recorded.
func TestLastVisit(t *testing.T) {
	r := &Record{Name: "a"}
	if !r.LastVisit().IsZero() {
		t.Errorf("no visits: %v", r.LastVisit())
	}
	r.LastVisited = Date{2018, 3, 4}
	if r.LastVisit() != (Date{2018, 3, 4}) {
		t.Errorf("imported only: %v", r.LastVisit())
	}
	r.Treatments = []Treatment{{Date: Date{2017, 1, 1}}}
	if r.LastVisit() != (Date{2018, 3, 4}) {
		t.Errorf("older treatment: %v", r.LastVisit())
	}
	r.Treatments = append(r.Treatments, Treatment{Date: Date{2026, 1, 1}})
	if r.LastVisit() != (Date{2026, 1, 1}) {
		t.Errorf("newer treatment: %v", r.LastVisit())
	}
}

func TestParseBirthday(t *testing.T) {
	for in, ok := range map[string]bool{
		"--12-25": true, "--02-29": true, "--01-31": true,
		"--02-30": false, "--13-01": false, "--00-10": false, "--04-31": false, "12-25": false, "--1-25": false, "": false,
	} {
		got, err := ParseBirthday(in)
		if (err == nil) != ok || ok && got != in {
			t.Errorf("ParseBirthday(%q) = %q, %v", in, got, err)
		}
	}
	if got := MonthDay(7, 4); got != "--07-04" {
		t.Errorf("MonthDay = %q", got)
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

// TestDecoderInput: what encoding/json would accept silently, or say
// confusingly, each gets its own error; a byte order mark is skipped.
func TestDecoderInput(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"\xef\xbb\xbf{\"name\": \"Jane Doe\"}", ""},
		{"\xef\xbb\xbf{\"name\": \"Jane Doe\"}\n{\"name\": \"Ann Lee\"}\n", ""},
		{"", "the input is empty"},
		{"  \n", "the input is empty"},
		{"{\"name\": \"Jane \xff\"}", "record 1: not UTF-8 text"},
		{`[{"name": "Jane Doe"}]`, "record 1: a JSON array"},
		{`"Jane Doe"`, "record 1: not a JSON object"},
		{`{"name": "Jane Doe", "name": "Jane Roe"}`, `record 1: key "name" appears twice`},
		{`{"name": "Jane Doe", "NAME": "Jane Roe"}`, `record 1: key "NAME" appears twice`},
		{`{"name": "A"}` + "\n" + `{"name": "B", "treatments": [{"date": "2026-01-01", "service": "x", "settings": {"a": 1, "a": 2}}]}`, `record 2: key "a" appears twice`},
		// The same key in two objects of one record is not a repeat.
		{`{"name": "A", "patch_tests": [{"date": "2026-01-01", "product": "p"}, {"date": "2026-01-02", "product": "q"}]}`, ""},
		{`{"name": "A", "notes": "a \"name\": b, \"name\""}`, ""},
		{`{"name": "A", "dob": "1990-02-30"}`, "record 1: not a real date"},
	} {
		d := NewDecoder(strings.NewReader(c.in))
		var err error
		for err == nil {
			_, err = d.Next()
		}
		if errors.Is(err, io.EOF) {
			err = nil
		}
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		case c.want != "" && !errors.Is(err, ErrJSON) && !errors.Is(err, ErrNotRealDate):
			t.Errorf("%q: %v does not match ErrJSON", c.in, err)
		}
	}
}

// A record covers a row that adds nothing to it: what a second run of the
// same import finds.
func TestCovers(t *testing.T) {
	rec := &Record{Name: "Jane Doe", DOB: Date{1990, 4, 2}, Phone: "+1 555 0100", Email: "Jane@example.com", Allergies: []string{"latex", "nuts"},
		LastVisited: Date{2018, 3, 4}, Notes: "Tags: VIP",
		Treatments: []Treatment{{N: 1, Date: Date{2026, 1, 1}, Service: "peel"}}}
	for _, c := range []struct {
		row  Record
		want bool
	}{
		{Record{Name: "Jane Doe", DOB: Date{1990, 4, 2}}, true},
		{Record{Name: "Jane Doe", Phone: "+1 555 0100", Allergies: []string{"nuts"}, LastVisited: Date{2018, 3, 4}, Notes: "Tags: VIP"}, true},
		{Record{Name: "Jane Doe", Treatments: []Treatment{{Date: Date{2026, 1, 1}, Service: "peel"}}}, true},
		{Record{Name: "Jane Doe", Phone: "+1 555 0199"}, false},
		{Record{Name: "JANE DÖE", Phone: "(1) 555-0100", Email: ""}, true},
		{Record{Name: "Jane Doe", Phone: "555 0100"}, true},
		{Record{Name: "Jane Doe", Phone: "+44 555 0100"}, false},
		{Record{Name: "Jane Doe", Phone: "555 0100 ext. 3"}, false},
		{Record{Name: "Jane Dough"}, false},
		{Record{Name: "Jane Doe", Email: "jane@EXAMPLE.com"}, true},
		{Record{Name: "Jane Doe", Email: "jane.doe@example.com"}, false},
		{Record{Name: "Jane Doe", Allergies: []string{"latex", "penicillin"}}, false},
		{Record{Name: "Jane Doe", LastVisited: Date{2019, 3, 4}}, false},
		{Record{Name: "Jane Doe", Pregnant: true}, false},
		{Record{Name: "Jane Doe", Treatments: []Treatment{{Date: Date{2026, 1, 2}, Service: "peel"}}}, false},
	} {
		if got := rec.Covers(&c.row); got != c.want {
			t.Errorf("Covers(%+v) = %v", c.row, got)
		}
	}
}

func TestParseDateSaysWhy(t *testing.T) {
	if _, err := ParseDate("2026-02-30"); !errors.Is(err, ErrNotRealDate) || err.Error() != "not a real date" {
		t.Errorf("2026-02-30: %v", err)
	}
	if _, err := ParseDate("30/02/2026"); !errors.Is(err, ErrDateForm) {
		t.Errorf("30/02/2026: %v", err)
	}
}

func TestEntryBeforeBirth(t *testing.T) {
	r := &Record{Name: "Jane Doe", DOB: Date{2000, 1, 1},
		Treatments: []Treatment{{Date: Date{1999, 12, 31}, Service: "facial"}},
		PatchTests: []PatchTest{{Date: Date{1999, 12, 31}, Product: "tint"}}}
	err := r.Validate(Date{2026, 3, 1})
	if err == nil || !strings.Contains(err.Error(), "treatments[0].date: is before the client's date of birth") ||
		!strings.Contains(err.Error(), "patch_tests[0].date: is before") {
		t.Errorf("Validate: %v", err)
	}
	if fe := r.CheckEntry(&Treatment{Date: Date{2000, 1, 1}, Service: "facial"}); fe != nil {
		t.Errorf("on the birthday: %v", fe)
	}
}

// Merging a row fills what is missing and keeps what is better.
func TestMerge(t *testing.T) {
	for _, c := range []struct {
		name     string
		rec, row Record
		want     Record
		changed  string
	}{
		{"fills", Record{Name: "A"}, Record{Name: "A", Phone: "555 0100", Email: "a@example.com", Birthday: "--12-25"},
			Record{Name: "A", Phone: "555 0100", Email: "a@example.com", Birthday: "--12-25"}, "birthday phone email"},
		{"keeps an international phone", Record{Name: "A", Phone: "+1 212 555 0110"}, Record{Name: "A", Phone: "212 555 0110"},
			Record{Name: "A", Phone: "+1 212 555 0110"}, ""},
		{"takes an international phone", Record{Name: "A", Phone: "212 555 0110"}, Record{Name: "A", Phone: "+1 212 555 0110"},
			Record{Name: "A", Phone: "+1 212 555 0110"}, "phone"},
		{"same number written otherwise", Record{Name: "A", Phone: "(212) 555-0110"}, Record{Name: "A", Phone: "212.555.0110"},
			Record{Name: "A", Phone: "(212) 555-0110"}, ""},
		{"keeps a full address", Record{Name: "A", Address: "1 Test St, Springfield, 62704"}, Record{Name: "A", Address: "Springfield"},
			Record{Name: "A", Address: "1 Test St, Springfield, 62704"}, ""},
		{"takes a fuller address", Record{Name: "A", Address: "Springfield"}, Record{Name: "A", Address: "1 Test St, Springfield"},
			Record{Name: "A", Address: "1 Test St, Springfield"}, "address"},
		{"notes and lists grow", Record{Name: "A", Notes: "prefers mornings", Allergies: []string{"latex"}},
			Record{Name: "A", Notes: "prefers mornings\nTags: VIP", Allergies: []string{"Latex", "nuts"}},
			Record{Name: "A", Notes: "prefers mornings\nTags: VIP", Allergies: []string{"latex", "nuts"}}, "allergies notes"},
		{"visits widen", Record{Name: "A", FirstVisit: Date{2015, 1, 1}, LastVisited: Date{2018, 1, 1}},
			Record{Name: "A", FirstVisit: Date{2014, 1, 1}, LastVisited: Date{2017, 1, 1}},
			Record{Name: "A", FirstVisit: Date{2014, 1, 1}, LastVisited: Date{2018, 1, 1}}, "first_visit"},
		{"a date of birth replaces a birthday", Record{Name: "A", Birthday: "--12-25"}, Record{Name: "A", DOB: Date{1990, 12, 25}},
			Record{Name: "A", DOB: Date{1990, 12, 25}}, "dob"},
	} {
		rec := c.rec
		changed := strings.Join(rec.Merge(&c.row), " ")
		if changed != c.changed || !reflect.DeepEqual(rec, c.want) {
			t.Errorf("%s: %+v, changed %q; want %+v, %q", c.name, rec, changed, c.want, c.changed)
		}
	}
}

func TestLikelySameClient(t *testing.T) {
	jane := &Record{Name: "José Doe", DOB: Date{1990, 4, 2}, Phone: "+1 555 0100", Email: "jane@example.com"}
	for _, c := range []struct {
		r    Record
		want bool
	}{
		{Record{Name: "jose  doe", DOB: Date{1990, 4, 2}}, true},
		{Record{Name: "Jose Doe"}, true},
		{Record{Name: "Jose Doe", DOB: Date{1991, 4, 2}, Phone: "(1) 555-0100"}, true},
		{Record{Name: "Jose Doe", DOB: Date{1991, 4, 2}, Email: "JANE@example.com"}, true},
		{Record{Name: "Jose Doe", DOB: Date{1991, 4, 2}, Phone: "+1 555 0199"}, false},
		{Record{Name: "Jose Doe", DOB: Date{1991, 4, 2}, Phone: "555-0100"}, true}, // the number without its country code
		{Record{Name: "Jane Doe", DOB: Date{1990, 4, 2}}, false},
	} {
		if got := LikelySameClient(jane, &c.r); got != c.want {
			t.Errorf("LikelySameClient(%+v) = %v", c.r, got)
		}
	}
}

func TestFoldName(t *testing.T) {
	for _, c := range [][2]string{
		{"Søren Łukasz Straße", "Soren Lukasz Strasse"},
		{"ØSTERGÅRD", "ostergard"},
		{"Æsa Œuvre", "aesa oeuvre"},
		{"José O'Brien", "jose obrien"},
	} {
		if a, b := FoldName(c[0]), FoldName(c[1]); a != b {
			t.Errorf("FoldName(%q) = %q, FoldName(%q) = %q", c[0], a, c[1], b)
		}
	}
	if FoldName("Ann") == FoldName("Anne") {
		t.Error("Ann and Anne folded together")
	}
}

// Date.String formats by hand what fmt formats.
func TestDateStringIsSprintf(t *testing.T) {
	for _, d := range []Date{{2026, 2, 1}, {1, 1, 1}, {9999, 12, 31}, {1990, 10, 9}, {10000, 1, 1}, {-5, 3, 4}, {2020, 13, 1}} {
		if got, want := d.String(), fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}
