package sheet

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Errors about the header row that callers may test for.
var (
	// ErrUnknownColumns is wrapped by Open when a header matches no field and
	// Options.IgnoreUnknown is false. The error lists those headers.
	ErrUnknownColumns = errors.New("unknown columns")
	// ErrDuplicateHeader is wrapped by Open when two headers are the same
	// once case and punctuation are dropped.
	ErrDuplicateHeader = errors.New("duplicate column")
	// ErrNoNameColumn is returned by Open when no column gives the client's
	// name, which every record requires.
	ErrNoNameColumn = errors.New("no column gives the client's name (looked for Name, Client Name, Full Name, or First Name and Last Name)")
)

// kind says how the cells of a field are read and how several columns that
// feed one field are combined.
type kind int

const (
	kindText     kind = iota // one column: text as it is
	kindName                 // one column: the full name
	kindNamePart             // first, middle and last name, joined by spaces in that order
	kindAddress              // any number of columns, joined by ", " in column order
	kindList                 // any number of columns, each split on ; , or newline
	kindDate                 // one column: a date
	kindBool                 // one column: yes or no
	kindNotes                // any number of columns, joined by newlines in column order
	kindLabel                // a line of the notes, "Header: value"
	kindDatePart             // the day, month or year of the date of birth
)

// target is a destination that a column can feed: a field of the record, or
// a part of one.
type target struct {
	key     string   // the name Options.Map accepts
	field   string   // the Record JSON name it feeds
	part    string   // "first", "middle" or "last" for name parts; "day", "month" or "year" for date parts
	kind    kind     //
	headers []string // normalized header names that map to it (from headerNames)
}

// targets lists every destination in the order of a record. Their header
// names are in names.go.
var targets = []*target{
	{key: "name", field: "name", kind: kindName},
	{key: "first_name", field: "name", part: "first", kind: kindNamePart},
	{key: "middle_name", field: "name", part: "middle", kind: kindNamePart},
	{key: "last_name", field: "name", part: "last", kind: kindNamePart},
	{key: "preferred_name", field: "preferred_name", kind: kindText},
	{key: "dob", field: "dob", kind: kindDate},
	{key: "dob_day", field: "dob", part: "day", kind: kindDatePart},
	{key: "dob_month", field: "dob", part: "month", kind: kindDatePart},
	{key: "dob_year", field: "dob", part: "year", kind: kindDatePart},
	{key: "phone", field: "phone", kind: kindText},
	{key: "email", field: "email", kind: kindText},
	{key: "address", field: "address", kind: kindAddress},
	{key: "emergency_contact", field: "emergency_contact", kind: kindText},
	{key: "skin_type", field: "skin_type", kind: kindText},
	{key: "conditions", field: "conditions", kind: kindList},
	{key: "medications", field: "medications", kind: kindList},
	{key: "allergies", field: "allergies", kind: kindList},
	{key: "contraindications", field: "contraindications", kind: kindList},
	{key: "pregnant", field: "pregnant", kind: kindBool},
	{key: "notes", field: "notes", kind: kindNotes},
	{key: "first_visit", field: "first_visit", kind: kindDate},
	{key: "last_visit", field: "last_visit", kind: kindDate},
	// Client data without a field of its own: a labelled line of the notes.
	{key: "other_phone", field: "notes", kind: kindLabel},
	{key: "other_email", field: "notes", kind: kindLabel},
	{key: "company", field: "notes", kind: kindLabel},
	{key: "client_id", field: "notes", kind: kindLabel},
	{key: "gender", field: "notes", kind: kindLabel},
	{key: "tags", field: "notes", kind: kindLabel},
	{key: "blocked", field: "notes", kind: kindLabel},
	{key: "marketing_consent", field: "notes", kind: kindLabel},
	{key: "referral", field: "notes", kind: kindLabel},
	// Any other column, by --map "Header=labelled_note".
	{key: "labelled_note", field: "notes", kind: kindLabel},
}

// ignoreKey is the Options.Map value that makes a column not imported.
const ignoreKey = "ignore"

var (
	byHeader = map[string]*target{}
	byKey    = map[string]*target{}
)

func init() {
	for _, t := range targets {
		byKey[t.key] = t
		for _, lang := range headerNames[t.key].all() {
			for _, h := range lang {
				n := normalizeHeader(h)
				if other := byHeader[n]; other != nil && other != t {
					panic("sheet: header " + h + " is listed for " + other.key + " and " + t.key)
				}
				if byHeader[n] == nil {
					t.headers = append(t.headers, n)
				}
				byHeader[n] = t
			}
		}
	}
	for key := range headerNames {
		if byKey[key] == nil {
			panic("sheet: header names for an unknown key " + key)
		}
	}
}

// FieldNames returns the names that Options.Map accepts as a column's field:
// the Record JSON names that a spreadsheet can fill, the name parts
// first_name, middle_name and last_name, the parts of a date of birth
// dob_day, dob_month and dob_year, the labelled lines of the notes
// (other_phone, tags, ... and labelled_note for any column), and "ignore".
func FieldNames() []string {
	names := make([]string, 0, len(targets)+1)
	for _, t := range targets {
		names = append(names, t.key)
	}
	return append(names, ignoreKey)
}

// FieldHelp describes each name of FieldNames in a few words, for
// `import --help`.
func FieldHelp() [][2]string {
	desc := map[string]string{
		"name": "the full name", "first_name": "part of the name", "middle_name": "part of the name",
		"last_name": "part of the name (two columns are joined)", "preferred_name": "the name the client goes by",
		"dob":     "date of birth, or a birthday without a year (kept as --MM-DD)",
		"dob_day": "day of the date of birth", "dob_month": "month of the date of birth (a number or a name)",
		"dob_year": "year of the date of birth (none keeps day and month)",
		"phone":    "the phone, with an extension; another phone column goes to the notes",
		"email":    "the email address; another email column goes to the notes",
		"address":  "any number of columns, joined by \", \"", "emergency_contact": "emergency contact",
		"skin_type": "Fitzpatrick I-VI or 1-6", "conditions": "list, split on ; , or newline",
		"medications": "list", "allergies": "list", "contraindications": "list", "pregnant": "yes or no",
		"notes":       "any number of columns, joined by newlines",
		"first_visit": "date of the first visit (Customer Since, Added, Creation Date)",
		"last_visit":  "date of the last visit; retention counts from it",
		"other_phone": "in the notes as \"Header: value\"", "other_email": "in the notes", "gender": "in the notes",
		"tags": "in the notes", "company": "in the notes", "client_id": "the old system's client number, in the notes", "blocked": "in the notes", "marketing_consent": "in the notes", "referral": "in the notes",
		"labelled_note": "any column, in the notes as \"Header: value\"", ignoreKey: "not imported",
	}
	out := make([][2]string, 0, len(targets)+1)
	for _, n := range FieldNames() {
		out = append(out, [2]string{n, desc[n]})
	}
	return out
}

// normalizeHeader folds a header for matching: a parenthesised hint at the
// end dropped ("Birthdate (YYYY-MM-DD)"), accents and case dropped, letters
// that do not decompose spelled out (ß as ss, ø as o, ł as l, æ as ae), and
// nothing but letters and digits kept, so that "E-mail" matches "email",
// "Date of Birth" "dateofbirth" and "Téléphone" "telephone".
func normalizeHeader(s string) string {
	name, _ := splitHint(s)
	// "Client #" is a client number, not the client; "Phone #" a number.
	if n, ok := strings.CutSuffix(strings.TrimSpace(name), "#"); ok && fold(n) != "" {
		return fold(n) + "number"
	}
	return fold(name)
}

// fold is normalizeHeader without the hint rule.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining accent: dropped
		case r == 'ß':
			b.WriteString("ss")
		case r == 'ø' || r == 'Ø':
			b.WriteByte('o')
		case r == 'ł' || r == 'Ł':
			b.WriteByte('l')
		case r == 'æ' || r == 'Æ':
			b.WriteString("ae")
		case r == 'œ' || r == 'Œ':
			b.WriteString("oe")
		case r == 'đ' || r == 'Đ':
			b.WriteByte('d')
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// splitHint splits a header into its name and a hint in brackets at its
// end: "Birthdate (YYYY-MM-DD)" is "Birthdate" and "YYYY-MM-DD". A header
// that is only a bracketed text is all name.
func splitHint(s string) (name, hint string) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return s, ""
	}
	var open byte
	switch s[len(s)-1] {
	case ')':
		open = '('
	case ']':
		open = '['
	default:
		return s, ""
	}
	i := strings.LastIndexByte(s, open)
	if i <= 0 || fold(s[:i]) == "" {
		return s, ""
	}
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1 : len(s)-1])
}

// hintDateFormat returns the date format that a header's hint spells, such
// as "DD/MM/YYYY", "JJ/MM/AAAA" (French), "TT.MM.JJJJ" (German) or
// "YYYY-MM-DD", or "" when the hint is not one.
func hintDateFormat(hint string) string {
	h := strings.ToUpper(strings.TrimSpace(hint))
	if len(h) < 8 || len(h) > 12 || strings.Trim(h, "DMYJTAG/.- ") != "" {
		return ""
	}
	day := strings.IndexAny(h, "DJTG")
	month := strings.IndexByte(h, 'M')
	switch {
	case month < 0 || day < 0:
		return ""
	case strings.HasPrefix(h, "YYYY") || strings.HasPrefix(h, "AAAA") || strings.HasPrefix(h, "JJJJ"):
		return DateISO
	case day < month:
		return DateDMY
	}
	return DateMDY
}

// How a column came to be read or not, for ColumnMapping.By.
const (
	byHeaderName = "header"  // the header is a known name
	byMap        = "map"     // Options.Map names its field
	byIgnore     = "ignore"  // Options.Map says ignore
	byUnknown    = "unknown" // matched nothing; not imported (IgnoreUnknown)
	byBlank      = "blank"   // no header; its cells must stay empty
	bySimilar    = "similar" // no known name, but a phone or address word in it
	byMerged     = "merged"  // under a header cell merged over it and the column to its left
)

// ColumnMapping says how one column of the file is read, for
// `import --print-mapping`.
type ColumnMapping struct {
	// Column is the column's letter as a spreadsheet shows it: "A", ... "AA".
	Column string
	// Header is the header cell, trimmed.
	Header string
	// Field is the Record JSON name the column feeds, or "" when the column
	// is not imported.
	Field string
	// Part is "first", "middle" or "last" for a column that holds part of
	// the name, and "" otherwise.
	Part string
	// By says why: "header" (a known header name), "merged" (under a header
	// cell merged over this column and the one to its left), "similar" (a header with
	// a phone or address word in it: such a column is never left out),
	// "map" (Options.Map), "ignore" (Options.Map says ignore), "unknown"
	// (matched nothing and Options.IgnoreUnknown is set) or "blank" (no
	// header: its cells must be empty).
	By string
	// Read says how a cell is read, e.g. "date" or "list split on ; , or
	// newline".
	Read string
	// Note marks what stops an import, for a mapping read with
	// Options.Inspect: "conflict: ..." when another column gives the same
	// field, "duplicate header", "unknown: map it to a field or to ignore".
	Note string
}

// String formats the mapping as one line, e.g.
// `A "First Name" -> name (first part) [header]`.
func (c ColumnMapping) String() string {
	dest := "not imported"
	if c.Field != "" {
		dest = c.Field
		if c.Part != "" {
			dest += " (" + c.Part + " part)"
		}
		if c.Read != "" {
			dest += ": " + c.Read
		}
	}
	return fmt.Sprintf("%s %q -> %s [%s]", c.Column, c.Header, dest, c.By)
}

// column is one column of the header and where its cells go.
type column struct {
	index      int
	header     string  // trimmed
	t          *target // nil when not imported
	by         string
	dateFormat string // from a hint in the header, e.g. "Birthdate (DD/MM/YYYY)"
	mergedFrom int    // the column whose merged header cell covers this one, or -1
	note       string // what is wrong with it, in a mapping read to inspect
}

// name names the column in an error: its header and its letter.
func (c *column) name() string {
	if c.header == "" {
		return "column " + columnLetter(c.index)
	}
	return fmt.Sprintf("column %q (%s)", c.header, columnLetter(c.index))
}

// mapping is the header read and matched: one column per header cell.
type mapping struct {
	cols []column
	// feeds lists, for each Record JSON name, the columns that feed it:
	// for the name, the parts in first, middle, last order; for the notes,
	// in column order.
	feeds map[string][]*column
	// fields lists the same, one entry per field fed, in record order, for
	// the loop over every row.
	fields []fieldColumns
	// problems lists what stops an import, found while inspecting (see
	// buildMapping); empty otherwise.
	problems []string
}

type fieldColumns struct {
	field string
	cols  []*column
}

// errNoKnownName is the error of a header row with no known column name.
var errNoKnownName = fmt.Errorf("%w: no column of the first row has a known name; is the header row missing? (--header-row N names it)", ErrUnknownColumns)

// newMapping matches the header cells to fields. overrides is Options.Map.
func newMapping(header []string, overrides map[string]string, ignoreUnknown bool) (*mapping, error) {
	return buildMapping(header, nil, overrides, ignoreUnknown, false)
}

// buildMapping matches the header cells to fields. With inspect, what
// would refuse the file (duplicate headers, unknown columns, two columns
// for one value, no name) is marked on the columns and listed in
// m.problems instead, so that --print-mapping can show it; a mistake in
// overrides is still an error.
//
// merged maps each column that a header cell merged over several columns
// covers (but does not start at) to the column the cell starts at. Such a
// column is named after the cell, "Phone (2)", and read as more of the
// same: another part of the address or the notes, another phone, and for
// a name over two columns the first and the last name.
func buildMapping(header []string, merged map[int]int, overrides map[string]string, ignoreUnknown, inspect bool) (*mapping, error) {
	// A column mapped by its letter may lie past the header's last cell
	// (a header row whose cells end before the data's do).
	for key := range overrides {
		i := letterIndex(strings.TrimSpace(key))
		if i < len(header) || i >= maxColumns {
			continue
		}
		named := false
		for _, h := range header {
			named = named || normalizeHeader(h) == normalizeHeader(key)
		}
		if !named {
			header = append(header[:len(header):len(header)], make([]string, i+1-len(header))...)
		}
	}
	m := &mapping{cols: make([]column, len(header)), feeds: map[string][]*column{}}
	fail := func(err error, cols ...*column) error {
		if !inspect {
			return err
		}
		for _, c := range cols {
			if c.note == "" {
				c.note = noteOf(err)
			}
		}
		m.problems = append(m.problems, err.Error())
		return nil
	}
	known := 0
	covered := map[int]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if from, ok := merged[i]; ok && h == "" && from < i && strings.TrimSpace(header[from]) != "" {
			covered[from]++
			h = fmt.Sprintf("%s (%d)", strings.TrimSpace(header[from]), covered[from]+1)
		}
		_, hint := splitHint(h)
		m.cols[i] = column{index: i, header: h, dateFormat: hintDateFormat(hint), mergedFrom: -1}
		if from, ok := merged[i]; ok && m.cols[i].header != strings.TrimSpace(header[i]) {
			m.cols[i].mergedFrom = from
		}
		if byHeader[normalizeHeader(h)] != nil {
			known++
		}
	}
	for key := range overrides {
		// By its header, not its letter: a letter finds a column in any row.
		if i := findColumn(m.cols, key); i >= 0 && m.cols[i].header != "" && letterIndex(strings.TrimSpace(key)) != i {
			known++
		}
	}
	if known == 0 {
		// Then the first row is most likely a client, not a header: a file
		// exported without its header row. Its cells are client data, so
		// none is named.
		return nil, errNoKnownName
	}
	seen := map[string]int{}
	for i := range m.cols {
		// The hint counts here: "Phone (home)" and "Phone (work)" are two
		// phones, not one column twice.
		n := fold(m.cols[i].header)
		if n == "" {
			continue
		}
		if j, dup := seen[n]; dup {
			err := fmt.Errorf("header: %w: %s and %s", ErrDuplicateHeader, m.cols[j].name(), m.cols[i].name())
			if err := fail(err, &m.cols[i]); err != nil {
				return nil, err
			}
			continue
		}
		seen[n] = i
	}

	// Options.Map first, so that it overrides the known names.
	mapped := make([]bool, len(header))
	keys := make([]string, 0, len(overrides))
	for key := range overrides {
		keys = append(keys, key)
	}
	sort.Strings(keys) // errors name the same column on every run
	for _, key := range keys {
		field := overrides[key]
		i := findColumn(m.cols, key)
		if i < 0 {
			return nil, fmt.Errorf("map: no column %q in the header", strings.TrimSpace(key))
		}
		f := strings.ToLower(strings.TrimSpace(field))
		c := &m.cols[i]
		if mapped[i] {
			return nil, fmt.Errorf("map: %s is mapped more than once", c.name())
		}
		mapped[i] = true
		if f == ignoreKey {
			c.by = byIgnore
			continue
		}
		t := byKey[f]
		if t == nil {
			return nil, fmt.Errorf("map: %s: unknown field %q (fields: %s)", c.name(), field, strings.Join(FieldNames(), ", "))
		}
		c.t, c.by = t, byMap
	}

	var unknown []string
	var unknownCols []*column
	for i := range m.cols {
		c := &m.cols[i]
		if mapped[i] {
			continue
		}
		if c.header == "" {
			c.by = byBlank
			continue
		}
		n := normalizeHeader(c.header)
		if t := byHeader[n]; t != nil {
			c.t, c.by = t, byHeaderName
			if c.mergedFrom >= 0 {
				c.by = byMerged
			}
			continue
		}
		if t := similar(n); t != nil {
			c.t, c.by = t, bySimilar
			continue
		}
		c.by = byUnknown
		unknown = append(unknown, fmt.Sprintf("%q (%s)", c.header, columnLetter(c.index)))
		unknownCols = append(unknownCols, c)
	}
	if len(unknown) > 0 && !ignoreUnknown {
		err := fmt.Errorf("%w %s: map each to a field or to ignore", ErrUnknownColumns, strings.Join(unknown, ", "))
		if err := fail(err, unknownCols...); err != nil {
			return nil, err
		}
	}
	m.settle()

	for _, t := range targets {
		for i := range m.cols {
			if c := &m.cols[i]; c.t == t {
				m.feeds[t.field] = append(m.feeds[t.field], c)
			}
		}
	}
	sort.SliceStable(m.feeds["notes"], func(i, j int) bool { return m.feeds["notes"][i].index < m.feeds["notes"][j].index })
	if err := m.checkConflicts(fail); err != nil {
		return nil, err
	}
	for _, t := range targets {
		if cols := m.feeds[t.field]; len(cols) > 0 && cols[0].t == t {
			m.fields = append(m.fields, fieldColumns{t.field, cols})
		}
	}
	return m, nil
}

// noteOf is the short mark of a mapping problem on a column.
func noteOf(err error) string {
	switch {
	case errors.Is(err, ErrDuplicateHeader):
		return "duplicate header"
	case errors.Is(err, ErrUnknownColumns):
		return "unknown: map it to a field or to ignore"
	}
	return "conflict: " + strings.TrimPrefix(err.Error(), "header: ")
}

// similar returns the target of a header that has no known name but holds
// a word for a phone (another phone, into the notes) or an address line.
func similar(n string) *target {
	for _, s := range phoneStems {
		if strings.Contains(n, s) {
			return byKey["other_phone"]
		}
	}
	if strings.Contains(n, "mail") {
		return nil // "email address 3" is no street
	}
	for _, s := range addressStems {
		if strings.Contains(n, s) {
			return byKey["address"]
		}
	}
	return nil
}

// settle resolves what the header names leave open, before conflicts are
// checked: a lone "Nom", "Nome" or "Nombre" is the whole name; of several
// phone (or email) columns the first is the phone and the others go to the
// notes, and without a phone column the first other phone is the phone.
func (m *mapping) settle() {
	for i := range m.cols {
		c := &m.cols[i]
		if c.mergedFrom >= 0 && c.by == byMerged && c.t == byKey["name"] && m.cols[c.mergedFrom].t == byKey["name"] {
			m.cols[c.mergedFrom].t, c.t = byKey["first_name"], byKey["last_name"]
		}
	}
	var nameCols []*column
	for i := range m.cols {
		if c := &m.cols[i]; c.t != nil && c.t.field == "name" {
			nameCols = append(nameCols, c)
		}
	}
	if len(nameCols) == 1 && nameCols[0].by == byHeaderName && soloFullName[normalizeHeader(nameCols[0].header)] {
		nameCols[0].t = byKey["name"]
	}
	for _, f := range [][2]string{{"phone", "other_phone"}, {"email", "other_email"}} {
		var main, other []*column
		for i := range m.cols {
			c := &m.cols[i]
			switch {
			case c.t == byKey[f[0]]:
				main = append(main, c)
			case c.t == byKey[f[1]] && c.by != byMap:
				other = append(other, c)
			}
		}
		if len(main) == 0 && len(other) > 0 {
			// A mobile, where texts and reminders go, before a home phone.
			best := other[0]
			for _, c := range other {
				if n := normalizeHeader(c.header); strings.Contains(n, "cell") || strings.Contains(n, "mobil") {
					best = c
					break
				}
			}
			best.t = byKey[f[0]]
			continue
		}
		// A column mapped by Options.Map keeps the field; else the first.
		keep := 0
		for i, c := range main {
			if c.by == byMap {
				keep = i
				break
			}
		}
		for i, c := range main {
			if i != keep && c.by != byMap {
				c.t = byKey[f[1]]
			}
		}
	}
}

// findColumn returns the index of the column whose header matches key as
// header names match (see normalizeHeader), or exactly when key has no
// letters or digits, or else whose letter key is ("C"), so that a column
// without a header can be mapped; -1 if none does.
func findColumn(cols []column, key string) int {
	n := normalizeHeader(key)
	for i, c := range cols {
		if n != "" && normalizeHeader(c.header) == n {
			return i
		}
		if n == "" && c.header != "" && c.header == strings.TrimSpace(key) {
			return i
		}
	}
	if i := letterIndex(strings.TrimSpace(key)); i >= 0 && i < len(cols) {
		return i
	}
	return -1
}

// letterIndex returns the 0-based index of a column letter ("A", "AB"), or
// -1 if s is not one.
func letterIndex(s string) int {
	if s == "" || len(s) > 3 {
		return -1
	}
	n := 0
	for _, r := range strings.ToUpper(s) {
		if r < 'A' || r > 'Z' {
			return -1
		}
		n = n*26 + int(r-'A'+1)
	}
	return n - 1
}

// checkConflicts refuses two columns for a field that has room for one
// value, so that the file's author, not the order of its columns, decides
// which one is imported; fail records or returns each problem (see
// buildMapping).
func (m *mapping) checkConflicts(fail func(error, ...*column) error) error {
	for _, t := range targets {
		field, cols := t.field, m.feeds[t.field]
		if len(cols) == 0 || t != cols[0].t {
			continue // each field once, by its first target
		}
		var clash []*column
		switch cols[0].t.kind {
		case kindAddress, kindList, kindNotes, kindLabel:
			continue
		case kindName, kindNamePart:
			full, parts := 0, map[string]int{}
			for _, c := range cols {
				if c.t.kind == kindName {
					full++
				} else {
					parts[c.t.part]++
				}
			}
			// Two surnames (Spanish) or middle names are joined; two
			// first names are not.
			if full > 1 || (full == 1 && len(parts) > 0) || parts["first"] > 1 {
				clash = cols
			}
		case kindDate, kindDatePart:
			full, parts := 0, map[string]int{}
			for _, c := range cols {
				if c.t.kind == kindDate {
					full++
				} else {
					parts[c.t.part]++
				}
			}
			if full > 1 || (full == 1 && len(parts) > 0) || parts["day"] > 1 || parts["month"] > 1 || parts["year"] > 1 {
				clash = cols
			} else if full == 0 && (parts["day"] == 0 || parts["month"] == 0) {
				err := fmt.Errorf("header: %s: a date of birth in parts needs a day and a month column", cols[0].name())
				if err := fail(err, cols...); err != nil {
					return err
				}
			}
		default:
			if len(cols) > 1 {
				clash = cols
			}
		}
		if clash != nil {
			names := make([]string, len(clash))
			for i, c := range clash {
				names[i] = c.name()
			}
			err := fmt.Errorf("header: %s all give %s: map the ones not to import to ignore", strings.Join(names, ", "), field)
			if err := fail(err, clash...); err != nil {
				return err
			}
		}
	}
	if len(m.feeds["name"]) == 0 {
		return fail(ErrNoNameColumn)
	}
	return nil
}

// columns returns the mapping of every column, in column order.
func (m *mapping) columns() []ColumnMapping {
	out := make([]ColumnMapping, len(m.cols))
	for i, c := range m.cols {
		cm := ColumnMapping{Column: columnLetter(c.index), Header: c.header, By: c.by, Note: c.note}
		if c.t != nil {
			cm.Field, cm.Part = c.t.field, c.t.part
			cm.Read = readDescription(&c, len(m.feeds[c.t.field]))
		}
		out[i] = cm
	}
	return out
}

// unknown returns the headers of the columns that matched nothing.
func (m *mapping) unknown() []string {
	var out []string
	for _, c := range m.cols {
		if c.by == byUnknown {
			out = append(out, c.header)
		}
	}
	return out
}

func readDescription(c *column, n int) string {
	switch c.t.kind {
	case kindNamePart:
		return "joined with the other name parts by spaces"
	case kindAddress:
		if n > 1 {
			return `joined with the other address columns by ", "`
		}
	case kindList:
		return "list split on ; , or newline"
	case kindDate:
		if c.dateFormat != "" {
			return "date " + c.dateFormat
		}
		return "date"
	case kindDatePart:
		return c.t.part + " of the date"
	case kindBool:
		return "yes or no"
	case kindNotes:
		if n > 1 {
			return "joined with the other notes columns by newlines"
		}
	case kindLabel:
		return fmt.Sprintf("a line of the notes: %q", c.label()+": ...")
	}
	return "text"
}

// columnLetter returns a 0-based column index as a spreadsheet letters it.
func columnLetter(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append(b, byte('A'+(i-1)%26))
	}
	for l, r := 0, len(b)-1; l < r; l, r = l+1, r-1 {
		b[l], b[r] = b[r], b[l]
	}
	return string(b)
}
