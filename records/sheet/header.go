package sheet

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
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
)

// target is a destination that a column can feed: a field of the record, or
// a part of one.
type target struct {
	key     string   // the name Options.Map accepts
	field   string   // the Record JSON name it feeds
	part    string   // "first", "middle" or "last" for name parts
	kind    kind     //
	headers []string // normalized header names that map to it
}

// targets lists every destination in the order of a record. Header names are
// the ones booking and spa systems export, normalized (see normalizeHeader).
var targets = []*target{
	{key: "name", field: "name", kind: kindName,
		headers: []string{"name", "clientname", "fullname", "customername", "client"}},
	{key: "first_name", field: "name", part: "first", kind: kindNamePart,
		headers: []string{"firstname", "givenname", "first", "forename"}},
	{key: "middle_name", field: "name", part: "middle", kind: kindNamePart,
		headers: []string{"middlename"}},
	{key: "last_name", field: "name", part: "last", kind: kindNamePart,
		headers: []string{"lastname", "surname", "familyname", "last"}},
	{key: "preferred_name", field: "preferred_name", kind: kindText,
		headers: []string{"preferredname", "nickname"}},
	{key: "dob", field: "dob", kind: kindDate,
		headers: []string{"birthday", "dateofbirth", "dob", "birthdate"}},
	{key: "phone", field: "phone", kind: kindText,
		headers: []string{"phone", "mobile", "cell", "mobilephone", "cellphone", "phonenumber", "mobilenumber", "telephone"}},
	{key: "email", field: "email", kind: kindText,
		headers: []string{"email", "emailaddress"}},
	{key: "address", field: "address", kind: kindAddress,
		headers: []string{"address", "address1", "address2", "address3", "addressline1", "addressline2",
			"street", "streetaddress", "city", "town", "state", "province", "county",
			"zip", "zipcode", "postcode", "postalcode", "country"}},
	{key: "emergency_contact", field: "emergency_contact", kind: kindText,
		headers: []string{"emergencycontact"}},
	{key: "skin_type", field: "skin_type", kind: kindText,
		headers: []string{"skintype", "fitzpatrick", "fitzpatrickskintype", "fitzpatricktype"}},
	{key: "conditions", field: "conditions", kind: kindList,
		headers: []string{"medicalconditions", "conditions"}},
	{key: "medications", field: "medications", kind: kindList,
		headers: []string{"medications", "medication"}},
	{key: "allergies", field: "allergies", kind: kindList,
		headers: []string{"allergies"}},
	{key: "contraindications", field: "contraindications", kind: kindList,
		headers: []string{"contraindications"}},
	{key: "pregnant", field: "pregnant", kind: kindBool,
		headers: []string{"pregnant"}},
	{key: "notes", field: "notes", kind: kindNotes,
		headers: []string{"notes", "clientnotes", "comments", "note", "comment"}},
	{key: "first_visit", field: "first_visit", kind: kindDate,
		headers: []string{"firstvisit", "firstvisitdate", "customersince", "clientsince", "added", "dateadded",
			"creationdate", "datecreated", "createdon", "createdat", "created", "firstappointment"}},
	{key: "last_visit", field: "last_visit", kind: kindDate,
		headers: []string{"lastvisit", "lastvisited", "lastvisitdate", "lastappointment", "lastappointmentdate",
			"lastbooking", "lastseen"}},
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
		for _, h := range t.headers {
			if byHeader[h] != nil {
				panic("sheet: header " + h + " listed twice")
			}
			byHeader[h] = t
		}
	}
}

// FieldNames returns the names that Options.Map accepts as a column's field:
// the Record JSON names that a spreadsheet can fill, the name parts
// first_name, middle_name and last_name, and "ignore".
func FieldNames() []string {
	names := make([]string, 0, len(targets)+1)
	for _, t := range targets {
		names = append(names, t.key)
	}
	return append(names, ignoreKey)
}

// normalizeHeader folds a header for matching: lower case, and nothing but
// letters and digits, so that "E-mail" matches "email" and "Date of Birth"
// matches "dateofbirth".
func normalizeHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// How a column came to be read or not, for ColumnMapping.By.
const (
	byHeaderName = "header"  // the header is a known name
	byMap        = "map"     // Options.Map names its field
	byIgnore     = "ignore"  // Options.Map says ignore
	byUnknown    = "unknown" // matched nothing; not imported (IgnoreUnknown)
	byBlank      = "blank"   // no header; its cells must stay empty
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
	// By says why: "header" (a known header name), "map" (Options.Map),
	// "ignore" (Options.Map says ignore), "unknown" (matched nothing and
	// Options.IgnoreUnknown is set) or "blank" (no header: its cells must be
	// empty).
	By string
	// Read says how a cell is read, e.g. "date" or "list split on ; , or
	// newline".
	Read string
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
	index  int
	header string  // trimmed
	t      *target // nil when not imported
	by     string
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
	// feeds lists, for each Record JSON name, the columns that feed it in
	// column order; for the name, the parts in first, middle, last order.
	feeds map[string][]*column
	// fields lists the same, one entry per field fed, in record order, for
	// the loop over every row.
	fields []fieldColumns
}

type fieldColumns struct {
	field string
	cols  []*column
}

// newMapping matches the header cells to fields. overrides is Options.Map.
func newMapping(header []string, overrides map[string]string, ignoreUnknown bool) (*mapping, error) {
	m := &mapping{cols: make([]column, len(header)), feeds: map[string][]*column{}}
	known := 0
	for i, h := range header {
		h = strings.TrimSpace(h)
		m.cols[i] = column{index: i, header: h}
		if byHeader[normalizeHeader(h)] != nil {
			known++
		}
	}
	for key := range overrides {
		if findColumn(m.cols, key) >= 0 {
			known++
		}
	}
	if known == 0 {
		// Then the first row is most likely a client, not a header: a file
		// exported without its header row. Its cells are client data, so
		// none is named.
		return nil, fmt.Errorf("%w: no column of the first row has a known name; is the header row missing?", ErrUnknownColumns)
	}
	seen := map[string]int{}
	for i := range m.cols {
		n := normalizeHeader(m.cols[i].header)
		if n == "" {
			continue
		}
		if j, dup := seen[n]; dup {
			return nil, fmt.Errorf("header: %w: %s and %s", ErrDuplicateHeader, m.cols[j].name(), m.cols[i].name())
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
	for i := range m.cols {
		c := &m.cols[i]
		if mapped[i] {
			continue
		}
		if c.header == "" {
			c.by = byBlank
			continue
		}
		if t := byHeader[normalizeHeader(c.header)]; t != nil {
			c.t, c.by = t, byHeaderName
			continue
		}
		c.by = byUnknown
		unknown = append(unknown, fmt.Sprintf("%q (%s)", c.header, columnLetter(c.index)))
	}
	if len(unknown) > 0 && !ignoreUnknown {
		return nil, fmt.Errorf("%w %s: map each to a field or to ignore", ErrUnknownColumns, strings.Join(unknown, ", "))
	}

	for _, t := range targets {
		for i := range m.cols {
			if c := &m.cols[i]; c.t == t {
				m.feeds[t.field] = append(m.feeds[t.field], c)
			}
		}
	}
	if err := m.checkConflicts(); err != nil {
		return nil, err
	}
	for _, t := range targets {
		if cols := m.feeds[t.field]; len(cols) > 0 && cols[0].t == t {
			m.fields = append(m.fields, fieldColumns{t.field, cols})
		}
	}
	return m, nil
}

// findColumn returns the index of the column whose header matches key as
// header names match (see normalizeHeader), or exactly when key has no
// letters or digits; -1 if none does.
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
	return -1
}

// checkConflicts refuses two columns for a field that has room for one
// value, so that the file's author, not the order of its columns, decides
// which one is imported.
func (m *mapping) checkConflicts() error {
	for _, t := range targets {
		field, cols := t.field, m.feeds[t.field]
		if len(cols) == 0 || t != cols[0].t {
			continue // each field once, by its first target
		}
		var clash []*column
		switch cols[0].t.kind {
		case kindAddress, kindList, kindNotes:
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
			dupPart := false
			for _, n := range parts {
				dupPart = dupPart || n > 1
			}
			if full > 1 || (full == 1 && len(parts) > 0) || dupPart {
				clash = cols
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
			return fmt.Errorf("header: %s all give %s: map the ones not to import to ignore", strings.Join(names, ", "), field)
		}
	}
	if len(m.feeds["name"]) == 0 {
		return ErrNoNameColumn
	}
	return nil
}

// columns returns the mapping of every column, in column order.
func (m *mapping) columns() []ColumnMapping {
	out := make([]ColumnMapping, len(m.cols))
	for i, c := range m.cols {
		cm := ColumnMapping{Column: columnLetter(c.index), Header: c.header, By: c.by}
		if c.t != nil {
			cm.Field, cm.Part = c.t.field, c.t.part
			cm.Read = readDescription(c.t.kind, len(m.feeds[c.t.field]))
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

func readDescription(k kind, n int) string {
	switch k {
	case kindNamePart:
		return "joined with the other name parts by spaces"
	case kindAddress:
		if n > 1 {
			return `joined with the other address columns by ", "`
		}
	case kindList:
		return "list split on ; , or newline"
	case kindDate:
		return "date"
	case kindBool:
		return "yes or no"
	case kindNotes:
		if n > 1 {
			return "joined with the other notes columns by newlines"
		}
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
