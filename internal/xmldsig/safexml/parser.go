// Package safexml parses untrusted XML into an etree tree with the defences a
// signature verifier needs and encoding/xml (which etree uses) lacks: no DTD
// at all, limits checked while tokenizing (so a nesting bomb is refused before
// its tree exists), namespace well-formedness, duplicate attributes refused,
// and exact XML 1.0 attribute-value normalization (section 3.3.3), which
// canonicalization depends on: encoding/xml keeps a literal newline in an
// attribute value as a newline, where every conforming parser (and so every
// signer) sees a space.
package safexml

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/xmlns"
)

// ErrDOCTYPE is returned for any document carrying a document type
// declaration. Signed documents have no business with DTDs, and refusing
// them outright removes entity expansion (billion laughs), external entities
// and DTD-declared ID attributes (a wrapping vector) in one rule.
var ErrDOCTYPE = errors.New("xml: DOCTYPE is not allowed in signed documents")

// SyntaxError is a well-formedness or namespace-well-formedness error.
type SyntaxError struct {
	Line int
	Msg  string
}

// Error renders the line and the problem.
func (e *SyntaxError) Error() string { return fmt.Sprintf("xml: line %d: %s", e.Line, e.Msg) }

// Parse parses data into a new etree document. The document node holds the
// comments and processing instructions around the root element and the root
// element itself; the XML declaration and whitespace outside the root element
// are not kept (they are not nodes of the XPath data model, so no signature
// can cover them). CDATA sections become ordinary text, adjacent text is
// merged into one CharData, and line ends are normalized to LF.
func Parse(data []byte, lim Limits) (*etree.Document, error) {
	lim = lim.WithDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, &LimitError{Limit: "MaxBytes", Max: lim.MaxBytes}
	}
	data, err := decodeInput(data)
	if err != nil {
		return nil, err
	}
	if err := checkChars(data); err != nil {
		return nil, err
	}
	p := &parser{data: data, lim: lim, line: 1, doc: etree.NewDocument()}
	if err := p.document(); err != nil {
		return nil, err
	}
	return p.doc, nil
}

type parser struct {
	data  []byte
	pos   int
	line  int // line of data[linePos]
	lpos  int // position up to which line has been counted
	lim   Limits
	doc   *etree.Document
	stack []*etree.Element
	nodes int
	// decls is the namespace scope: prefixes declared by open elements,
	// innermost last; marks[i] is len(decls) when stack[i] was opened.
	decls []nsDecl
	marks []int
	text  strings.Builder // pending character data of the current element
	dupes map[string]struct{}
}

type nsDecl struct{ prefix, uri string }

func (p *parser) errf(format string, args ...any) error {
	return &SyntaxError{Line: p.lineAt(p.pos), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) lineAt(pos int) int {
	if pos > len(p.data) {
		pos = len(p.data)
	}
	if pos < p.lpos {
		return p.line
	}
	p.line += bytes.Count(p.data[p.lpos:pos], []byte{'\n'})
	p.lpos = pos
	return p.line
}

func (p *parser) limit(name string, max int64) error {
	return &LimitError{Limit: name, Max: max, Line: p.lineAt(p.pos)}
}

func (p *parser) document() error {
	sawRoot := false
	for p.pos < len(p.data) {
		if p.data[p.pos] != '<' {
			i := p.pos
			for i < len(p.data) && isSpace(p.data[i]) {
				i++
			}
			if i == p.pos {
				return p.errf("text outside the root element")
			}
			p.pos = i
			continue
		}
		rest := p.data[p.pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := p.procInst(&p.doc.Element); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("<!--")):
			if err := p.comment(&p.doc.Element); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("<!DOCTYPE")):
			return ErrDOCTYPE
		case bytes.HasPrefix(rest, []byte("<!")):
			return p.errf("markup declaration outside a DTD")
		default:
			if sawRoot {
				return p.errf("second root element")
			}
			if err := p.element(); err != nil {
				return err
			}
			sawRoot = true
		}
	}
	if !sawRoot {
		return p.errf("no root element")
	}
	return nil
}

// element parses the root element and everything inside it, iteratively, so
// that Go stack use does not grow with document depth.
func (p *parser) element() error {
	if err := p.startTag(); err != nil {
		return err
	}
	for len(p.stack) > 0 {
		i := bytes.IndexByte(p.data[p.pos:], '<')
		if i < 0 {
			return p.errf("element <%s> is not closed", qname(p.stack[len(p.stack)-1]))
		}
		if i > 0 {
			if err := p.charData(p.data[p.pos : p.pos+i]); err != nil {
				return err
			}
			p.pos += i
		}
		rest := p.data[p.pos:]
		top := p.stack[len(p.stack)-1]
		var err error
		switch {
		case bytes.HasPrefix(rest, []byte("</")):
			err = p.endTag()
		case bytes.HasPrefix(rest, []byte("<!--")):
			p.flushText()
			err = p.comment(top)
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			err = p.cdata()
		case bytes.HasPrefix(rest, []byte("<!DOCTYPE")):
			err = ErrDOCTYPE
		case bytes.HasPrefix(rest, []byte("<!")):
			err = p.errf("markup declaration inside element <%s>", qname(top))
		case bytes.HasPrefix(rest, []byte("<?")):
			p.flushText()
			err = p.procInst(top)
		default:
			p.flushText()
			err = p.startTag()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) countNode() error {
	p.nodes++
	if p.nodes > p.lim.MaxNodes {
		return p.limit("MaxNodes", int64(p.lim.MaxNodes))
	}
	return nil
}

func (p *parser) startTag() error {
	if len(p.stack) >= p.lim.MaxDepth {
		return p.limit("MaxDepth", int64(p.lim.MaxDepth))
	}
	if err := p.countNode(); err != nil {
		return err
	}
	p.pos++ // '<'
	name, err := p.name()
	if err != nil {
		return err
	}
	type rawAttr struct{ name, value string }
	var attrs []rawAttr
	selfClose := false
	for {
		sp := p.skipSpace()
		if p.pos >= len(p.data) {
			return p.errf("start tag <%s> is not closed", name)
		}
		c := p.data[p.pos]
		if c == '>' {
			p.pos++
			break
		}
		if c == '/' {
			if p.pos+1 >= len(p.data) || p.data[p.pos+1] != '>' {
				return p.errf("bad '/' in start tag <%s>", name)
			}
			p.pos += 2
			selfClose = true
			break
		}
		if !sp {
			return p.errf("missing white space before an attribute of <%s>", name)
		}
		an, err := p.name()
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '=' {
			return p.errf("attribute %s of <%s> has no value", an, name)
		}
		p.pos++
		p.skipSpace()
		v, err := p.attrValue(an)
		if err != nil {
			return err
		}
		if len(attrs) >= p.lim.MaxAttributes {
			return p.limit("MaxAttributes", int64(p.lim.MaxAttributes))
		}
		attrs = append(attrs, rawAttr{an, v})
	}

	// Duplicate attribute names are a well-formedness error (XML 1.0 section
	// 3.1); encoding/xml silently keeps one of them, which would let a
	// document mean one thing to us and another to the signer.
	if len(attrs) > 1 {
		if len(attrs) <= 8 {
			for i := range attrs {
				for j := i + 1; j < len(attrs); j++ {
					if attrs[i].name == attrs[j].name {
						return p.errf("attribute %s repeated on <%s>", attrs[i].name, name)
					}
				}
			}
		} else {
			if p.dupes == nil {
				p.dupes = make(map[string]struct{})
			}
			clear(p.dupes)
			for _, a := range attrs {
				if _, ok := p.dupes[a.name]; ok {
					return p.errf("attribute %s repeated on <%s>", a.name, name)
				}
				p.dupes[a.name] = struct{}{}
			}
		}
	}

	var parent *etree.Element
	if len(p.stack) == 0 {
		parent = &p.doc.Element
	} else {
		parent = p.stack[len(p.stack)-1]
	}
	e := parent.CreateElement(name)
	p.stack = append(p.stack, e)
	p.marks = append(p.marks, len(p.decls))

	// Namespace declarations first: they are in scope for the element's own
	// name and attributes.
	for _, a := range attrs {
		prefix, ok := declPrefix(a.name)
		if !ok {
			continue
		}
		if err := p.checkDecl(name, prefix, a.value); err != nil {
			return err
		}
		p.decls = append(p.decls, nsDecl{prefix, a.value})
	}
	if pfx, _ := splitQName(name); pfx != "" {
		if _, ok := p.lookup(pfx); !ok {
			return p.errf("element <%s> uses undeclared prefix %q", name, pfx)
		}
	}
	var expanded map[string]struct{}
	for _, a := range attrs {
		e.CreateAttr(a.name, a.value)
		pfx, local := splitQName(a.name)
		if pfx == "" || pfx == "xmlns" {
			continue
		}
		uri, ok := p.lookup(pfx)
		if !ok {
			return p.errf("attribute %s of <%s> uses undeclared prefix %q", a.name, name, pfx)
		}
		// Namespaces in XML 1.0 section 6.3: two attributes may not have
		// the same expanded name even under different prefixes.
		if expanded == nil {
			expanded = make(map[string]struct{})
		}
		k := uri + "\x00" + local
		if _, dup := expanded[k]; dup {
			return p.errf("attribute {%s}%s repeated on <%s>", uri, local, name)
		}
		expanded[k] = struct{}{}
	}
	if selfClose {
		p.pop()
	}
	return nil
}

func (p *parser) checkDecl(elem, prefix, uri string) error {
	switch {
	case prefix == "xmlns":
		return p.errf("<%s> declares the reserved prefix xmlns", elem)
	case prefix == "xml" && uri != xmlns.XML:
		return p.errf("<%s> binds the prefix xml to %q", elem, uri)
	case prefix != "xml" && (uri == xmlns.XML || uri == xmlns.XMLNS):
		return p.errf("<%s> binds prefix %q to a reserved namespace", elem, prefix)
	case prefix != "" && uri == "":
		return p.errf("<%s> undeclares prefix %q (not allowed in XML 1.0)", elem, prefix)
	}
	return nil
}

func (p *parser) lookup(prefix string) (string, bool) {
	if prefix == "xml" {
		return xmlns.XML, true
	}
	for i := len(p.decls) - 1; i >= 0; i-- {
		if p.decls[i].prefix == prefix {
			return p.decls[i].uri, true
		}
	}
	return "", false
}

func (p *parser) pop() {
	n := len(p.stack) - 1
	p.stack = p.stack[:n]
	p.decls = p.decls[:p.marks[n]]
	p.marks = p.marks[:n]
}

func (p *parser) endTag() error {
	p.flushText()
	p.pos += 2
	name, err := p.name()
	if err != nil {
		return err
	}
	p.skipSpace()
	if p.pos >= len(p.data) || p.data[p.pos] != '>' {
		return p.errf("end tag </%s> is not closed", name)
	}
	p.pos++
	top := p.stack[len(p.stack)-1]
	if name != qname(top) {
		return p.errf("end tag </%s> does not match <%s>", name, qname(top))
	}
	p.pop()
	return nil
}

func (p *parser) flushText() {
	if p.text.Len() == 0 {
		return
	}
	p.stack[len(p.stack)-1].CreateText(p.text.String())
	p.text.Reset()
}

func (p *parser) charData(raw []byte) error {
	if p.text.Len() == 0 {
		if err := p.countNode(); err != nil {
			return err
		}
	}
	if bytes.Contains(raw, []byte("]]>")) {
		return p.errf("']]>' in character data")
	}
	if bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		p.text.Write(raw)
		return nil
	}
	s, err := p.unescape(raw, false)
	if err != nil {
		return err
	}
	p.text.WriteString(s)
	return nil
}

func (p *parser) cdata() error {
	start := p.pos + len("<![CDATA[")
	end := bytes.Index(p.data[start:], []byte("]]>"))
	if end < 0 {
		return p.errf("CDATA section is not closed")
	}
	if p.text.Len() == 0 {
		if err := p.countNode(); err != nil {
			return err
		}
	}
	p.text.WriteString(normalizeNewlines(p.data[start : start+end]))
	p.pos = start + end + 3
	return nil
}

func (p *parser) comment(parent *etree.Element) error {
	if err := p.countNode(); err != nil {
		return err
	}
	start := p.pos + 4
	end := bytes.Index(p.data[start:], []byte("--"))
	if end < 0 {
		return p.errf("comment is not closed")
	}
	if start+end+2 >= len(p.data) || p.data[start+end+2] != '>' {
		return p.errf("'--' inside a comment")
	}
	parent.CreateComment(normalizeNewlines(p.data[start : start+end]))
	p.pos = start + end + 3
	return nil
}

func (p *parser) procInst(parent *etree.Element) error {
	if err := p.countNode(); err != nil {
		return err
	}
	p.pos += 2
	target, err := p.name()
	if err != nil {
		return err
	}
	if strings.EqualFold(target, "xml") {
		if p.pos == 5 && len(p.stack) == 0 && parent == &p.doc.Element && p.nodes == 1 {
			// The XML declaration, already interpreted by decodeInput.
			end := bytes.Index(p.data[p.pos:], []byte("?>"))
			if end < 0 {
				return p.errf("XML declaration is not closed")
			}
			p.pos += end + 2
			p.nodes--
			return nil
		}
		return p.errf("processing instruction target %q is reserved", target)
	}
	if strings.Contains(target, ":") {
		return p.errf("processing instruction target %q contains a colon", target)
	}
	end := bytes.Index(p.data[p.pos:], []byte("?>"))
	if end < 0 {
		return p.errf("processing instruction %q is not closed", target)
	}
	body := p.data[p.pos : p.pos+end]
	p.pos += end + 2
	if len(body) > 0 && !isSpace(body[0]) {
		return p.errf("processing instruction target %q is not followed by white space", target)
	}
	parent.CreateProcInst(target, normalizeNewlines(bytes.TrimLeft(body, " \t\r\n")))
	return nil
}

func (p *parser) skipSpace() bool {
	start := p.pos
	for p.pos < len(p.data) && isSpace(p.data[p.pos]) {
		p.pos++
	}
	return p.pos > start
}

// name reads an XML Name that must also be a QName (at most one colon, not
// at either end). Non-ASCII name characters are accepted as a class, which
// admits a few code points XML 1.0 excludes but never a delimiter.
func (p *parser) name() (string, error) {
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c >= 0x80 || c == '_' || c == ':' || c == '-' || c == '.' ||
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			p.pos++
			continue
		}
		break
	}
	n := p.data[start:p.pos]
	if len(n) == 0 {
		return "", p.errf("name expected")
	}
	if c := n[0]; c == '-' || c == '.' || (c >= '0' && c <= '9') {
		return "", p.errf("name %q starts with %q", n, c)
	}
	if r, _ := utf8.DecodeRune(n); r == 0xB7 || (r >= 0x300 && r <= 0x36F) || r == 0x203F || r == 0x2040 {
		return "", p.errf("name %q starts with a combining character", n)
	}
	if c := bytes.Count(n, []byte{':'}); c > 1 || (c == 1 && (n[0] == ':' || n[len(n)-1] == ':')) {
		return "", p.errf("name %q is not a valid qualified name", n)
	}
	return string(n), nil
}

// attrValue reads a quoted attribute value and normalizes it as XML 1.0
// section 3.3.3 requires for CDATA attributes (the only kind without a DTD):
// each literal white-space character becomes a space, character references
// are kept as written.
func (p *parser) attrValue(attr string) (string, error) {
	if p.pos >= len(p.data) || (p.data[p.pos] != '"' && p.data[p.pos] != '\'') {
		return "", p.errf("value of attribute %s is not quoted", attr)
	}
	q := p.data[p.pos]
	p.pos++
	end := bytes.IndexByte(p.data[p.pos:], q)
	if end < 0 {
		return "", p.errf("value of attribute %s is not closed", attr)
	}
	raw := p.data[p.pos : p.pos+end]
	if bytes.IndexByte(raw, '<') >= 0 {
		return "", p.errf("'<' in the value of attribute %s", attr)
	}
	p.pos += end + 1
	if bytes.IndexByte(raw, '&') < 0 && bytes.IndexAny(raw, "\t\r\n") < 0 {
		return string(raw), nil
	}
	return p.unescape(raw, true)
}

// unescape expands the five predefined entities and character references;
// any other entity reference is an error, since without a DTD nothing can
// declare one. In attribute mode literal white space becomes a space; in
// text mode CR and CRLF become LF (XML 1.0 section 2.11).
func (p *parser) unescape(raw []byte, attr bool) (string, error) {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\r':
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
			if attr {
				b.WriteByte(' ')
			} else {
				b.WriteByte('\n')
			}
		case attr && (c == '\n' || c == '\t'):
			b.WriteByte(' ')
		case c == '&':
			semi := bytes.IndexByte(raw[i:], ';')
			if semi < 0 {
				return "", p.errf("'&' without ';'")
			}
			ref := string(raw[i+1 : i+semi])
			r, err := p.reference(ref)
			if err != nil {
				return "", err
			}
			b.WriteString(r)
			i += semi
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func (p *parser) reference(ref string) (string, error) {
	switch ref {
	case "lt":
		return "<", nil
	case "gt":
		return ">", nil
	case "amp":
		return "&", nil
	case "apos":
		return "'", nil
	case "quot":
		return `"`, nil
	}
	if !strings.HasPrefix(ref, "#") {
		return "", p.errf("undefined entity &%s; (documents may use only the five predefined entities)", ref)
	}
	digits, base := ref[1:], 10
	if strings.HasPrefix(digits, "x") {
		digits, base = digits[1:], 16
	}
	if digits == "" || len(digits) > 8 {
		return "", p.errf("bad character reference &%s;", ref)
	}
	var v rune
	for _, d := range digits {
		var n rune
		switch {
		case d >= '0' && d <= '9':
			n = d - '0'
		case base == 16 && d >= 'a' && d <= 'f':
			n = d - 'a' + 10
		case base == 16 && d >= 'A' && d <= 'F':
			n = d - 'A' + 10
		default:
			return "", p.errf("bad character reference &%s;", ref)
		}
		v = v*rune(base) + n
	}
	if !isXMLChar(v) {
		return "", p.errf("character reference &%s; is not an XML character", ref)
	}
	return string(v), nil
}

func declPrefix(name string) (string, bool) {
	if name == "xmlns" {
		return "", true
	}
	if p, ok := strings.CutPrefix(name, "xmlns:"); ok {
		return p, true
	}
	return "", false
}

func splitQName(n string) (prefix, local string) {
	if i := strings.IndexByte(n, ':'); i >= 0 {
		return n[:i], n[i+1:]
	}
	return "", n
}

func qname(e *etree.Element) string {
	if e.Space != "" {
		return e.Space + ":" + e.Tag
	}
	return e.Tag
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func normalizeNewlines(b []byte) string {
	if bytes.IndexByte(b, '\r') < 0 {
		return string(b)
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}
