package sheet

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeHeader(t *testing.T) {
	for in, want := range map[string]string{
		"E-mail":         "email",
		"Date of Birth":  "dateofbirth",
		" First  Name ":  "firstname",
		"Address 1":      "address1",
		"Phone #":        "phone",
		"PRÉNOM":         "prénom",
		"skin_type":      "skintype",
		"Date of\nBirth": "dateofbirth",
		"#":              "",
	} {
		if got := normalizeHeader(in); got != want {
			t.Errorf("normalizeHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

// fieldsOf returns "field/part" for each column, "-" when not imported.
func fieldsOf(m *mapping) string {
	var out []string
	for _, c := range m.columns() {
		f := c.Field
		if c.Part != "" {
			f += "/" + c.Part
		}
		if f == "" {
			f = "-"
		}
		out = append(out, f)
	}
	return strings.Join(out, " ")
}

func TestHeaderMatching(t *testing.T) {
	tests := []struct {
		header string
		want   string
	}{
		{"First Name,Last Name", "name/first name/last"},
		{"Client Name", "name"},
		{"name", "name"},
		{"Full Name,Nickname", "name preferred_name"},
		{"Name,Preferred Name", "name preferred_name"},
		{"Name,Mobile", "name phone"},
		{"Name,Phone", "name phone"},
		{"Name,Cell", "name phone"},
		{"Name,Mobile Phone", "name phone"},
		{"Name,E-mail", "name email"},
		{"Name,EMAIL", "name email"},
		{"Name,Birthday", "name dob"},
		{"Name,Date of Birth", "name dob"},
		{"Name,D.O.B.", "name dob"},
		{"Name,Birth Date", "name dob"},
		{"Name,Address", "name address"},
		{"Name,Address 1,Address 2,City,State,Zip,Country", "name address address address address address address"},
		{"Name,Street,Province,Postcode,Postal Code", "name address address address address"},
		{"Name,Notes,Client Notes,Comments", "name notes notes notes"},
		{"Name,Allergies,Medications,Medical Conditions", "name allergies medications conditions"},
		{"Name,Conditions,Contraindications", "name conditions contraindications"},
		{"Name,Skin Type,Emergency Contact,Pregnant", "name skin_type emergency_contact pregnant"},
		{"Name,Fitzpatrick", "name skin_type"},
		{"Last Name,First Name", "name/last name/first"},
		{"First Name,Middle Name,Last Name", "name/first name/middle name/last"},
		{"Name,,", "name - -"}, // columns without a header
	}
	for _, tt := range tests {
		m, err := newMapping(strings.Split(tt.header, ","), nil, false)
		if err != nil {
			t.Errorf("%q: %v", tt.header, err)
			continue
		}
		if got := fieldsOf(m); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestHeaderOverrides(t *testing.T) {
	tests := []struct {
		header string
		m      map[string]string
		want   string
	}{
		{"Name,Tel. (home)", map[string]string{"tel (home)": "phone"}, "name phone"},
		{"Name,Phone,Mobile", map[string]string{"Phone": "ignore"}, "name - phone"},
		{"Name,Loyalty", map[string]string{"LOYALTY": "IGNORE"}, "name -"},
		{"Customer Name,Notes", map[string]string{"notes": "allergies"}, "name allergies"},
		{"Given,Family", map[string]string{"Given": "first_name", "Family": "last_name"}, "name/first name/last"},
		{"Name,#", map[string]string{"#": "notes"}, "name notes"},
	}
	for _, tt := range tests {
		m, err := newMapping(strings.Split(tt.header, ","), tt.m, false)
		if err != nil {
			t.Errorf("%q %v: %v", tt.header, tt.m, err)
			continue
		}
		if got := fieldsOf(m); got != tt.want {
			t.Errorf("%q %v: got %q, want %q", tt.header, tt.m, got, tt.want)
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	tests := []struct {
		header string
		m      map[string]string
		is     error
		want   string // in the message
	}{
		{"Name,Email,E-mail", nil, ErrDuplicateHeader, `"Email" (B) and column "E-mail" (C)`},
		{"Name,Loyalty Points,Tags", nil, ErrUnknownColumns, `unknown columns "Loyalty Points" (B), "Tags" (C)`},
		{"Email,Phone", nil, ErrNoNameColumn, "name"},
		{"Name,Mobile,Phone", nil, nil, `column "Mobile" (B), column "Phone" (C) all give phone`},
		{"Name,Full Name", nil, nil, "all give name"},
		{"Name,First Name,Last Name", nil, nil, "all give name"},
		{"Name,DOB,Birthday", nil, nil, "all give dob"},
		{"Name,X,Y", map[string]string{"X": "first_name", "Y": "first_name", "Name": "ignore"}, nil, "all give name"},
		{"Name", map[string]string{"Phone": "phone"}, nil, `map: no column "Phone"`},
		{"Name,Tel", map[string]string{"Tel": "phon"}, nil, `unknown field "phon"`},
		{"Name,Tel", map[string]string{"Tel": "treatments"}, nil, `unknown field "treatments"`},
		{"Name,Tel", map[string]string{"Tel": "phone", "tel": "ignore"}, nil, "mapped more than once"},
	}
	for _, tt := range tests {
		_, err := newMapping(strings.Split(tt.header, ","), tt.m, false)
		if err == nil {
			t.Errorf("%q %v: no error", tt.header, tt.m)
			continue
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%q: error %v is not %v", tt.header, err, tt.is)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %q does not say %q", tt.header, err, tt.want)
		}
	}
}

func TestIgnoreUnknown(t *testing.T) {
	m, err := newMapping([]string{"Name", "Loyalty", "Email", "Tags"}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.unknown(), ","); got != "Loyalty,Tags" {
		t.Errorf("unknown = %q", got)
	}
	cols := m.columns()
	if cols[1].By != "unknown" || cols[1].Field != "" || cols[1].Column != "B" {
		t.Errorf("column B = %+v", cols[1])
	}
	if cols[2].By != "header" || cols[2].Field != "email" {
		t.Errorf("column C = %+v", cols[2])
	}
	if s := cols[1].String(); s != `B "Loyalty" -> not imported [unknown]` {
		t.Errorf("String() = %q", s)
	}
}

func TestColumnLetter(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := columnLetter(i); got != want {
			t.Errorf("columnLetter(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestFieldNames(t *testing.T) {
	names := strings.Join(FieldNames(), " ")
	for _, f := range []string{"name", "first_name", "phone", "dob", "allergies", "pregnant", "notes", "ignore"} {
		if !strings.Contains(" "+names+" ", " "+f+" ") {
			t.Errorf("FieldNames lacks %s: %s", f, names)
		}
	}
}
