package agent

import (
	"bytes"
	"testing"

	"filippo.io/age"
)

func TestRequestRoundTrip(t *testing.T) {
	req := &Request{
		Op: OpUnwrap, Key: KeyIndex, Session: []byte("s"), Wrapped: []byte("w"), Label: "l",
		Msgs: [][]byte{[]byte("a"), {}}, ADs: [][]byte{[]byte("b")},
		Stanzas: [][]*age.Stanza{{{Type: "X25519", Args: []string{"x"}, Body: []byte("body")}}, {}},
	}
	got, err := unmarshalRequest(req.marshal())
	if err != nil {
		t.Fatal(err)
	}
	if got.Op != req.Op || got.Key != req.Key || got.Label != "l" || len(got.Msgs) != 2 || len(got.Stanzas) != 2 ||
		got.Stanzas[0][0].Args[0] != "x" || !bytes.Equal(got.Stanzas[0][0].Body, []byte("body")) {
		t.Fatalf("round trip: %+v", got)
	}
	resp := &Response{Status: StatusOpenFailed, Index: 7, Identity: "i", Until: 5, Session: []byte("s"), Out: [][]byte{[]byte("o")}}
	gotResp, err := unmarshalResponse(resp.marshal())
	if err != nil || gotResp.Index != 7 || gotResp.Until != 5 || string(gotResp.Out[0]) != "o" {
		t.Fatalf("response round trip: %+v %v", gotResp, err)
	}
	// Trailing bytes and truncations are malformed.
	b := req.marshal()
	if _, err := unmarshalRequest(append(b, 0)); err == nil {
		t.Error("trailing byte accepted")
	}
	for i := range len(b) {
		if _, err := unmarshalRequest(b[:i]); err == nil {
			t.Errorf("truncated at %d accepted", i)
		}
	}
}

func FuzzUnmarshalRequest(f *testing.F) {
	f.Add((&Request{Op: OpMAC, Msgs: [][]byte{[]byte("m")}}).marshal())
	f.Add((&Request{Op: OpUnwrap, Stanzas: [][]*age.Stanza{{{Type: "X25519", Body: []byte("b")}}}}).marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := unmarshalRequest(b)
		if err != nil {
			return
		}
		if _, err := unmarshalRequest(r.marshal()); err != nil {
			t.Fatalf("a decoded request does not decode again: %v", err)
		}
	})
}
