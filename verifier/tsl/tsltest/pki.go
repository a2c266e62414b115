// Package tsltest builds, for tests, what qualification needs and no real
// party would hand out: a test trusted-list operator, a test QTSP with a CA
// and a time-stamp unit, leaf certificates carrying the QC statements and
// policies of ETSI EN 319 412-5 and EN 319 411-2, and synthetic trusted
// lists (ETSI TS 119 612) naming that QTSP, signed by the test operator with
// the enveloped signature of internal/xmldsig.
//
// Everything is generated in t.TempDir(); nothing here is a real person's
// or organisation's. The OIDs are written out independently of
// verifier/qualification so that the tests check that package against a
// second reading of the standards rather than against itself.
package tsltest

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
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// OIDs of EN 319 412-5 (QC statements), EN 319 412-1 (semantics
// identifiers) and EN 319 411-2 / TS 101 456 (policies).
var (
	OIDQCStatements   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}
	OIDQcCompliance   = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}
	OIDQcLimitValue   = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 2}
	OIDQcRetention    = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 3}
	OIDQcSSCD         = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 4}
	OIDQcPDS          = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 5}
	OIDQcType         = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6}
	OIDQcTypeESign    = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 1}
	OIDQcTypeESeal    = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 2}
	OIDQcTypeWeb      = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 3}
	OIDQcCCLegisl     = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 7}
	OIDPKIXQCSyntaxV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 11, 2}
	OIDSemNatural     = asn1.ObjectIdentifier{0, 4, 0, 194121, 1, 1}
	OIDSemLegal       = asn1.ObjectIdentifier{0, 4, 0, 194121, 1, 2}

	OIDQCPn     = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 0}
	OIDQCPl     = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 1}
	OIDQCPnQSCD = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 2}
	OIDQCPlQSCD = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 3}
	OIDQCPPlus  = asn1.ObjectIdentifier{0, 4, 0, 1456, 1, 1} // TS 101 456 QCP+ (with SSCD)
	OIDQCP      = asn1.ObjectIdentifier{0, 4, 0, 1456, 1, 2} // TS 101 456 QCP
)

// Cert is a certificate with its key and its PEM file.
type Cert struct {
	Cert     *x509.Certificate
	Key      crypto.Signer
	CertPath string
}

// PKI is the test world: the operators of a national list and of a list
// of lists, a QTSP CA, a time-stamp unit, and the fixed times the tests'
// service histories refer to.
type PKI struct {
	Dir string
	// Operator signs the synthetic national list; LOTLOperator the
	// synthetic list of lists.
	Operator     *Cert
	LOTLOperator *Cert
	// CA is the QTSP's issuing CA, the digital identity of its CA/QC
	// service.
	CA *Cert
	// TSA is the QTSP's time-stamp unit, the identity of its TSA/QTST
	// service.
	TSA *Cert

	mu     sync.Mutex
	serial int64
}

var (
	keyOnce sync.Once
	rsaKeys [2]*rsa.PrivateKey
)

// operatorKeys are RSA like real operators' (and generated once per test
// binary: RSA generation is the slow part of building the PKI).
func operatorKeys() [2]*rsa.PrivateKey {
	keyOnce.Do(func() {
		for i := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[i] = k
		}
	})
	return rsaKeys
}

func ecKey() crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// New builds the PKI in t.TempDir(). The CA and operators are valid from
// 2015 to 2045 so that every test time falls inside.
func New(t testing.TB) *PKI {
	t.Helper()
	p := &PKI{Dir: t.TempDir()}
	nb := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	na := time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC)
	keys := operatorKeys()
	p.Operator = p.selfSigned(t, "operator", pkix.Name{Country: []string{"ZZ"}, Organization: []string{"Test Supervisory Body"}, CommonName: "Test TL Operator"},
		keys[0], nb, na, x509.KeyUsageDigitalSignature, false)
	p.LOTLOperator = p.selfSigned(t, "lotl-operator", pkix.Name{Country: []string{"ZZ"}, Organization: []string{"Test Commission"}, CommonName: "Test LOTL Operator"},
		keys[1], nb, na, x509.KeyUsageDigitalSignature, false)
	p.CA = p.selfSigned(t, "qtsp-ca", pkix.Name{Country: []string{"ZZ"}, Organization: []string{"Test QTSP S.A."}, CommonName: "Test QTSP Qualified CA"},
		ecKey(), nb, na, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, true)
	p.TSA = p.issue(t, "qtsp-tsa", LeafOptions{Name: "Test QTSP Time-Stamp Unit", NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature, TimeStamping: true})
	return p
}

func (p *PKI) nextSerial() *big.Int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serial++
	return big.NewInt(1000 + p.serial)
}

func (p *PKI) selfSigned(t testing.TB, file string, name pkix.Name, key crypto.Signer, nb, na time.Time, ku x509.KeyUsage, ca bool) *Cert {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: p.nextSerial(), Subject: name, NotBefore: nb, NotAfter: na, KeyUsage: ku,
		BasicConstraintsValid: true, IsCA: ca, SubjectKeyId: ski(key.Public()),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return p.finish(t, file, der, key)
}

func ski(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	var spki struct {
		Alg asn1.RawValue
		Key asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		panic(err)
	}
	sum := sha1.Sum(spki.Key.Bytes)
	return sum[:]
}

func (p *PKI) finish(t testing.TB, file string, der []byte, key crypto.Signer) *Cert {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(p.Dir, file+".pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return &Cert{Cert: c, Key: key, CertPath: path}
}

// LeafOptions describe a leaf certificate of the QTSP CA.
type LeafOptions struct {
	Name string
	// Legal makes the subject an organisation (a seal's subject).
	Legal bool
	// NotBefore and NotAfter default to 2024-01-01 and 2027-01-01.
	NotBefore, NotAfter time.Time
	// KeyUsage defaults to nonRepudiation (contentCommitment), the key
	// usage of qualified signing and seal certificates (EN 319 412-2).
	KeyUsage     x509.KeyUsage
	TimeStamping bool
	// Policies are certificate policy OIDs (QCP-n-qscd ...).
	Policies []asn1.ObjectIdentifier
	// QC statements (EN 319 412-5).
	QcCompliance bool
	QcSSCD       bool
	QcTypes      []asn1.ObjectIdentifier
	// RetentionYears > 0 adds QcRetentionPeriod.
	RetentionYears int
	// PDS adds QcPDS locations (URL, language).
	PDS [][2]string
	// Semantics adds id-qcs-pkixQCSyntax-v2 with this identifier.
	Semantics asn1.ObjectIdentifier
	// Legislation adds QcCClegislation with these country codes.
	Legislation []string
	// RawStatements replaces the whole qcStatements extension value
	// (to test malformed input).
	RawStatements []byte
}

// Leaf issues a leaf certificate from the CA.
func (p *PKI) Leaf(t testing.TB, o LeafOptions) *Cert {
	t.Helper()
	return p.issue(t, "leaf-"+o.Name, o)
}

func (p *PKI) issue(t testing.TB, file string, o LeafOptions) *Cert {
	t.Helper()
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.KeyUsage == 0 {
		o.KeyUsage = x509.KeyUsageContentCommitment
	}
	key := ecKey()
	subj := pkix.Name{Country: []string{"ZZ"}, CommonName: o.Name}
	if o.Legal {
		subj.Organization = []string{o.Name}
	} else {
		subj.ExtraNames = []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{2, 5, 4, 42}, Value: "Jan"},
			{Type: asn1.ObjectIdentifier{2, 5, 4, 4}, Value: "Testowy"},
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber: p.nextSerial(), Subject: subj, NotBefore: o.NotBefore, NotAfter: o.NotAfter,
		KeyUsage: o.KeyUsage, SubjectKeyId: ski(key.Public()),
	}
	for _, oid := range o.Policies {
		ints := make([]uint64, len(oid))
		for i, n := range oid {
			ints[i] = uint64(n)
		}
		x, err := x509.OIDFromInts(ints)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.Policies = append(tmpl.Policies, x)
	}
	if o.TimeStamping {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
	}
	if v := o.RawStatements; v != nil {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: OIDQCStatements, Value: v})
	} else if v := statements(o); v != nil {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: OIDQCStatements, Value: v})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.CA.Cert, key.Public(), p.CA.Key)
	if err != nil {
		t.Fatal(err)
	}
	return p.finish(t, file, der, key)
}

type qcStatement struct {
	ID   asn1.ObjectIdentifier
	Info asn1.RawValue `asn1:"optional"`
}

type pdsLocation struct {
	URL      string `asn1:"ia5"`
	Language string `asn1:"printable"`
}

type semanticsInfo struct {
	ID asn1.ObjectIdentifier
}

func mustMarshal(v any) asn1.RawValue {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return asn1.RawValue{FullBytes: b}
}

// statements encodes the qcStatements extension value (RFC 3739 clause
// 3.2.6; statement syntaxes of EN 319 412-5 clause 4).
func statements(o LeafOptions) []byte {
	var s []qcStatement
	if o.Semantics != nil {
		s = append(s, qcStatement{ID: OIDPKIXQCSyntaxV2, Info: mustMarshal(semanticsInfo{ID: o.Semantics})})
	}
	if o.QcCompliance {
		s = append(s, qcStatement{ID: OIDQcCompliance})
	}
	if o.RetentionYears > 0 {
		s = append(s, qcStatement{ID: OIDQcRetention, Info: mustMarshal(o.RetentionYears)})
	}
	if o.QcSSCD {
		s = append(s, qcStatement{ID: OIDQcSSCD})
	}
	if len(o.PDS) > 0 {
		var locs []pdsLocation
		for _, x := range o.PDS {
			locs = append(locs, pdsLocation{URL: x[0], Language: x[1]})
		}
		s = append(s, qcStatement{ID: OIDQcPDS, Info: mustMarshal(locs)})
	}
	if len(o.QcTypes) > 0 {
		s = append(s, qcStatement{ID: OIDQcType, Info: mustMarshal(o.QcTypes)})
	}
	if len(o.Legislation) > 0 {
		var cs []asn1.RawValue
		for _, c := range o.Legislation {
			cs = append(cs, mustMarshalPrintable(c))
		}
		s = append(s, qcStatement{ID: OIDQcCCLegisl, Info: mustMarshal(cs)})
	}
	if len(s) == 0 {
		return nil
	}
	b, err := asn1.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}

func mustMarshalPrintable(s string) asn1.RawValue {
	b, err := asn1.MarshalWithParams(s, "printable")
	if err != nil {
		panic(err)
	}
	return asn1.RawValue{FullBytes: b}
}
