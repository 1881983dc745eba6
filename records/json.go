package records

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// NormalizeName folds a name to the form the blind index keys on: accents
// removed, lower case, punctuation dropped, spaces collapsed. "José  O'Brien"
// and "jose obrien" are the same name.
func NormalizeName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining accent: dropped
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsSpace(r) || r == '-' || r == ',' || r == '.':
			space = true
		default:
			// other punctuation (apostrophes, quotes) joins the letters around it
		}
	}
	return b.String()
}

// MaxJSONRecord bounds one JSON object read by a Decoder, so that a runaway
// input fails fast instead of filling memory.
const MaxJSONRecord = 16 << 20

// A Decoder reads records from JSON: one object, or one object per line.
// Unknown keys are an error, so that a typo never drops data silently.
type Decoder struct {
	lim *recordLimit
	dec *json.Decoder
	n   int
}

// NewDecoder returns a Decoder reading from r. A UTF-8 byte order mark at
// the start of r, as some Windows editors write, is skipped.
func NewDecoder(r io.Reader) *Decoder {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	lim := &recordLimit{r: br, n: MaxJSONRecord}
	return &Decoder{lim: lim, dec: json.NewDecoder(lim)}
}

// Next returns the next record, or io.EOF after the last; ErrEmptyInput
// when the input holds nothing at all. Errors name the object's position in
// the input ("record 3: ...") and never its values, and match ErrJSON.
func (d *Decoder) Next() (*Record, error) {
	raw, err := d.nextObject()
	if errors.Is(err, io.EOF) && d.n == 0 {
		return nil, ErrEmptyInput
	}
	if err != nil {
		return nil, err
	}
	d.n++
	if err := checkInput(raw); err != nil {
		return nil, jsonInputError{fmt.Errorf("record %d: %w", d.n, err)}
	}
	rec := new(Record)
	if err := strictUnmarshal(raw, rec); err != nil {
		return nil, jsonInputError{fmt.Errorf("record %d: %w", d.n, err)}
	}
	return rec, nil
}

// nextObject returns the bytes of the next top-level JSON value. It accepts
// objects separated by any white space, so both one pretty-printed object and
// JSON Lines work. One json.Decoder reads them all: a decoder per object,
// each handing what it read ahead to the next through another buffered
// reader, stacked a reader and a 64 KB buffer per record (500 MB and
// quadratic time for 10,000 records).
func (d *Decoder) nextObject() ([]byte, error) {
	// Each value may take MaxJSONRecord bytes, and what the decoder had
	// read ahead of it (a few KB at most).
	d.lim.n = MaxJSONRecord
	var raw json.RawMessage
	if err := d.dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, jsonInputError{fmt.Errorf("record %d: %w", d.n+1, jsonError(err))}
	}
	return raw, nil
}

// recordLimit reads from r until n bytes have been read since n was last
// set, then reports the end of the input, as io.LimitReader does.
type recordLimit struct {
	r io.Reader
	n int64
}

func (l *recordLimit) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// Decode reads one record from JSON bytes, rejecting unknown keys.
func Decode(b []byte) (*Record, error) {
	rec := new(Record)
	if err := strictUnmarshal(b, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// DecodeTreatment reads one treatment entry from JSON, rejecting unknown
// keys, a key given twice and text that is not UTF-8 (errors match ErrJSON).
// A UTF-8 byte order mark at the start is skipped.
func DecodeTreatment(b []byte) (*Treatment, error) {
	b = bytes.TrimPrefix(b, utf8BOM)
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, ErrEmptyInput
	}
	if !json.Valid(b) {
		return nil, jsonInputError{strictUnmarshal(b, new(Treatment))}
	}
	if err := checkInput(b); err != nil {
		return nil, jsonInputError{err}
	}
	t := new(Treatment)
	if err := strictUnmarshal(b, t); err != nil {
		return nil, jsonInputError{err}
	}
	return t, nil
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// jsonError rewords encoding/json's errors so that none carries a value from
// the input: type errors name the field, syntax errors the offset.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: must be a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("JSON ends in the middle of a value")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	case errors.Is(err, ErrDateForm), errors.Is(err, ErrNotRealDate):
		return err
	}
	return errors.New("invalid JSON")
}

func jsonKind(k string) string {
	switch k {
	case "slice":
		return "array"
	case "struct", "map":
		return "object"
	case "int", "float64":
		return "number"
	}
	return k
}

// FoldName folds a name further than NormalizeName: also the letters that
// Unicode does not decompose into a base letter and an accent, ø as o, ł
// as l, ß as ss, æ as ae, œ as oe, đ as d, þ as th, ı as i, so that
// "Søren Łukasz Straße" and "Soren Lukasz Strasse" are one name. It is for
// telling that two rows are one client, not for the blind index, whose
// keys are NormalizeName's (changing them needs every record re-indexed).
func FoldName(s string) string {
	n := NormalizeName(s)
	if isASCII(n) {
		return n
	}
	var b strings.Builder
	for _, r := range n {
		switch r {
		case 'ø':
			b.WriteByte('o')
		case 'ł':
			b.WriteByte('l')
		case 'ß':
			b.WriteString("ss")
		case 'æ':
			b.WriteString("ae")
		case 'œ':
			b.WriteString("oe")
		case 'đ':
			b.WriteByte('d')
		case 'þ':
			b.WriteString("th")
		case 'ı':
			b.WriteByte('i')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
