package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError says which field of a record is wrong and how, without its
// value (which is client data).
type FieldError struct {
	Field   string // the JSON name, e.g. "dob" or "treatments[2].date"
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Is makes a FieldError about a field an edit may not change match
// ErrFixedField.
func (e *FieldError) Is(target error) bool {
	return target == ErrFixedField && e.Problem == ErrFixedField.Error()
}

// Limits on field sizes. They keep one record's sealed size bounded and catch
// a column of a spreadsheet pasted into the wrong field.
const (
	maxShort = 200     // names, phone, email, list items
	maxLong  = 1 << 16 // notes, address, outcome
	maxItems = 1000    // list entries, treatments, patch tests
)

// ValidateName checks a client's full name: required, one line, not too long.
func ValidateName(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("is required")
	}
	if NormalizeName(s) == "" {
		return errors.New("has no letters or digits")
	}
	return CheckText(s, maxShort, false)
}

// ValidateDOB checks a date of birth given as text: empty, or a real date not
// after today.
func ValidateDOB(s string, today Date) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	d, err := ParseDate(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	return checkNotFuture(d, today)
}

// ValidatePhone checks a phone number: digits with the usual separators
// (+ - . ( ) and spaces), 5 to 20 digits, and optionally an extension after
// them ("ext. 4", "extension 12", "x12", "#7"), which is kept as part of
// the number.
func ValidatePhone(s string) error {
	if s == "" {
		return nil
	}
	s = trimExtension(s)
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-.() /", r):
		case r == 'x' || r == 'X': // extension
		default:
			return errors.New("may hold only digits, spaces and + - . ( ) /, and an extension")
		}
	}
	if digits < 5 || digits > 20 {
		return errors.New("must have 5 to 20 digits")
	}
	return nil
}

// trimExtension returns a phone number without an extension of 1 to 6
// digits written after it with "ext", "ext.", "extension" or "#".
func trimExtension(s string) string {
	t := strings.TrimRight(s, " ")
	i := len(t)
	for i > 0 && t[i-1] >= '0' && t[i-1] <= '9' {
		i--
	}
	if n := len(t) - i; n < 1 || n > 6 {
		return s
	}
	head := strings.ToLower(strings.TrimRight(t[:i], " "))
	for _, mark := range []string{"extension", "ext.", "ext", "#"} {
		if rest, ok := strings.CutSuffix(head, mark); ok && rest != "" && strings.TrimSpace(rest) != "" {
			return strings.TrimRight(rest, " ,;")
		}
	}
	return s
}

// ValidateEmail checks an email address: a bare addr-spec with a domain.
func ValidateEmail(s string) error {
	if s == "" {
		return nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return errors.New("is not an email address")
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || len(s) > maxShort {
		return errors.New("is not an email address")
	}
	return nil
}

// SkinTypes are the Fitzpatrick skin types, in order.
var SkinTypes = []string{"I", "II", "III", "IV", "V", "VI"}

// NormalizeSkinType accepts a Fitzpatrick type as a Roman numeral (any case)
// or a digit 1-6, optionally prefixed by "type", and returns the numeral.
func NormalizeSkinType(s string) (string, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSpace(strings.TrimPrefix(t, "TYPE"))
	if t == "" {
		return "", nil
	}
	for i, r := range SkinTypes {
		if t == r || t == fmt.Sprint(i+1) {
			return r, nil
		}
	}
	return "", errors.New("must be a Fitzpatrick type I to VI")
}

// ValidateSkinType checks a Fitzpatrick skin type as NormalizeSkinType reads it.
func ValidateSkinType(s string) error {
	_, err := NormalizeSkinType(s)
	return err
}

// PatchResults are the results a patch test may have; "" means not yet read.
var PatchResults = []string{"negative", "positive", "inconclusive"}

// Validate checks every field of r against today's date and returns all
// problems joined, each a *FieldError. It also normalises what has one
// canonical form (skin type, trimmed text), so that every path into the vault
// (flags, JSON, forms, spreadsheets) stores the same thing.
func (r *Record) Validate(today Date) error {
	var errs []error
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, &FieldError{field, err.Error()})
		}
	}
	r.Name = strings.TrimSpace(r.Name)
	add("name", ValidateName(r.Name))
	add("preferred_name", CheckText(r.PreferredName, maxShort, false))
	if !r.DOB.IsZero() {
		add("dob", checkNotFuture(r.DOB, today))
	}
	if r.Birthday != "" {
		if _, err := ParseBirthday(r.Birthday); err != nil {
			add("birthday", err)
		} else if !r.DOB.IsZero() {
			add("birthday", errors.New("is only for a birthday without a year: the date of birth has one"))
		}
	}
	r.Phone = strings.TrimSpace(r.Phone)
	add("phone", ValidatePhone(r.Phone))
	r.Email = strings.TrimSpace(r.Email)
	add("email", ValidateEmail(r.Email))
	add("address", CheckText(r.Address, maxLong, true))
	add("emergency_contact", CheckText(r.EmergencyContact, maxShort, false))
	st, err := NormalizeSkinType(r.SkinType)
	add("skin_type", err)
	if err == nil {
		r.SkinType = st
	}
	for field, list := range map[string]*[]string{
		"conditions": &r.Conditions, "medications": &r.Medications,
		"allergies": &r.Allergies, "contraindications": &r.Contraindications,
	} {
		*list = trimList(*list)
		add(field, checkList(*list))
	}
	add("notes", CheckText(r.Notes, maxLong, true))
	if !r.FirstVisit.IsZero() {
		add("first_visit", checkNotFuture(r.FirstVisit, today))
	}
	if !r.LastVisited.IsZero() {
		add("last_visit", checkNotFuture(r.LastVisited, today))
		if !r.FirstVisit.IsZero() && r.LastVisited.Before(r.FirstVisit) {
			add("last_visit", errors.New("is before the first visit"))
		}
	}

	if len(r.PatchTests) > maxItems {
		add("patch_tests", fmt.Errorf("more than %d entries", maxItems))
	}
	for i := range r.PatchTests {
		for _, e := range r.PatchTests[i].validate(today) {
			e.Field = fmt.Sprintf("patch_tests[%d].%s", i, e.Field)
			errs = append(errs, e)
		}
		if p := r.PatchTests[i].Date; !r.DOB.IsZero() && !p.IsZero() && p.Before(r.DOB) {
			errs = append(errs, &FieldError{fmt.Sprintf("patch_tests[%d].date", i), errBeforeBirth.Error()})
		}
	}
	if len(r.Treatments) > maxItems {
		add("treatments", fmt.Errorf("more than %d entries", maxItems))
	}
	for i := range r.Treatments {
		for _, e := range r.Treatments[i].Validate(today) {
			e.Field = fmt.Sprintf("treatments[%d].%s", i, e.Field)
			errs = append(errs, e)
		}
		if p := r.Treatments[i].Date; !r.DOB.IsZero() && !p.IsZero() && p.Before(r.DOB) {
			errs = append(errs, &FieldError{fmt.Sprintf("treatments[%d].date", i), errBeforeBirth.Error()})
		}
	}
	return errors.Join(errs...)
}

func (p *PatchTest) validate(today Date) []*FieldError {
	var errs []*FieldError
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, &FieldError{field, err.Error()})
		}
	}
	if p.Date.IsZero() {
		add("date", errors.New("is required"))
	} else {
		add("date", checkNotFuture(p.Date, today))
	}
	p.Product = strings.TrimSpace(p.Product)
	if p.Product == "" {
		add("product", errors.New("is required"))
	}
	add("product", CheckText(p.Product, maxShort, false))
	add("area", CheckText(p.Area, maxShort, false))
	p.Result = strings.ToLower(strings.TrimSpace(p.Result))
	if p.Result != "" && !contains(PatchResults, p.Result) {
		add("result", errors.New("must be negative, positive or inconclusive"))
	}
	if !p.ReadAt.IsZero() && p.ReadAt.Before(p.Date) {
		add("read_at", errors.New("is before the test's date"))
	}
	return errs
}

// Validate checks one treatment entry against today's date: a date that is
// not in the future and a service are required.
func (t *Treatment) Validate(today Date) []*FieldError {
	var errs []*FieldError
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, &FieldError{field, err.Error()})
		}
	}
	if t.Date.IsZero() {
		add("date", errors.New("is required"))
	} else {
		add("date", checkNotFuture(t.Date, today))
	}
	t.Service = strings.TrimSpace(t.Service)
	if t.Service == "" {
		add("service", errors.New("is required"))
	}
	add("service", CheckText(t.Service, maxShort, false))
	add("area", CheckText(t.Area, maxShort, false))
	t.Products = trimList(t.Products)
	add("products", checkList(t.Products))
	for k, v := range t.Settings {
		if CheckText(k, 64, false) != nil || k == "" {
			add("settings", errors.New("has a key that is empty or too long"))
			continue
		}
		switch v := v.(type) {
		case json.Number, float64, int:
		case string:
			add("settings."+k, CheckText(v, maxShort, false))
		default:
			add("settings."+k, errors.New("must be a number or a string"))
		}
	}
	add("technician", CheckText(t.Technician, maxShort, false))
	add("outcome", CheckText(t.Outcome, maxLong, true))
	add("aftercare", CheckText(t.Aftercare, maxLong, true))
	if t.Amends < 0 {
		add("amends", errors.New("must be the number of an earlier entry"))
	}
	return errs
}

func checkNotFuture(d Date, today Date) error {
	if d.Year < 1900 {
		return errors.New("is before 1900")
	}
	if !today.IsZero() && d.After(today) {
		return errors.New("is in the future")
	}
	return nil
}

// CheckText checks one text field: valid UTF-8, no control characters but
// (when multiline) newlines and tabs, and at most max bytes. It never quotes
// the text, which may be client data.
func CheckText(s string, max int, multiline bool) error {
	if len(s) > max {
		return fmt.Errorf("is longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			return errors.New("has a control character")
		}
	}
	return nil
}

func checkList(list []string) error {
	if len(list) > maxItems {
		return fmt.Errorf("has more than %d entries", maxItems)
	}
	for _, s := range list {
		if err := CheckText(s, maxShort, false); err != nil {
			return fmt.Errorf("an entry %v", err)
		}
	}
	return nil
}

// trimList trims each entry and drops empty ones.
func trimList(list []string) []string {
	out := list[:0]
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
