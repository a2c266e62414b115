// Package issuance builds, lints and signs certificates. It is pure: no I/O,
// no storage, no clock of its own beyond what the caller passes in.
//
// Issuance is two steps, as in Boulder: Prepare builds the certificate from
// a profile and a validated request and lints a throwaway-signed copy of
// it; Issue signs exactly what was linted, at most once. A caller that
// stores the result before handing it out gets the guarantee that no
// certificate leaves the CA unlinted or unrecorded.
package issuance

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"
)

// Extension OIDs written by the issuer.
var (
	oidExtKeyUsage  = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidOCSPNoCheck  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	oidQCStatements = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}
	oidQCSyntaxV2   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 11, 2}
)

// IssuerConfig is what an Issuer needs: the CA certificate and key, and the
// URLs written into every certificate it issues.
type IssuerConfig struct {
	Cert   *x509.Certificate
	Signer crypto.Signer
	// Country is the subject countryName of issued certificates ("PL").
	Country string
	// OCSPURL and CAIssuersURL go into authorityInfoAccess.
	OCSPURL      string
	CAIssuersURL string
	// CRLURL names the CRL shard that will list a certificate.
	CRLURL func(shard int) string
	// Backdate moves notBefore into the past to absorb clock skew of
	// relying parties.
	Backdate time.Duration
}

// Issuer issues certificates under one CA certificate.
type Issuer struct {
	cfg    IssuerConfig
	linter *Linter
}

// NewIssuer checks cfg and prepares the linter (a throwaway key and lint
// issuer, made once).
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	switch {
	case cfg.Cert == nil || cfg.Signer == nil:
		return nil, errors.New("issuer: certificate and signer are required")
	case !cfg.Cert.IsCA:
		return nil, errors.New("issuer: certificate is not a CA certificate")
	case len(cfg.Country) != 2:
		return nil, fmt.Errorf("issuer: country %q is not a two-letter code", cfg.Country)
	case cfg.OCSPURL == "" || cfg.CAIssuersURL == "" || cfg.CRLURL == nil:
		return nil, errors.New("issuer: OCSP, caIssuers and CRL URLs are required")
	}
	if !publicKeysEqual(cfg.Cert.PublicKey, cfg.Signer.Public()) {
		return nil, errors.New("issuer: the signer's key does not match the issuer certificate")
	}
	l, err := NewLinter(cfg.Signer.Public())
	if err != nil {
		return nil, err
	}
	return &Issuer{cfg: cfg, linter: l}, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}

// Certificate returns the issuer's CA certificate.
func (i *Issuer) Certificate() *x509.Certificate { return i.cfg.Cert }

// Request is a validated order for one certificate.
type Request struct {
	PublicKey crypto.PublicKey
	Subject   Subject
	Serial    *big.Int
	Shard     int
	Now       time.Time
}

// Token is a prepared, linted certificate waiting to be signed. It can be
// issued once.
type Token struct {
	issuer *Issuer
	linted *linted
	used   atomic.Bool
	// Subject is the certificate's subject for people (see DNString).
	Subject string
}

// Prepare builds the certificate for req under profile p, lints it and
// returns a token for Issue. Errors are *FieldError for request fields at
// fault and *LintError when the lints refuse the certificate.
func (i *Issuer) Prepare(p *Profile, req *Request) (*Token, error) {
	if err := CheckKey(req.PublicKey); err != nil {
		return nil, &FieldError{Field: "csr", Reason: err.Error()}
	}
	if req.Serial == nil || req.Serial.Sign() <= 0 || len(req.Serial.Bytes()) > 20 {
		return nil, errors.New("issuance: serial must be positive and at most 20 bytes")
	}
	rec, err := req.Subject.build(p.Subject, i.cfg.Country)
	if err != nil {
		return nil, err
	}
	rawSubject, err := asn1.Marshal(rec.rdn)
	if err != nil {
		return nil, fmt.Errorf("issuance: encoding subject: %w", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(req.PublicKey)
	if err != nil {
		return nil, &FieldError{Field: "csr", Reason: "public key cannot be encoded: " + err.Error()}
	}
	skid, err := subjectKeyID(spki)
	if err != nil {
		return nil, err
	}
	notBefore := req.Now.Add(-i.cfg.Backdate).UTC().Truncate(time.Second)
	notAfter := notBefore.Add(p.Validity - time.Second)
	if notAfter.After(i.cfg.Cert.NotAfter) {
		return nil, fmt.Errorf("issuance: the certificate would outlive its issuer (issuer expires %s)", i.cfg.Cert.NotAfter.Format(time.RFC3339))
	}
	body := &certBody{
		serial:    req.Serial,
		sigAlg:    i.linter.alg,
		issuer:    i.cfg.Cert.RawSubject,
		notBefore: notBefore,
		notAfter:  notAfter,
		subject:   rawSubject,
		spki:      spki,
		keyUsage:  p.KeyUsage,
		skid:      skid,
		akid:      i.cfg.Cert.SubjectKeyId,
		emails:    rec.emails,
		policies:  p.Policies,
	}
	if p.RevocationInfo {
		body.ocsp = []string{i.cfg.OCSPURL}
		body.caIssuers = []string{i.cfg.CAIssuersURL}
		body.crlDP = []string{i.cfg.CRLURL(req.Shard)}
	}
	if p.CriticalEKU {
		val, err := asn1.Marshal(p.ExtKeyUsage)
		if err != nil {
			return nil, err
		}
		body.extra = append(body.extra, pkix.Extension{Id: oidExtKeyUsage, Critical: true, Value: val})
	} else {
		body.eku = p.ExtKeyUsage
	}
	if p.OCSPNoCheck {
		body.extra = append(body.extra, pkix.Extension{Id: oidOCSPNoCheck, Value: asn1.NullBytes})
	}
	if rec.semantics != nil {
		ext, err := semanticsStatement(rec.semantics)
		if err != nil {
			return nil, err
		}
		body.extra = append(body.extra, ext)
	}
	lt, err := i.linter.Check(body)
	if err != nil {
		return nil, err
	}
	name, err := DNString(rawSubject)
	if err != nil {
		return nil, fmt.Errorf("issuance: re-reading subject: %w", err)
	}
	return &Token{issuer: i, linted: lt, Subject: name}, nil
}

// Issue signs, with the CA key, the very TBSCertificate bytes that passed
// the lints, so nothing unlinted can be signed. It refuses a token that was
// already issued.
//
// RSA signatures are verified before they are released: a faulty RSA-CRT
// signature reveals the private key. Deterministic-hedged ECDSA has no such
// single-fault failure, and skipping its check halves the cost of issuance.
func (i *Issuer) Issue(t *Token) (*x509.Certificate, error) {
	if t.issuer != i {
		return nil, errors.New("issuance: token was prepared by another issuer")
	}
	if !t.used.CompareAndSwap(false, true) {
		return nil, errors.New("issuance: token already issued")
	}
	alg := t.linted.alg
	h := alg.hash.New()
	h.Write(t.linted.tbs)
	digest := h.Sum(nil)
	sig, err := i.cfg.Signer.Sign(rand.Reader, digest, alg.hash)
	if err != nil {
		return nil, fmt.Errorf("issuance: signing: %w", err)
	}
	if pub, ok := i.cfg.Signer.Public().(*rsa.PublicKey); ok {
		if err := rsa.VerifyPKCS1v15(pub, alg.hash, digest, sig); err != nil {
			return nil, fmt.Errorf("issuance: the CA key produced a bad signature: %w", err)
		}
	}
	cert, err := x509.ParseCertificate(assemble(t.linted.tbs, alg, sig))
	if err != nil {
		return nil, fmt.Errorf("issuance: parsing what was signed: %w", err)
	}
	return cert, nil
}

// semanticsStatement is the qcStatements extension holding only the ETSI
// EN 319 412-1 semantics identifier of the subject's serialNumber or
// organizationIdentifier. It does not claim the certificate is qualified.
func semanticsStatement(semantics asn1.ObjectIdentifier) (pkix.Extension, error) {
	type semanticsInformation struct {
		Identifier asn1.ObjectIdentifier
	}
	type qcStatement struct {
		ID   asn1.ObjectIdentifier
		Info semanticsInformation
	}
	val, err := asn1.Marshal([]qcStatement{{ID: oidQCSyntaxV2, Info: semanticsInformation{semantics}}})
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: oidQCStatements, Value: val}, nil
}

// subjectKeyID is the leftmost 160 bits of the SHA-256 of the subject
// public key (RFC 7093, section 2, method 1), from its DER
// SubjectPublicKeyInfo.
func subjectKeyID(spki []byte) ([]byte, error) {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil, fmt.Errorf("issuance: reading public key: %w", err)
	}
	sum := sha256.Sum256(info.Key.Bytes)
	return sum[:20], nil
}

// NewSerial returns a random positive serial of at most 20 bytes with 159
// bits of entropy, as RFC 5280 and the CA/B Forum ask (at least 64).
func NewSerial() (*big.Int, error) {
	var b [20]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("serial: %w", err)
		}
		b[0] &= 0x7f
		if b[0] != 0 { // keep the full length so serials print alike
			return new(big.Int).SetBytes(b[:]), nil
		}
	}
}

// SerialHex is the canonical text form of a serial: lowercase hex of its
// big-endian bytes.
func SerialHex(n *big.Int) string { return fmt.Sprintf("%x", n.Bytes()) }

// ParseSerial accepts a serial in hex, with or without colons or a 0x
// prefix, in either case.
func ParseSerial(s string) (*big.Int, error) {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ':' {
			clean = append(clean, s[i])
		}
	}
	str := string(bytes.TrimPrefix(bytes.ToLower(clean), []byte("0x")))
	if str == "" || len(str) > 42 {
		return nil, fmt.Errorf("serial %q is not a certificate serial in hex", s)
	}
	n, ok := new(big.Int).SetString(str, 16)
	if !ok || n.Sign() <= 0 {
		return nil, fmt.Errorf("serial %q is not a certificate serial in hex", s)
	}
	return n, nil
}
