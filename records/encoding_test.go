package records

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// AppendEncode writes exactly what Encode returns, after what b held, so
// that a payload sealed from a reused buffer is the same payload.
func TestAppendEncodeIsEncode(t *testing.T) {
	recs := []*Record{
		{Name: "A One"},
		{Name: "Zoë <b>&</b> O'Brien", DOB: Date{Year: 1990, Month: time.April, Day: 2}, Allergies: []string{"latex"},
			Notes: "line one\nline \"two\" \u2028",
			Treatments: []Treatment{{N: 1, Date: Date{Year: 2026, Month: 2, Day: 1}, Service: "laser",
				Settings: Settings{"fluence_j_cm2": json.Number("18"), "spot_mm": json.Number("12")}}}},
	}
	for _, r := range recs {
		want, err := Encode("00112233aabbccdd", r)
		if err != nil {
			t.Fatal(err)
		}
		for _, prefix := range [][]byte{nil, []byte("head:"), make([]byte, 3, 4)} {
			got, err := AppendEncode(bytes.Clone(prefix), "00112233aabbccdd", r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[:len(prefix)], prefix) || !bytes.Equal(got[len(prefix):], want) {
				t.Errorf("AppendEncode(%q) = %q, want the prefix and %q", prefix, got, want)
			}
		}
	}
}

// marshalPayload is the reference encoding: encoding/json's.
func marshalPayload(t testing.TB, id string, r *Record) ([]byte, error) {
	t.Helper()
	return json.Marshal(sealedPayload{V: payloadVersion(r), ID: id, Record: r})
}

// The payload is encoding/json's, byte for byte, whether appendPayload
// writes it or falls back: for every kind of field, text that needs
// escaping, settings of every kind, dates out of range and empty lists.
func TestEncodeIsMarshal(t *testing.T) {
	if !fastShapes {
		t.Fatal("the fast encoder does not match the record's fields")
	}
	full := &Record{
		Name: "Jane Doe", PreferredName: "Jay", DOB: Date{Year: 1990, Month: 4, Day: 2},
		Phone: "+1 555 0100", Email: "jane@example.com", Address: "1 Main St", EmergencyContact: "John Doe +1 555 0101",
		SkinType: "III", Conditions: []string{"eczema"}, Medications: []string{"isotretinoin", "warfarin"},
		Allergies: []string{"latex"}, Contraindications: []string{"recent sun exposure"}, Pregnant: true,
		Notes: "prefers afternoon appointments", Birthday: "--12-25",
		FirstVisit: Date{Year: 2015, Month: 6, Day: 1}, LastVisited: Date{Year: 2018, Month: 3, Day: 9},
		PatchTests: []PatchTest{{Date: Date{Year: 2026, Month: 1, Day: 10}, Product: "lash tint", Area: "behind ear",
			Result: "negative", ReadAt: Date{Year: 2026, Month: 1, Day: 12}}, {Product: "dye"}},
		Treatments: []Treatment{
			{N: 1, Date: Date{Year: 2026, Month: 2, Day: 1}, Service: "laser hair removal", Area: "underarm",
				Products: []string{"cooling gel"}, Settings: Settings{"wavelength_nm": json.Number("755"),
					"fluence_j_cm2": json.Number("18.5"), "spot_mm": json.Number("-1.2e+3"), "mode": "burst", "pulse_ms": json.Number("3")},
				Technician: "owner", Outcome: "mild erythema", Aftercare: "SPF 50"},
			{N: -2, Amends: 1, Service: "peel", Settings: Settings{}, Products: []string{}},
		},
	}
	odd := []*Record{
		nil,
		{},
		{Name: "Zoë Ångström-O'Brien", Notes: "line\none\t\"quoted\" <b>&amp;</b> \\ \u2028 \x7f \x01", Allergies: []string{"", "é"}},
		{Name: "\b\f\x1f\x00\u2029\u2027 \xe2\x80 \xf0\x9f\x98\x80\xc3", Notes: "\xed\xa0\x80 surrogate, \xc0\xaf overlong"},
		{Name: "bad \xff utf-8", DOB: Date{Year: 12000, Month: 1, Day: 1}},
		{Name: "a", DOB: Date{Year: -5, Month: 13, Day: 0}, PatchTests: []PatchTest{{ReadAt: Date{Year: 2026, Month: 2, Day: 30}}}},
		{Name: "s", Treatments: []Treatment{{Settings: Settings{"f": 1.5, "b": true, "n": nil, "x": []any{1}}}}},
		{Name: "s", Treatments: []Treatment{{Settings: Settings{"<key>": json.Number("1")}}}},
		{Name: "s", Treatments: []Treatment{{Settings: Settings{"k": json.Number("")}}}},
		{Name: "s", Treatments: []Treatment{{Settings: Settings{"k": json.Number("01")}}}},
		{Name: "s", Treatments: []Treatment{{Settings: Settings{"k": json.Number("1e")}}}},
		{Name: "s", Treatments: []Treatment{{Settings: Settings{"k": json.Number("NaN")}}}},
	}
	for i, r := range append(odd, full) {
		want, werr := marshalPayload(t, "00112233aabbccdd", r)
		got, gerr := Encode("00112233aabbccdd", r)
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) && werr == nil {
			t.Errorf("record %d: Encode = %s, %v\nwant %s, %v", i, got, gerr, want, werr)
		}
	}
	// The common case takes the fast path.
	if _, ok := appendPayload(nil, "id", full); !ok {
		t.Error("a plain record fell back to encoding/json")
	}
	for _, n := range []string{"0", "-0", "1.5", "10e5", "1E-2", "-12.034e+10"} {
		if !validJSONNumber(n) {
			t.Errorf("%q refused", n)
		}
	}
	for _, n := range []string{"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "0x10", "1.5.5", "Inf"} {
		if validJSONNumber(n) {
			t.Errorf("%q accepted", n)
		}
	}
}

// Any string, valid UTF-8 or not, is written as encoding/json writes it.
func FuzzJSONStringIsMarshal(f *testing.F) {
	for _, s := range []string{"", "plain", "Zoë <b>&amp;</b>", "\b\f\n\r\t\x00\x1f\x7f", "\u2028\u2029", "\xff\xc3", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got[1:], want)
		}
	})
}

// Whatever the decoder accepts encodes as encoding/json encodes it.
func FuzzEncodeIsMarshal(f *testing.F) {
	f.Add(`{"name":"Jane Doe","dob":"1990-04-02","allergies":["latex"],"treatments":[{"date":"2026-02-01","service":"x","settings":{"a":1,"b":"c<"}}]}`)
	f.Add(`{"name":"Zoë","patch_tests":[{"date":"2026-01-10","product":"p","read_at":"2026-01-12"}],"pregnant":true}`)
	f.Fuzz(func(t *testing.T, in string) {
		d := NewDecoder(strings.NewReader(in))
		for range 10 {
			r, err := d.Next()
			if err != nil {
				return
			}
			want, werr := marshalPayload(t, "id", r)
			got, gerr := Encode("id", r)
			if (werr == nil) != (gerr == nil) || werr == nil && !bytes.Equal(got, want) {
				t.Fatalf("Encode = %s, %v\nwant %s, %v", got, gerr, want, werr)
			}
		}
	})
}

// The decoder reads many records through one reader, in order, and still
// refuses a single value larger than MaxJSONRecord.
func TestDecoderManyAndLimit(t *testing.T) {
	var in strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&in, "{\"name\":\"client %d\"}\n  ", i)
	}
	d := NewDecoder(strings.NewReader(in.String()))
	for i := range 3000 {
		r, err := d.Next()
		if err != nil || r.Name != fmt.Sprintf("client %d", i) {
			t.Fatalf("record %d: %v %v", i, r, err)
		}
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("after the last: %v", err)
	}
	big := `{"name":"a"}` + "\n" + `{"name":"b","notes":"` + strings.Repeat("x", MaxJSONRecord+100<<10) + `"}` + "\n" + `{"name":"c"}`
	d = NewDecoder(strings.NewReader(big))
	if r, err := d.Next(); err != nil || r.Name != "a" {
		t.Fatalf("first: %v", err)
	}
	if _, err := d.Next(); err == nil || !strings.Contains(err.Error(), "record 2") {
		t.Fatalf("a record over the limit: %v", err)
	}
}
