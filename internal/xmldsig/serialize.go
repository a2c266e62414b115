package xmldsig

import (
	"bytes"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/c14n"
)

// Serialize writes doc as UTF-8 XML that parses back to a tree with exactly
// the same canonical forms: an XML declaration followed by the Canonical XML
// 1.0 (with comments) form of the whole document. etree's own writer does not
// guarantee this: it writes a tab, newline or carriage return in an attribute
// value literally, which a parser then normalizes to a space (XML 1.0 section
// 3.3.3), breaking every digest over that attribute.
func Serialize(doc *etree.Document) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if err := c14n.Canonicalize(&b, &doc.Element, nil, c14n.Method{Kind: c14n.Inclusive10, Comments: true}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// CanonicalForm returns the canonical form of the subtree of e (in its
// document, so inherited namespaces count) by the canonicalization algorithm
// URI, with an exclusive PrefixList if any. The XAdES layer uses it for the
// inputs of time-stamps, e.g. the ds:SignatureValue element (ETSI EN 319
// 132-1 section 5.3).
func CanonicalForm(e *etree.Element, algorithm string, prefixList []string) ([]byte, error) {
	m, ok := c14n.ParseMethod(algorithm)
	if !ok {
		return nil, unsupportedErr(Where(e), "canonicalization method %q is not supported", algorithm)
	}
	m.InclusivePrefixes = prefixList
	var b bytes.Buffer
	if err := c14n.Canonicalize(&b, e, nil, m); err != nil {
		return nil, wrapFormat(Where(e), err)
	}
	return b.Bytes(), nil
}
