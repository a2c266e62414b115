package xades

import (
	"github.com/beevik/etree"

	"esig/internal/xmldsig"
	"esig/internal/xmldsig/xmlns"
)

// XAdES namespaces. Signatures are produced with 1.3.2 and 1.4.1 (EN 319
// 132-1, 4.1); 1.1.1 and 1.2.2 (ETSI TS 101 903 of 2002 and 2004) are still
// met in archives and are read when verifying.
const (
	Namespace111 = "http://uri.etsi.org/01903/v1.1.1#"
	Namespace122 = "http://uri.etsi.org/01903/v1.2.2#"
	Namespace132 = "http://uri.etsi.org/01903/v1.3.2#"
	Namespace141 = "http://uri.etsi.org/01903/v1.4.1#"
)

// Reference types (EN 319 132-1, 4.3 and 5.2.7).
const (
	// SignedPropertiesType marks the Reference that covers
	// xades:SignedProperties.
	SignedPropertiesType = xmldsig.SignedPropertiesType
	// CountersignedSignatureType marks a counter-signature's Reference to
	// the ds:SignatureValue it countersigns.
	CountersignedSignatureType = "http://uri.etsi.org/01903#CountersignedSignature"
)

// qpNamespace reports whether ns is a namespace that defines
// QualifyingProperties.
func qpNamespace(ns string) bool {
	return ns == Namespace132 || ns == Namespace122 || ns == Namespace111
}

// legacy reports whether ns is one of the TS 101 903 namespaces older than
// 1.3.2, whose signers predate the unversioned Reference Type.
func legacy(ns string) bool { return ns == Namespace111 || ns == Namespace122 }

// is reports whether e is the element local in namespace ns.
func is(e *etree.Element, ns, local string) bool { return e != nil && xmlns.Is(e, ns, local) }

// isDSig reports whether e is the XMLDSig element local.
func isDSig(e *etree.Element, local string) bool { return is(e, xmldsig.NamespaceDSig, local) }

// child returns the first child element of e named local in ns.
func child(e *etree.Element, ns, local string) *etree.Element {
	for _, c := range e.ChildElements() {
		if xmlns.Is(c, ns, local) {
			return c
		}
	}
	return nil
}

// children returns the child elements of e named local in ns.
func children(e *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if xmlns.Is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// attr returns the unprefixed attribute name of e.
func attr(e *etree.Element, name string) (string, bool) { return xmlns.Attr(e, name) }

// inside reports whether e is anc or one of its descendants.
func inside(e, anc *etree.Element) bool {
	for x := e; x != nil; x = x.Parent() {
		if x == anc {
			return true
		}
	}
	return false
}
