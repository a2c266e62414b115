package safexml

import (
	"fmt"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/xmlns"
)

// DuplicateIDError reports an identifier value carried by two elements. A
// Reference URI "#x" must name exactly one element; when two could answer,
// a verifier and the application may pick different ones, which is the
// essence of signature wrapping.
type DuplicateIDError struct {
	ID            string
	First, Second *etree.Element
	Attr          string // attribute name on Second
}

// Error names the identifier and both elements carrying it.
func (e *DuplicateIDError) Error() string {
	return fmt.Sprintf("xml: identifier %q defined twice: on <%s> and on <%s> (attribute %s)",
		e.ID, qname(e.First), qname(e.Second), e.Attr)
}

// IsIDAttr reports whether a (on any element) is treated as an identifier:
// the unprefixed Id (XMLDSig and XAdES), ID (SAML), id (common practice) and
// xml:id (xml:id Recommendation). Without a DTD or schema there is no other
// way to know, so the set is fixed and deliberately broad: an element with
// any of them can be the target of a same-document reference.
func IsIDAttr(a *etree.Attr) bool {
	switch a.Space {
	case "":
		return a.Key == "Id" || a.Key == "ID" || a.Key == "id"
	case "xml":
		return a.Key == "id"
	}
	return false
}

// isStrongID reports whether a is one of the identifier attributes that
// signature and assertion formats define (Id, ID, xml:id), as opposed to the
// lowercase id that documents also use for their own cross-references.
func isStrongID(a *etree.Attr) bool {
	return IsIDAttr(a) && !(a.Space == "" && a.Key == "id")
}

// IDIndex maps identifier values to the one element carrying each.
type IDIndex struct {
	byID      map[string]*etree.Element
	ambiguous map[string]*DuplicateIDError
}

// IndexIDs maps every identifier value under root to its element.
//
// A value carried by two different elements where either carries it in Id,
// ID or xml:id fails the whole document with a *DuplicateIDError. A value
// carried twice only in lowercase id attributes does not: real signed
// documents (French notarial acts among them) repeat such values for their own
// purposes, and xmlsec1 accepts them. Such a value is recorded as ambiguous,
// and Lookup refuses it, so no reference can ever resolve to one of two
// candidates. An element carrying one value in two attributes is not a
// duplicate.
func IndexIDs(root *etree.Element) (*IDIndex, error) {
	x := &IDIndex{byID: make(map[string]*etree.Element)}
	strong := make(map[string]bool)
	var err error
	walkElements(root, func(e *etree.Element) bool {
		for i := range e.Attr {
			a := &e.Attr[i]
			if !IsIDAttr(a) {
				continue
			}
			s := isStrongID(a)
			prev, ok := x.byID[a.Value]
			if !ok {
				x.byID[a.Value] = e
				strong[a.Value] = s
				continue
			}
			if prev == e {
				strong[a.Value] = strong[a.Value] || s
				continue
			}
			dup := &DuplicateIDError{ID: a.Value, First: prev, Second: e, Attr: a.FullKey()}
			if s || strong[a.Value] || hasStrongID(prev, a.Value) {
				err = dup
				return false
			}
			if x.ambiguous == nil {
				x.ambiguous = make(map[string]*DuplicateIDError)
			}
			if _, seen := x.ambiguous[a.Value]; !seen {
				x.ambiguous[a.Value] = dup
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

func hasStrongID(e *etree.Element, v string) bool {
	for i := range e.Attr {
		if isStrongID(&e.Attr[i]) && e.Attr[i].Value == v {
			return true
		}
	}
	return false
}

// Lookup returns the element identified by id, nil if none is, or the
// *DuplicateIDError recorded when the value is ambiguous.
func (x *IDIndex) Lookup(id string) (*etree.Element, error) {
	if d, ok := x.ambiguous[id]; ok {
		return nil, d
	}
	return x.byID[id], nil
}

// CheckNamespaces verifies that every prefix used by an element or attribute
// under root is declared. Parse guarantees this for parsed input; the signer
// calls it on trees assembled in code before canonicalizing them, because a
// canonicalizer cannot render a namespace nobody declared.
func CheckNamespaces(root *etree.Element) error {
	var err error
	walkElements(root, func(e *etree.Element) bool {
		if e.Space != "" {
			if _, ok := xmlns.Lookup(e, e.Space); !ok {
				err = fmt.Errorf("xml: element <%s> uses undeclared prefix %q", qname(e), e.Space)
				return false
			}
		}
		for i := range e.Attr {
			a := &e.Attr[i]
			if a.Space != "" && a.Space != "xmlns" {
				if _, ok := xmlns.Lookup(e, a.Space); !ok {
					err = fmt.Errorf("xml: attribute %s of <%s> uses undeclared prefix %q", a.FullKey(), qname(e), a.Space)
					return false
				}
			}
		}
		return true
	})
	return err
}

// walkElements visits root and its descendant elements in document order
// without recursion; visit returning false stops the walk.
func walkElements(root *etree.Element, visit func(*etree.Element) bool) {
	type frame struct {
		e *etree.Element
		i int
	}
	if !visit(root) {
		return
	}
	stack := []frame{{root, 0}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.i >= len(f.e.Child) {
			stack = stack[:len(stack)-1]
			continue
		}
		c := f.e.Child[f.i]
		f.i++
		if ce, ok := c.(*etree.Element); ok {
			if !visit(ce) {
				return
			}
			stack = append(stack, frame{ce, 0})
		}
	}
}
