package xades

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"

	"esig/internal/xmldsig"
	"esig/internal/xmldsig/c14n"
	"esig/internal/xmldsig/xmlns"
	"esig/verifier"
)

// timestampProperty is one XAdES time-stamp container (XAdESTimeStampType,
// EN 319 132-1, 5.1.4.3): the canonicalization its input uses, the Include
// elements of an IndividualDataObjectsTimeStamp, and its tokens.
type timestampProperty struct {
	el        *etree.Element
	c14n      string   // canonicalization URI (default Canonical XML 1.0)
	prefixes  []string // exclusive PrefixList
	includes  []string // Include URIs
	tokens    [][]byte // EncapsulatedTimeStamp values
	xmlTokens int      // XMLTimeStamp values (not supported)
}

// isXAdES reports whether e is the element local in any XAdES namespace:
// the children of a 1.4.1 property are in the 1.3.2 namespace, and older
// signatures use older namespaces throughout.
func isXAdES(e *etree.Element, local string) bool {
	if e == nil || e.Tag != local {
		return false
	}
	ns := xmlns.ElementURI(e)
	return ns == Namespace132 || ns == Namespace141 || ns == Namespace122 || ns == Namespace111
}

// readTimestampProperty reads a time-stamp container; an unreadable one is
// a format failure of the property named in the error.
func readTimestampProperty(el *etree.Element) (*timestampProperty, error) {
	t := &timestampProperty{el: el, c14n: c14n.C14N10}
	for _, c := range el.ChildElements() {
		switch {
		case isXAdES(c, "Include"):
			u, _ := attr(c, "URI")
			t.includes = append(t.includes, u)
		case isDSig(c, "CanonicalizationMethod"):
			t.c14n, _ = attr(c, "Algorithm")
			if _, ok := c14n.ParseMethod(t.c14n); !ok {
				return nil, fmt.Errorf("%s: canonicalization method %q is not supported", xmldsig.Where(c), t.c14n)
			}
			for _, in := range c.ChildElements() {
				if xmlns.Is(in, xmldsig.NamespaceExcC14N, "InclusiveNamespaces") {
					pl, _ := attr(in, "PrefixList")
					t.prefixes = strings.Fields(pl)
				}
			}
		case isXAdES(c, "EncapsulatedTimeStamp"):
			if enc, ok := attr(c, "Encoding"); ok && enc != "" && !strings.HasSuffix(enc, "#DER") {
				return nil, fmt.Errorf("%s: encoding %q is not supported (DER is)", xmldsig.Where(c), enc)
			}
			der, err := decodeBase64(xmldsig.TextContent(c))
			if err != nil {
				return nil, fmt.Errorf("%s: not base64", xmldsig.Where(c))
			}
			t.tokens = append(t.tokens, der)
		case isXAdES(c, "XMLTimeStamp"):
			t.xmlTokens++
		case isXAdES(c, "ReferenceInfo"):
		default:
			return nil, fmt.Errorf("%s: unexpected element %s in a time-stamp property", xmldsig.Where(c), c.FullTag())
		}
	}
	if len(t.tokens)+t.xmlTokens == 0 {
		return nil, fmt.Errorf("%s: time-stamp property without a time stamp", xmldsig.Where(el))
	}
	return t, nil
}

// canonical writes the canonical form of e (in its document) by the
// property's algorithm.
func canonical(w io.Writer, e *etree.Element, alg string, prefixes []string) error {
	b, err := xmldsig.CanonicalForm(e, alg, prefixes)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// referenceOutput writes what processing reference r yields, as the time
// stamps over references take it (EN 319 132-1, 5.5.2.2 step 2, and 5.2.8):
// the octets the transforms produced, or, when they left a node-set, that
// node-set canonicalized by the time stamp's own algorithm.
func referenceOutput(w io.Writer, r *xmldsig.Reference, alg string, prefixes []string) error {
	if r.Content == nil {
		if r.Status() == xmldsig.NotFound {
			return fmt.Errorf("%w: reference %d (%s)", verifier.ErrDataNotAvailable, r.Index, describeRef(r))
		}
		return fmt.Errorf("the content of reference %d (%s) could not be processed: %v", r.Index, describeRef(r), r.Err)
	}
	if !r.Content.EndsInNodeSet() {
		_, err := w.Write(r.Content.Octets)
		return err
	}
	b, err := r.Content.Canonicalize(alg, prefixes)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func describeRef(r *xmldsig.Reference) string {
	if r.ID != "" {
		return `Id "` + r.ID + `"`
	}
	return `URI "` + r.URI + `"`
}

// signatureTimestampData writes the input of a SignatureTimeStamp (EN 319
// 132-1, 5.3): the ds:SignatureValue element, canonicalized.
func signatureTimestampData(w io.Writer, s *xmldsig.Signature, alg string, prefixes []string) error {
	sv := s.SignatureValueElement()
	if sv == nil {
		return errors.New("the signature has no ds:SignatureValue")
	}
	return canonical(w, sv, alg, prefixes)
}

// archiveTimestampData writes the input of an archive time stamp (EN 319
// 132-1, 5.5.2.2, "not distributed case"), over the unsigned signature
// properties of usp that precede before (all of them when before is nil):
//
//  1. the output of every SignedInfo Reference, in order;
//  2. ds:SignedInfo, ds:SignatureValue and ds:KeyInfo (if present),
//     canonicalized;
//  3. the unsigned signature properties before this time stamp,
//     canonicalized;
//  4. the ds:Object elements other than the one holding the
//     QualifyingProperties, canonicalized: all of them for the
//     xadesv141:ArchiveTimeStamp, and for the 1.3.2 form of TS 101 903
//     (v1.3.2, 7.7.1) only those no SignedInfo Reference names.
func archiveTimestampData(w io.Writer, s *xmldsig.Signature, qpObject, usp, before *etree.Element, v141 bool, alg string, prefixes []string) error {
	referenced := map[string]bool{}
	for _, r := range s.References {
		if err := referenceOutput(w, r, alg, prefixes); err != nil {
			return err
		}
		if strings.HasPrefix(r.URI, "#") {
			referenced[r.URI[1:]] = true
		}
	}
	el := s.Element()
	kids := el.ChildElements()
	if len(kids) < 2 {
		return errors.New("malformed ds:Signature")
	}
	for _, e := range kids[:2] {
		if err := canonical(w, e, alg, prefixes); err != nil {
			return err
		}
	}
	if s.KeyInfo != nil {
		if err := canonical(w, s.KeyInfo, alg, prefixes); err != nil {
			return err
		}
	}
	if usp != nil {
		for _, p := range usp.ChildElements() {
			if p == before {
				break
			}
			if err := canonical(w, p, alg, prefixes); err != nil {
				return err
			}
		}
	}
	for _, o := range s.Objects {
		if o == qpObject {
			continue
		}
		if !v141 {
			if id, ok := attr(o, "Id"); ok && referenced[id] {
				continue
			}
		}
		if err := canonical(w, o, alg, prefixes); err != nil {
			return err
		}
	}
	return nil
}

// contentTimestampData writes the input of a content time stamp (EN 319
// 132-1, 5.2.8): for AllDataObjectsTimeStamp the output of every SignedInfo
// Reference but the one to the SignedProperties; for
// IndividualDataObjectsTimeStamp that of the References its Include
// elements name.
func contentTimestampData(w io.Writer, s *xmldsig.Signature, spRef *xmldsig.Reference, t *timestampProperty) error {
	if t.el.Tag == "AllDataObjectsTimeStamp" {
		for _, r := range s.References {
			if r == spRef {
				continue
			}
			if err := referenceOutput(w, r, t.c14n, t.prefixes); err != nil {
				return err
			}
		}
		return nil
	}
	if len(t.includes) == 0 {
		return fmt.Errorf("%s: IndividualDataObjectsTimeStamp without Include", xmldsig.Where(t.el))
	}
	for _, inc := range t.includes {
		var ref *xmldsig.Reference
		for _, r := range s.References {
			if (r.ID != "" && inc == "#"+r.ID) || (ref == nil && r.URI == inc) {
				ref = r
			}
		}
		if ref == nil {
			return fmt.Errorf("%s: Include %q names no Reference", xmldsig.Where(t.el), inc)
		}
		if err := referenceOutput(w, ref, t.c14n, t.prefixes); err != nil {
			return err
		}
	}
	return nil
}

// imprint adapts a writer of time-stamped data to the engine's Imprint.
func imprint(write func(io.Writer) error) func(crypto.Hash) ([]byte, error) {
	return func(h crypto.Hash) ([]byte, error) {
		if !h.Available() {
			return nil, fmt.Errorf("hash %v unavailable", h)
		}
		d := h.New()
		if err := write(d); err != nil {
			return nil, err
		}
		return d.Sum(nil), nil
	}
}

// SignatureTimestampData returns the input of the message imprint of a
// SignatureTimeStamp over sig (EN 319 132-1, 5.3): its ds:SignatureValue
// canonicalized by algorithm. The signer time-stamps it for level B-T.
func SignatureTimestampData(sig *xmldsig.Signature, algorithm string, prefixList []string) ([]byte, error) {
	var b bytes.Buffer
	err := signatureTimestampData(&b, sig, algorithm, prefixList)
	return b.Bytes(), err
}

// ArchiveTimestampData returns the input of the message imprint of a new
// xadesv141:ArchiveTimeStamp placed after every unsigned signature property
// sig now has (EN 319 132-1, 5.5.2.2). The signer time-stamps it for level
// B-LTA. sig must have been processed with its detached content, if any.
func ArchiveTimestampData(sig *xmldsig.Signature, algorithm string, prefixList []string) ([]byte, error) {
	qp, obj, err := findQualifyingProperties(sig)
	if err != nil {
		return nil, err
	}
	if qp == nil {
		return nil, errors.New("xades: the signature has no QualifyingProperties")
	}
	ns := xmlns.ElementURI(qp)
	var usp *etree.Element
	if up := child(qp, ns, "UnsignedProperties"); up != nil {
		usp = child(up, ns, "UnsignedSignatureProperties")
	}
	var b bytes.Buffer
	err = archiveTimestampData(&b, sig, obj, usp, nil, true, algorithm, prefixList)
	return b.Bytes(), err
}
