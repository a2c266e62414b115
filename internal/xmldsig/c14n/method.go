// Package c14n implements Canonical XML 1.0, Canonical XML 1.1 and Exclusive
// XML Canonicalization 1.0, with and without comments, over etree trees and
// over document subsets (node-sets).
//
// goxmldsig v1.6.1's canonicalizers were compared with libxml2's (which
// xmlsec1 uses) on an element subtree inside a document and fall short: the
// C14N 1.1 one omits the namespaces the subtree inherits from its ancestors
// (and the xmlns="" undeclaring one), the exclusive one fails with
// "undeclared namespace prefix" when a prefix is declared on an ancestor, and
// the 1.0 one sorts xml:* attributes after the others instead of by
// namespace URI. None accepts a node-set, so the results of
// enveloped-signature, XPath and XPath Filter 2.0 transforms cannot be
// canonicalized with them at all, and etree's parser (encoding/xml) keeps a
// literal newline in an attribute value where XML 1.0 requires a space. This
// package works on node-sets with the XPath data model's element
// granularity: an element's attribute and namespace nodes are in the set
// exactly when the element is, which is true of every node-set the supported
// transforms produce. Its output is checked against libxml2 in the tests.
package c14n

import "fmt"

// Algorithm identifiers (XMLDSig 1.1 section 6.6).
const (
	C14N10             = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	C14N10WithComments = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
	C14N11             = "http://www.w3.org/2006/12/xml-c14n11"
	C14N11WithComments = "http://www.w3.org/2006/12/xml-c14n11#WithComments"
	ExcC14N            = "http://www.w3.org/2001/10/xml-exc-c14n#"
	ExcC14NWithComment = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
)

// Kind selects the canonicalization family.
type Kind int

// The three canonicalization families.
const (
	Inclusive10 Kind = iota // Canonical XML 1.0
	Inclusive11             // Canonical XML 1.1
	Exclusive               // Exclusive XML Canonicalization 1.0
)

// Method is one canonicalization algorithm with its parameters.
type Method struct {
	Kind     Kind
	Comments bool
	// InclusivePrefixes is the exclusive C14N InclusiveNamespaces PrefixList
	// (exc-c14n section 3): prefixes rendered by the inclusive rules,
	// "#default" standing for the default namespace. Ignored for the
	// inclusive kinds.
	InclusivePrefixes []string
}

// ParseMethod maps an algorithm URI to a Method; ok is false for a URI that
// is not one of the six canonicalization algorithms.
func ParseMethod(uri string) (m Method, ok bool) {
	switch uri {
	case C14N10:
		return Method{Kind: Inclusive10}, true
	case C14N10WithComments:
		return Method{Kind: Inclusive10, Comments: true}, true
	case C14N11:
		return Method{Kind: Inclusive11}, true
	case C14N11WithComments:
		return Method{Kind: Inclusive11, Comments: true}, true
	case ExcC14N:
		return Method{Kind: Exclusive}, true
	case ExcC14NWithComment:
		return Method{Kind: Exclusive, Comments: true}, true
	}
	return Method{}, false
}

// URI returns the algorithm identifier of m.
func (m Method) URI() string {
	switch {
	case m.Kind == Inclusive10 && !m.Comments:
		return C14N10
	case m.Kind == Inclusive10:
		return C14N10WithComments
	case m.Kind == Inclusive11 && !m.Comments:
		return C14N11
	case m.Kind == Inclusive11:
		return C14N11WithComments
	case m.Kind == Exclusive && !m.Comments:
		return ExcC14N
	case m.Kind == Exclusive:
		return ExcC14NWithComment
	}
	return fmt.Sprintf("unknown-c14n-%d", m.Kind)
}
