// Package testpki builds a throwaway PKI for tests: a root, an issuing
// CA, a delegated OCSP responder, a time-stamp authority (critical
// id-kp-timeStamping) and whatever leaves a test asks for (good, revoked,
// expired, RSA-1024, SHA-1-signed, ECDSA, or a certificate that reuses
// another's serial to test substitution). A real HTTP server on 127.0.0.1
// serves the CRLs, OCSP and the TSA, and certificates point at it, so tests
// exercise online revocation for real; PEM files are written to the test's
// temporary directory for CLI tests.
//
// Later issues extend it (qualified-looking leaves, trusted-profile seals):
// add a field to LeafOptions and a branch in Leaf.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"esig/ca/tsa"
)

// TSAPolicy is the policy OID the test TSA stamps under (a private arc).
var TSAPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1, 1}

var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// Cert is a certificate with its key and the files it was written to.
type Cert struct {
	Cert     *x509.Certificate
	Key      crypto.Signer
	CertPath string // PEM certificate
	KeyPath  string // PEM PKCS#8 private key; "" for a key on a token
}

// PKI is one throwaway PKI.
type PKI struct {
	Dir    string
	Root   *Cert
	CA     *Cert
	OCSP   *Cert
	TSA    *Cert
	Server *httptest.Server
	// URL is the base URL of Server.
	URL string

	mu       sync.Mutex
	revoked  map[string]revokedEntry // by serial, certificates of CA
	tsaClock func() time.Time
	serial   int64
	crlNum   int64
}

type revokedEntry struct {
	at     time.Time
	reason int
}

// New builds a PKI in t.TempDir() and starts its server; both go away
// when the test ends.
func New(t testing.TB) *PKI {
	t.Helper()
	p := &PKI{Dir: t.TempDir(), revoked: map[string]revokedEntry{}, serial: 100, tsaClock: time.Now}
	mux := http.NewServeMux()
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Server.Close)
	p.URL = p.Server.URL
	now := time.Now()
	// Keys are shared between PKIs of one process, names are not: a
	// certificate of one PKI must never chain to another's root.
	var id [4]byte
	rand.Read(id[:])
	suffix := fmt.Sprintf(" %x", id)

	p.Root = p.issue(t, nil, certSpec{name: "esig Test Root CA" + suffix, ca: true, key: sharedKey("root", rsaKey2048),
		notBefore: now.Add(-365 * 24 * time.Hour), notAfter: now.Add(10 * 365 * 24 * time.Hour), file: "root"})
	p.CA = p.issue(t, p.Root, certSpec{name: "esig Test Issuing CA" + suffix, ca: true, key: sharedKey("ca", rsaKey2048),
		notBefore: now.Add(-300 * 24 * time.Hour), notAfter: now.Add(5 * 365 * 24 * time.Hour), file: "ca",
		crl: p.URL + "/root.crl"})
	p.OCSP = p.issue(t, p.CA, certSpec{name: "esig Test OCSP Responder", key: sharedKey("ocsp", ecKey),
		notBefore: now.Add(-24 * time.Hour), notAfter: now.Add(365 * 24 * time.Hour), file: "ocsp",
		eku: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, nocheck: true, ku: x509.KeyUsageDigitalSignature})
	p.TSA = p.issue(t, p.CA, certSpec{name: "esig Test TSA", key: sharedKey("tsa", rsaKey2048),
		notBefore: now.Add(-30 * 24 * time.Hour), notAfter: now.Add(3 * 365 * 24 * time.Hour), file: "tsa",
		eku: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, criticalEKU: true, ku: x509.KeyUsageDigitalSignature,
		crl: p.URL + "/ca.crl", ocsp: p.URL + "/ocsp"})

	authority, err := tsa.New(p.TSA.Key, p.TSA.Cert, []*x509.Certificate{p.CA.Cert}, TSAPolicy, func() time.Time {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.tsaClock()
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/tsa", authority)
	mux.HandleFunc("/root.crl", func(w http.ResponseWriter, r *http.Request) {
		w.Write(p.CRL(t, p.Root, time.Now()))
	})
	mux.HandleFunc("/ca.crl", func(w http.ResponseWriter, r *http.Request) {
		w.Write(p.CRL(t, p.CA, time.Now()))
	})
	mux.HandleFunc("/ocsp", p.serveOCSP)
	writePEM(t, filepath.Join(p.Dir, "chain.pem"), p.CA.Cert, p.Root.Cert)
	return p
}

// SetTSAClock makes the TSA stamp with the given clock (to back-date
// tokens for past-signature tests).
func (p *PKI) SetTSAClock(clock func() time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tsaClock = clock
}

// TSAURL is the URL of the time-stamp authority.
func (p *PKI) TSAURL() string { return p.URL + "/tsa" }

// TrustFile is the PEM file of the root, the only trust anchor.
func (p *PKI) TrustFile() string { return p.Root.CertPath }

// ChainFile is the PEM file of the issuing CA and the root.
func (p *PKI) ChainFile() string { return filepath.Join(p.Dir, "chain.pem") }

// KeyType selects a leaf's key.
type KeyType int

// Key types.
const (
	RSA2048 KeyType = iota
	RSA1024
	ECDSAP256
)

// LeafOptions describes a leaf certificate.
type LeafOptions struct {
	Name string
	Key  KeyType
	// NotBefore and NotAfter default to an hour ago and a year from now.
	NotBefore, NotAfter time.Time
	// SHA1 makes the CA sign the certificate with SHA-1.
	SHA1 bool
	// Serial overrides the serial number (to mint a substitute).
	Serial *big.Int
	// KeyUsage defaults to digitalSignature | nonRepudiation.
	KeyUsage x509.KeyUsage
	// NoRevocationURLs leaves out the CRL distribution point and OCSP URL.
	NoRevocationURLs bool
	// SignerKey reuses an existing key.
	SignerKey crypto.Signer
	// Subject replaces the default subject (CN=Name, O=esig tests, C=PL),
	// for certificates that must look like a particular signer's.
	Subject *pkix.Name
}

// Leaf issues an end-entity certificate from the issuing CA.
func (p *PKI) Leaf(t testing.TB, o LeafOptions) *Cert {
	t.Helper()
	now := time.Now()
	spec := certSpec{name: o.Name, subject: o.Subject, notBefore: o.NotBefore, notAfter: o.NotAfter, sha1: o.SHA1, serial: o.Serial, ku: o.KeyUsage,
		eku: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	if spec.name == "" {
		spec.name = "Jan Testowy"
	}
	if spec.notBefore.IsZero() {
		spec.notBefore = now.Add(-time.Hour)
	}
	if spec.notAfter.IsZero() {
		spec.notAfter = now.Add(365 * 24 * time.Hour)
	}
	if spec.ku == 0 {
		spec.ku = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	}
	switch {
	case o.SignerKey != nil:
		spec.key = o.SignerKey
	case o.Key == RSA1024:
		spec.key = sharedKey("leaf-rsa1024", rsaKey1024)
	case o.Key == ECDSAP256:
		spec.key = sharedKey("leaf-ec", ecKey)
	default:
		spec.key = sharedKey("leaf-rsa", rsaKey2048)
	}
	if !o.NoRevocationURLs {
		spec.crl, spec.ocsp = p.URL+"/ca.crl", p.URL+"/ocsp"
	}
	p.mu.Lock()
	p.serial++
	spec.file = fmt.Sprintf("leaf%d", p.serial)
	p.mu.Unlock()
	return p.issue(t, p.CA, spec)
}

// Revoke records a revocation of a certificate issued by the CA.
func (p *PKI) Revoke(c *Cert, at time.Time, reason int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.revoked[c.Cert.SerialNumber.String()] = revokedEntry{at: at, reason: reason}
}

// CRL returns a CRL of issuer (Root or CA) issued at thisUpdate, valid for
// a day, listing the revocations known and effective by then.
func (p *PKI) CRL(t testing.TB, issuer *Cert, thisUpdate time.Time) []byte {
	p.mu.Lock()
	p.crlNum++
	tpl := &x509.RevocationList{Number: big.NewInt(p.crlNum), ThisUpdate: thisUpdate, NextUpdate: thisUpdate.Add(24 * time.Hour)}
	if issuer == p.CA {
		for serial, r := range p.revoked {
			if r.at.After(thisUpdate) {
				continue
			}
			n, _ := new(big.Int).SetString(serial, 10)
			tpl.RevokedCertificateEntries = append(tpl.RevokedCertificateEntries,
				x509.RevocationListEntry{SerialNumber: n, RevocationTime: r.at, ReasonCode: r.reason})
		}
	}
	p.mu.Unlock()
	der, err := x509.CreateRevocationList(rand.Reader, tpl, issuer.Cert, issuer.Key)
	if err != nil {
		t.Fatalf("testpki: CRL: %v", err)
	}
	return der
}

// WriteCRLs writes the root's and the CA's CRLs issued at thisUpdate and
// returns the two paths.
func (p *PKI) WriteCRLs(t testing.TB, thisUpdate time.Time) []string {
	t.Helper()
	var out []string
	for _, c := range []*Cert{p.Root, p.CA} {
		path := filepath.Join(p.Dir, fmt.Sprintf("%s-%d.crl", filepath.Base(c.CertPath), thisUpdate.UnixNano()))
		if err := os.WriteFile(path, p.CRL(t, c, thisUpdate), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, path)
	}
	return out
}

// OCSPResponse returns a response of the delegated responder about cert,
// produced at thisUpdate.
func (p *PKI) OCSPResponse(t testing.TB, cert *x509.Certificate, thisUpdate time.Time) []byte {
	t.Helper()
	der, err := p.ocspResponse(cert.SerialNumber, thisUpdate)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (p *PKI) ocspResponse(serial *big.Int, thisUpdate time.Time) ([]byte, error) {
	tpl := ocsp.Response{Status: ocsp.Good, SerialNumber: serial, ThisUpdate: thisUpdate,
		NextUpdate: thisUpdate.Add(time.Hour), Certificate: p.OCSP.Cert}
	p.mu.Lock()
	if r, ok := p.revoked[serial.String()]; ok && !r.at.After(thisUpdate) {
		tpl.Status, tpl.RevokedAt, tpl.RevocationReason = ocsp.Revoked, r.at, r.reason
	}
	p.mu.Unlock()
	return ocsp.CreateResponse(p.CA.Cert, p.OCSP.Cert, tpl, p.OCSP.Key)
}

func (p *PKI) serveOCSP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, err := ocsp.ParseRequest(body)
	if err != nil {
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	der, err := p.ocspResponse(req.SerialNumber, time.Now())
	if err != nil {
		w.Write(ocsp.InternalErrorErrorResponse)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(der)
}

type certSpec struct {
	name                string
	subject             *pkix.Name
	ca                  bool
	key                 crypto.Signer
	notBefore, notAfter time.Time
	sha1                bool
	serial              *big.Int
	ku                  x509.KeyUsage
	eku                 []x509.ExtKeyUsage
	criticalEKU         bool
	nocheck             bool
	crl, ocsp           string
	file                string
}

func (p *PKI) issue(t testing.TB, parent *Cert, s certSpec) *Cert {
	t.Helper()
	serial := s.serial
	if serial == nil {
		serial, _ = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(s.key.Public())
	var spki struct {
		A asn1.RawValue
		K asn1.BitString
	}
	asn1.Unmarshal(pubDER, &spki)
	ski := sha1.Sum(spki.K.Bytes)
	subject := pkix.Name{CommonName: s.name, Organization: []string{"esig tests"}, Country: []string{"PL"}}
	if s.subject != nil {
		subject = *s.subject
	}
	tpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    s.notBefore, NotAfter: s.notAfter,
		SubjectKeyId: ski[:], BasicConstraintsValid: true,
		KeyUsage: s.ku, ExtKeyUsage: s.eku,
	}
	if s.ca {
		tpl.IsCA = true
		tpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	if s.crl != "" {
		tpl.CRLDistributionPoints = []string{s.crl}
	}
	if s.ocsp != "" {
		tpl.OCSPServer = []string{s.ocsp}
	}
	if s.nocheck {
		tpl.ExtraExtensions = append(tpl.ExtraExtensions, pkix.Extension{Id: oidOCSPNoCheck, Value: []byte{5, 0}})
	}
	if s.criticalEKU {
		// crypto/x509 never marks extended key usage critical; RFC 3161
		// requires it for TSAs, so write the extension ourselves.
		val, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
		tpl.ExtraExtensions = append(tpl.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: val})
		tpl.ExtKeyUsage = nil
	}
	if s.sha1 {
		tpl.SignatureAlgorithm = x509.SHA1WithRSA
	}
	issuerCert, issuerKey := tpl, s.key
	if parent != nil {
		issuerCert, issuerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, issuerCert, s.key.Public(), issuerKey)
	if err != nil {
		t.Fatalf("testpki: issuing %q: %v", s.name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cert{Cert: cert, Key: s.key}
	c.CertPath = filepath.Join(p.Dir, s.file+".pem")
	c.KeyPath = filepath.Join(p.Dir, s.file+".key")
	writePEM(t, c.CertPath, cert)
	pk, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		// A key that cannot leave its token (PKCS#11): no key file.
		c.KeyPath = ""
		return c
	}
	if err := os.WriteFile(c.KeyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

func writePEM(t testing.TB, path string, certs ...*x509.Certificate) {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Keys are generated once per process and shared by role: RSA key
// generation dominates a PKI's cost, and tests need distinct roles, not
// distinct keys per test.
var (
	keyMu sync.Mutex
	keys  = map[string]crypto.Signer{}
)

func sharedKey(role string, gen func() crypto.Signer) crypto.Signer {
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := keys[role]; ok {
		return k
	}
	k := gen()
	keys[role] = k
	return k
}

// NewKey returns a fresh key of the given type, for tests that need a key
// no other certificate shares.
func NewKey(kt KeyType) crypto.Signer {
	switch kt {
	case RSA1024:
		return rsaKey1024()
	case ECDSAP256:
		return ecKey()
	}
	return rsaKey2048()
}

func rsaKey2048() crypto.Signer { return mustRSA(2048) }
func rsaKey1024() crypto.Signer { return mustRSA(1024) }

func mustRSA(bits int) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func ecKey() crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}
