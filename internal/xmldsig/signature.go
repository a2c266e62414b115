package xmldsig

import (
	"bytes"
	"crypto/x509"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/c14n"
	"esig/internal/xmldsig/xmlns"
)

// Signature is one processed ds:Signature (XMLDSig 1.1 section 4.2).
type Signature struct {
	ID string
	// CanonicalizationMethod is the SignedInfo canonicalization algorithm
	// URI, with its exclusive PrefixList if any.
	CanonicalizationMethod string
	InclusivePrefixes      []string
	// SignatureMethod describes the algorithm; SignatureMethod.URI is set
	// even when the algorithm is unknown (then Key is 0).
	SignatureMethod SignatureAlgorithm
	// SignedInfo is the canonical form of ds:SignedInfo: the exact bytes
	// SignatureValue signs.
	SignedInfo     []byte
	SignatureValue []byte
	// References are the SignedInfo references, in order.
	References []*Reference
	// KeyInfo is the ds:KeyInfo element, nil if absent.
	KeyInfo *etree.Element
	// Certificates are the parsable certificates of KeyInfo/X509Data, in
	// document order; CertificateErrors lists the ones Go could not parse.
	Certificates      []*x509.Certificate
	CertificateErrors []error
	// Objects are the ds:Object children. Their content is NOT signed as
	// such: only what a Reference covers is.
	Objects []*etree.Element
	// Err is a format failure of the signature structure itself (SignedInfo,
	// SignatureValue, algorithms). When it is set the signature cannot be
	// valid, and References may be incomplete.
	Err error

	el *etree.Element
}

// Element returns the ds:Signature element.
func (s *Signature) Element() *etree.Element { return s.el }

// SignatureValueElement returns the ds:SignatureValue element (what an
// XAdES SignatureTimeStamp covers), or nil when the structure is malformed.
func (s *Signature) SignatureValueElement() *etree.Element {
	kids := s.el.ChildElements()
	if len(kids) < 2 || !xmlns.Is(kids[1], NamespaceDSig, "SignatureValue") {
		return nil
	}
	return kids[1]
}

// Problem returns the most serious problem of the signature apart from its
// SignatureValue: Err if set, else the first format failure of a Reference,
// else the first digest mismatch, else the first reference whose content was
// not found; nil when every SignedInfo reference is valid.
func (s *Signature) Problem() error {
	if s.Err != nil {
		return s.Err
	}
	for _, want := range []Status{Invalid, DigestMismatch, NotFound} {
		for _, r := range s.References {
			if r.Status() == want {
				return r.Err
			}
		}
	}
	return nil
}

// VerifyOptions parameterize Document.Verify.
type VerifyOptions struct {
	// Detached supplies content for References to other documents; nil
	// means none is available (such References are NotFound).
	Detached Resolver
}

// Verify processes every ds:Signature of the document (see
// SignatureElements) and returns one result per signature, in document
// order. Signatures are independent: a malformed one carries its own Err.
// The error is non-nil only when the document has more signatures than
// Limits.MaxSignatures. SignatureValues are not checked here: the caller
// decides which key to trust and calls VerifyValue.
func (d *Document) Verify(opts VerifyOptions) ([]*Signature, error) {
	els := d.SignatureElements()
	if len(els) > d.limits.MaxSignatures {
		return nil, formatErr(Where(els[d.limits.MaxSignatures]), "more than %d signatures (limit MaxSignatures)", d.limits.MaxSignatures)
	}
	out := make([]*Signature, 0, len(els))
	budget := d.limits.MaxWork
	for _, el := range els {
		out = append(out, d.verifyElement(el, opts, &budget))
	}
	return out, nil
}

// VerifyElement processes the one ds:Signature element el of this document,
// for callers that know which signature they want (a trusted list's, for
// instance, is the one child of its root).
func (d *Document) VerifyElement(el *etree.Element, opts VerifyOptions) *Signature {
	budget := d.limits.MaxWork
	return d.verifyElement(el, opts, &budget)
}

func (d *Document) verifyElement(el *etree.Element, opts VerifyOptions, budget *int64) *Signature {
	s := &Signature{el: el}
	if !xmlns.Is(el, NamespaceDSig, "Signature") || !sameTree(el, &d.tree.Element) {
		s.Err = formatErr(Where(el), "not a ds:Signature of this document")
		return s
	}
	s.ID, _ = xmlns.Attr(el, "Id")
	if err := s.read(d); err != nil {
		s.Err = err
		return s
	}
	p := &processor{doc: d, sig: el, resolver: opts.Detached, limits: d.limits, budget: budget}
	refs, err := p.readAndProcess(s.referenceElements())
	if err != nil {
		s.Err = err
		return s
	}
	s.References = refs
	return s
}

func (s *Signature) referenceElements() []*etree.Element {
	kids := s.el.ChildElements()[0].ChildElements()
	return kids[2:]
}

// read checks the structure of ds:Signature (XMLDSig 1.1 sections 4.2 to
// 4.5) and fills everything but References.
func (s *Signature) read(d *Document) *Error {
	w := Where(s.el)
	kids := s.el.ChildElements()
	if err := onlyElements(s.el); err != nil {
		return err
	}
	if len(kids) < 2 || !xmlns.Is(kids[0], NamespaceDSig, "SignedInfo") || !xmlns.Is(kids[1], NamespaceDSig, "SignatureValue") {
		return formatErr(w, "ds:Signature must start with ds:SignedInfo and ds:SignatureValue")
	}
	i := 2
	if i < len(kids) && xmlns.Is(kids[i], NamespaceDSig, "KeyInfo") {
		s.KeyInfo = kids[i]
		s.readCertificates()
		i++
	}
	for ; i < len(kids); i++ {
		if !xmlns.Is(kids[i], NamespaceDSig, "Object") {
			return formatErr(Where(kids[i]), "unexpected element in ds:Signature")
		}
		s.Objects = append(s.Objects, kids[i])
	}
	if err := s.readSignedInfo(kids[0]); err != nil {
		return err
	}
	sv, err := decodeBase64([]byte(TextContent(kids[1])))
	if err != nil {
		return &Error{Kind: FormatFailure, Where: Where(kids[1]), Msg: "SignatureValue is not base64", Err: err}
	}
	s.SignatureValue = sv
	return nil
}

func (s *Signature) readSignedInfo(si *etree.Element) *Error {
	w := Where(si)
	if err := onlyElements(si); err != nil {
		return err
	}
	kids := si.ChildElements()
	if len(kids) < 3 || !xmlns.Is(kids[0], NamespaceDSig, "CanonicalizationMethod") || !xmlns.Is(kids[1], NamespaceDSig, "SignatureMethod") {
		return formatErr(w, "ds:SignedInfo must hold ds:CanonicalizationMethod, ds:SignatureMethod and at least one ds:Reference")
	}
	for _, r := range kids[2:] {
		if !xmlns.Is(r, NamespaceDSig, "Reference") {
			return formatErr(Where(r), "unexpected element in ds:SignedInfo")
		}
	}
	cm := kids[0]
	s.CanonicalizationMethod, _ = xmlns.Attr(cm, "Algorithm")
	m, ok := c14n.ParseMethod(s.CanonicalizationMethod)
	if !ok {
		// Only canonicalization algorithms may canonicalize SignedInfo:
		// anything else could make the signed bytes differ from the tree
		// whose References we process (XMLDSig 1.1 section 4.4.1).
		return unsupportedErr(Where(cm)+"/@Algorithm", "canonicalization method %q is not supported", s.CanonicalizationMethod)
	}
	if m.Kind == c14n.Exclusive {
		pl, err := readPrefixList(cm)
		if err != nil {
			return err
		}
		s.InclusivePrefixes, m.InclusivePrefixes = pl, pl
	} else if len(cm.ChildElements()) > 0 {
		return formatErr(Where(cm), "unexpected parameter for %s", s.CanonicalizationMethod)
	}
	alg, err := readSignatureMethod(kids[1])
	s.SignatureMethod = alg
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := c14n.Canonicalize(&b, si, nil, m); err != nil {
		return wrapFormat(w, err)
	}
	s.SignedInfo = b.Bytes()
	return nil
}

// readSignatureMethod reads ds:SignatureMethod, including RSAPSSParams for
// the rsa-pss identifier (RFC 9231 section 2.3.10).
func readSignatureMethod(sm *etree.Element) (SignatureAlgorithm, *Error) {
	w := Where(sm)
	uri, _ := xmlns.Attr(sm, "Algorithm")
	alg := SignatureAlgorithm{URI: uri}
	if uri == RSAPSSParams {
		return readPSSParams(sm)
	}
	known, ok := LookupSignatureAlgorithm(uri)
	if !ok {
		return alg, unsupportedErr(w+"/@Algorithm", "signature method %q is not supported", uri)
	}
	if len(sm.ChildElements()) > 0 {
		return alg, unsupportedErr(Where(sm.ChildElements()[0]), "unexpected signature method parameter")
	}
	return known, nil
}

func readPSSParams(sm *etree.Element) (SignatureAlgorithm, *Error) {
	alg := SignatureAlgorithm{URI: RSAPSSParams, Key: KeyRSAPSS}
	kids := sm.ChildElements()
	var params *etree.Element
	if len(kids) == 1 && xmlns.Is(kids[0], NamespaceDSigMore07, "RSAPSSParams") {
		params = kids[0]
	} else if len(kids) > 0 {
		return alg, formatErr(Where(kids[0]), "rsa-pss takes only pss:RSAPSSParams")
	}
	alg.Hash = DigestHash(DigestSHA256)
	saltSet := false
	if params != nil {
		for _, c := range params.ChildElements() {
			switch {
			case xmlns.Is(c, NamespaceDSig, "DigestMethod"):
				u, _ := xmlns.Attr(c, "Algorithm")
				if alg.Hash = DigestHash(u); alg.Hash == 0 {
					return alg, unsupportedErr(Where(c)+"/@Algorithm", "digest algorithm %q is not supported", u)
				}
			case xmlns.Is(c, NamespaceDSigMore07, "MaskGenerationFunction"):
				u, _ := xmlns.Attr(c, "Algorithm")
				if u != mgf1Algorithm {
					return alg, unsupportedErr(Where(c)+"/@Algorithm", "mask generation function %q is not supported", u)
				}
				if dm := c.ChildElements(); len(dm) > 0 {
					mu, _ := xmlns.Attr(dm[0], "Algorithm")
					if DigestHash(mu) != alg.Hash {
						return alg, unsupportedErr(Where(dm[0]), "MGF1 digest differing from the message digest is not supported")
					}
				}
			case xmlns.Is(c, NamespaceDSigMore07, "SaltLength"):
				n, err := strconv.Atoi(strings.TrimSpace(TextContent(c)))
				if err != nil || n < 0 {
					return alg, formatErr(Where(c), "bad SaltLength")
				}
				alg.SaltLen, saltSet = n, true
			case xmlns.Is(c, NamespaceDSigMore07, "TrailerField"):
				if strings.TrimSpace(TextContent(c)) != "1" {
					return alg, unsupportedErr(Where(c), "only TrailerField 1 is supported")
				}
			default:
				return alg, formatErr(Where(c), "unexpected element in RSAPSSParams")
			}
		}
	}
	if !saltSet {
		alg.SaltLen = alg.Hash.Size()
	}
	return alg, nil
}

// readCertificates collects KeyInfo/X509Data/X509Certificate values.
func (s *Signature) readCertificates() {
	for _, xd := range s.KeyInfo.ChildElements() {
		if !xmlns.Is(xd, NamespaceDSig, "X509Data") {
			continue
		}
		for _, xc := range xd.ChildElements() {
			if !xmlns.Is(xc, NamespaceDSig, "X509Certificate") {
				continue
			}
			der, err := decodeBase64([]byte(TextContent(xc)))
			if err != nil {
				s.CertificateErrors = append(s.CertificateErrors, &Error{Kind: FormatFailure, Where: Where(xc), Msg: "not base64", Err: err})
				continue
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				s.CertificateErrors = append(s.CertificateErrors, &Error{Kind: FormatFailure, Where: Where(xc), Msg: "unparsable certificate", Err: err})
				continue
			}
			s.Certificates = append(s.Certificates, c)
		}
	}
}
