package cms

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// Limits on counts in one SignedData. Real signatures carry a few
// certificates and revocation values and one or two signers; the limits
// are far above that and keep hostile input from costing much.
const (
	MaxSigners        = 64
	MaxCertificates   = 512
	MaxRevocationInfo = 512
	MaxAttributes     = 128
	MaxAttrValues     = 64
)

// SignedData is a parsed CMS SignedData (RFC 5652, 5.1) with the encodings
// of the fields that signatures and archive time stamps cover.
type SignedData struct {
	Version          int
	DigestAlgorithms []AlgorithmIdentifier
	// ContentType is encapContentInfo.eContentType.
	ContentType asn1.ObjectIdentifier
	// ContentTypeRaw is the encoding of eContentType (ATSv3 hashes it).
	ContentTypeRaw []byte
	// Content is the encapsulated content, nil when HasContent is false
	// (a detached signature).
	Content    []byte
	HasContent bool

	Certificates []CertificateChoice
	CRLs         []RevocationChoice
	SignerInfos  []SignerInfo
}

// CertificateChoice is one member of SignedData.certificates.
type CertificateChoice struct {
	// Raw is the CertificateChoices encoding (ATSv3 hashes it).
	Raw []byte
	// Certificate is set for X.509 certificates that crypto/x509 parses;
	// ParseError says why it is nil for an X.509 one.
	Certificate *x509.Certificate
	ParseError  error
}

// RevocationKind tells what a RevocationInfoChoice holds.
type RevocationKind int

// Kinds of revocation information.
const (
	RevocationOther RevocationKind = iota
	RevocationCRL
	RevocationOCSP
)

// RevocationChoice is one member of SignedData.crls.
type RevocationChoice struct {
	Raw  []byte // the RevocationInfoChoice encoding
	Kind RevocationKind
	// Data is the CertificateList for a CRL and the OCSPResponse for OCSP.
	Data []byte
}

// SignerIdentifier names the signer's certificate: by issuer and serial
// number (version 1) or by subject key identifier (version 3).
type SignerIdentifier struct {
	IssuerRaw    []byte // DER of the issuer Name
	Serial       *big.Int
	SubjectKeyID []byte
}

// String describes the identifier for reports.
func (s SignerIdentifier) String() string {
	if s.SubjectKeyID != nil {
		return fmt.Sprintf("subjectKeyIdentifier %X", s.SubjectKeyID)
	}
	return fmt.Sprintf("issuer and serial number %X", s.Serial)
}

// Matches reports whether cert is the certificate the identifier names.
// A subject key identifier matches the certificate's extension or, when the
// certificate has none, the RFC 5280 (4.2.1.2, method 1) SHA-1 of its key.
func (s SignerIdentifier) Matches(cert *x509.Certificate) bool {
	if s.SubjectKeyID != nil {
		if len(cert.SubjectKeyId) > 0 {
			return bytes.Equal(cert.SubjectKeyId, s.SubjectKeyID)
		}
		return bytes.Equal(KeyIdentifier(cert), s.SubjectKeyID)
	}
	return s.Serial != nil && cert.SerialNumber != nil && cert.SerialNumber.Cmp(s.Serial) == 0 &&
		bytes.Equal(cert.RawIssuer, s.IssuerRaw)
}

// SignerInfo is a parsed SignerInfo (RFC 5652, 5.3).
type SignerInfo struct {
	Raw     []byte
	Version int
	SID     SignerIdentifier

	DigestAlgorithm AlgorithmIdentifier
	// SignedAttrs is nil when the signer signed the content directly.
	SignedAttrs Attributes
	// SignedAttrsRaw is the [0] IMPLICIT encoding as it appears.
	SignedAttrsRaw []byte
	// SignedAttrsSigned is what the signature covers: the SET OF encoding
	// (RFC 5652, 5.4), the original bytes with the tag changed to SET.
	SignedAttrsSigned []byte
	// SignedAttrsDER is the DER re-encoding, set only when the original was
	// not DER; a verifier may try it when the original bytes fail.
	SignedAttrsDER []byte

	SignatureAlgorithm AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      Attributes

	// Encodings of the fields the ATSv3 imprint covers (EN 319 122-1, 5.5.3).
	VersionRaw, SIDRaw, SignatureRaw []byte
}

// ParseContentInfo parses a ContentInfo holding SignedData, the outer form
// of every CMS signature and RFC 3161 time-stamp token.
func ParseContentInfo(der []byte) (*SignedData, error) {
	ci, rest, err := ParseElement(der)
	if err != nil {
		return nil, fmt.Errorf("cms: ContentInfo: %w", err)
	}
	if len(bytes.TrimRight(rest, "\x00")) != 0 {
		return nil, fmt.Errorf("cms: %d bytes of trailing data after ContentInfo", len(rest))
	}
	if !ci.IsUniversal(TagSequence) || !ci.Constructed {
		return nil, errors.New("cms: ContentInfo is not a SEQUENCE")
	}
	kids, err := ci.Children()
	if err != nil {
		return nil, fmt.Errorf("cms: ContentInfo: %w", err)
	}
	if len(kids) != 2 {
		return nil, fmt.Errorf("cms: ContentInfo has %d fields, want 2", len(kids))
	}
	ct, err := ParseOID(kids[0])
	if err != nil {
		return nil, fmt.Errorf("cms: ContentInfo.contentType: %w", err)
	}
	if !ct.Equal(OIDSignedData) {
		return nil, fmt.Errorf("cms: ContentInfo.contentType is %v, not signedData", ct)
	}
	if !kids[1].Is(ClassContext, 0) || !kids[1].Constructed {
		return nil, errors.New("cms: ContentInfo.content is not [0] EXPLICIT")
	}
	inner, err := kids[1].Children()
	if err != nil || len(inner) != 1 {
		return nil, errors.New("cms: ContentInfo.content must hold exactly one SignedData")
	}
	return ParseSignedData(inner[0])
}

// ParseSignedData parses the SignedData SEQUENCE.
func ParseSignedData(e Element) (*SignedData, error) {
	if !e.IsUniversal(TagSequence) || !e.Constructed {
		return nil, errors.New("cms: SignedData is not a SEQUENCE")
	}
	f, err := e.Children()
	if err != nil {
		return nil, fmt.Errorf("cms: SignedData: %w", err)
	}
	if len(f) < 4 {
		return nil, fmt.Errorf("cms: SignedData has %d fields, want at least 4", len(f))
	}
	sd := &SignedData{}
	if sd.Version, err = ParseSmallInt(f[0]); err != nil {
		return nil, fmt.Errorf("cms: SignedData.version: %w", err)
	}
	if !f[1].IsUniversal(TagSet) || !f[1].Constructed {
		return nil, errors.New("cms: SignedData.digestAlgorithms is not a SET")
	}
	algs, err := f[1].Children()
	if err != nil {
		return nil, fmt.Errorf("cms: SignedData.digestAlgorithms: %w", err)
	}
	if len(algs) > MaxSigners {
		return nil, errors.New("cms: SignedData.digestAlgorithms too long")
	}
	for _, a := range algs {
		alg, err := ParseAlgorithmIdentifier(a)
		if err != nil {
			return nil, fmt.Errorf("cms: SignedData.digestAlgorithms: %w", err)
		}
		sd.DigestAlgorithms = append(sd.DigestAlgorithms, alg)
	}
	if err := sd.parseEncapContentInfo(f[2]); err != nil {
		return nil, err
	}
	i := 3
	if i < len(f) && f[i].Is(ClassContext, 0) {
		if err := sd.parseCertificates(f[i]); err != nil {
			return nil, err
		}
		i++
	}
	if i < len(f) && f[i].Is(ClassContext, 1) {
		if err := sd.parseCRLs(f[i]); err != nil {
			return nil, err
		}
		i++
	}
	if i != len(f)-1 {
		return nil, errors.New("cms: SignedData has unexpected fields before signerInfos")
	}
	if !f[i].IsUniversal(TagSet) || !f[i].Constructed {
		return nil, errors.New("cms: SignedData.signerInfos is not a SET")
	}
	sis, err := f[i].Children()
	if err != nil {
		return nil, fmt.Errorf("cms: SignedData.signerInfos: %w", err)
	}
	if len(sis) > MaxSigners {
		return nil, fmt.Errorf("cms: more than %d SignerInfos", MaxSigners)
	}
	for n, s := range sis {
		si, err := ParseSignerInfo(s)
		if err != nil {
			return nil, fmt.Errorf("cms: SignerInfo %d: %w", n+1, err)
		}
		sd.SignerInfos = append(sd.SignerInfos, *si)
	}
	return sd, nil
}

func (sd *SignedData) parseEncapContentInfo(e Element) error {
	if !e.IsUniversal(TagSequence) || !e.Constructed {
		return errors.New("cms: SignedData.encapContentInfo is not a SEQUENCE")
	}
	f, err := e.Children()
	if err != nil {
		return fmt.Errorf("cms: encapContentInfo: %w", err)
	}
	if len(f) < 1 || len(f) > 2 {
		return fmt.Errorf("cms: encapContentInfo has %d fields", len(f))
	}
	if sd.ContentType, err = ParseOID(f[0]); err != nil {
		return fmt.Errorf("cms: encapContentInfo.eContentType: %w", err)
	}
	sd.ContentTypeRaw = Encode(ClassUniversal, TagOID, false, f[0].Body)
	if len(f) == 2 {
		if !f[1].Is(ClassContext, 0) || !f[1].Constructed {
			return errors.New("cms: encapContentInfo.eContent is not [0] EXPLICIT")
		}
		inner, err := f[1].Children()
		if err != nil || len(inner) != 1 || !inner[0].IsUniversal(TagOctetString) {
			return errors.New("cms: encapContentInfo.eContent must hold one OCTET STRING")
		}
		if sd.Content, err = inner[0].OctetString(); err != nil {
			return fmt.Errorf("cms: encapContentInfo.eContent: %w", err)
		}
		sd.HasContent = true
	}
	return nil
}

func (sd *SignedData) parseCertificates(e Element) error {
	if !e.Constructed {
		return errors.New("cms: SignedData.certificates is not constructed")
	}
	certs, err := e.Children()
	if err != nil {
		return fmt.Errorf("cms: SignedData.certificates: %w", err)
	}
	if len(certs) > MaxCertificates {
		return fmt.Errorf("cms: more than %d certificates", MaxCertificates)
	}
	for _, c := range certs {
		cc := CertificateChoice{Raw: c.Raw}
		if c.IsUniversal(TagSequence) {
			der, err := c.ToDER()
			if err == nil {
				cc.Certificate, err = x509.ParseCertificate(der)
			}
			cc.ParseError = err
		}
		sd.Certificates = append(sd.Certificates, cc)
	}
	return nil
}

func (sd *SignedData) parseCRLs(e Element) error {
	if !e.Constructed {
		return errors.New("cms: SignedData.crls is not constructed")
	}
	items, err := e.Children()
	if err != nil {
		return fmt.Errorf("cms: SignedData.crls: %w", err)
	}
	if len(items) > MaxRevocationInfo {
		return fmt.Errorf("cms: more than %d revocation values", MaxRevocationInfo)
	}
	for _, it := range items {
		rc := RevocationChoice{Raw: it.Raw}
		switch {
		case it.IsUniversal(TagSequence):
			rc.Kind = RevocationCRL
			rc.Data, _ = it.ToDER()
		case it.Is(ClassContext, 1) && it.Constructed:
			// OtherRevocationInfoFormat ::= SEQUENCE { otherRevInfoFormat OID, otherRevInfo ANY }
			f, err := it.Children()
			if err == nil && len(f) == 2 {
				if oid, err := ParseOID(f[0]); err == nil && oid.Equal(OIDRevocationInfoOCSP) {
					rc.Kind = RevocationOCSP
					rc.Data, _ = f[1].ToDER()
				}
			}
		}
		sd.CRLs = append(sd.CRLs, rc)
	}
	return nil
}

// ParseSignerInfo parses one SignerInfo SEQUENCE.
func ParseSignerInfo(e Element) (*SignerInfo, error) {
	if !e.IsUniversal(TagSequence) || !e.Constructed {
		return nil, errors.New("SignerInfo is not a SEQUENCE")
	}
	f, err := e.Children()
	if err != nil {
		return nil, err
	}
	if len(f) < 5 || len(f) > 7 {
		return nil, fmt.Errorf("SignerInfo has %d fields", len(f))
	}
	si := &SignerInfo{Raw: e.Raw, VersionRaw: f[0].Raw, SIDRaw: f[1].Raw}
	if si.Version, err = ParseSmallInt(f[0]); err != nil {
		return nil, fmt.Errorf("version: %w", err)
	}
	switch {
	case f[1].IsUniversal(TagSequence):
		ias, err := f[1].Children()
		if err != nil || len(ias) != 2 || !ias[0].IsUniversal(TagSequence) {
			return nil, errors.New("sid: malformed IssuerAndSerialNumber")
		}
		si.SID.IssuerRaw, err = ias[0].ToDER()
		if err != nil {
			return nil, fmt.Errorf("sid.issuer: %w", err)
		}
		if si.SID.Serial, err = ParseInteger(ias[1]); err != nil {
			return nil, fmt.Errorf("sid.serialNumber: %w", err)
		}
	case f[1].Is(ClassContext, 0):
		ski, err := f[1].OctetString()
		if err != nil || len(ski) == 0 {
			return nil, errors.New("sid: malformed subjectKeyIdentifier")
		}
		si.SID.SubjectKeyID = ski
	default:
		return nil, fmt.Errorf("sid: unexpected %s", f[1])
	}
	if si.DigestAlgorithm, err = ParseAlgorithmIdentifier(f[2]); err != nil {
		return nil, fmt.Errorf("digestAlgorithm: %w", err)
	}
	i := 3
	if f[i].Is(ClassContext, 0) {
		if !f[i].Constructed {
			return nil, errors.New("signedAttrs is not constructed")
		}
		if si.SignedAttrs, err = ParseAttributes(f[i]); err != nil {
			return nil, fmt.Errorf("signedAttrs: %w", err)
		}
		if len(si.SignedAttrs) == 0 {
			return nil, errors.New("signedAttrs is present but empty")
		}
		si.SignedAttrsRaw = f[i].Raw
		signed := append([]byte(nil), f[i].Raw...)
		signed[0] = 0x31 // SET OF, universal, constructed (RFC 5652, 5.4)
		si.SignedAttrsSigned = signed
		if !f[i].IsDER() {
			der, err := f[i].ToDER()
			if err == nil {
				d := append([]byte(nil), der...)
				d[0] = 0x31
				si.SignedAttrsDER = d
			}
		}
		i++
	}
	if i+2 > len(f) {
		return nil, errors.New("missing signatureAlgorithm or signature")
	}
	if si.SignatureAlgorithm, err = ParseAlgorithmIdentifier(f[i]); err != nil {
		return nil, fmt.Errorf("signatureAlgorithm: %w", err)
	}
	if !f[i+1].IsUniversal(TagOctetString) {
		return nil, errors.New("signature is not an OCTET STRING")
	}
	si.SignatureRaw = f[i+1].Raw
	if si.Signature, err = f[i+1].OctetString(); err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	i += 2
	if i < len(f) {
		if !f[i].Is(ClassContext, 1) || !f[i].Constructed {
			return nil, fmt.Errorf("unexpected %s after signature", f[i])
		}
		if si.UnsignedAttrs, err = ParseAttributes(f[i]); err != nil {
			return nil, fmt.Errorf("unsignedAttrs: %w", err)
		}
		i++
	}
	if i != len(f) {
		return nil, errors.New("trailing fields in SignerInfo")
	}
	return si, nil
}

// Certificates returns the parsed X.509 certificates the SignedData carries.
func (sd *SignedData) X509Certificates() []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range sd.Certificates {
		if c.Certificate != nil {
			out = append(out, c.Certificate)
		}
	}
	return out
}
