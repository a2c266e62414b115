// Package xmlns resolves namespace prefixes on an etree tree.
//
// etree keeps prefixes, not namespace names: Element.Space and Attr.Space
// hold the prefix as written, and declarations are ordinary attributes
// (xmlns="..." and xmlns:p="..."). Every decision of the signature core that
// depends on an element's identity (is this a ds:Signature? which attributes
// does exclusive C14N see as visibly utilized?) must compare namespace names,
// never prefixes, so they all go through this package (Namespaces in XML 1.0,
// section 6).
package xmlns

import "github.com/beevik/etree"

// XML is the namespace name permanently bound to the prefix "xml"
// (Namespaces in XML 1.0, section 3).
const XML = "http://www.w3.org/XML/1998/namespace"

// XMLNS is the namespace name bound to the prefix "xmlns" (Namespaces in XML
// 1.0, section 3); declarations themselves are in it.
const XMLNS = "http://www.w3.org/2000/xmlns/"

// IsDecl reports whether a is a namespace declaration (xmlns or xmlns:p)
// rather than an ordinary attribute.
func IsDecl(a *etree.Attr) bool {
	return a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns")
}

// DeclPrefix returns the prefix a declares ("" for the default namespace).
// It must only be called when IsDecl(a).
func DeclPrefix(a *etree.Attr) string {
	if a.Space == "xmlns" {
		return a.Key
	}
	return ""
}

// Lookup returns the namespace name bound to prefix in the scope of e, and
// whether a binding exists. The empty prefix asks for the default namespace;
// an undeclared default namespace (or xmlns="") yields "" and true, because
// "no namespace" is a valid answer for unprefixed element names.
func Lookup(e *etree.Element, prefix string) (string, bool) {
	switch prefix {
	case "xml":
		return XML, true
	case "xmlns":
		return XMLNS, true
	}
	for el := e; el != nil; el = el.Parent() {
		for i := range el.Attr {
			a := &el.Attr[i]
			if prefix == "" {
				if a.Space == "" && a.Key == "xmlns" {
					return a.Value, true
				}
			} else if a.Space == "xmlns" && a.Key == prefix {
				return a.Value, true
			}
		}
	}
	if prefix == "" {
		return "", true
	}
	return "", false
}

// ElementURI returns the namespace name of e ("" when it has none or when its
// prefix is undeclared; the parser refuses undeclared prefixes, and the
// signer checks trees built in code before using them).
func ElementURI(e *etree.Element) string {
	u, _ := Lookup(e, e.Space)
	return u
}

// AttrURI returns the namespace name of attribute a of element e. Unprefixed
// attributes are in no namespace (Namespaces in XML 1.0, section 6.2), so the
// default namespace does not apply to them.
func AttrURI(e *etree.Element, a *etree.Attr) string {
	if a.Space == "" {
		if a.Key == "xmlns" {
			return XMLNS
		}
		return ""
	}
	u, _ := Lookup(e, a.Space)
	return u
}

// Is reports whether e is the element {uri}local.
func Is(e *etree.Element, uri, local string) bool {
	return e != nil && e.Tag == local && ElementURI(e) == uri
}

// Attr returns the value of the unprefixed attribute name on e, and whether
// it is present. Signature syntax attributes (Id, URI, Type, Algorithm) are
// all unprefixed, and looking them up this way avoids etree's prefix-blind
// SelectAttr matching "foo:URI" when asked for "URI".
func Attr(e *etree.Element, name string) (string, bool) {
	for i := range e.Attr {
		if e.Attr[i].Space == "" && e.Attr[i].Key == name {
			return e.Attr[i].Value, true
		}
	}
	return "", false
}

// InScope returns every namespace binding in scope at e, keyed by prefix
// ("" for the default namespace, whose value may be "" when undeclared by
// xmlns=""), excluding the fixed xml binding. Canonicalization of a subtree
// starts from this map, because inclusive C14N must render the namespaces
// the subtree inherits from ancestors outside it (C14N 1.0, section 2.4).
func InScope(e *etree.Element) map[string]string {
	m := make(map[string]string)
	var chain []*etree.Element
	for el := e; el != nil; el = el.Parent() {
		chain = append(chain, el)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		for j := range chain[i].Attr {
			a := &chain[i].Attr[j]
			if IsDecl(a) {
				m[DeclPrefix(a)] = a.Value
			}
		}
	}
	delete(m, "xml")
	return m
}
