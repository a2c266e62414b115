package xades

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/beevik/etree"

	"esig/internal/cms"
	"esig/internal/xmldsig"
)

// SignedProperties are the signed qualifying properties (EN 319 132-1,
// 5.2), read from the xades:SignedProperties element that the Reference of
// Type SignedProperties digested, and from nothing else.
type SignedProperties struct {
	// Element is the signed xades:SignedProperties element. It is part of
	// the verified document: read it, never change it.
	Element *etree.Element
	// Namespace is the XAdES namespace of the element.
	Namespace string
	// SigningTime is the signer's claimed time (5.2.1); nil when absent.
	SigningTime *time.Time
	// SigningCertificates are the Cert entries of SigningCertificateV2, or
	// of SigningCertificate when V1 is true (5.2.2).
	SigningCertificates []CertID
	V1                  bool
	// Policy is the SignaturePolicyIdentifier (5.2.9); nil when absent.
	Policy *SignaturePolicy
	// ClaimedRoles are the xades:ClaimedRole elements of SignerRole or
	// SignerRoleV2 (5.2.6), kept whole: a claimed role is any XML, and the
	// trusted-profile layer reads identities from it.
	ClaimedRoles []*etree.Element
	// CertifiedRoles are the certified-role elements, kept whole (not
	// evaluated).
	CertifiedRoles []*etree.Element
	// DataObjectFormats describe the signed data objects (5.2.4).
	DataObjectFormats []DataObjectFormat
	// CommitmentTypeIndications are kept whole (5.2.3).
	CommitmentTypeIndications []*etree.Element

	contentTimestamps []*etree.Element // AllDataObjects and IndividualDataObjects time stamps
}

// CertID is one Cert entry of SigningCertificate(V2): the digest of a
// certificate and, optionally, its issuer and serial number.
type CertID struct {
	DigestAlgorithm string // DigestMethod URI
	Hash            crypto.Hash
	Digest          []byte
	// IssuerName is the V1 X509IssuerName string as written.
	IssuerName string
	// Serial is the serial number; nil when the entry has no issuer/serial.
	Serial *big.Int

	issuerRDNs  [][]rdnValue // parsed V1 IssuerName; nil when unparsable
	issuerNames [][]byte     // DER Names of a V2 IssuerSerialV2
}

// MatchesDigest reports whether cert hashes to the entry's digest.
func (c CertID) MatchesDigest(cert *x509.Certificate) bool {
	if c.Hash == 0 || !c.Hash.Available() {
		return false
	}
	h := c.Hash.New()
	h.Write(cert.Raw)
	return bytes.Equal(h.Sum(nil), c.Digest)
}

// CheckIssuerSerial returns nil when the entry's issuer and serial number
// (if any) name cert, and an error saying what differs otherwise. A V1
// issuer name that cannot be parsed is not compared; unparsable reports
// that case so the caller can warn.
func (c CertID) CheckIssuerSerial(cert *x509.Certificate) (unparsable bool, err error) {
	if c.Serial == nil {
		return false, nil
	}
	if c.Serial.Cmp(cert.SerialNumber) != 0 {
		return false, fmt.Errorf("serial number %s differs from the certificate's %s", c.Serial, cert.SerialNumber)
	}
	switch {
	case c.issuerNames != nil:
		for _, n := range c.issuerNames {
			if cms.SameName(n, cert.RawIssuer) {
				return false, nil
			}
		}
		return false, fmt.Errorf("issuer differs from the certificate's %q", cert.Issuer.String())
	case c.issuerRDNs != nil:
		if matchesDNString(c.issuerRDNs, cert.RawIssuer) {
			return false, nil
		}
		return false, fmt.Errorf("issuer %q differs from the certificate's %q", c.IssuerName, cert.Issuer.String())
	}
	return true, nil
}

// CertRef converts the entry for the engine's report of references.
func (c CertID) CertRef() cms.CertRef {
	r := cms.CertRef{Hash: c.Hash, Digest: c.Digest, Serial: c.Serial, IssuerNames: c.issuerNames}
	return r
}

// SignaturePolicy is a SignaturePolicyIdentifier (EN 319 132-1, 5.2.9).
type SignaturePolicy struct {
	// Implied is true for SignaturePolicyImplied.
	Implied bool
	// Identifier is the SigPolicyId Identifier: an OID (urn:oid:, or bare
	// with Qualifier OIDAsURN/OIDAsURI) or a URI.
	Identifier  string
	Description string
	// HashAlgorithm and Hash are the SigPolicyHash.
	HashAlgorithm string
	Hash          []byte
	// URI is the SPURI qualifier, where to find the policy document.
	URI string
}

// DataObjectFormat describes one signed data object (EN 319 132-1, 5.2.4).
type DataObjectFormat struct {
	// ObjectReference is "#" and the Id of the ds:Reference it describes.
	ObjectReference  string
	Description      string
	ObjectIdentifier string
	MimeType         string
	Encoding         string
}

// parseSignedProperties reads a signed xades:SignedProperties element.
// Malformed signed properties are a format failure naming the element:
// the signer signed them, so their meaning must be certain.
func parseSignedProperties(sp *etree.Element, ns string) (*SignedProperties, []string, error) {
	p := &SignedProperties{Element: sp, Namespace: ns}
	var warnings []string
	for _, part := range sp.ChildElements() {
		switch {
		case is(part, ns, "SignedSignatureProperties"):
			for _, e := range part.ChildElements() {
				if err := p.signatureProperty(e, ns, &warnings); err != nil {
					return nil, nil, err
				}
			}
		case is(part, ns, "SignedDataObjectProperties"):
			for _, e := range part.ChildElements() {
				switch {
				case is(e, ns, "DataObjectFormat"):
					f := DataObjectFormat{}
					f.ObjectReference, _ = attr(e, "ObjectReference")
					if d := child(e, ns, "Description"); d != nil {
						f.Description = strings.TrimSpace(xmldsig.TextContent(d))
					}
					if m := child(e, ns, "MimeType"); m != nil {
						f.MimeType = strings.TrimSpace(xmldsig.TextContent(m))
					}
					if m := child(e, ns, "Encoding"); m != nil {
						f.Encoding = strings.TrimSpace(xmldsig.TextContent(m))
					}
					if o := child(e, ns, "ObjectIdentifier"); o != nil {
						if id := child(o, ns, "Identifier"); id != nil {
							f.ObjectIdentifier = strings.TrimSpace(xmldsig.TextContent(id))
						}
					}
					p.DataObjectFormats = append(p.DataObjectFormats, f)
				case is(e, ns, "CommitmentTypeIndication"):
					p.CommitmentTypeIndications = append(p.CommitmentTypeIndications, e)
				case is(e, ns, "AllDataObjectsTimeStamp"), is(e, ns, "IndividualDataObjectsTimeStamp"):
					p.contentTimestamps = append(p.contentTimestamps, e)
				default:
					warnings = append(warnings, fmt.Sprintf("signed data object property %s not evaluated", e.FullTag()))
				}
			}
		default:
			return nil, nil, fmt.Errorf("%s: unexpected element %s in SignedProperties", xmldsig.Where(part), part.FullTag())
		}
	}
	return p, warnings, nil
}

func (p *SignedProperties) signatureProperty(e *etree.Element, ns string, warnings *[]string) error {
	switch {
	case is(e, ns, "SigningTime"):
		t, err := parseDateTime(xmldsig.TextContent(e))
		if err != nil {
			return fmt.Errorf("%s: %w", xmldsig.Where(e), err)
		}
		p.SigningTime = &t
	case is(e, ns, "SigningCertificateV2"), is(e, ns, "SigningCertificate"):
		if p.SigningCertificates != nil {
			return fmt.Errorf("%s: a second signing certificate property", xmldsig.Where(e))
		}
		v1 := e.Tag == "SigningCertificate"
		ids, err := parseCertIDs(e, ns, v1)
		if err != nil {
			return err
		}
		p.SigningCertificates, p.V1 = ids, v1
	case is(e, ns, "SignaturePolicyIdentifier"):
		pol, err := parsePolicy(e, ns)
		if err != nil {
			return err
		}
		p.Policy = pol
	case is(e, ns, "SignerRole"), is(e, ns, "SignerRoleV2"):
		if cr := child(e, ns, "ClaimedRoles"); cr != nil {
			p.ClaimedRoles = append(p.ClaimedRoles, children(cr, ns, "ClaimedRole")...)
		}
		for _, name := range []string{"CertifiedRoles", "CertifiedRolesV2"} {
			if cr := child(e, ns, name); cr != nil {
				p.CertifiedRoles = append(p.CertifiedRoles, cr.ChildElements()...)
			}
		}
	case is(e, ns, "SignatureProductionPlace"), is(e, ns, "SignatureProductionPlaceV2"):
	default:
		*warnings = append(*warnings, fmt.Sprintf("signed signature property %s not evaluated", e.FullTag()))
	}
	return nil
}

// parseDateTime reads an xsd:dateTime. A value without a time zone is
// taken as UTC, as EN 319 132-1 (5.2.1) requires signers to write UTC.
func parseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an xsd:dateTime", s)
}

func parseDigest(parent *etree.Element, ns string) (alg string, h crypto.Hash, digest []byte, err error) {
	dm := child(parent, xmldsig.NamespaceDSig, "DigestMethod")
	dv := child(parent, xmldsig.NamespaceDSig, "DigestValue")
	if dm == nil && dv == nil && ns == Namespace111 {
		// TS 101 903 v1.1.1 put DigestMethod and DigestValue of
		// DigestAlgAndValueType in its own namespace.
		dm, dv = child(parent, ns, "DigestMethod"), child(parent, ns, "DigestValue")
	}
	if dm == nil || dv == nil {
		return "", 0, nil, fmt.Errorf("%s: needs ds:DigestMethod and ds:DigestValue", xmldsig.Where(parent))
	}
	alg, _ = attr(dm, "Algorithm")
	digest, err = decodeBase64(xmldsig.TextContent(dv))
	if err != nil {
		return "", 0, nil, fmt.Errorf("%s: DigestValue is not base64", xmldsig.Where(dv))
	}
	return alg, xmldsig.DigestHash(alg), digest, nil
}

func parseCertIDs(e *etree.Element, ns string, v1 bool) ([]CertID, error) {
	certs := children(e, ns, "Cert")
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no Cert entry", xmldsig.Where(e))
	}
	var out []CertID
	for _, c := range certs {
		cd := child(c, ns, "CertDigest")
		if cd == nil {
			return nil, fmt.Errorf("%s: missing CertDigest", xmldsig.Where(c))
		}
		var id CertID
		var err error
		if id.DigestAlgorithm, id.Hash, id.Digest, err = parseDigest(cd, ns); err != nil {
			return nil, err
		}
		if v1 {
			iss := child(c, ns, "IssuerSerial")
			if iss == nil {
				return nil, fmt.Errorf("%s: missing IssuerSerial", xmldsig.Where(c))
			}
			name := child(iss, xmldsig.NamespaceDSig, "X509IssuerName")
			serial := child(iss, xmldsig.NamespaceDSig, "X509SerialNumber")
			if name == nil || serial == nil {
				return nil, fmt.Errorf("%s: needs ds:X509IssuerName and ds:X509SerialNumber", xmldsig.Where(iss))
			}
			n, ok := new(big.Int).SetString(strings.TrimSpace(xmldsig.TextContent(serial)), 10)
			if !ok {
				return nil, fmt.Errorf("%s: %q is not an integer", xmldsig.Where(serial), strings.TrimSpace(xmldsig.TextContent(serial)))
			}
			id.Serial, id.IssuerName = n, strings.TrimSpace(xmldsig.TextContent(name))
			id.issuerRDNs, _ = parseDN(id.IssuerName)
		} else if isv2 := child(c, ns, "IssuerSerialV2"); isv2 != nil {
			der, err := decodeBase64(xmldsig.TextContent(isv2))
			if err != nil {
				return nil, fmt.Errorf("%s: not base64", xmldsig.Where(isv2))
			}
			names, serial, err := parseIssuerSerialV2(der)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", xmldsig.Where(isv2), err)
			}
			id.issuerNames, id.Serial = names, serial
		}
		out = append(out, id)
	}
	return out, nil
}

// parseIssuerSerialV2 reads the DER IssuerSerial of RFC 5035 that
// IssuerSerialV2 carries: the directoryName entries of its GeneralNames and
// the serial number.
func parseIssuerSerialV2(der []byte) ([][]byte, *big.Int, error) {
	var is struct {
		Issuer asn1.RawValue
		Serial *big.Int
	}
	if rest, err := asn1.Unmarshal(der, &is); err != nil || len(rest) > 0 {
		return nil, nil, errors.New("IssuerSerialV2 is not a DER IssuerSerial")
	}
	var names [][]byte
	rest := is.Issuer.Bytes
	for len(rest) > 0 {
		var gn asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &gn); err != nil {
			return nil, nil, errors.New("IssuerSerialV2 issuer is malformed")
		}
		if gn.Class == asn1.ClassContextSpecific && gn.Tag == 4 {
			var name asn1.RawValue
			if r, err := asn1.Unmarshal(gn.Bytes, &name); err == nil && len(r) == 0 {
				names = append(names, name.FullBytes)
			}
		}
	}
	if len(names) == 0 || is.Serial == nil {
		return nil, nil, errors.New("IssuerSerialV2 names no directory name")
	}
	return names, is.Serial, nil
}

func parsePolicy(e *etree.Element, ns string) (*SignaturePolicy, error) {
	if child(e, ns, "SignaturePolicyImplied") != nil {
		return &SignaturePolicy{Implied: true}, nil
	}
	id := child(e, ns, "SignaturePolicyId")
	if id == nil {
		return nil, fmt.Errorf("%s: needs SignaturePolicyId or SignaturePolicyImplied", xmldsig.Where(e))
	}
	p := &SignaturePolicy{}
	spid := child(id, ns, "SigPolicyId")
	if spid == nil {
		return nil, fmt.Errorf("%s: missing SigPolicyId", xmldsig.Where(id))
	}
	if ident := child(spid, ns, "Identifier"); ident != nil {
		p.Identifier = strings.TrimSpace(xmldsig.TextContent(ident))
	}
	if d := child(spid, ns, "Description"); d != nil {
		p.Description = strings.TrimSpace(xmldsig.TextContent(d))
	}
	if h := child(id, ns, "SigPolicyHash"); h != nil {
		alg, _, digest, err := parseDigest(h, ns)
		if err != nil {
			return nil, err
		}
		p.HashAlgorithm, p.Hash = alg, digest
	}
	if q := child(id, ns, "SigPolicyQualifiers"); q != nil {
		for _, sq := range children(q, ns, "SigPolicyQualifier") {
			if u := child(sq, ns, "SPURI"); u != nil {
				p.URI = strings.TrimSpace(xmldsig.TextContent(u))
			}
		}
	}
	return p, nil
}

// decodeBase64 decodes base64 with white space anywhere, as XML Schema's
// base64Binary allows.
func decodeBase64(s string) ([]byte, error) {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			clean = append(clean, c)
		}
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	return out[:n], err
}
