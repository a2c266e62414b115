package xmldsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/c14n"
	"esig/internal/xmldsig/xmlns"
)

// SignOptions configure a Builder.
type SignOptions struct {
	// Signer holds the private key: RSA or ECDSA (crypto.Signer, so keys in
	// files, PKCS#12 or PKCS#11 all work).
	Signer crypto.Signer
	// Certificates go into KeyInfo/X509Data in this order (signer's
	// certificate first, then the chain); none means no KeyInfo.
	Certificates []*x509.Certificate
	// Hash is the SignatureMethod digest (default SHA-256).
	Hash crypto.Hash
	// PSS selects RSASSA-PSS (RFC 6931 sha*-rsa-MGF1, salt = hash length)
	// instead of PKCS#1 v1.5 for RSA keys.
	PSS bool
	// Canonicalization is the SignedInfo CanonicalizationMethod (default
	// exclusive C14N, which keeps SignedInfo's canonical form independent
	// of where the signature is placed), with its PrefixList.
	Canonicalization  string
	InclusivePrefixes []string
	// ID, SignatureValueID and KeyInfoID set Id attributes (XAdES
	// references the signature and time-stamps the SignatureValue by Id).
	ID, SignatureValueID, KeyInfoID string
	// Prefix is the XMLDSig namespace prefix (default "ds"; "-" for the
	// default namespace).
	Prefix string
	// Rand is the randomness source for signing (default crypto/rand).
	Rand io.Reader
	// Limits apply when the finished tree is checked (default: defaults).
	Limits Limits
}

// ReferenceSpec describes one Reference to add.
type ReferenceSpec struct {
	// URI: "" for the whole document (enveloped), "#id" for an element of
	// the same document (an Object, a sibling, SignedProperties), anything
	// else for detached content given in Detached.
	URI      string
	ID, Type string
	// Transforms in order. An enveloped signature needs
	// TransformEnveloped followed by a canonicalization.
	Transforms []TransformSpec
	// Digest is the DigestMethod (default SHA-256).
	Digest crypto.Hash
	// Detached is the content of a non-fragment URI.
	Detached []byte
}

// TransformSpec describes one Transform to write.
type TransformSpec struct {
	Algorithm  string
	PrefixList []string // exclusive canonicalization
	XPath      string   // XPath transform (only not(ancestor-or-self::ds:Signature) is accepted)
	Filters    []Filter // XPath Filter 2.0
}

// Builder assembles and signs one ds:Signature (XMLDSig 1.1 section 3.1).
// Use: NewBuilder, AddReference and AddObject in any order, place
// Element() where it belongs (or leave it alone for a standalone signature
// document), then Sign.
type Builder struct {
	opts   SignOptions
	alg    SignatureAlgorithm
	c14n   c14n.Method
	prefix string

	sig, signedInfo, sigValue *etree.Element
	refs                      []builderRef
	signed                    bool
}

type builderRef struct {
	el       *etree.Element
	detached []byte
}

// NewBuilder checks the options and creates the unsigned ds:Signature
// skeleton (SignedInfo with its methods, an empty SignatureValue, KeyInfo).
func NewBuilder(opts SignOptions) (*Builder, error) {
	if opts.Signer == nil {
		return nil, errors.New("xmldsig: SignOptions.Signer is nil")
	}
	if opts.Hash == 0 {
		opts.Hash = crypto.SHA256
	}
	if opts.Canonicalization == "" {
		opts.Canonicalization = c14n.ExcC14N
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	b := &Builder{opts: opts, prefix: opts.Prefix}
	switch opts.Prefix {
	case "":
		b.prefix = "ds"
	case "-":
		b.prefix = ""
	}
	var kt KeyType
	switch opts.Signer.Public().(type) {
	case *rsa.PublicKey:
		kt = KeyRSA
		if opts.PSS {
			kt = KeyRSAPSS
		}
	case *ecdsa.PublicKey:
		kt = KeyECDSA
	default:
		return nil, fmt.Errorf("xmldsig: unsupported key type %T", opts.Signer.Public())
	}
	alg, ok := signatureAlgorithmFor(kt, opts.Hash)
	if !ok {
		return nil, fmt.Errorf("xmldsig: no signature method for this key with %v", opts.Hash)
	}
	b.alg = alg
	m, ok := c14n.ParseMethod(opts.Canonicalization)
	if !ok {
		return nil, fmt.Errorf("xmldsig: %q is not a canonicalization method", opts.Canonicalization)
	}
	m.InclusivePrefixes = opts.InclusivePrefixes
	b.c14n = m

	b.sig = etree.NewElement(b.name("Signature"))
	if b.prefix == "" {
		b.sig.CreateAttr("xmlns", NamespaceDSig)
	} else {
		b.sig.CreateAttr("xmlns:"+b.prefix, NamespaceDSig)
	}
	if opts.ID != "" {
		b.sig.CreateAttr("Id", opts.ID)
	}
	b.signedInfo = b.sig.CreateElement(b.name("SignedInfo"))
	cm := b.signedInfo.CreateElement(b.name("CanonicalizationMethod"))
	cm.CreateAttr("Algorithm", opts.Canonicalization)
	if m.Kind == c14n.Exclusive && len(opts.InclusivePrefixes) > 0 {
		addPrefixList(cm, opts.InclusivePrefixes)
	}
	b.signedInfo.CreateElement(b.name("SignatureMethod")).CreateAttr("Algorithm", alg.URI)
	b.sigValue = b.sig.CreateElement(b.name("SignatureValue"))
	if opts.SignatureValueID != "" {
		b.sigValue.CreateAttr("Id", opts.SignatureValueID)
	}
	if len(opts.Certificates) > 0 {
		ki := b.sig.CreateElement(b.name("KeyInfo"))
		if opts.KeyInfoID != "" {
			ki.CreateAttr("Id", opts.KeyInfoID)
		}
		xd := ki.CreateElement(b.name("X509Data"))
		for _, c := range opts.Certificates {
			xd.CreateElement(b.name("X509Certificate")).SetText(base64.StdEncoding.EncodeToString(c.Raw))
		}
	}
	return b, nil
}

func (b *Builder) name(local string) string {
	if b.prefix == "" {
		return local
	}
	return b.prefix + ":" + local
}

func addPrefixList(parent *etree.Element, prefixes []string) {
	in := parent.CreateElement("ec:InclusiveNamespaces")
	in.CreateAttr("xmlns:ec", NamespaceExcC14N)
	in.CreateAttr("PrefixList", strings.Join(prefixes, " "))
}

// Element returns the ds:Signature element. Place it in the document to be
// signed (enveloped, or next to the elements it references) before Sign; if
// it has no parent at Sign time it becomes the root of a new document.
func (b *Builder) Element() *etree.Element { return b.sig }

// SignatureMethod returns the algorithm the signature will use.
func (b *Builder) SignatureMethod() SignatureAlgorithm { return b.alg }

// AddObject appends a ds:Object with the given Id (none if empty) and returns
// it for the caller to fill (the XAdES layer puts QualifyingProperties in
// it). Object content is signed only if a Reference covers it.
func (b *Builder) AddObject(id string) *etree.Element {
	o := b.sig.CreateElement(b.name("Object"))
	if id != "" {
		o.CreateAttr("Id", id)
	}
	return o
}

// AddReference appends a ds:Reference to SignedInfo and returns it; its
// DigestValue is computed by Sign.
func (b *Builder) AddReference(r ReferenceSpec) (*etree.Element, error) {
	if r.Digest == 0 {
		r.Digest = crypto.SHA256
	}
	du := DigestURI(r.Digest)
	if du == "" {
		return nil, fmt.Errorf("xmldsig: no DigestMethod for %v", r.Digest)
	}
	if !strings.HasPrefix(r.URI, "#") && r.URI != "" && r.Detached == nil {
		return nil, fmt.Errorf("xmldsig: reference %q needs its Detached content", r.URI)
	}
	el := b.signedInfo.CreateElement(b.name("Reference"))
	if r.ID != "" {
		el.CreateAttr("Id", r.ID)
	}
	el.CreateAttr("URI", r.URI)
	if r.Type != "" {
		el.CreateAttr("Type", r.Type)
	}
	if len(r.Transforms) > 0 {
		ts := el.CreateElement(b.name("Transforms"))
		for _, t := range r.Transforms {
			if err := b.writeTransform(ts, t); err != nil {
				el.Parent().RemoveChild(el)
				return nil, err
			}
		}
	}
	el.CreateElement(b.name("DigestMethod")).CreateAttr("Algorithm", du)
	el.CreateElement(b.name("DigestValue"))
	b.refs = append(b.refs, builderRef{el: el, detached: r.Detached})
	return el, nil
}

func (b *Builder) writeTransform(ts *etree.Element, t TransformSpec) error {
	te := ts.CreateElement(b.name("Transform"))
	te.CreateAttr("Algorithm", t.Algorithm)
	if m, ok := c14n.ParseMethod(t.Algorithm); ok {
		if m.Kind == c14n.Exclusive && len(t.PrefixList) > 0 {
			addPrefixList(te, t.PrefixList)
		}
		return nil
	}
	switch t.Algorithm {
	case TransformEnveloped, TransformBase64:
	case TransformXPath:
		x := te.CreateElement(b.name("XPath"))
		if b.prefix != "ds" {
			x.CreateAttr("xmlns:ds", NamespaceDSig)
		}
		x.SetText(t.XPath)
	case TransformFilter2:
		if len(t.Filters) == 0 {
			return errors.New("xmldsig: XPath Filter 2.0 transform without filters")
		}
		for _, f := range t.Filters {
			x := te.CreateElement("dsig-xpath:XPath")
			x.CreateAttr("xmlns:dsig-xpath", NamespaceFilter2)
			if b.prefix != "ds" {
				x.CreateAttr("xmlns:ds", NamespaceDSig)
			}
			x.CreateAttr("Filter", f.Operation)
			x.SetText(f.XPath)
		}
	default:
		return fmt.Errorf("xmldsig: transform %q is not supported", t.Algorithm)
	}
	return nil
}

type detachedSpecs []builderRef

// Resolve implements Resolver over the Detached bytes of the references
// being signed, so signing digests exactly what verification will.
func (d detachedSpecs) Resolve(uri string) ([]byte, bool) {
	for _, r := range d {
		if u, _ := xmlns.Attr(r.el, "URI"); u == uri && r.detached != nil {
			return r.detached, true
		}
	}
	return nil, false
}

// Sign computes every DigestValue in order, then the SignatureValue over the
// canonical SignedInfo, in the tree where the signature now sits, and checks
// the result with the verifier of this package. doc is the document the
// signature was placed in; nil means the signature (or the topmost element
// above it) becomes the root of a new document. It returns the document.
// A Builder signs once.
func (b *Builder) Sign(doc *etree.Document) (*etree.Document, error) {
	if b.signed {
		return nil, errors.New("xmldsig: Builder already signed")
	}
	if len(b.refs) == 0 {
		return nil, errors.New("xmldsig: a signature needs at least one Reference")
	}
	top := b.sig
	for top.Parent() != nil {
		top = top.Parent()
	}
	tree := doc
	switch {
	case doc == nil && c14n.IsDocument(top):
		return nil, errors.New("xmldsig: the signature is inside a document: pass it to Sign")
	case doc == nil:
		tree = etree.NewDocument()
		tree.SetRoot(top)
	case top != &doc.Element:
		return nil, errors.New("xmldsig: the signature is not inside the document passed to Sign")
	}
	d, err := NewDocument(tree, b.opts.Limits)
	if err != nil {
		return nil, err
	}
	budget := d.limits.MaxWork
	p := &processor{doc: d, sig: b.sig, resolver: detachedSpecs(b.refs), limits: d.limits, budget: &budget}
	for i, br := range b.refs {
		r, rerr := readReference(br.el, i+1, d.limits)
		if rerr != nil {
			return nil, rerr
		}
		p.process(r)
		if r.Err != nil && r.Status() != DigestMismatch {
			return nil, r.Err
		}
		br.el.SelectElement(b.name("DigestValue")).SetText(base64.StdEncoding.EncodeToString(r.Digest))
	}
	var si bytes.Buffer
	if err := c14n.Canonicalize(&si, b.signedInfo, nil, b.c14n); err != nil {
		return nil, err
	}
	h := b.alg.Hash.New()
	h.Write(si.Bytes())
	value, err := b.signDigest(h.Sum(nil))
	if err != nil {
		return nil, err
	}
	b.sigValue.SetText(base64.StdEncoding.EncodeToString(value))
	b.signed = true

	// Self-check: what we hand out must verify with our own verifier.
	check := d.VerifyElement(b.sig, VerifyOptions{Detached: detachedSpecs(b.refs)})
	if err := check.Problem(); err != nil {
		return nil, fmt.Errorf("xmldsig: self-check of the new signature: %w", err)
	}
	if err := check.VerifyValue(b.opts.Signer.Public()); err != nil {
		return nil, fmt.Errorf("xmldsig: self-check of the new signature: %w", err)
	}
	return tree, nil
}

func (b *Builder) signDigest(digest []byte) ([]byte, error) {
	var so crypto.SignerOpts = b.alg.Hash
	if b.alg.Key == KeyRSAPSS {
		so = &rsa.PSSOptions{SaltLength: b.alg.SaltLen, Hash: b.alg.Hash}
	}
	sig, err := b.opts.Signer.Sign(b.opts.Rand, digest, so)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: signing: %w", err)
	}
	if b.alg.Key != KeyECDSA {
		return sig, nil
	}
	// crypto.Signer returns ASN.1 DER for ECDSA; XMLDSig 1.1 section 6.4.3
	// wants r||s, each left-padded to the size of the curve order.
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("xmldsig: ECDSA signer returned a malformed signature")
	}
	n := (b.opts.Signer.Public().(*ecdsa.PublicKey).Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*n)
	rs.R.FillBytes(out[:n])
	rs.S.FillBytes(out[n:])
	return out, nil
}
