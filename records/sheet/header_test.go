package sheet

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeHeader(t *testing.T) {
	for in, want := range map[string]string{
		"E-mail":                 "email",
		"Date of Birth":          "dateofbirth",
		" First  Name ":          "firstname",
		"Address 1":              "address1",
		"Phone #":                "phonenumber",
		"Client #":               "clientnumber",
		"PRÉNOM":                 "prenom",
		"Straße":                 "strasse",
		"Søndag Łódź":            "sondaglodz",
		"Birthdate (YYYY-MM-DD)": "birthdate",
		"Tel. (home)":            "tel",
		"(Mobile)":               "mobile",
		"Città":                  "citta",
		"skin_type":              "skintype",
		"Date of\nBirth":         "dateofbirth",
		"#":                      "",
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
		// Several phones or emails: the first is the field, the others are
		// lines of the notes; without a phone column, another phone is it.
		{"Name,Mobile,Phone", "name phone notes"},
		{"Name,Phone (home),Phone (work)", "name phone notes"},
		{"Name,Home Phone,Work Phone", "name phone notes"},
		{"Name,Email,Email 2", "name email notes"},
		// Data without a field of its own goes to the notes.
		{"Name,Gender,Tags,Blocked,Accepts Marketing,Referral Source,Memo", "name notes notes notes notes notes notes"},
		// A phone or address word keeps a column that has no known name.
		{"Name,Mobile,Phone Fax Line,Street Address Line 4,Emergency Contact", "name phone notes address emergency_contact"},
		// Spanish surnames in two columns are joined.
		{"Nombre,Primer Apellido,Segundo Apellido", "name/first name/last name/last"},
		{"Name,Birthday Day,Birthday Month,Birthday Year", "name dob/day dob/month dob/year"},
		{"Name,Birthdate (YYYY-MM-DD),Last Visit (DD/MM/YYYY)", "name dob last_visit"},
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
		{"Name,,Email", map[string]string{"B": "phone"}, "name phone email"},
		{"Name,Loyalty", map[string]string{"Loyalty": "labelled_note"}, "name notes"},
		{"Name,Mobile,Phone", map[string]string{"Phone": "phone"}, "name notes phone"},
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
		{"Name,Loyalty Points,Favourite Colour", nil, ErrUnknownColumns, `unknown columns "Loyalty Points" (B), "Favourite Colour" (C)`},
		{"Email,Phone", nil, ErrNoNameColumn, "name"},
		{"Name,DOB,Birth Day of Month", nil, nil, "all give dob"},
		{"Name,DOB Day,DOB Year", nil, nil, "needs a day and a month column"},
		{"Name,First Name,Prénom", nil, nil, "all give name"},
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
	m, err := newMapping([]string{"Name", "Loyalty", "Email", "Favourite Colour"}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.unknown(), ","); got != "Loyalty,Favourite Colour" {
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

// Headers in the languages of the salons, as vendors write them: accents,
// case and parenthesised hints do not matter.
func TestHeaderLanguages(t *testing.T) {
	tests := []struct{ header, want string }{
		// French
		{"Nom,Prénom,Téléphone,Date de naissance,Remarques", "name/last name/first phone dob notes"},
		{"NOM,PRENOM,Portable,Courriel,Adresse,Code postal,Ville,Dernière visite,Client depuis",
			"name/last name/first phone email address address address last_visit first_visit"},
		{"Nom", "name"},
		// Italian
		{"Nome e cognome,Numero di cellulare,Data di nascita,Note cliente,Zona,Ultima visita",
			"name phone dob notes address last_visit"},
		{"Nome,Cognome,Cellulare,Indirizzo,CAP,Città,Provincia,Data creazione", "name/first name/last phone address address address address first_visit"},
		{"Nome", "name"},
		// German
		{"Vorname,Nachname,Handy,E-Mail,Geburtsdatum,Straße,PLZ,Ort,Bemerkungen,Letzter Besuch,Kunde seit",
			"name/first name/last phone email dob address address address notes last_visit first_visit"},
		// Spanish
		{"Nombre,Apellidos,Teléfono móvil,Correo electrónico,Fecha de nacimiento,Dirección,Observaciones,Última visita",
			"name/first name/last phone email dob address notes last_visit"},
		{"Nombre", "name"},
		// Portuguese
		{"Nome,Sobrenome,Telemóvel,Data de nascimento,Morada,Código postal,Observações,Última visita",
			"name/first name/last phone dob address address notes last_visit"},
		// Dutch
		{"Voornaam,Tussenvoegsel,Achternaam,Mobiel,Geboortedatum,Adres,Postcode,Woonplaats,Opmerkingen,Laatste bezoek",
			"name/first name/middle name/last phone dob address address address notes last_visit"},
		// Vendors' English
		{"Client Name,Street Address 1,Street Address 2,Apt/Suite,Suburb,City & Province/state,zip/pc,Country",
			"name address address address address address address address"},
		{"Name,Last Visited,LastVisit (yyyy-mm-dd)", "name last_visit last_visit"},
		{"Name,Customer Since,Added", "name first_visit first_visit"},
		{"Name,Creation Date,Memo,Note", "name first_visit notes notes"},
		{"Name,Birthdate (YYYY-MM-DD)", "name dob"},
	}
	for _, tt := range tests {
		m, err := buildMapping(strings.Split(tt.header, ","), nil, nil, false, true)
		if err != nil {
			t.Errorf("%q: %v", tt.header, err)
			continue
		}
		if got := fieldsOf(m); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.header, got, tt.want)
		}
	}
	// Every name in the table reads as its key.
	for key, n := range headerNames {
		for _, lang := range n.all() {
			for _, h := range lang {
				if got := byHeader[normalizeHeader(h)]; got == nil || got.key != key {
					t.Errorf("%q reads as %v, want %s", h, got, key)
				}
			}
		}
	}
}

// A hint in a header may give the date format of its column.
func TestHintDateFormat(t *testing.T) {
	for hint, want := range map[string]string{
		"YYYY-MM-DD": DateISO, "DD/MM/YYYY": DateDMY, "MM/DD/YYYY": DateMDY, "JJ/MM/AAAA": DateDMY,
		"TT.MM.JJJJ": DateDMY, "GG/MM/AAAA": DateDMY, "dd-mm-yyyy": DateDMY, "optional": "", "mobile": "", "": "",
	} {
		if got := hintDateFormat(hint); got != want {
			t.Errorf("hintDateFormat(%q) = %q, want %q", hint, got, want)
		}
	}
}

// Inspecting marks what would refuse the file instead of failing.
func TestHeaderInspect(t *testing.T) {
	m, err := buildMapping([]string{"Email", "DOB", "Birthday", "Favourite Colour"}, nil, nil, false, true)
	if err != nil {
		t.Fatal(err)
	}
	cols := m.columns()
	if !strings.HasPrefix(cols[1].Note, "conflict: ") || !strings.HasPrefix(cols[2].Note, "conflict: ") ||
		!strings.HasPrefix(cols[3].Note, "unknown") || cols[0].Note != "" {
		t.Errorf("notes: %+v", cols)
	}
	if got := strings.Join(m.problems, "\n"); !strings.Contains(got, "all give dob") || !strings.Contains(got, "no column gives the client's name") {
		t.Errorf("problems: %s", got)
	}
}

func TestColumnLetter(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := columnLetter(i); got != want {
			t.Errorf("columnLetter(%d) = %q, want %q", i, got, want)
		}
		if got := letterIndex(want); got != i {
			t.Errorf("letterIndex(%q) = %d, want %d", want, got, i)
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
