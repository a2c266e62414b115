package issuance

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"
)

// templateOf is the crypto/x509 template that says what cert says, with
// the extensions crypto/x509 does not write itself as extra ones.
func templateOf(t *testing.T, cert *x509.Certificate) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: cert.SerialNumber, RawSubject: cert.RawSubject,
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, KeyUsage: cert.KeyUsage,
		BasicConstraintsValid: true, SubjectKeyId: cert.SubjectKeyId, EmailAddresses: cert.EmailAddresses,
		Policies: cert.Policies, OCSPServer: cert.OCSPServer, IssuingCertificateURL: cert.IssuingCertificateURL,
		CRLDistributionPoints: cert.CRLDistributionPoints,
	}
	for _, e := range cert.Extensions {
		switch {
		case e.Id.Equal(oidExtKeyUsage) && e.Critical:
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, e)
		case e.Id.Equal(oidExtKeyUsage):
			var oids []asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(e.Value, &oids); err != nil {
				t.Fatal(err)
			}
			tmpl.UnknownExtKeyUsage = oids
		case e.Id.Equal(oidOCSPNoCheck), e.Id.Equal(oidQCStatements):
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, e)
		}
	}
	return tmpl
}

// TestCertBodyMatchesCryptoX509 issues every profile under CA keys of each
// supported type and has crypto/x509 encode the same template: the
// TBSCertificates must be equal byte for byte.
func TestCertBodyMatchesCryptoX509(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	subjectKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	subjects := map[SubjectKind][]Subject{
		SubjectPerson:       {person, {GivenName: "Zażółć", Surname: "Gęślą-Jaźń", IDDocument: "ABA300000"}},
		SubjectOrganization: {seal, {OrganizationName: "Spółka", REGON: "123456785", Email: "biuro@example.pl"}},
		SubjectService:      {{CommonName: "esig service", OrganizationName: "esig"}},
	}
	for _, ca := range []struct {
		name string
		key  crypto.Signer
		alg  x509.SignatureAlgorithm
	}{{"P-256", p256, x509.ECDSAWithSHA256}, {"P-384", p384, x509.ECDSAWithSHA384}, {"RSA-2048", rsa2048, x509.SHA256WithRSA}} {
		iss := testIssuerWithKey(t, ca.key)
		for name, p := range DefaultProfiles() {
			for _, s := range subjects[p.Subject] {
				cert, err := issue(t, iss, name, subjectKey.Public(), s)
				if err != nil {
					t.Fatalf("%s %s: %v", ca.name, name, err)
				}
				if cert.SignatureAlgorithm != ca.alg {
					t.Errorf("%s %s: signature algorithm %v, want %v", ca.name, name, cert.SignatureAlgorithm, ca.alg)
				}
				if err := cert.CheckSignatureFrom(iss.Certificate()); err != nil {
					t.Errorf("%s %s: %v", ca.name, name, err)
				}
				der, err := x509.CreateCertificate(rand.Reader, templateOf(t, cert), iss.Certificate(), subjectKey.Public(), ca.key)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := x509.ParseCertificate(der)
				if !bytes.Equal(cert.RawTBSCertificate, want.RawTBSCertificate) {
					t.Errorf("%s %s %v: TBSCertificate differs from crypto/x509's\n got %x\nwant %x", ca.name, name, s, cert.RawTBSCertificate, want.RawTBSCertificate)
				}
			}
		}
	}
}

// TestCertBodyEdges covers what the profiles never produce: validity past
// 2049 (GeneralizedTime), an empty subject (critical subjectAltName), key
// usages in the second octet, and the refusals.
func TestCertBodyEdges(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	spki, _ := x509.MarshalPKIXPublicKey(key.Public())
	issuer, _ := asn1.Marshal(pkix.Name{CommonName: "CA"}.ToRDNSequence())
	body := func() *certBody {
		return &certBody{
			serial: bigOne(), sigAlg: sigECDSAWithSHA256, issuer: issuer, subject: emptySubject, spki: spki,
			notBefore: time.Date(2049, 12, 31, 0, 0, 0, 0, time.UTC), notAfter: time.Date(2051, 1, 1, 0, 0, 0, 0, time.UTC),
			keyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageDecipherOnly, emails: []string{"a@example.pl"},
		}
	}
	tbs, err := body().marshal()
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := signDigest(key, crypto.SHA256, tbs)
	cert, err := x509.ParseCertificate(assemble(tbs, sigECDSAWithSHA256, sig))
	if err != nil {
		t.Fatal(err)
	}
	if !cert.NotAfter.Equal(time.Date(2051, 1, 1, 0, 0, 0, 0, time.UTC)) || cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageDecipherOnly {
		t.Errorf("read back notAfter %v keyUsage %v", cert.NotAfter, cert.KeyUsage)
	}
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidSubjectAltName) && !e.Critical {
			t.Error("subjectAltName of a certificate with an empty subject is not critical")
		}
	}
	for name, broken := range map[string]func(*certBody){
		"no serial":       func(c *certBody) { c.serial = nil },
		"negative serial": func(c *certBody) { c.serial = bigOne().Neg(bigOne()) },
		"non-ASCII email": func(c *certBody) { c.emails = []string{"zażółć@example.pl"} },
		"non-ASCII URL":   func(c *certBody) { c.crlDP = []string{"http://zażółć.pl/1.crl"} },
		"invalid policy":  func(c *certBody) { c.policies = []asn1.ObjectIdentifier{{7, 1}} },
	} {
		c := body()
		broken(c)
		if _, err := c.marshal(); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

func bigOne() *big.Int { return big.NewInt(1) }
