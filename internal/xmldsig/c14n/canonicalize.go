package c14n

import (
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/xmlns"
)

// NodeSet is a document subset: Contains reports whether a node is in it.
// For an element, membership covers its attribute and namespace nodes too.
// A nil NodeSet stands for every node under the canonicalized top.
type NodeSet interface {
	Contains(t etree.Token) bool
}

// Pruner is an optional NodeSet refinement: Prune(e) true promises that no
// node in the subtree of e is in the set, so the canonicalizer skips it.
type Pruner interface {
	Prune(e *etree.Element) bool
}

// IsDocument reports whether e is the document node of an etree tree (the
// Element embedded in etree.Document), rather than a real element.
func IsDocument(e *etree.Element) bool {
	return e != nil && e.Parent() == nil && e.Tag == "" && e.Space == ""
}

// Canonicalize writes to w the canonical form (per m) of the nodes of set in
// the subtree of top. top is an element or a document node; for a document
// node, comments and processing instructions around the root element are
// separated from it by line feeds (C14N 1.0 section 2.1). Namespace
// declarations and, for the inclusive kinds, xml:* attributes in scope from
// ancestors of top are rendered as the specifications require for document
// subsets.
func Canonicalize(w io.Writer, top *etree.Element, set NodeSet, m Method) error {
	c := &canon{m: m, set: set, w: w, buf: make([]byte, 0, 32<<10)}
	if pr, ok := set.(Pruner); ok {
		c.prune = pr
	}
	for _, p := range m.InclusivePrefixes {
		if p == "#default" {
			p = ""
		}
		c.inclusive = append(c.inclusive, p)
	}
	if IsDocument(top) {
		c.document(top)
	} else {
		// Seed the namespace scope with the declarations top inherits.
		if p := top.Parent(); p != nil {
			for pfx, uri := range xmlns.InScope(p) {
				c.scope = append(c.scope, binding{pfx, uri})
			}
			slices.SortFunc(c.scope, func(a, b binding) int { return strings.Compare(a.prefix, b.prefix) })
		}
		c.node(top, false)
	}
	return c.flush()
}

type binding struct{ prefix, uri string }

type canon struct {
	m         Method
	set       NodeSet
	prune     Pruner
	inclusive []string
	w         io.Writer
	buf       []byte
	err       error
	// scope holds the namespace declarations in scope at the current node,
	// innermost last (the latest entry for a prefix wins).
	scope []binding
	// rendered holds the namespace declarations rendered by output
	// ancestors of the current node, innermost last.
	rendered []binding
}

func (c *canon) contains(t etree.Token) bool {
	if c.set == nil {
		return true
	}
	return c.set.Contains(t)
}

func (c *canon) flush() error {
	if c.err == nil && len(c.buf) > 0 {
		_, c.err = c.w.Write(c.buf)
	}
	c.buf = c.buf[:0]
	return c.err
}

func (c *canon) str(s string) {
	if c.err != nil {
		return
	}
	c.buf = append(c.buf, s...)
	if len(c.buf) >= 32<<10 {
		c.flush()
	}
}

func (c *canon) document(doc *etree.Element) {
	seenRoot := false
	for _, t := range doc.Child {
		switch n := t.(type) {
		case *etree.Element:
			seenRoot = true
			c.node(n, false)
		case *etree.Comment, *etree.ProcInst:
			if !c.contains(t) || (!c.m.Comments && isComment(t)) {
				continue
			}
			if seenRoot {
				c.str("\n")
			}
			c.misc(t)
			if !seenRoot {
				c.str("\n")
			}
		}
	}
}

func isComment(t etree.Token) bool { _, ok := t.(*etree.Comment); return ok }

func (c *canon) misc(t etree.Token) {
	switch n := t.(type) {
	case *etree.Comment:
		c.str("<!--")
		c.str(n.Data)
		c.str("-->")
	case *etree.ProcInst:
		c.str("<?")
		c.str(n.Target)
		if n.Inst != "" {
			c.str(" ")
			c.str(n.Inst)
		}
		c.str("?>")
	}
}

// node canonicalizes element e; parentOut tells whether e's parent element
// was output (it decides which namespace and xml:* attributes e must
// render itself).
func (c *canon) node(e *etree.Element, parentOut bool) {
	if c.prune != nil && c.prune.Prune(e) {
		return
	}
	scopeMark := len(c.scope)
	for i := range e.Attr {
		if a := &e.Attr[i]; xmlns.IsDecl(a) {
			c.scope = append(c.scope, binding{xmlns.DeclPrefix(a), a.Value})
		}
	}
	out := c.contains(e)
	renderedMark := len(c.rendered)
	if out {
		c.startTag(e, parentOut)
	}
	for _, t := range e.Child {
		switch n := t.(type) {
		case *etree.Element:
			c.node(n, out)
		case *etree.CharData:
			if c.contains(t) {
				escapeText(c, n.Data)
			}
		case *etree.Comment:
			if c.m.Comments && c.contains(t) {
				c.misc(t)
			}
		case *etree.ProcInst:
			if c.contains(t) {
				c.misc(t)
			}
		}
	}
	if out {
		c.str("</")
		c.qname(e.Space, e.Tag)
		c.str(">")
	}
	c.rendered = c.rendered[:renderedMark]
	c.scope = c.scope[:scopeMark]
}

func (c *canon) qname(space, local string) {
	if space != "" {
		c.str(space)
		c.str(":")
	}
	c.str(local)
}

func lookup(list []binding, prefix string) (string, bool) {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].prefix == prefix {
			return list[i].uri, true
		}
	}
	return "", false
}

type attr struct {
	uri, prefix, local, value string
}

func (c *canon) startTag(e *etree.Element, parentOut bool) {
	c.str("<")
	c.qname(e.Space, e.Tag)

	// Namespace axis.
	var decls []binding
	consider := func(prefix string) {
		if prefix == "xml" || slices.ContainsFunc(decls, func(b binding) bool { return b.prefix == prefix }) {
			return
		}
		uri, declared := lookup(c.scope, prefix)
		if !declared && prefix != "" {
			return
		}
		have, _ := lookup(c.rendered, prefix) // "" when never rendered
		if have != uri {
			decls = append(decls, binding{prefix, uri})
		}
	}
	if c.m.Kind == Exclusive {
		// exc-c14n section 3: only visibly utilized prefixes, plus the
		// InclusiveNamespaces PrefixList handled by the inclusive rule.
		consider(e.Space)
		for i := range e.Attr {
			a := &e.Attr[i]
			if a.Space != "" && !xmlns.IsDecl(a) {
				consider(a.Space)
			}
		}
		for _, p := range c.inclusive {
			consider(p)
		}
	} else if parentOut {
		// The parent rendered everything in scope for it; only e's own
		// declarations can differ.
		for i := range e.Attr {
			if a := &e.Attr[i]; xmlns.IsDecl(a) {
				consider(xmlns.DeclPrefix(a))
			}
		}
	} else {
		for i := len(c.scope) - 1; i >= 0; i-- {
			consider(c.scope[i].prefix)
		}
	}
	slices.SortFunc(decls, func(a, b binding) int { return strings.Compare(a.prefix, b.prefix) })
	for _, d := range decls {
		if d.prefix == "" {
			c.str(` xmlns="`)
		} else {
			c.str(" xmlns:")
			c.str(d.prefix)
			c.str(`="`)
		}
		escapeAttr(c, d.uri)
		c.str(`"`)
		c.rendered = append(c.rendered, d)
	}

	// Attribute axis.
	attrs := make([]attr, 0, len(e.Attr))
	for i := range e.Attr {
		a := &e.Attr[i]
		if xmlns.IsDecl(a) {
			continue
		}
		uri := ""
		if a.Space != "" {
			uri, _ = lookup(c.scope, a.Space)
			if a.Space == "xml" {
				uri = xmlns.XML
			}
		}
		attrs = append(attrs, attr{uri, a.Space, a.Key, a.Value})
	}
	if !parentOut && c.m.Kind != Exclusive {
		attrs = c.inheritXMLAttrs(e, attrs)
	}
	slices.SortFunc(attrs, func(a, b attr) int {
		if r := strings.Compare(a.uri, b.uri); r != 0 {
			return r
		}
		return strings.Compare(a.local, b.local)
	})
	for _, a := range attrs {
		c.str(" ")
		c.qname(a.prefix, a.local)
		c.str(`="`)
		escapeAttr(c, a.value)
		c.str(`"`)
	}
	c.str(">")
}

// inheritXMLAttrs adds to an element whose parent is not output the xml:*
// attributes of its omitted ancestors, nearest first, that it does not carry
// itself: all of them for C14N 1.0 (section 2.4), only xml:lang and
// xml:space for C14N 1.1, which also joins xml:base values (C14N 1.1
// section 2.4) and never inherits xml:id.
func (c *canon) inheritXMLAttrs(e *etree.Element, attrs []attr) []attr {
	has := func(local string) bool {
		return slices.ContainsFunc(attrs, func(a attr) bool { return a.uri == xmlns.XML && a.local == local })
	}
	var bases []string
	for anc := e.Parent(); anc != nil && !IsDocument(anc); anc = anc.Parent() {
		if c.set != nil && c.contains(anc) {
			break
		}
		for i := range anc.Attr {
			a := &anc.Attr[i]
			if a.Space != "xml" {
				continue
			}
			if c.m.Kind == Inclusive11 {
				if a.Key == "base" {
					bases = append(bases, a.Value)
					continue
				}
				if a.Key != "lang" && a.Key != "space" {
					continue
				}
			}
			if !has(a.Key) {
				attrs = append(attrs, attr{xmlns.XML, "xml", a.Key, a.Value})
			}
		}
	}
	if c.m.Kind == Inclusive11 && len(bases) > 0 {
		base := ""
		for i := len(bases) - 1; i >= 0; i-- {
			base = joinURI(base, bases[i])
		}
		for i := range attrs {
			if attrs[i].uri == xmlns.XML && attrs[i].local == "base" {
				attrs[i].value = joinURI(base, attrs[i].value)
				return attrs
			}
		}
		if base != "" {
			attrs = append(attrs, attr{xmlns.XML, "xml", "base", base})
		}
	}
	return attrs
}

// joinURI resolves ref against base as RFC 3986 section 5.2 does, keeping
// ref unchanged when either does not parse.
func joinURI(base, ref string) string {
	if base == "" {
		return ref
	}
	b, err1 := url.Parse(base)
	r, err2 := url.Parse(ref)
	if err1 != nil || err2 != nil {
		return ref
	}
	return b.ResolveReference(r).String()
}

// The escapes of C14N 1.0 section 2.3: character data escapes &, <, > and
// CR; attribute values &, <, ", TAB, LF and CR. Other bytes stand as they
// are.
var (
	textEscapes = escapeTable(map[byte]string{'&': "&amp;", '<': "&lt;", '>': "&gt;", '\r': "&#xD;"})
	attrEscapes = escapeTable(map[byte]string{'&': "&amp;", '<': "&lt;", '"': "&quot;", '\t': "&#x9;", '\n': "&#xA;", '\r': "&#xD;"})
)

func escapeTable(m map[byte]string) *[256]string {
	var t [256]string
	for b, esc := range m {
		t[b] = esc
	}
	return &t
}

// escapeText writes character data, escaped.
func escapeText(c *canon, s string) { escape(c, s, textEscapes) }

// escapeAttr writes an attribute value, escaped.
func escapeAttr(c *canon, s string) { escape(c, s, attrEscapes) }

// escape writes s with the bytes table names replaced by their escapes.
func escape(c *canon, s string, table *[256]string) {
	last := 0
	for i := 0; i < len(s); i++ {
		esc := table[s[i]]
		if esc == "" {
			continue
		}
		c.str(s[last:i])
		c.str(esc)
		last = i + 1
	}
	c.str(s[last:])
}
