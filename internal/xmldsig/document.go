package xmldsig

import (
	"errors"
	"strconv"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/safexml"
	"esig/internal/xmldsig/xmlns"
)

// Document is a parsed XML document with its identifier index. It is built
// once from untrusted bytes and then only read: references resolve against
// this one tree, so what was digested is exactly what is reported.
type Document struct {
	tree   *etree.Document
	ids    *safexml.IDIndex
	limits Limits
	size   int64 // input bytes, the unit of XPath evaluation cost
}

// Parse parses untrusted XML with the defences of XMLDSig 1.1 section 8
// (security considerations) and the limits given (zero fields: defaults).
// It refuses, as FormatFailure: a DOCTYPE (ETSI and XMLDSig best practices:
// no DTD processing), malformed or namespace-malformed XML, any limit
// exceeded, and an identifier defined twice (see safexml.IndexIDs).
func Parse(data []byte, lim Limits) (*Document, error) {
	lim = lim.WithDefaults()
	tree, err := safexml.Parse(data, lim.parser())
	if err != nil {
		return nil, parseErr(err)
	}
	d, err := newDocument(tree, lim)
	if err != nil {
		return nil, err
	}
	d.size = int64(len(data))
	return d, nil
}

// NewDocument wraps a tree built in code (or parsed elsewhere) after checking
// namespace well-formedness and identifier uniqueness, as Parse does.
func NewDocument(tree *etree.Document, lim Limits) (*Document, error) {
	lim = lim.WithDefaults()
	if tree.Root() == nil {
		return nil, formatErr("", "document has no root element")
	}
	if err := safexml.CheckNamespaces(tree.Root()); err != nil {
		return nil, &Error{Kind: FormatFailure, Msg: "namespace error", Err: err}
	}
	return newDocument(tree, lim)
}

func newDocument(tree *etree.Document, lim Limits) (*Document, error) {
	ids, err := safexml.IndexIDs(&tree.Element)
	if err != nil {
		return nil, &Error{Kind: FormatFailure, Where: Where(dupSecond(err)), Msg: "duplicate identifier", Err: err}
	}
	return &Document{tree: tree, ids: ids, limits: lim}, nil
}

func dupSecond(err error) *etree.Element {
	var d *safexml.DuplicateIDError
	if errors.As(err, &d) {
		return d.Second
	}
	return nil
}

func parseErr(err error) *Error {
	e := &Error{Kind: FormatFailure, Msg: "document refused", Err: err}
	var le *safexml.LimitError
	if errors.Is(err, safexml.ErrDOCTYPE) {
		e.Msg = "DOCTYPE refused"
	} else if errors.As(err, &le) {
		e.Msg = "limit exceeded"
	}
	return e
}

// Tree returns the parsed tree. Callers must treat it as read-only, and must
// not use it to find signed content (use Reference.Content instead).
func (d *Document) Tree() *etree.Document { return d.tree }

// Root returns the root element.
func (d *Document) Root() *etree.Element { return d.tree.Root() }

// lookupID resolves a same-document identifier.
func (d *Document) lookupID(id string) (*etree.Element, error) {
	return d.ids.Lookup(id)
}

// SignatureElements returns every ds:Signature element in document order,
// including signatures nested in ds:Object (counter-signatures) and in other
// signatures' content.
func (d *Document) SignatureElements() []*etree.Element {
	var out []*etree.Element
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if xmlns.Is(e, NamespaceDSig, "Signature") {
			out = append(out, e)
		}
		for _, c := range e.Child {
			if ce, ok := c.(*etree.Element); ok {
				walk(ce)
			}
		}
	}
	walk(d.tree.Root())
	return out
}

// Where renders a short location of e for error messages: its qualified
// name, the Id if it has one, otherwise its position among same-named
// siblings, prefixed by its parent's location up to the nearest element with
// an Id or the root.
func Where(e *etree.Element) string {
	if e == nil {
		return ""
	}
	var parts []string
	for el := e; el != nil && el.Tag != ""; el = el.Parent() {
		name := el.FullTag()
		if id, ok := xmlns.Attr(el, "Id"); ok {
			parts = append(parts, name+`[@Id="`+id+`"]`)
			break
		}
		if p := el.Parent(); p != nil && p.Tag != "" {
			n, pos := 0, 0
			for _, s := range p.ChildElements() {
				if s.Space == el.Space && s.Tag == el.Tag {
					n++
					if s == el {
						pos = n
					}
				}
			}
			if n > 1 {
				name += "[" + strconv.Itoa(pos) + "]"
			}
		}
		parts = append(parts, name)
	}
	s := ""
	for i := len(parts) - 1; i >= 0; i-- {
		if s != "" {
			s += "/"
		}
		s += parts[i]
	}
	return s
}
