package issuance

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
)

// testIssuer makes a root and an issuing CA in memory, shaped like the ones
// esig creates, and an Issuer under the issuing CA.
func testIssuer(t testing.TB) *Issuer {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return testIssuerWithKey(t, caKey)
}

// testIssuerWithKey is testIssuer with the issuing CA key given.
func testIssuerWithKey(t testing.TB, caKey crypto.Signer) *Issuer {
	t.Helper()
	now := time.Now()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	root := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{Country: []string{"PL"}, Organization: []string{"esig test"}, CommonName: "esig test root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(20 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, root, root, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ = x509.ParseCertificate(der)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{Country: []string{"PL"}, Organization: []string{"esig test"}, CommonName: "esig test issuing CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
	}
	der, err = x509.CreateCertificate(rand.Reader, ca, root, caKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(der)
	iss, err := NewIssuer(IssuerConfig{
		Cert: ca, Signer: caKey, Country: "PL", Backdate: time.Minute,
		OCSPURL: "http://127.0.0.1:8080/ocsp", CAIssuersURL: "http://127.0.0.1:8080/ca/issuing.crt",
		CRLURL: func(s int) string { return fmt.Sprintf("http://127.0.0.1:8080/crl/%d.crl", s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func issue(t testing.TB, iss *Issuer, profile string, pub crypto.PublicKey, s Subject) (*x509.Certificate, error) {
	t.Helper()
	serial, err := NewSerial()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Prepare(DefaultProfiles()[profile], &Request{PublicKey: pub, Subject: s, Serial: serial, Shard: 3, Now: time.Now()})
	if err != nil {
		return nil, err
	}
	return iss.Issue(tok)
}

var (
	person = Subject{GivenName: "Jan", Surname: "Kowalski", PESEL: "44051401359", Email: "jan@example.pl"}
	seal   = Subject{OrganizationName: "Urząd Testowy", NIP: "5252955037"}
)

func TestIssueProfilesPassLint(t *testing.T) {
	iss := testIssuer(t)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	tests := []struct {
		profile string
		subject Subject
		pub     crypto.PublicKey
		wantSN  string
		wantKU  x509.KeyUsage
	}{
		{ProfilePersonSigning, person, ecKey.Public(), "PNOPL-44051401359", x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
		{ProfilePersonSigning, Subject{GivenName: "Zażółć", Surname: "Gęślą-Jaźń", IDDocument: "ABA300000"}, rsaKey.Public(), "IDCPL-ABA300000", x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
		{ProfilePersonAuth, person, rsaKey.Public(), "PNOPL-44051401359", x509.KeyUsageDigitalSignature},
		{ProfilePersonSigning, Subject{GivenName: "Anna", Surname: "Nowak", PESEL: "02270803624", OrganizationName: "Firma", REGON: "123456785"}, ecKey.Public(), "PNOPL-02270803624", x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
		{ProfileOrganizationSeal, seal, ecKey.Public(), "", x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
		{ProfileOCSP, Subject{CommonName: "esig OCSP responder", OrganizationName: "esig test", NIP: "5252955037"}, ecKey.Public(), "", x509.KeyUsageDigitalSignature},
		{ProfileTSA, Subject{CommonName: "esig TSA"}, ecKey.Public(), "", x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
	}
	for _, tt := range tests {
		t.Run(tt.profile+"/"+tt.wantSN, func(t *testing.T) {
			cert, err := issue(t, iss, tt.profile, tt.pub, tt.subject)
			if err != nil {
				t.Fatalf("issue: %v", err)
			}
			if cert.Subject.SerialNumber != tt.wantSN {
				t.Errorf("serialNumber = %q, want %q", cert.Subject.SerialNumber, tt.wantSN)
			}
			if cert.KeyUsage != tt.wantKU {
				t.Errorf("key usage = %v, want %v", cert.KeyUsage, tt.wantKU)
			}
			if want := len(DefaultProfiles()[tt.profile].Policies); len(cert.Policies) != want || (want == 1 && cert.Policies[0].String() != "0.4.0.2042.1.1") {
				t.Errorf("policies = %v, want NCP", cert.Policies)
			}
			if err := cert.CheckSignatureFrom(iss.Certificate()); err != nil {
				t.Errorf("not signed by the issuer: %v", err)
			}
		})
	}
}

// TestProfilesPassEveryLint lints a certificate of every profile with the
// full zlint registry (the zlint command's), including the sources the
// issuer skips as inapplicable.
func TestProfilesPassEveryLint(t *testing.T) {
	iss := testIssuer(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	subjects := map[SubjectKind]Subject{SubjectPerson: person, SubjectOrganization: seal, SubjectService: {CommonName: "esig service", OrganizationName: "esig"}}
	for name, p := range DefaultProfiles() {
		cert, err := issue(t, iss, name, key.Public(), subjects[p.Subject])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := LintDER(cert.Raw); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestProfilesRefuseForeignPurposes(t *testing.T) {
	for _, oid := range []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 1}, {1, 3, 6, 1, 5, 5, 7, 3, 3}, {1, 3, 6, 1, 5, 5, 7, 3, 4}, {2, 5, 29, 37, 0}} {
		p := DefaultProfiles()[ProfilePersonAuth]
		p.ExtKeyUsage = append(p.ExtKeyUsage, oid)
		if err := p.Validate(); err == nil {
			t.Errorf("a profile with EKU %v was accepted", oid)
		}
	}
}

func TestProfilesRefuseUnencodableOIDs(t *testing.T) {
	for _, tt := range []struct {
		field string
		set   func(*Profile, asn1.ObjectIdentifier)
	}{
		{"policies", func(p *Profile, oid asn1.ObjectIdentifier) { p.Policies = append(p.Policies, oid) }},
		{"extKeyUsage", func(p *Profile, oid asn1.ObjectIdentifier) { p.ExtKeyUsage = append(p.ExtKeyUsage, oid) }},
	} {
		for _, oid := range []asn1.ObjectIdentifier{{7, 1}, {1, 45}, {1}, {1, 2, -3}} {
			p := *DefaultProfiles()[ProfilePersonSigning]
			tt.set(&p, oid)
			if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("%s %v: Validate = %v, want an error naming %s", tt.field, oid, err, tt.field)
			}
		}
	}
	if err := DefaultProfiles()[ProfilePersonSigning].Validate(); err != nil {
		t.Fatalf("the built-in profile fails: %v", err)
	}
}

func TestCriticalEKUAndNoCheck(t *testing.T) {
	iss := testIssuer(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tsa, err := issue(t, iss, ProfileTSA, key.Public(), Subject{CommonName: "esig TSA"})
	if err != nil {
		t.Fatal(err)
	}
	ocsp, err := issue(t, iss, ProfileOCSP, key.Public(), Subject{CommonName: "esig OCSP"})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, e := range tsa.Extensions {
		if e.Id.Equal(oidExtKeyUsage) && e.Critical {
			found["critical eku"] = true
		}
	}
	for _, e := range ocsp.Extensions {
		if e.Id.Equal(oidOCSPNoCheck) {
			found["nocheck"] = true
		}
	}
	if !found["critical eku"] || !found["nocheck"] {
		t.Fatalf("extensions found: %v; want a critical EKU on the TSA and ocsp-nocheck on the responder", found)
	}
	if len(ocsp.OCSPServer) != 0 || len(ocsp.CRLDistributionPoints) != 0 {
		t.Errorf("responder certificate carries revocation pointers: %v %v", ocsp.OCSPServer, ocsp.CRLDistributionPoints)
	}
}

func TestPrepareRefusesBadRequests(t *testing.T) {
	iss := testIssuer(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	long := strings.Repeat("a", 65)
	tests := []struct {
		name    string
		profile string
		subject Subject
		pub     crypto.PublicKey
		field   string
	}{
		{"pesel checksum", ProfilePersonSigning, Subject{GivenName: "Jan", Surname: "K", PESEL: "44051401358"}, ec.Public(), "subject.pesel"},
		{"no identifier", ProfilePersonSigning, Subject{GivenName: "Jan", Surname: "K"}, ec.Public(), "subject.pesel"},
		{"both identifiers", ProfilePersonSigning, Subject{GivenName: "Jan", Surname: "K", PESEL: "44051401359", IDDocument: "ABA300000"}, ec.Public(), "subject"},
		{"missing given name", ProfilePersonSigning, Subject{Surname: "K", PESEL: "44051401359"}, ec.Public(), "subject.givenName"},
		{"name too long", ProfilePersonSigning, Subject{GivenName: long, Surname: "K", PESEL: "44051401359"}, ec.Public(), "subject.givenName"},
		{"control char", ProfilePersonSigning, Subject{GivenName: "Ja\x00n", Surname: "K", PESEL: "44051401359"}, ec.Public(), "subject.givenName"},
		{"bad email", ProfilePersonSigning, Subject{GivenName: "Jan", Surname: "K", PESEL: "44051401359", Email: "Jan <j@x.pl>"}, ec.Public(), "subject.email"},
		{"nip checksum", ProfileOrganizationSeal, Subject{OrganizationName: "X", NIP: "5252955038"}, ec.Public(), "subject.nip"},
		{"regon checksum", ProfileOrganizationSeal, Subject{OrganizationName: "X", REGON: "123456786"}, ec.Public(), "subject.regon"},
		{"seal without id", ProfileOrganizationSeal, Subject{OrganizationName: "X"}, ec.Public(), "subject.nip"},
		{"seal with person", ProfileOrganizationSeal, Subject{OrganizationName: "X", NIP: "5252955037", PESEL: "44051401359"}, ec.Public(), "subject"},
		{"nip without org", ProfilePersonSigning, Subject{GivenName: "Jan", Surname: "K", PESEL: "44051401359", NIP: "5252955037"}, ec.Public(), "subject.organizationName"},
		{"rsa 1024", ProfilePersonSigning, person, weak.Public(), "csr"},
		{"p-224", ProfilePersonSigning, person, p224.Public(), "csr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := issue(t, iss, tt.profile, tt.pub, tt.subject)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("error = %v, want a FieldError on %q", err, tt.field)
			}
		})
	}
}

func TestTokenIssuesOnce(t *testing.T) {
	iss := testIssuer(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := NewSerial()
	tok, err := iss.Prepare(DefaultProfiles()[ProfilePersonSigning], &Request{PublicKey: key.Public(), Subject: person, Serial: serial, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Issue(tok); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Issue(tok); err == nil {
		t.Fatal("second Issue of the same token succeeded")
	}
	other := testIssuer(t)
	tok2, _ := iss.Prepare(DefaultProfiles()[ProfilePersonSigning], &Request{PublicKey: key.Public(), Subject: person, Serial: serial, Now: time.Now()})
	if _, err := other.Issue(tok2); err == nil {
		t.Fatal("a token was issued by an issuer that did not prepare it")
	}
}

func TestSemanticsIdentifier(t *testing.T) {
	iss := testIssuer(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tt := range []struct {
		profile string
		subject Subject
		want    asn1.ObjectIdentifier
	}{{ProfilePersonSigning, person, oidSemanticsNatural}, {ProfileOrganizationSeal, seal, oidSemanticsLegal}} {
		cert, err := issue(t, iss, tt.profile, key.Public(), tt.subject)
		if err != nil {
			t.Fatal(err)
		}
		var got asn1.ObjectIdentifier
		for _, e := range cert.Extensions {
			if e.Id.Equal(oidQCStatements) {
				var st []struct {
					ID   asn1.ObjectIdentifier
					Info struct{ Identifier asn1.ObjectIdentifier }
				}
				if _, err := asn1.Unmarshal(e.Value, &st); err != nil || len(st) != 1 {
					t.Fatalf("qcStatements: %v %v", st, err)
				}
				got = st[0].Info.Identifier
			}
		}
		if !got.Equal(tt.want) {
			t.Errorf("%s: semantics identifier %v, want %v", tt.profile, got, tt.want)
		}
	}
}

func TestDNString(t *testing.T) {
	iss := testIssuer(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := NewSerial()
	tests := []struct {
		subject Subject
		profile string
		want    string
	}{
		{person, ProfilePersonSigning, "C=PL, GN=Jan, SN=Kowalski, serialNumber=PNOPL-44051401359, CN=Jan Kowalski"},
		{Subject{OrganizationName: "Kowalski, Nowak & s-ka", NIP: "5252955037"}, ProfileOrganizationSeal, `C=PL, O=Kowalski\, Nowak & s-ka, organizationIdentifier=VATPL-5252955037, CN=Kowalski\, Nowak & s-ka`},
	}
	for _, tt := range tests {
		tok, err := iss.Prepare(DefaultProfiles()[tt.profile], &Request{PublicKey: key.Public(), Subject: tt.subject, Serial: serial, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if tok.Subject != tt.want {
			t.Errorf("subject = %q, want %q", tok.Subject, tt.want)
		}
	}
	if _, err := DNString([]byte{0x30, 0x01}); err == nil {
		t.Error("DNString accepted garbage")
	}
}

func TestParseSerial(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{{"0a:FF", "0aff", true}, {"0x1234", "1234", true}, {"", "", false}, {"zz", "", false}, {"-5", "", false}, {strings.Repeat("f", 43), "", false}} {
		n, err := ParseSerial(tt.in)
		if (err == nil) != tt.ok || (tt.ok && SerialHex(n) != tt.want) {
			t.Errorf("ParseSerial(%q) = %v, %v; want %q ok=%v", tt.in, n, err, tt.want, tt.ok)
		}
	}
	s, _ := NewSerial()
	if len(s.Bytes()) != 20 || s.Sign() <= 0 {
		t.Errorf("NewSerial gave %d bytes", len(s.Bytes()))
	}
}

func BenchmarkPrepareIssue(b *testing.B) {
	iss := testIssuer(b)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := DefaultProfiles()[ProfilePersonSigning]
	b.ReportAllocs()
	for b.Loop() {
		serial, _ := NewSerial()
		tok, err := iss.Prepare(p, &Request{PublicKey: key.Public(), Subject: person, Serial: serial, Now: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := iss.Issue(tok); err != nil {
			b.Fatal(err)
		}
	}
}
