package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// CertRef is one ESSCertID or ESSCertIDv2: a digest of a certificate and,
// optionally, its issuer and serial number. The first reference in a
// signing-certificate attribute names the signer's certificate; binding it
// under the signature stops an attacker from substituting another
// certificate for the same key (RFC 5035, 3).
type CertRef struct {
	Hash   crypto.Hash
	Digest []byte
	// IssuerNames holds the DER of each directoryName in
	// issuerSerial.issuer; empty when issuerSerial is absent.
	IssuerNames [][]byte
	Serial      *big.Int
}

// MatchesDigest reports whether cert's encoding hashes to the reference.
func (r CertRef) MatchesDigest(cert *x509.Certificate) bool {
	if !r.Hash.Available() {
		return false
	}
	h := r.Hash.New()
	h.Write(cert.Raw)
	return bytes.Equal(h.Sum(nil), r.Digest)
}

// MatchesIssuerSerial reports whether issuerSerial (when present) names
// cert. It returns true when the reference has no issuerSerial.
func (r CertRef) MatchesIssuerSerial(cert *x509.Certificate) bool {
	if r.Serial == nil {
		return true
	}
	if cert.SerialNumber.Cmp(r.Serial) != 0 {
		return false
	}
	for _, n := range r.IssuerNames {
		if SameName(n, cert.RawIssuer) {
			return true
		}
	}
	return false
}

// ParseSigningCertificateV2 reads a SigningCertificateV2 value.
func ParseSigningCertificateV2(e Element) ([]CertRef, error) {
	return parseSigningCertificate(e, true)
}

// ParseSigningCertificate reads a (version 1, SHA-1) SigningCertificate value.
func ParseSigningCertificate(e Element) ([]CertRef, error) {
	return parseSigningCertificate(e, false)
}

func parseSigningCertificate(e Element, v2 bool) ([]CertRef, error) {
	if !e.IsUniversal(TagSequence) || !e.Constructed {
		return nil, errors.New("SigningCertificate is not a SEQUENCE")
	}
	f, err := e.Children()
	if err != nil || len(f) < 1 || len(f) > 2 || !f[0].IsUniversal(TagSequence) {
		return nil, errors.New("SigningCertificate is malformed")
	}
	ids, err := f[0].Children()
	if err != nil {
		return nil, fmt.Errorf("SigningCertificate.certs: %w", err)
	}
	if len(ids) == 0 || len(ids) > MaxCertificates {
		return nil, fmt.Errorf("SigningCertificate.certs has %d entries", len(ids))
	}
	var refs []CertRef
	for n, id := range ids {
		r, err := parseESSCertID(id, v2)
		if err != nil {
			return nil, fmt.Errorf("SigningCertificate.certs[%d]: %w", n, err)
		}
		refs = append(refs, r)
	}
	return refs, nil
}

func parseESSCertID(e Element, v2 bool) (CertRef, error) {
	if !e.IsUniversal(TagSequence) || !e.Constructed {
		return CertRef{}, errors.New("not a SEQUENCE")
	}
	f, err := e.Children()
	if err != nil || len(f) == 0 {
		return CertRef{}, errors.New("malformed")
	}
	r := CertRef{Hash: crypto.SHA1}
	if v2 {
		r.Hash = crypto.SHA256
		if f[0].IsUniversal(TagSequence) {
			a, err := ParseAlgorithmIdentifier(f[0])
			if err != nil {
				return CertRef{}, fmt.Errorf("hashAlgorithm: %w", err)
			}
			if r.Hash = HashForOID(a.Algorithm); r.Hash == 0 {
				return CertRef{}, fmt.Errorf("hashAlgorithm %v unknown", a.Algorithm)
			}
			f = f[1:]
		}
	}
	if len(f) == 0 || !f[0].IsUniversal(TagOctetString) {
		return CertRef{}, errors.New("certHash missing")
	}
	if r.Digest, err = f[0].OctetString(); err != nil {
		return CertRef{}, fmt.Errorf("certHash: %w", err)
	}
	if len(f) > 2 {
		return CertRef{}, errors.New("trailing fields")
	}
	if len(f) == 2 {
		is, err := f[1].Children()
		if err != nil || len(is) != 2 || !is[0].IsUniversal(TagSequence) {
			return CertRef{}, errors.New("issuerSerial malformed")
		}
		names, err := is[0].Children()
		if err != nil {
			return CertRef{}, fmt.Errorf("issuerSerial.issuer: %w", err)
		}
		for _, gn := range names {
			if gn.Is(ClassContext, 4) && gn.Constructed {
				inner, err := gn.Children()
				if err == nil && len(inner) == 1 {
					if der, err := inner[0].ToDER(); err == nil {
						r.IssuerNames = append(r.IssuerNames, der)
					}
				}
			}
		}
		if r.Serial, err = ParseInteger(is[1]); err != nil {
			return CertRef{}, fmt.Errorf("issuerSerial.serialNumber: %w", err)
		}
	}
	return r, nil
}

// SigningCertificateV2 encodes a SigningCertificateV2 attribute value with
// one ESSCertIDv2 for cert, including issuerSerial as ETSI EN 319 122-1
// (5.2.2.3) recommends. SHA-256 is the DEFAULT and is therefore omitted.
func SigningCertificateV2(cert *x509.Certificate, h crypto.Hash) ([]byte, error) {
	if !h.Available() {
		return nil, fmt.Errorf("cms: hash %v unavailable", h)
	}
	d := h.New()
	d.Write(cert.Raw)
	var parts [][]byte
	if h != crypto.SHA256 {
		alg, err := DigestAlgorithm(h)
		if err != nil {
			return nil, err
		}
		parts = append(parts, alg.Raw)
	}
	parts = append(parts, Encode(ClassUniversal, TagOctetString, false, d.Sum(nil)))
	serial, err := asn1.Marshal(cert.SerialNumber)
	if err != nil {
		return nil, err
	}
	issuer := Sequence(Explicit(4, cert.RawIssuer))
	parts = append(parts, Sequence(issuer, serial))
	return Sequence(Sequence(Sequence(parts...))), nil
}

// NormalizedName renders a DER Name so that names equal under SameName
// render equally (for indexing); "" when the name cannot be parsed.
func NormalizedName(der []byte) string {
	n, err := parseName(der)
	if err != nil {
		return ""
	}
	return n
}

// parseName renders a DER Name in a normalised string form for comparing
// names whose string types differ.
func parseName(der []byte) (string, error) {
	var rdn pkix.RDNSequence
	rest, err := asn1.Unmarshal(der, &rdn)
	if err != nil || len(rest) > 0 {
		return "", errors.New("malformed Name")
	}
	var b strings.Builder
	for _, set := range rdn {
		b.WriteString("/")
		for _, atv := range set {
			fmt.Fprintf(&b, "%v=%s+", atv.Type, strings.ToLower(strings.Join(strings.Fields(fmt.Sprint(atv.Value)), " ")))
		}
	}
	return b.String(), nil
}
