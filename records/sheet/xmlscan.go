package sheet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// xmlScanner is a small pull tokenizer for the parts of an XLSX file that
// can be large: the sheet and its shared strings. encoding/xml reads them at
// about 40 MB/s, a few seconds for 100,000 rows; this reads the subset of
// XML that spreadsheet writers produce (elements, attributes, text, the five
// entities and character references, CDATA, comments and processing
// instructions) several times faster, and bounds every token: a text longer
// than maxText is reported as cut (tooLong) without being held, and a tag
// longer than maxTag is an error. It does not check that end tags match
// start tags; callers look only at the elements they know.
type xmlScanner struct {
	r       *bufio.Reader
	maxText int

	kind    tokKind
	name    []byte    // local name of a start or end tag
	attrs   []xmlAttr // attributes of a start tag
	text    []byte    // text, entities decoded
	tooLong bool      // the text was longer than maxText and is not in text

	selfClosing bool // the last start tag was <x/>; its end tag comes next
	tag         []byte
}

type tokKind uint8

const (
	tokStart tokKind = iota + 1
	tokEnd
	tokText
)

type xmlAttr struct {
	name, value []byte // local name; value with entities decoded
}

const maxTag = 64 << 10

var errXMLSyntax = errors.New("malformed XML")

func newXMLScanner(r io.Reader, maxText int) *xmlScanner {
	return &xmlScanner{r: bufio.NewReaderSize(r, 64<<10), maxText: maxText}
}

// next reads the next token; io.EOF at the end of the input. The token's
// slices are valid until the following call.
func (s *xmlScanner) next() error {
	if s.selfClosing {
		s.selfClosing = false
		s.kind = tokEnd
		return nil
	}
	for {
		p, err := s.r.Peek(1)
		if err != nil {
			return err
		}
		if p[0] != '<' {
			s.kind = tokText
			return s.readText()
		}
		s.r.Discard(1)
		ok, err := s.readMarkup()
		if err != nil || ok {
			return err
		}
	}
}

// readText reads text up to the next '<' or the end of the input.
func (s *xmlScanner) readText() error {
	s.text, s.tooLong = s.text[:0], false
	for {
		chunk, err := s.r.ReadSlice('<')
		if err == nil {
			chunk = chunk[:len(chunk)-1]
			s.r.UnreadByte()
		}
		s.appendText(chunk)
		switch err {
		case nil, io.EOF:
			return s.decodeText()
		case bufio.ErrBufferFull:
			continue
		default:
			return err
		}
	}
}

func (s *xmlScanner) appendText(b []byte) {
	if s.tooLong || len(s.text)+len(b) > s.maxText {
		s.tooLong, s.text = true, s.text[:0]
		return
	}
	s.text = append(s.text, b...)
}

func (s *xmlScanner) decodeText() error {
	if s.tooLong || bytes.IndexByte(s.text, '&') < 0 {
		return nil
	}
	t, err := unescape(s.text[:0], s.text)
	s.text = t
	return err
}

// readMarkup reads what follows a '<'. It reports whether it read a token:
// comments, processing instructions and the XML declaration are skipped.
func (s *xmlScanner) readMarkup() (bool, error) {
	b, err := s.r.ReadByte()
	if err != nil {
		return false, noEOF(err)
	}
	switch b {
	case '?':
		return false, s.skipPast("?>")
	case '!':
		return s.readBang()
	case '/':
		tag, err := s.readTag()
		if err != nil {
			return false, err
		}
		s.kind = tokEnd
		s.name = localName(bytes.TrimSpace(tag))
		return true, nil
	}
	s.r.UnreadByte()
	tag, err := s.readTag()
	if err != nil {
		return false, err
	}
	if n := len(tag); n > 0 && tag[n-1] == '/' {
		tag, s.selfClosing = tag[:n-1], true
	}
	s.kind = tokStart
	return true, s.parseStart(tag)
}

// readBang reads a comment, CDATA section or DOCTYPE after "<!".
func (s *xmlScanner) readBang() (bool, error) {
	p, _ := s.r.Peek(7)
	switch {
	case bytes.HasPrefix(p, []byte("--")):
		s.r.Discard(2)
		return false, s.skipPast("-->")
	case bytes.HasPrefix(p, []byte("[CDATA[")):
		s.r.Discard(7)
		s.kind, s.text, s.tooLong = tokText, s.text[:0], false
		var last []byte // the last bytes read, to find "]]>" split across reads
		for {
			chunk, err := s.r.ReadSlice('>')
			if err != nil && err != bufio.ErrBufferFull {
				return false, noEOF(err)
			}
			s.appendText(chunk)
			last = append(last, chunk...)
			if err == nil && bytes.HasSuffix(last, []byte("]]>")) {
				if !s.tooLong {
					s.text = s.text[:len(s.text)-3]
				}
				return true, nil
			}
			if len(last) > 3 {
				last = append(last[:0], last[len(last)-3:]...)
			}
		}
	}
	// A DOCTYPE could declare entities; no spreadsheet writer uses one.
	return false, fmt.Errorf("%w: a DOCTYPE or unknown declaration", errXMLSyntax)
}

// skipPast discards input up to and including end.
func (s *xmlScanner) skipPast(end string) error {
	last := end[len(end)-1]
	var tail []byte
	for {
		chunk, err := s.r.ReadSlice(last)
		if err != nil && err != bufio.ErrBufferFull {
			return noEOF(err)
		}
		tail = append(tail, chunk...)
		if err == nil && bytes.HasSuffix(tail, []byte(end)) {
			return nil
		}
		if len(tail) > len(end) {
			tail = append(tail[:0], tail[len(tail)-len(end):]...)
		}
	}
}

// readTag reads up to the '>' that ends a tag, skipping '>' in quoted
// attribute values, and returns the tag without it.
func (s *xmlScanner) readTag() ([]byte, error) {
	chunk, err := s.r.ReadSlice('>')
	if err == nil && balancedQuotes(chunk) {
		return chunk[:len(chunk)-1], nil // the common case: no copy
	}
	s.tag = append(s.tag[:0], chunk...)
	for {
		if err != nil && err != bufio.ErrBufferFull {
			return nil, noEOF(err)
		}
		if err == nil && balancedQuotes(s.tag) {
			return s.tag[:len(s.tag)-1], nil
		}
		if len(s.tag) > maxTag {
			return nil, fmt.Errorf("%w: a tag is longer than %d KiB", errXMLSyntax, maxTag>>10)
		}
		chunk, err = s.r.ReadSlice('>')
		s.tag = append(s.tag, chunk...)
	}
}

func balancedQuotes(b []byte) bool {
	if bytes.IndexByte(b, '\'') < 0 {
		return bytes.Count(b, []byte{'"'})%2 == 0 // the common case, fast
	}
	var q byte
	for _, c := range b {
		switch {
		case q == 0 && (c == '"' || c == '\''):
			q = c
		case c == q:
			q = 0
		}
	}
	return q == 0
}

// parseStart reads a start tag's name and attributes.
func (s *xmlScanner) parseStart(tag []byte) error {
	i := 0
	for i < len(tag) && !isSpace(tag[i]) {
		i++
	}
	s.name = localName(tag[:i])
	if len(s.name) == 0 {
		return fmt.Errorf("%w: a tag has no name", errXMLSyntax)
	}
	s.attrs = s.attrs[:0]
	rest := tag[i:]
	for {
		rest = trimSpaceLeft(rest)
		if len(rest) == 0 {
			return nil
		}
		eq := bytes.IndexByte(rest, '=')
		if eq < 0 {
			return fmt.Errorf("%w: an attribute has no value", errXMLSyntax)
		}
		name := localName(bytes.TrimSpace(rest[:eq]))
		rest = trimSpaceLeft(rest[eq+1:])
		if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
			return fmt.Errorf("%w: an attribute value is not quoted", errXMLSyntax)
		}
		end := bytes.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return fmt.Errorf("%w: an attribute value is not closed", errXMLSyntax)
		}
		value := rest[1 : 1+end]
		rest = rest[end+2:]
		if bytes.IndexByte(value, '&') >= 0 {
			v, err := unescape(nil, value)
			if err != nil {
				return err
			}
			value = v
		}
		s.attrs = append(s.attrs, xmlAttr{name: name, value: value})
	}
}

// attr returns the value of the current start tag's attribute of that local
// name, or nil.
func (s *xmlScanner) attr(name string) []byte {
	for _, a := range s.attrs {
		if string(a.name) == name {
			return a.value
		}
	}
	return nil
}

// is reports whether the current token is a start or end tag of that local
// name.
func (s *xmlScanner) is(kind tokKind, name string) bool {
	return s.kind == kind && string(s.name) == name
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimSpaceLeft(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

func localName(b []byte) []byte {
	if i := bytes.LastIndexByte(b, ':'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// unescape appends src to dst with its entities and character references
// decoded. dst may be src[:0].
func unescape(dst, src []byte) ([]byte, error) {
	for len(src) > 0 {
		amp := bytes.IndexByte(src, '&')
		if amp < 0 {
			return append(dst, src...), nil
		}
		dst = append(dst, src[:amp]...)
		src = src[amp:]
		semi := bytes.IndexByte(src, ';')
		if semi < 0 || semi > 12 {
			return dst, fmt.Errorf("%w: an & that starts no entity", errXMLSyntax)
		}
		ent := src[1:semi]
		src = src[semi+1:]
		switch string(ent) {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			if len(ent) < 2 || ent[0] != '#' {
				return dst, fmt.Errorf("%w: an unknown entity", errXMLSyntax)
			}
			var n uint64
			var err error
			if ent[1] == 'x' {
				n, err = strconv.ParseUint(string(ent[2:]), 16, 32)
			} else {
				n, err = strconv.ParseUint(string(ent[1:]), 10, 32)
			}
			if err != nil || n == 0 || n > utf8.MaxRune || !utf8.ValidRune(rune(n)) {
				return dst, fmt.Errorf("%w: a bad character reference", errXMLSyntax)
			}
			dst = utf8.AppendRune(dst, rune(n))
		}
	}
	return dst, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return fmt.Errorf("%w: the XML ends in the middle of a tag", errXMLSyntax)
	}
	return err
}
