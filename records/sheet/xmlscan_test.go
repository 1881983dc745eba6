package sheet

import (
	"errors"
	"strings"
	"testing"
)

func TestXMLScannerLongText(t *testing.T) {
	// 600 KiB of text with entities, across the edges of the 256 KiB window,
	// in a text node and in a CDATA section; and the same cut when too long.
	long := strings.Repeat("a &amp; b &lt; ", 40<<10)
	want := strings.Repeat("a & b < ", 40<<10)
	doc := `<si><t>` + long + `</t><t><![CDATA[` + want + `]]></t><!-- ` + long + ` --><t a="1"/></si>`
	toks, err := tokens([]byte(doc), scanWindow, MaxCell)
	if err == nil || err.Error() != "EOF" {
		t.Fatalf("err = %v", err)
	}
	if len(toks) != 10 || toks[2] != `text "`+strings.ReplaceAll(want, `"`, `\"`)+`" false` || toks[5] != toks[2] {
		t.Errorf("%d tokens; third of %d bytes", len(toks), len(toks[2]))
	}
	if toks[7] != `1 "t" a="1"` && !strings.HasPrefix(toks[7], `1 "t"`) {
		t.Errorf("token 7 = %q", toks[7])
	}
	toks, _ = tokens([]byte(doc), scanWindow, 100<<10)
	if toks[2] != `text "" true` || toks[5] != `text "" true` {
		t.Errorf("cut: %q %q", toks[2][:20], toks[5][:20])
	}
}

func TestXMLScannerErrors(t *testing.T) {
	for _, doc := range []string{
		`<a x="1>`, `<a`, `<a x=1>`, `<a x>`, `<>`, `<!DOCTYPE a>`, `<!-- open`, `<![CDATA[ open`,
		`<a>&bogus;</a>`, `<a>&#0;</a>`, `<a>&#xZZ;</a>`, `<a>& </a>`, `<?xml open`,
		`<a b="` + strings.Repeat("x", 70<<10) + `">`,
	} {
		_, err := tokens([]byte(doc), scanWindow, 64)
		if !errors.Is(err, errXMLSyntax) {
			t.Errorf("%.20q: %v", doc, err)
		}
	}
}
