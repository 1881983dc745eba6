package sheet

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clientvault/clientvault/records"
)

var (
	errFormula  = errors.New("holds a formula error")
	errNoHeader = errors.New("has a value but no header")
	errNotBool  = errors.New("must be yes or no")
)

// record makes a record of one row and validates it. It returns the
// problems of the row, each naming its column, or none.
func (r *Reader) record(cells []cell, today records.Date) (*records.Record, []Problem) {
	var probs []Problem
	m := r.m
	width := len(m.cols)
	last := -1
	for i := len(cells) - 1; i >= width; i-- {
		if !blankCell(cells[i]) {
			last = i
			break
		}
	}
	if last >= 0 {
		probs = append(probs, Problem{Problem: fmt.Sprintf("has %d cells, more than the %d of the header (map column %s with --map \"%s=field\" or \"%s=ignore\")",
			last+1, width, columnLetter(last), columnLetter(last), columnLetter(last))})
	}
	get := func(c *column) cell {
		if c.index < len(cells) {
			return cells[c.index]
		}
		return cell{} // a short row reads as padded with empty cells
	}
	// text returns the cell of a column as text, or records a problem.
	text := func(c *column) (string, bool) {
		cl := get(c)
		if cl.kind == cellFormulaErr {
			probs = append(probs, Problem{Column: c.label(), Field: c.t.field, Problem: errFormula.Error()})
			return "", false
		}
		s := r.text(cl)
		if placeholder(s, c.t.field == "name") {
			return "", true
		}
		return s, true
	}
	// joined is the non-empty cells of cols, trimmed, joined by sep: a name
	// in first and last name columns, an address in parts, notes in several
	// columns.
	joined := func(cols []*column, sep string) string {
		var parts []string
		for _, c := range cols {
			if s, ok := text(c); ok && strings.TrimSpace(s) != "" {
				parts = append(parts, strings.TrimSpace(s))
			}
		}
		return strings.Join(parts, sep)
	}
	for i := range m.cols {
		if c := &m.cols[i]; c.by == byBlank && i < len(cells) && !blankCell(cells[i]) {
			probs = append(probs, Problem{Column: c.label(), Problem: errNoHeader.Error()})
		}
	}

	rec := new(records.Record)
	for _, fc := range m.fields {
		cols := fc.cols
		switch fc.field {
		case "name":
			rec.Name = joined(cols, " ")
		case "address":
			rec.Address = joined(cols, ", ")
		case "notes":
			// Plain notes columns as they are, the others each on a line
			// under its header: "Tags: VIP".
			var lines []string
			for _, c := range cols {
				if s, ok := text(c); ok && strings.TrimSpace(s) != "" {
					s = strings.TrimSpace(s)
					if c.t.kind == kindLabel {
						s = c.label() + ": " + s
					}
					lines = append(lines, s)
				}
			}
			rec.Notes = strings.Join(lines, "\n")
		case "dob", "first_visit", "last_visit":
			c := cols[0]
			if c.t.kind == kindDatePart {
				dob, md, p := r.dateFromParts(cols, get)
				if p != nil {
					probs = append(probs, *p)
				}
				rec.DOB, rec.Birthday = dob, md
				continue
			}
			cl := get(c)
			if placeholder(r.text(cl), false) {
				cl = cell{}
			}
			if fc.field == "dob" && cl.kind != cellFormulaErr && cl.kind != cellNumber && cl.kind != cellDate {
				if md, ok, err := parseMonthDay(cl.s, r.columnDateFormat(c)); ok || err != nil {
					if err != nil {
						p := Problem{Column: c.label(), Field: "dob", Problem: err.Error()}
						if errors.Is(err, ErrAmbiguousDate) {
							p.Err = ErrAmbiguousDate
						}
						probs = append(probs, p)
					}
					rec.Birthday = md
					continue
				}
			}
			d, err := r.date(cl, r.columnDateFormat(c))
			if err != nil {
				p := Problem{Column: c.label(), Field: fc.field, Problem: err.Error()}
				if errors.Is(err, ErrAmbiguousDate) {
					p.Err = ErrAmbiguousDate
				}
				probs = append(probs, p)
			}
			*dateField(rec, fc.field) = d
		case "pregnant":
			c := cols[0]
			if s, ok := text(c); ok {
				v, err := parseBool(s)
				if err != nil {
					probs = append(probs, Problem{Column: c.label(), Field: "pregnant", Problem: err.Error()})
				}
				rec.Pregnant = v
			}
		case "conditions", "medications", "allergies", "contraindications":
			var list []string
			for _, c := range cols {
				if s, ok := text(c); ok {
					list = append(list, splitList(s)...)
				}
			}
			*listField(rec, fc.field) = list
		default:
			if s, ok := text(cols[0]); ok {
				*textField(rec, fc.field) = s
			}
		}
	}

	if err := rec.Validate(today); err != nil {
		probs = append(probs, r.fieldProblems(err)...)
	}
	if len(probs) == 0 {
		return rec, nil
	}
	sort.SliceStable(probs, func(i, j int) bool { return fieldRank(probs[i].Field) < fieldRank(probs[j].Field) })
	// One bad cell does not drop a client: a cell that is not the name is
	// left out and reported, and the rest of the row is imported. What
	// stops the row is what makes it no client (no usable name), or what is
	// wrong with the whole file rather than one cell and is fixed by a flag
	// or a --map (an ambiguous date format, a value under no header, more
	// cells than the header).
	var rowProbs []Problem
	for _, p := range probs {
		if stopsRow(p) {
			rowProbs = append(rowProbs, p)
		}
	}
	if len(rowProbs) > 0 {
		return nil, rowProbs
	}
	for _, p := range probs {
		clearField(rec, p.Field)
	}
	if err := rec.Validate(today); err != nil {
		return nil, r.fieldProblems(err) // never reached: what was wrong is empty now
	}
	r.leftOut = probs
	return rec, nil
}

// stopsRow reports whether a problem keeps the whole row out, rather than
// only its cell.
func stopsRow(p Problem) bool {
	field, _, _ := strings.Cut(p.Field, ".")
	field, _, _ = strings.Cut(field, "[")
	return field == "" || field == "name" || errors.Is(p.Err, ErrAmbiguousDate)
}

// clearField empties the field of a problem that is left out.
func clearField(rec *records.Record, field string) {
	switch field {
	case "preferred_name", "phone", "email", "emergency_contact", "skin_type":
		*textField(rec, field) = ""
	case "address":
		rec.Address = ""
	case "notes":
		rec.Notes = ""
	case "dob", "first_visit", "last_visit":
		*dateField(rec, field) = records.Date{}
	case "birthday":
		rec.Birthday = ""
	case "pregnant":
		rec.Pregnant = false
	case "conditions", "medications", "allergies", "contraindications":
		*listField(rec, field) = nil
	}
}

// fieldProblems maps the *records.FieldError values that Validate joined to
// problems of the columns that feed each field.
func (r *Reader) fieldProblems(err error) []Problem {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	probs := make([]Problem, 0, len(errs))
	for _, e := range errs {
		var fe *records.FieldError
		if !errors.As(e, &fe) {
			probs = append(probs, Problem{Problem: "is not valid"}) // never reached: Validate returns FieldErrors
			continue
		}
		field := fe.Field
		if i := strings.IndexAny(field, ".["); i >= 0 {
			field = field[:i]
		}
		if field == "birthday" {
			field = "dob" // a birthday without a year comes from the date of birth's column
		}
		probs = append(probs, Problem{Column: r.m.label(field), Field: fe.Field, Problem: fe.Problem})
	}
	return probs
}

// fieldRank orders problems as the fields of a record are ordered.
func fieldRank(field string) int {
	if field == "" {
		return -1
	}
	for i, t := range targets {
		if t.field == field {
			return i
		}
	}
	return len(targets)
}

// label names a column in a Problem: its header, or "column D".
func (c *column) label() string {
	if c.header == "" {
		return "column " + columnLetter(c.index)
	}
	return c.header
}

// label names the columns that feed a field, joined by " + ".
func (m *mapping) label(field string) string {
	cols := m.feeds[field]
	if len(cols) == 0 {
		return field
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.label()
	}
	return strings.Join(names, " + ")
}

func textField(rec *records.Record, field string) *string {
	switch field {
	case "preferred_name":
		return &rec.PreferredName
	case "phone":
		return &rec.Phone
	case "email":
		return &rec.Email
	case "emergency_contact":
		return &rec.EmergencyContact
	case "skin_type":
		return &rec.SkinType
	}
	panic("sheet: no text field " + field)
}

func dateField(rec *records.Record, field string) *records.Date {
	switch field {
	case "dob":
		return &rec.DOB
	case "first_visit":
		return &rec.FirstVisit
	case "last_visit":
		return &rec.LastVisited
	}
	panic("sheet: no date field " + field)
}

func listField(rec *records.Record, field string) *[]string {
	switch field {
	case "conditions":
		return &rec.Conditions
	case "medications":
		return &rec.Medications
	case "allergies":
		return &rec.Allergies
	case "contraindications":
		return &rec.Contraindications
	}
	panic("sheet: no list field " + field)
}

// splitList splits a list cell on ; , and newlines. Validate trims the
// entries.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == ',' || r == '\n' || r == '\r'
	})
}

// placeholder reports whether a cell holds what booking systems write for
// "no value": a dash or a few dashes, "N/A", "Never" (for a last visit),
// "None", "null". Such a cell is empty, not a bad value. In a name
// column only dashes and "N/A" count: "Na", "None" or "Null" may be a
// client's real name.
func placeholder(s string, name bool) bool {
	if len(s) == 0 || len(s) > 16 {
		return false // the common case, at no cost: no placeholder is longer
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	if strings.Trim(s, "-–—_.?") == "" {
		return true
	}
	for _, p := range anyPlaceholders {
		if strings.EqualFold(s, p) {
			return true
		}
	}
	if name {
		return false
	}
	for _, p := range placeholders {
		if strings.EqualFold(s, p) {
			return true
		}
	}
	return false
}

// anyPlaceholders are "no value" in any column; placeholders in any but a
// name's.
var (
	anyPlaceholders = []string{"n/a", "n.a.", "#n/a"}
	placeholders    = []string{"na", "none", "never", "null", "nil", "(none)", "(blank)", "not set", "unknown",
		"0000-00-00", "00/00/0000", "0/0/0000"}
)

// parseBool reads a yes-or-no cell; empty is no.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y", "true", "1", "x":
		return true, nil
	case "", "no", "n", "false", "0":
		return false, nil
	}
	return false, errNotBool
}

// text returns a cell as text. Numbers are written out in full, so that a
// phone number that a spreadsheet stored as a number never reads as
// 1.555e+10.
func (r *Reader) text(c cell) string {
	switch c.kind {
	case cellNumber:
		return formatNumber(c.s)
	case cellFormulaErr:
		return ""
	}
	return c.s
}

// date reads a date cell: an XLSX number is a date serial in the workbook's
// date system, and text is read in the format of Options.DateFormat.
func (r *Reader) date(c cell, format string) (records.Date, error) {
	if c.kind != cellFormulaErr && strings.TrimSpace(c.s) == "" {
		return records.Date{}, nil // an empty cell, even one formatted as a date
	}
	switch c.kind {
	case cellFormulaErr:
		return records.Date{}, errFormula
	case cellNumber:
		v, err := strconv.ParseFloat(strings.TrimSpace(c.s), 64)
		if err != nil {
			return records.Date{}, errSerial
		}
		return serialDate(v, r.date1904)
	case cellDate:
		s := strings.TrimSpace(c.s)
		if len(s) >= 10 && (len(s) == 10 || s[10] == 'T') {
			return isoDate(s[:10])
		}
		return records.Date{}, errNotDate
	}
	return parseDate(c.s, format)
}

// columnDateFormat is the date format for a column: Options.DateFormat, or
// else the one its header's hint spells ("Birthdate (DD/MM/YYYY)").
func (r *Reader) columnDateFormat(c *column) string {
	if r.dateFormat == DateAuto && c.dateFormat != "" {
		return c.dateFormat
	}
	return r.dateFormat
}

// dateFromParts reads a date of birth from its day, month and year
// columns: without a year it is a birthday without one. A problem names
// the columns.
func (r *Reader) dateFromParts(cols []*column, get func(*column) cell) (records.Date, string, *Problem) {
	var day, month, year int
	label := make([]string, len(cols))
	blank := true
	for i, c := range cols {
		label[i] = c.label()
		s := strings.TrimSpace(r.text(get(c)))
		if placeholder(s, false) {
			s = ""
		}
		if s == "" {
			continue
		}
		blank = false
		n, ok := datePartNumber(s, c.t.part)
		if !ok {
			return records.Date{}, "", &Problem{Column: c.label(), Field: "dob", Problem: "is not a " + c.t.part}
		}
		switch c.t.part {
		case "day":
			day = n
		case "month":
			month = n
		case "year":
			year = n
		}
	}
	if blank {
		return records.Date{}, "", nil
	}
	bad := &Problem{Column: strings.Join(label, " + "), Field: "dob", Problem: "is not a real date"}
	if day == 0 || month == 0 {
		return records.Date{}, "", bad
	}
	if year == 0 {
		md := records.MonthDay(time.Month(month), day)
		if _, err := records.ParseBirthday(md); err != nil {
			return records.Date{}, "", bad
		}
		return records.Date{}, md, nil
	}
	if year < 1000 {
		return records.Date{}, "", &Problem{Column: strings.Join(label, " + "), Field: "dob", Problem: errTwoDigitYear.Error()}
	}
	d, err := isoDate(fmt.Sprintf("%04d-%02d-%02d", year, month, day))
	if err != nil {
		return records.Date{}, "", bad
	}
	return d, "", nil
}

// monthNames are the months' names and abbreviations in the languages of
// names.go, folded, for a month column.
var monthNames = map[string]int{}

func init() {
	for _, lang := range [][]string{
		{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"},
		{"janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre", "novembre", "decembre"},
		{"januar", "februar", "marz", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "dezember"},
		{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
		{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		{"janeiro", "fevereiro", "marco", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
		{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
	} {
		for i, n := range lang {
			monthNames[n] = i + 1
			if len(n) > 3 {
				if m, ok := monthNames[n[:3]]; !ok || m == i+1 {
					monthNames[n[:3]] = i + 1
				}
			}
		}
	}
}

// datePartNumber reads a day, month (a number or a name) or year cell.
func datePartNumber(s, part string) (int, bool) {
	if part == "month" {
		if m, ok := monthNames[fold(s)]; ok {
			return m, true
		}
	}
	s = strings.TrimSuffix(strings.TrimSuffix(s, ".0"), ".")
	if s == "" || len(s) > 4 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	switch part {
	case "day":
		return n, n >= 1 && n <= 31
	case "month":
		return n, n >= 1 && n <= 12
	}
	return n, n >= 1 && len(s) == 4 || n >= 1 && n < 100 && len(s) <= 2
}

// formatNumber writes a number as stored in XLSX ("1.5550100000E10") in
// plain decimal ("15550100000"), with no more digits than it needs.
func formatNumber(s string) string {
	s = strings.TrimSpace(s)
	if plainInteger(s) {
		return s
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.Abs(v) >= 1e21 {
		return s
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// plainInteger reports whether s is digits with an optional minus sign, which
// needs no rewriting.
func plainInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
