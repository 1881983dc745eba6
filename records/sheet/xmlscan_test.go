package sheet

import (
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
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

// canonTokens turns a token stream into comparable lines: start tags with
// their local name and attributes (local names, values), end tags, and the
// text between tags with adjacent pieces joined, empty text dropped and
// line ends normalized as XML 1.0 has a parser do (encoding/xml does it,
// the scanner leaves it to its callers, to whom a CR is one more space).
type canonTokens struct {
	out  []string
	text strings.Builder
}

func (c *canonTokens) flush() {
	if c.text.Len() > 0 {
		c.out = append(c.out, "text "+strconv.Quote(normalizeEOL(c.text.String())))
		c.text.Reset()
	}
}

func (c *canonTokens) start(name string, attrs []string) {
	c.flush()
	c.out = append(c.out, "start "+name+" "+strings.Join(attrs, " "))
}

func (c *canonTokens) end(name string) {
	c.flush()
	c.out = append(c.out, "end "+name)
}

func normalizeEOL(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// stdTokens reads doc with encoding/xml's strict tokenizer, without
// namespace processing, as canonTokens; comments, processing instructions
// and directives are left out.
func stdTokens(doc string) ([]string, error) {
	d := xml.NewDecoder(strings.NewReader(doc))
	var c canonTokens
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			c.flush()
			return c.out, nil
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			var attrs []string
			for _, a := range tok.Attr {
				attrs = append(attrs, a.Name.Local+"="+strconv.Quote(normalizeEOL(a.Value)))
			}
			c.start(tok.Name.Local, attrs)
		case xml.EndElement:
			c.end(tok.Name.Local)
		case xml.CharData:
			c.text.Write(tok)
		case xml.Directive:
			return nil, errors.New("a directive") // the scanner refuses DOCTYPEs on purpose
		}
	}
}

// scanTokens reads doc with the scanner, through a window of the given
// size, as canonTokens.
func scanTokens(doc string, window int) ([]string, error) {
	s := newXMLScannerWindow(iotest.HalfReader(strings.NewReader(doc)), 1<<20, window)
	var c canonTokens
	for i := 0; ; i++ {
		if i > len(doc)+2 {
			return nil, errors.New("more tokens than bytes")
		}
		err := s.next()
		if err == io.EOF {
			c.flush()
			return c.out, nil
		}
		if err != nil {
			return nil, err
		}
		switch s.kind {
		case tokStart:
			var attrs []string
			for _, a := range s.attrs {
				attrs = append(attrs, string(a.name)+"="+strconv.Quote(normalizeEOL(string(a.value))))
			}
			c.start(string(s.name), attrs)
		case tokEnd:
			c.end(string(s.name))
		case tokText:
			c.text.Write(s.text)
		}
	}
}

// The scanner reads what encoding/xml reads as encoding/xml reads it: on
// any input that encoding/xml's strict tokenizer accepts (but for a
// DOCTYPE, which the scanner refuses), the same elements, attributes and
// text, in the same order, through its default window and through one so
// small that every token crosses its edges.
func FuzzXMLScannerMatchesEncodingXML(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://x" count="2"><si><t>Ann &amp; Bea</t></si><si><r><rPr><b/></rPr><t xml:space="preserve"> Fake </t></r></si></sst>`,
		`<worksheet><sheetData><row r="1" spans="1:2"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t><![CDATA[a <b> & c]]></t></is></c></row></sheetData></worksheet>`,
		"<a x='1' y=\"&lt;&#233;&#x263A;\">one<!-- c -->two\r\nthree<?pi x?></a>",
		`<p:a p:b="1" xmlns:p="u"><p:c/></p:a >`,
		`<a b = "x>y" c='"'>t</a>`,
		`text only &quot;`,
		`<a/><b></b>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		want, err := stdTokens(doc)
		for _, window := range []int{scanWindow, 96} {
			got, serr := scanTokens(doc, window)
			if err != nil {
				continue // encoding/xml refuses it: the scanner need only end
			}
			if serr != nil {
				if window < scanWindow && strings.Contains(serr.Error(), "longer than") {
					continue // a tag longer than the small window's bound
				}
				t.Fatalf("window %d: encoding/xml reads %q, the scanner fails: %v", window, doc, serr)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("window %d: %q\nscanner:      %q\nencoding/xml: %q", window, doc, got, want)
			}
		}
	})
}
