package records

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrJSON is matched (errors.Is) by every error about JSON input that a
// person or a script gave: malformed, of the wrong shape, or with unknown
// or repeated keys. Its messages name positions and keys, never values.
var ErrJSON = errors.New("bad JSON input")

// ErrEmptyInput is returned by Decoder.Next when the input holds no JSON
// value at all.
var ErrEmptyInput error = jsonInputError{errors.New("the input is empty: no record in it")}

// jsonInputError marks an error as bad JSON input (ErrJSON) without
// changing its message.
type jsonInputError struct{ error }

func (e jsonInputError) Unwrap() error { return e.error }

func (e jsonInputError) Is(target error) bool { return target == ErrJSON }

// utf8BOM is the byte order mark some Windows editors put at the start of
// a UTF-8 file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// checkInput checks what encoding/json accepts but a person did not mean:
// text that is not UTF-8 (json would replace it silently), an array where
// one object or one per line is expected, and a key given twice in an
// object (json would keep the last silently). raw is one complete, valid
// JSON value.
func checkInput(raw []byte) error {
	if !utf8.Valid(raw) {
		return errors.New("not UTF-8 text (save the file as UTF-8)")
	}
	switch first(raw) {
	case '{':
	case '[':
		return errors.New("a JSON array; give one object, or one object per line")
	default:
		return errors.New("not a JSON object")
	}
	if k, ok := duplicateKey(raw); ok {
		return fmt.Errorf("key %q appears twice in one object", k)
	}
	return nil
}

func first(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// duplicateKey scans one valid JSON value and returns the first key that
// appears twice in the same object. Keys are compared as encoding/json
// matches them to fields, without regard to case. A key is a field name of
// the record's shape, never client data, except inside "settings", whose
// keys are a device's setting names.
func duplicateKey(raw []byte) (string, bool) {
	type frame struct {
		object bool
		keys   []string
	}
	var stack []*frame
	expectKey := false
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{':
			stack = append(stack, &frame{object: true})
			expectKey = true
		case '[':
			stack = append(stack, &frame{})
			expectKey = false
		case '}', ']':
			stack = stack[:len(stack)-1]
			expectKey = false
		case ':':
			expectKey = false
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1].object
		case '"':
			j := i + 1
			for ; j < len(raw) && raw[j] != '"'; j++ {
				if raw[j] == '\\' {
					j++
				}
			}
			if expectKey {
				key := string(raw[i+1 : min(j, len(raw))])
				top := stack[len(stack)-1]
				for _, k := range top.keys {
					if strings.EqualFold(k, key) {
						return key, true
					}
				}
				top.keys = append(top.keys, key)
				expectKey = false
			}
			i = j
		}
	}
	return "", false
}
