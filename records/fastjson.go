package records

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// appendPayload appends the sealed payload of record id to b, byte for byte
// as json.Marshal writes it, without reflection: encoding every record of a
// bulk add through encoding/json was the largest cost of sealing after age
// itself. It writes text itself, escaped as encoding/json escapes it, and
// handles settings only when they are numbers or strings with plain keys.
// ok is false when the payload must go through encoding/json whole: a
// record with amendments, or any other setting.
func appendPayload(b []byte, id string, r *Record) (_ []byte, ok bool) {
	if !fastShapes || r == nil || len(r.Amendments) > 0 {
		// An edited record is rare: its history goes through encoding/json.
		return b, false
	}
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(payloadVersion(r)), 10)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"record":{"name":`...)
	b = appendJSONString(b, r.Name)
	b = appendOptString(b, `,"preferred_name":`, r.PreferredName)
	if !r.DOB.IsZero() {
		b = append(b, `,"dob":`...)
		b = appendJSONDate(b, r.DOB)
	}
	b = appendOptString(b, `,"birthday":`, r.Birthday)
	b = appendOptString(b, `,"phone":`, r.Phone)
	b = appendOptString(b, `,"email":`, r.Email)
	b = appendOptString(b, `,"address":`, r.Address)
	b = appendOptString(b, `,"emergency_contact":`, r.EmergencyContact)
	b = appendOptString(b, `,"skin_type":`, r.SkinType)
	b = appendOptStrings(b, `,"conditions":`, r.Conditions)
	b = appendOptStrings(b, `,"medications":`, r.Medications)
	b = appendOptStrings(b, `,"allergies":`, r.Allergies)
	b = appendOptStrings(b, `,"contraindications":`, r.Contraindications)
	if r.Pregnant {
		b = append(b, `,"pregnant":true`...)
	}
	b = appendOptString(b, `,"notes":`, r.Notes)
	if !r.FirstVisit.IsZero() {
		b = append(b, `,"first_visit":`...)
		b = appendJSONDate(b, r.FirstVisit)
	}
	if !r.LastVisited.IsZero() {
		b = append(b, `,"last_visit":`...)
		b = appendJSONDate(b, r.LastVisited)
	}
	if len(r.PatchTests) > 0 {
		b = append(b, `,"patch_tests":[`...)
		for i, p := range r.PatchTests {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"date":`...)
			b = appendJSONDate(b, p.Date)
			b = append(b, `,"product":`...)
			b = appendJSONString(b, p.Product)
			b = appendOptString(b, `,"area":`, p.Area)
			b = appendOptString(b, `,"result":`, p.Result)
			if !p.ReadAt.IsZero() {
				b = append(b, `,"read_at":`...)
				b = appendJSONDate(b, p.ReadAt)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(r.Treatments) > 0 {
		b = append(b, `,"treatments":[`...)
		for i, t := range r.Treatments {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			if t.N != 0 {
				b = append(b, `"n":`...)
				b = strconv.AppendInt(b, int64(t.N), 10)
				b = append(b, ',')
			}
			if t.Amends != 0 {
				b = append(b, `"amends":`...)
				b = strconv.AppendInt(b, int64(t.Amends), 10)
				b = append(b, ',')
			}
			b = append(b, `"date":`...)
			b = appendJSONDate(b, t.Date)
			b = append(b, `,"service":`...)
			b = appendJSONString(b, t.Service)
			b = appendOptString(b, `,"area":`, t.Area)
			b = appendOptStrings(b, `,"products":`, t.Products)
			if len(t.Settings) > 0 {
				b = append(b, `,"settings":`...)
				if b, ok = appendSettings(b, t.Settings); !ok {
					return b, false
				}
			}
			b = appendOptString(b, `,"technician":`, t.Technician)
			b = appendOptString(b, `,"outcome":`, t.Outcome)
			b = appendOptString(b, `,"aftercare":`, t.Aftercare)
			b = appendOptStrings(b, `,"warnings":`, t.Warnings)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, "}}"...), true
}

func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, key...), s)
}

func appendOptStrings(b []byte, key string, l []string) []byte {
	if len(l) == 0 {
		return b
	}
	b = append(b, key...)
	b = append(b, '[')
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// plainJSON reports whether s is written as is between quotes by
// encoding/json: printable ASCII other than the quote, the backslash and
// the three characters it escapes for HTML.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// appendJSONString appends s as encoding/json writes a string: '"', '\\',
// control characters, '<', '>', '&', U+2028 and U+2029 escaped, and each
// byte of invalid UTF-8 replaced by U+FFFD. (Falling back to json.Marshal
// for every string that needs one escape, an accent or a line break, was
// most of the encoder's time on real client lists.)
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONDate appends d as Date.MarshalJSON writes it.
func appendJSONDate(b []byte, d Date) []byte {
	if d.IsZero() || d.Year < 0 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 99 {
		q, _ := d.MarshalJSON() // never fails for a Date
		return append(b, q...)
	}
	y, m, n := d.Year, int(d.Month), d.Day
	return append(b, '"',
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+n/10), byte('0'+n%10), '"')
}

// appendSettings appends s as encoding/json writes it (keys sorted), if its
// keys are plain and its values are strings or valid json.Numbers.
func appendSettings(b []byte, s Settings) ([]byte, bool) {
	var keys [16]string
	ks := keys[:0]
	for k, v := range s {
		if !plainJSON(k) {
			return b, false
		}
		switch v := v.(type) {
		case string:
		case json.Number:
			if !validJSONNumber(string(v)) {
				return b, false
			}
		default:
			return b, false
		}
		ks = append(ks, k)
	}
	slices.Sort(ks)
	b = append(b, '{')
	for i, k := range ks {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		switch v := s[k].(type) {
		case string:
			b = appendJSONString(b, v)
		case json.Number:
			b = append(b, v...)
		}
	}
	return append(b, '}'), true
}

// validJSONNumber reports whether s is a JSON number, as encoding/json
// requires of a json.Number it writes ("" is refused here, although
// encoding/json writes it as 0).
func validJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = strings.TrimLeft(s[1:], "0123456789")
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = strings.TrimLeft(s[2:], "0123456789")
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		if s[0] < '0' || s[0] > '9' {
			return false
		}
		s = strings.TrimLeft(s, "0123456789")
	}
	return s == ""
}

// fastShapes is whether the structs have the fields and JSON tags that
// appendPayload writes, in that order: a field added to a record without
// adding it there turns the fast path off, rather than drop its value.
var fastShapes = jsonShape(reflect.TypeFor[Record]()) == "name;preferred_name,omitempty;dob,omitzero;birthday,omitempty;phone,omitempty;"+
	"email,omitempty;address,omitempty;emergency_contact,omitempty;skin_type,omitempty;conditions,omitempty;"+
	"medications,omitempty;allergies,omitempty;contraindications,omitempty;pregnant,omitempty;notes,omitempty;"+
	"first_visit,omitzero;last_visit,omitzero;patch_tests,omitempty;treatments,omitempty;amendments,omitempty;" &&
	jsonShape(reflect.TypeFor[PatchTest]()) == "date;product;area,omitempty;result,omitempty;read_at,omitzero;" &&
	jsonShape(reflect.TypeFor[Treatment]()) == "n,omitempty;amends,omitempty;date;service;area,omitempty;"+
		"products,omitempty;settings,omitempty;technician,omitempty;outcome,omitempty;aftercare,omitempty;"+
		"warnings,omitempty;" &&
	reflect.TypeFor[sealedPayload]().NumField() == 3

// jsonShape lists the JSON tags of t's fields, with their Go kinds checked
// against what appendPayload expects of each.
func jsonShape(t reflect.Type) string {
	var sb strings.Builder
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue // encoding/json leaves it out too
		}
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		want := map[string]reflect.Type{
			"dob": reflect.TypeFor[Date](), "date": reflect.TypeFor[Date](), "read_at": reflect.TypeFor[Date](),
			"first_visit": reflect.TypeFor[Date](), "last_visit": reflect.TypeFor[Date](),
			"pregnant": reflect.TypeFor[bool](), "n": reflect.TypeFor[int](), "amends": reflect.TypeFor[int](),
			"conditions": reflect.TypeFor[[]string](), "medications": reflect.TypeFor[[]string](),
			"allergies": reflect.TypeFor[[]string](), "contraindications": reflect.TypeFor[[]string](),
			"products": reflect.TypeFor[[]string](), "settings": reflect.TypeFor[Settings](),
			"warnings":    reflect.TypeFor[[]string](),
			"patch_tests": reflect.TypeFor[[]PatchTest](), "treatments": reflect.TypeFor[[]Treatment](),
			"amendments": reflect.TypeFor[[]Amendment](),
		}[name]
		if want == nil {
			want = reflect.TypeFor[string]()
		}
		if f.Type != want {
			return "field " + f.Name + " has an unexpected type"
		}
		sb.WriteString(tag + ";")
	}
	return sb.String()
}
