// Package xades produces XAdES baseline signatures (ETSI EN 319 132-1 and
// -2, namespaces 1.3.2 and 1.4.1) at levels B-B, B-T, B-LT and B-LTA, in
// the enveloped, enveloping and detached packagings, with RSA (PKCS#1 v1.5
// or PSS) and ECDSA keys held anywhere a crypto.Signer reaches (files,
// PKCS#12, PKCS#11 tokens through internal/keys).
//
// The ds:Signature is assembled and signed by the XMLDSig core
// (internal/xmldsig), which checks what it made with its own verifier. This
// package adds the XAdES parts: the QualifyingProperties with the signed
// properties (SigningTime, SigningCertificateV2 or, on request, V1,
// SignaturePolicyIdentifier, SignerRoleV2 (or SignerRole) claimed roles,
// DataObjectFormat)
// covered by a Reference of Type SignedProperties, and for the higher
// levels the unsigned SignatureTimeStamp, CertificateValues,
// RevocationValues and xadesv141:ArchiveTimeStamp, whose message imprints
// are computed by the verifier's own functions (verifier/xades), so that
// what is time-stamped is what verification recomputes.
package xades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"

	"esig/internal/cms"
	"esig/internal/xmldsig"
	"esig/internal/xmldsig/c14n"
	"esig/internal/xmldsig/safexml"
	"esig/signer"
)

// Packaging is where the signature sits relative to what it signs (EN 319
// 132-1, 4.2; XMLDSig 1.1 section 2).
type Packaging int

// The three packagings.
const (
	// Enveloped: the signature is appended to the signed XML document and
	// covers all of it but itself.
	Enveloped Packaging = iota
	// Enveloping: the content is carried in a ds:Object of the signature
	// (as XML, or base64 for other data).
	Enveloping
	// Detached: the signature is a document of its own naming the content
	// by URI; the content travels beside it.
	Detached
)

// ParsePackaging reads "enveloped", "enveloping" or "detached".
func ParsePackaging(s string) (Packaging, error) {
	switch strings.ToLower(s) {
	case "enveloped":
		return Enveloped, nil
	case "enveloping":
		return Enveloping, nil
	case "detached":
		return Detached, nil
	}
	return 0, fmt.Errorf("xades: packaging %q is not one of enveloped, enveloping, detached", s)
}

// String names the packaging.
func (p Packaging) String() string {
	switch p {
	case Enveloped:
		return "enveloped"
	case Enveloping:
		return "enveloping"
	case Detached:
		return "detached"
	}
	return fmt.Sprintf("Packaging(%d)", int(p))
}

// Level is a XAdES baseline level (EN 319 132-1, clause 6).
type Level int

// The baseline levels.
const (
	LevelB Level = iota
	LevelT
	LevelLT
	LevelLTA
)

// ParseLevel reads "B", "T", "LT" or "LTA" (or "B-B", "B-T", ...).
func ParseLevel(s string) (Level, error) {
	switch strings.ToUpper(strings.TrimPrefix(strings.ToUpper(s), "B-")) {
	case "B":
		return LevelB, nil
	case "T":
		return LevelT, nil
	case "LT":
		return LevelLT, nil
	case "LTA":
		return LevelLTA, nil
	}
	return 0, fmt.Errorf("xades: level %q is not one of B, T, LT, LTA", s)
}

// String names the level as EN 319 132-1 does.
func (l Level) String() string {
	if l < LevelB || l > LevelLTA {
		return fmt.Sprintf("Level(%d)", int(l))
	}
	return [...]string{"B-B", "B-T", "B-LT", "B-LTA"}[l]
}

// Timestamper obtains an RFC 3161 time-stamp token over a digest.
type Timestamper = signer.Timestamper

// ValidationData supplies, for B-LT and B-LTA, the revocation data proving
// a certificate unrevoked now.
type ValidationData = signer.RevocationSource

// Policy identifies the signature policy the signer commits to (EN 319
// 132-1, 5.2.9, SignaturePolicyIdentifier/SignaturePolicyId).
type Policy struct {
	// OID identifies the policy; it is written as urn:oid:OID.
	OID string
	// Hash and Digest are the SigPolicyHash: the digest of the policy
	// document under Hash.
	Hash   crypto.Hash
	Digest []byte
	// URI, when set, is written as the SPURI qualifier.
	URI string
}

// Options configure one signature.
type Options struct {
	// Signer holds the private key (RSA or ECDSA) that Certificate
	// certifies.
	Signer      crypto.Signer
	Certificate *x509.Certificate
	// Chain holds CA certificates for KeyInfo (issuer first is usual) and,
	// from B-LT up, for finding issuers of revocation data: give it up to
	// the root.
	Chain []*x509.Certificate
	// Hash is the digest for the signature, references and certificate
	// digests (default SHA-256; SHA-1 is refused).
	Hash crypto.Hash
	// PSS signs with RSASSA-PSS instead of PKCS#1 v1.5 (RSA keys only).
	PSS bool
	// Packaging and Level say where the signature goes and how far it is
	// extended.
	Packaging Packaging
	Level     Level
	// SigningTime defaults to now.
	SigningTime time.Time
	// SigningCertificateV1 writes the TS 101 903 forms, for relying
	// parties that know only those: SigningCertificate (issuer name as a
	// string) instead of SigningCertificateV2, and SignerRole instead of
	// SignerRoleV2.
	SigningCertificateV1 bool
	// ClaimedRoles are written as SignerRoleV2 (or SignerRole) ClaimedRole
	// texts.
	ClaimedRoles []string
	// ClaimedRoleElements are written as ClaimedRole elements whose
	// content is the given XML (a copy of each element), as a
	// trusted-profile seal carries the person's identity there.
	ClaimedRoleElements []*etree.Element
	// Policy, when set, is written as SignaturePolicyIdentifier.
	Policy *Policy
	// Name is the URI of the detached content's Reference (default
	// "document"); it is how a verifier asks for the content.
	Name string
	// MimeType is the DataObjectFormat MimeType (default text/xml for XML
	// content, application/octet-stream otherwise).
	MimeType string
	// ID is the ds:Signature Id (default a random one).
	ID string
	// Timestamper is required from B-T up.
	Timestamper Timestamper
	// Validation is required from B-LT up.
	Validation ValidationData
	// Rand is the randomness for identifiers and signing (default
	// crypto/rand).
	Rand io.Reader
}

// Sign signs content and returns the signature document: the content with
// the signature in it (enveloped), the signature with the content in it
// (enveloping), or the signature alone (detached).
func Sign(ctx context.Context, content []byte, o Options) ([]byte, error) {
	if err := check(&o); err != nil {
		return nil, err
	}
	doc, err := signB(content, &o)
	if err != nil {
		return nil, err
	}
	out, err := xmldsig.Serialize(doc)
	if err != nil {
		return nil, err
	}
	if o.Level == LevelB {
		return out, nil
	}
	detached := xmldsig.DetachedContent{}
	if o.Packaging == Detached {
		detached[o.Name] = content
	}
	u := &upgrader{opts: &o, detached: detached, data: out}
	if err := u.signatureTimestamp(ctx); err != nil {
		return nil, err
	}
	if o.Level >= LevelLT {
		if err := u.validationData(ctx); err != nil {
			return nil, err
		}
	}
	if o.Level >= LevelLTA {
		if err := u.archiveTimestamp(ctx); err != nil {
			return nil, err
		}
	}
	return u.data, nil
}

func check(o *Options) error {
	if o.Signer == nil || o.Certificate == nil {
		return errors.New("xades: a signer and its certificate are required")
	}
	pub, err := x509.MarshalPKIXPublicKey(o.Signer.Public())
	if err != nil || !bytes.Equal(pub, o.Certificate.RawSubjectPublicKeyInfo) {
		return errors.New("xades: the key does not match the certificate")
	}
	if o.Hash == 0 {
		o.Hash = crypto.SHA256
	}
	if err := signer.CheckNewSignature(o.Signer.Public(), o.Hash); err != nil {
		return fmt.Errorf("xades: %w", err)
	}
	switch o.Hash {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		// XML Signature (RFC 6931) names SHA-3 digests, but esig's XMLDSig
		// core does not write them.
		return fmt.Errorf("xades: %v is not one of the digests esig writes in XML signatures (SHA-256, SHA-384, SHA-512)", o.Hash)
	}
	if o.Level >= LevelT && o.Timestamper == nil {
		return fmt.Errorf("xades: level %s needs a time-stamp authority", o.Level)
	}
	if o.Level >= LevelLT && o.Validation == nil {
		return fmt.Errorf("xades: level %s needs a source of revocation data", o.Level)
	}
	if o.Policy != nil && (o.Policy.OID == "" || o.Policy.Hash == 0 || len(o.Policy.Digest) == 0) {
		return errors.New("xades: a signature policy needs its OID and the digest of its document")
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.SigningTime.IsZero() {
		o.SigningTime = time.Now()
	}
	if o.Name == "" {
		o.Name = "document"
	}
	if o.ID == "" {
		b := make([]byte, 16)
		if _, err := io.ReadFull(o.Rand, b); err != nil {
			return err
		}
		o.ID = "id-" + hex.EncodeToString(b)
	}
	return nil
}

// signB builds and signs the B-B signature and returns its document.
func signB(content []byte, o *Options) (*etree.Document, error) {
	b, err := xmldsig.NewBuilder(xmldsig.SignOptions{Signer: o.Signer, Certificates: certChain(o), Hash: o.Hash, PSS: o.PSS,
		ID: o.ID, SignatureValueID: "value-" + o.ID, Rand: o.Rand})
	if err != nil {
		return nil, err
	}
	refID := "r-" + o.ID + "-1"
	var doc *etree.Document
	isXML := false
	switch o.Packaging {
	case Enveloped:
		d, err := safexml.Parse(content, safexml.Limits{})
		if err != nil {
			return nil, fmt.Errorf("xades: an enveloped signature needs an XML document: %w", err)
		}
		doc, isXML = d, true
		if _, err := b.AddReference(xmldsig.ReferenceSpec{URI: "", ID: refID, Digest: o.Hash,
			Transforms: []xmldsig.TransformSpec{{Algorithm: xmldsig.TransformEnveloped}, {Algorithm: c14n.ExcC14N}}}); err != nil {
			return nil, err
		}
		d.Root().AddChild(b.Element())
	case Enveloping:
		objID := "content-" + o.ID
		obj := b.AddObject(objID)
		spec := xmldsig.ReferenceSpec{URI: "#" + objID, ID: refID, Type: xmldsig.TypeObject, Digest: o.Hash}
		if d, err := safexml.Parse(content, safexml.Limits{}); err == nil && d.Root() != nil {
			obj.AddChild(d.Root())
			isXML = true
			spec.Transforms = []xmldsig.TransformSpec{{Algorithm: c14n.ExcC14N}}
		} else {
			obj.CreateAttr("Encoding", xmldsig.TransformBase64)
			obj.SetText(wrap76(base64.StdEncoding.EncodeToString(content)))
			spec.Transforms = []xmldsig.TransformSpec{{Algorithm: xmldsig.TransformBase64}}
		}
		if _, err := b.AddReference(spec); err != nil {
			return nil, err
		}
	case Detached:
		// The name is written as a URI reference (a space becomes %20);
		// verifiers resolve either form.
		uri := (&url.URL{Path: o.Name}).EscapedPath()
		if _, err := b.AddReference(xmldsig.ReferenceSpec{URI: uri, ID: refID, Digest: o.Hash, Detached: content}); err != nil {
			return nil, err
		}
		_, err := safexml.Parse(content, safexml.Limits{})
		isXML = err == nil
	default:
		return nil, fmt.Errorf("xades: unknown packaging %v", o.Packaging)
	}
	mime := o.MimeType
	if mime == "" {
		mime = "application/octet-stream"
		if isXML {
			mime = "text/xml"
		}
	}
	if err := addQualifyingProperties(b, refID, mime, o); err != nil {
		return nil, err
	}
	return b.Sign(doc)
}

// wrap76 breaks base64 into lines of 76 characters, as XML signers
// customarily write it.
func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76])
		b.WriteByte('\n')
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// signedProperties writes xades:SignedProperties (EN 319 132-1, 5.2), its
// children in the order of the 1.3.2 schema.
func signedProperties(qp *etree.Element, spID, refID, mime string, o *Options) error {
	sp := qp.CreateElement("xades:SignedProperties")
	sp.CreateAttr("Id", spID)
	ssp := sp.CreateElement("xades:SignedSignatureProperties")
	ssp.CreateElement("xades:SigningTime").SetText(o.SigningTime.UTC().Format(time.RFC3339))
	du := xmldsig.DigestURI(o.Hash)
	d := o.Hash.New()
	d.Write(o.Certificate.Raw)
	certDigest := base64.StdEncoding.EncodeToString(d.Sum(nil))
	digest := func(parent *etree.Element, uri, value string) {
		parent.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", uri)
		parent.CreateElement("ds:DigestValue").SetText(value)
	}
	if o.SigningCertificateV1 {
		cert := ssp.CreateElement("xades:SigningCertificate").CreateElement("xades:Cert")
		digest(cert.CreateElement("xades:CertDigest"), du, certDigest)
		is := cert.CreateElement("xades:IssuerSerial")
		is.CreateElement("ds:X509IssuerName").SetText(o.Certificate.Issuer.String())
		is.CreateElement("ds:X509SerialNumber").SetText(o.Certificate.SerialNumber.String())
	} else {
		cert := ssp.CreateElement("xades:SigningCertificateV2").CreateElement("xades:Cert")
		digest(cert.CreateElement("xades:CertDigest"), du, certDigest)
		serial, err := asn1.Marshal(o.Certificate.SerialNumber)
		if err != nil {
			return err
		}
		issuerSerial := cms.Sequence(cms.Sequence(cms.Explicit(4, o.Certificate.RawIssuer)), serial)
		cert.CreateElement("xades:IssuerSerialV2").SetText(base64.StdEncoding.EncodeToString(issuerSerial))
	}
	if p := o.Policy; p != nil {
		pid := ssp.CreateElement("xades:SignaturePolicyIdentifier").CreateElement("xades:SignaturePolicyId")
		id := pid.CreateElement("xades:SigPolicyId").CreateElement("xades:Identifier")
		id.CreateAttr("Qualifier", "OIDAsURN")
		id.SetText("urn:oid:" + p.OID)
		pu := xmldsig.DigestURI(p.Hash)
		if pu == "" {
			return fmt.Errorf("xades: no DigestMethod for the policy hash %v", p.Hash)
		}
		digest(pid.CreateElement("xades:SigPolicyHash"), pu, base64.StdEncoding.EncodeToString(p.Digest))
		if p.URI != "" {
			pid.CreateElement("xades:SigPolicyQualifiers").CreateElement("xades:SigPolicyQualifier").
				CreateElement("xades:SPURI").SetText(p.URI)
		}
	}
	if len(o.ClaimedRoles) > 0 || len(o.ClaimedRoleElements) > 0 {
		role := "xades:SignerRoleV2"
		if o.SigningCertificateV1 {
			role = "xades:SignerRole"
		}
		roles := ssp.CreateElement(role).CreateElement("xades:ClaimedRoles")
		for _, r := range o.ClaimedRoles {
			roles.CreateElement("xades:ClaimedRole").SetText(r)
		}
		for _, el := range o.ClaimedRoleElements {
			roles.CreateElement("xades:ClaimedRole").AddChild(el.Copy())
		}
	}
	dof := sp.CreateElement("xades:SignedDataObjectProperties").CreateElement("xades:DataObjectFormat")
	dof.CreateAttr("ObjectReference", "#"+refID)
	dof.CreateElement("xades:MimeType").SetText(mime)
	return nil
}
