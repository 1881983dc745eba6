package sheet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// xmlScanner is a small pull tokenizer for the parts of an XLSX file that
// can be large: the sheet and its shared strings. encoding/xml reads them at
// about 40 MB/s, some 3 s for 100,000 rows; this reads the subset of XML
// that spreadsheet writers produce (elements, attributes, text, the five
// entities and character references, CDATA, comments and processing
// instructions) several times faster, mostly by handing out slices of its
// own buffer instead of copies. Every token is bounded: a text longer than
// maxText is reported as cut (tooLong) without being held, and a tag longer
// than maxTag is an error. It does not check that end tags match start
// tags; callers look only at the elements they know.
type xmlScanner struct {
	r        io.Reader
	buf      []byte // the window: unread input is buf[pos:end]
	pos, end int
	rerr     error // the error that ended reading, once buf holds the rest
	maxText  int
	maxTag   int

	kind    tokKind
	name    []byte    // local name of a start or end tag
	attrs   []xmlAttr // attributes of a start tag
	text    []byte    // text, entities decoded
	tooLong bool      // the text was longer than maxText and is not in text

	selfClosing bool   // the last start tag was <x/>; its end tag comes next
	textBuf     []byte // text that spans refills of buf, or is decoded
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

const (
	maxTag     = 64 << 10
	scanWindow = 256 << 10 // larger than maxTag, so that a whole tag fits
)

var errXMLSyntax = errors.New("malformed XML")

func newXMLScanner(r io.Reader, maxText int) *xmlScanner {
	return newXMLScannerWindow(r, maxText, scanWindow)
}

// newXMLScannerWindow returns a scanner with a window of the given size;
// tests use small ones to read across its edges.
func newXMLScannerWindow(r io.Reader, maxText, window int) *xmlScanner {
	return &xmlScanner{r: r, buf: make([]byte, window), maxText: maxText, maxTag: min(maxTag, window/2)}
}

// fill moves the unread input to the start of buf and reads more after it.
// It returns false when there is no more input (or no room: a caller that
// needs more than the window has asked for too much).
func (s *xmlScanner) fill() bool {
	if s.rerr != nil {
		return false
	}
	if s.pos > 0 {
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.pos = 0
	}
	if s.end == len(s.buf) {
		return false
	}
	for tries := 0; tries < 100; tries++ {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.rerr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.rerr = io.ErrNoProgress
	return false
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
		if s.pos == s.end && !s.fill() {
			return s.rerr
		}
		if s.buf[s.pos] != '<' {
			s.kind = tokText
			return s.readText()
		}
		ok, err := s.readMarkup()
		if err != nil || ok {
			return err
		}
	}
}

// readText reads text up to the next '<' or the end of the input.
func (s *xmlScanner) readText() error {
	s.tooLong = false
	if i := bytes.IndexByte(s.buf[s.pos:s.end], '<'); i >= 0 {
		// The common case: the whole text is in the window.
		t := s.buf[s.pos : s.pos+i]
		s.pos += i
		if len(t) > s.maxText {
			s.text, s.tooLong = nil, true
			return nil
		}
		if bytes.IndexByte(t, '&') < 0 {
			s.text = t
			return nil
		}
		s.textBuf = append(s.textBuf[:0], t...)
		return s.decodeText()
	}
	s.textBuf = s.textBuf[:0]
	for {
		i := bytes.IndexByte(s.buf[s.pos:s.end], '<')
		if i < 0 {
			i = s.end - s.pos
		}
		s.appendText(s.buf[s.pos : s.pos+i])
		s.pos += i
		if s.pos < s.end || !s.fill() {
			return s.decodeText() // at a '<', or at the end of the input
		}
	}
}

func (s *xmlScanner) appendText(b []byte) {
	if s.tooLong || len(s.textBuf)+len(b) > s.maxText {
		s.tooLong, s.textBuf = true, s.textBuf[:0]
		return
	}
	s.textBuf = append(s.textBuf, b...)
}

// decodeText makes textBuf the token's text, its entities decoded.
func (s *xmlScanner) decodeText() error {
	if s.tooLong {
		s.text = nil
		return nil
	}
	s.text = s.textBuf
	if bytes.IndexByte(s.text, '&') < 0 {
		return nil
	}
	t, err := unescape(s.textBuf[:0], s.textBuf)
	s.text = t
	return err
}

// readMarkup reads from a '<'. It reports whether it read a token:
// comments, processing instructions and the XML declaration are skipped.
func (s *xmlScanner) readMarkup() (bool, error) {
	for s.end-s.pos < 2 && s.fill() {
	}
	if s.end-s.pos < 2 {
		return false, noEOF(io.EOF)
	}
	switch s.buf[s.pos+1] {
	case '?':
		s.pos += 2
		return false, s.skipPast("?>")
	case '!':
		return s.readBang()
	case '/':
		tag, err := s.readTag()
		if err != nil {
			return false, err
		}
		s.kind = tokEnd
		s.name = localName(bytes.TrimSpace(tag[1:]))
		return true, nil
	}
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

// readTag reads a tag from its '<' to the '>' that ends it, skipping '>' in
// quoted attribute values, and returns what is between them.
func (s *xmlScanner) readTag() ([]byte, error) {
	from := s.pos + 1
	for {
		if i := bytes.IndexByte(s.buf[from:s.end], '>'); i >= 0 {
			tag := s.buf[s.pos+1 : from+i]
			if len(tag) > s.maxTag {
				break
			}
			if balancedQuotes(tag) {
				s.pos = from + i + 1
				return tag, nil
			}
			from += i + 1
			continue
		}
		if s.end-s.pos > s.maxTag {
			break
		}
		from -= s.pos // fill moves the window's content to the start
		if !s.fill() {
			return nil, noEOF(io.EOF)
		}
		from += s.pos
	}
	return nil, fmt.Errorf("%w: a tag is longer than %d KiB", errXMLSyntax, maxTag>>10)
}

// readBang reads a comment, CDATA section or DOCTYPE after "<!".
func (s *xmlScanner) readBang() (bool, error) {
	for s.end-s.pos < 9 && s.fill() {
	}
	p := s.buf[s.pos:s.end]
	switch {
	case bytes.HasPrefix(p, []byte("<!--")):
		s.pos += 4
		return false, s.skipPast("-->")
	case bytes.HasPrefix(p, []byte("<![CDATA[")):
		s.pos += 9
		s.kind, s.tooLong, s.textBuf = tokText, false, s.textBuf[:0]
		for {
			if i := bytes.Index(s.buf[s.pos:s.end], []byte("]]>")); i >= 0 {
				s.appendText(s.buf[s.pos : s.pos+i])
				s.pos += i + 3
				s.text = s.textBuf
				if s.tooLong {
					s.text = nil
				}
				return true, nil
			}
			keep := max(s.pos, s.end-2) // a "]]" at the end may start the terminator
			s.appendText(s.buf[s.pos:keep])
			s.pos = keep
			if !s.fill() {
				return false, noEOF(io.EOF)
			}
		}
	}
	// A DOCTYPE could declare entities; no spreadsheet writer uses one.
	return false, fmt.Errorf("%w: a DOCTYPE or unknown declaration", errXMLSyntax)
}

// skipPast discards input up to and including end.
func (s *xmlScanner) skipPast(end string) error {
	for {
		if i := bytes.Index(s.buf[s.pos:s.end], []byte(end)); i >= 0 {
			s.pos += i + len(end)
			return nil
		}
		s.pos = max(s.pos, s.end-len(end)+1)
		if !s.fill() {
			return noEOF(io.EOF)
		}
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

// localName drops a name's namespace prefix as encoding/xml does: at its
// colon, unless the colon begins or ends the name (":" and "a:" are whole
// local names).
func localName(b []byte) []byte {
	if i := bytes.IndexByte(b, ':'); i > 0 && i < len(b)-1 {
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
