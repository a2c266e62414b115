package revocation

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"esig/internal/cms"
)

// Our own OCSP reader rather than golang.org/x/crypto/ocsp: that package
// verifies signatures through crypto/x509, which refuses SHA-1 (common in
// archived responses, and a policy question, not a parse error), does not
// check that a delegated responder holds id-kp-OCSPSigning, and reads only
// the first SingleResponse. Requests are still built with x/crypto/ocsp.

var (
	oidOCSPNoCheck       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	oidOCSPArchiveCutoff = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 6}
)

// OCSPResponse is a parsed successful OCSP response (RFC 6960, 4.2.1).
type OCSPResponse struct {
	// Raw is the OCSPResponse encoding; Basic the BasicOCSPResponse.
	Raw, Basic []byte
	tbs        []byte

	ResponderName  []byte // DER Name, when the responder is named
	ResponderKeyID []byte // SHA-1 of the responder key, when identified by key
	ProducedAt     time.Time
	Responses      []SingleResponse
	ArchiveCutoff  *time.Time
	SignatureAlg   cms.AlgorithmIdentifier
	Signature      []byte
	Certificates   []*x509.Certificate
}

// SingleResponse is the status of one certificate.
type SingleResponse struct {
	HashAlg        crypto.Hash
	IssuerNameHash []byte
	IssuerKeyHash  []byte
	Serial         *big.Int
	Status         Status
	RevokedAt      time.Time
	Reason         int
	ThisUpdate     time.Time
	NextUpdate     *time.Time
}

// WrapBasic turns a BasicOCSPResponse (as CAdES revocation-values holds)
// into a full OCSPResponse.
func WrapBasic(basic []byte) []byte {
	status := cms.Encode(cms.ClassUniversal, 10, false, []byte{0}) // ENUMERATED successful
	oid, _ := asn1.Marshal(cms.OIDOCSPBasic)
	rb := cms.Sequence(oid, cms.Encode(cms.ClassUniversal, cms.TagOctetString, false, basic))
	return cms.Sequence(status, cms.Explicit(0, rb))
}

// ParseOCSPResponse parses an OCSPResponse. Only successful responses of
// type id-pkix-ocsp-basic are accepted.
func ParseOCSPResponse(der []byte) (*OCSPResponse, error) {
	e, err := cms.ParseOne(der)
	if err != nil {
		return nil, fmt.Errorf("ocsp: %w", err)
	}
	f, err := e.Children()
	if err != nil || len(f) < 1 || !f[0].Is(cms.ClassUniversal, 10) {
		return nil, errors.New("ocsp: OCSPResponse is malformed")
	}
	if len(f[0].Body) != 1 || f[0].Body[0] != 0 {
		return nil, fmt.Errorf("ocsp: responseStatus is %v, not successful", f[0].Body)
	}
	if len(f) != 2 || !f[1].Is(cms.ClassContext, 0) {
		return nil, errors.New("ocsp: successful response without responseBytes")
	}
	rb, err := f[1].Children()
	if err != nil || len(rb) != 1 {
		return nil, errors.New("ocsp: responseBytes is malformed")
	}
	rbf, err := rb[0].Children()
	if err != nil || len(rbf) != 2 {
		return nil, errors.New("ocsp: responseBytes is malformed")
	}
	typ, err := cms.ParseOID(rbf[0])
	if err != nil || !typ.Equal(cms.OIDOCSPBasic) {
		return nil, errors.New("ocsp: response type is not id-pkix-ocsp-basic")
	}
	basic, err := rbf[1].OctetString()
	if err != nil {
		return nil, fmt.Errorf("ocsp: response: %w", err)
	}
	r, err := parseBasic(basic)
	if err != nil {
		return nil, err
	}
	r.Raw = der
	return r, nil
}

func parseBasic(der []byte) (*OCSPResponse, error) {
	e, err := cms.ParseOne(der)
	if err != nil {
		return nil, fmt.Errorf("ocsp: BasicOCSPResponse: %w", err)
	}
	f, err := e.Children()
	if err != nil || len(f) < 3 || len(f) > 4 {
		return nil, errors.New("ocsp: BasicOCSPResponse is malformed")
	}
	r := &OCSPResponse{Basic: der, tbs: f[0].Raw}
	if r.SignatureAlg, err = cms.ParseAlgorithmIdentifier(f[1]); err != nil {
		return nil, fmt.Errorf("ocsp: signatureAlgorithm: %w", err)
	}
	if !f[2].IsUniversal(cms.TagBitString) || len(f[2].Body) < 1 || f[2].Body[0] != 0 {
		return nil, errors.New("ocsp: signature is not a whole-byte BIT STRING")
	}
	r.Signature = f[2].Body[1:]
	if len(f) == 4 {
		seq, err := f[3].Children()
		if err == nil && len(seq) == 1 {
			certs, _ := seq[0].Children()
			for _, c := range certs {
				if x, err := x509.ParseCertificate(c.Raw); err == nil {
					r.Certificates = append(r.Certificates, x)
				}
			}
		}
	}
	rd, err := f[0].Children()
	if err != nil {
		return nil, fmt.Errorf("ocsp: tbsResponseData: %w", err)
	}
	if len(rd) > 0 && rd[0].Is(cms.ClassContext, 0) {
		rd = rd[1:] // version, v1 is the only one
	}
	if len(rd) < 3 {
		return nil, errors.New("ocsp: tbsResponseData is malformed")
	}
	rid, err := rd[0].Children()
	if err != nil || len(rid) != 1 {
		return nil, errors.New("ocsp: responderID is malformed")
	}
	switch {
	case rd[0].Is(cms.ClassContext, 1):
		r.ResponderName, _ = rid[0].ToDER()
	case rd[0].Is(cms.ClassContext, 2):
		r.ResponderKeyID, _ = rid[0].OctetString()
	default:
		return nil, errors.New("ocsp: responderID is neither byName nor byKey")
	}
	if r.ProducedAt, err = cms.ParseTime(rd[1]); err != nil {
		return nil, fmt.Errorf("ocsp: producedAt: %w", err)
	}
	singles, err := rd[2].Children()
	if err != nil {
		return nil, fmt.Errorf("ocsp: responses: %w", err)
	}
	if len(singles) > 1024 {
		return nil, errors.New("ocsp: too many responses")
	}
	for _, s := range singles {
		sr, err := parseSingle(s)
		if err != nil {
			return nil, err
		}
		r.Responses = append(r.Responses, sr)
	}
	for _, x := range rd[3:] {
		if x.Is(cms.ClassContext, 1) {
			r.ArchiveCutoff = findTimeExtension(x, oidOCSPArchiveCutoff)
		}
	}
	return r, nil
}

func parseSingle(e cms.Element) (SingleResponse, error) {
	f, err := e.Children()
	if err != nil || len(f) < 3 {
		return SingleResponse{}, errors.New("ocsp: SingleResponse is malformed")
	}
	var s SingleResponse
	id, err := f[0].Children()
	if err != nil || len(id) != 4 {
		return SingleResponse{}, errors.New("ocsp: CertID is malformed")
	}
	alg, err := cms.ParseAlgorithmIdentifier(id[0])
	if err != nil {
		return SingleResponse{}, fmt.Errorf("ocsp: CertID.hashAlgorithm: %w", err)
	}
	s.HashAlg = cms.HashForOID(alg.Algorithm)
	s.IssuerNameHash, _ = id[1].OctetString()
	s.IssuerKeyHash, _ = id[2].OctetString()
	if s.Serial, err = cms.ParseInteger(id[3]); err != nil {
		return SingleResponse{}, fmt.Errorf("ocsp: CertID.serialNumber: %w", err)
	}
	switch {
	case f[1].Is(cms.ClassContext, 0):
		s.Status = Good
	case f[1].Is(cms.ClassContext, 1):
		s.Status = Revoked
		ri, err := f[1].Children()
		if err != nil || len(ri) < 1 {
			return SingleResponse{}, errors.New("ocsp: RevokedInfo is malformed")
		}
		if s.RevokedAt, err = cms.ParseTime(ri[0]); err != nil {
			return SingleResponse{}, fmt.Errorf("ocsp: revocationTime: %w", err)
		}
		s.Reason = -1
		if len(ri) > 1 {
			if rc, err := ri[1].Children(); err == nil && len(rc) == 1 && len(rc[0].Body) == 1 {
				s.Reason = int(rc[0].Body[0])
			}
		}
	case f[1].Is(cms.ClassContext, 2):
		s.Status = Unknown
	default:
		return SingleResponse{}, errors.New("ocsp: certStatus is malformed")
	}
	if s.ThisUpdate, err = cms.ParseTime(f[2]); err != nil {
		return SingleResponse{}, fmt.Errorf("ocsp: thisUpdate: %w", err)
	}
	for _, x := range f[3:] {
		if x.Is(cms.ClassContext, 0) {
			if t, err := x.Children(); err == nil && len(t) == 1 {
				if nu, err := cms.ParseTime(t[0]); err == nil {
					s.NextUpdate = &nu
				}
			}
		}
	}
	return s, nil
}

func findTimeExtension(e cms.Element, oid asn1.ObjectIdentifier) *time.Time {
	seq, err := e.Children()
	if err != nil || len(seq) != 1 {
		return nil
	}
	exts, err := seq[0].Children()
	if err != nil {
		return nil
	}
	for _, x := range exts {
		f, err := x.Children()
		if err != nil || len(f) < 2 {
			continue
		}
		if id, err := cms.ParseOID(f[0]); err == nil && id.Equal(oid) {
			v, err := cms.ParseOne(mustOctets(f[len(f)-1]))
			if err == nil {
				if t, err := cms.ParseTime(v); err == nil {
					return &t
				}
			}
		}
	}
	return nil
}

func mustOctets(e cms.Element) []byte {
	b, _ := e.OctetString()
	return b
}

// matches reports whether the single response is about cert issued by issuer.
func (s SingleResponse) matches(cert, issuer *x509.Certificate) bool {
	if s.Serial == nil || s.Serial.Cmp(cert.SerialNumber) != 0 || s.HashAlg == 0 || !s.HashAlg.Available() {
		return false
	}
	h := s.HashAlg.New()
	h.Write(issuer.RawSubject)
	if !bytes.Equal(h.Sum(nil), s.IssuerNameHash) {
		return false
	}
	h = s.HashAlg.New()
	h.Write(publicKeyBits(issuer))
	return bytes.Equal(h.Sum(nil), s.IssuerKeyHash)
}

func publicKeyBits(c *x509.Certificate) []byte {
	var spki struct {
		Algorithm asn1.RawValue
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	return spki.Key.Bytes
}

// hasNoCheck reports whether a responder certificate carries
// id-pkix-ocsp-nocheck (RFC 6960, 4.2.2.2.1).
func hasNoCheck(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oidOCSPNoCheck) {
			return true
		}
	}
	return false
}
