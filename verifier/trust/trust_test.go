package trust

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"
)

type node struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var serial int64

func mint(t *testing.T, name string, parent *node, edit func(*x509.Certificate)) *node {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, MaxPathLen: -1}
	if edit != nil {
		edit(tpl)
	}
	issuer, ikey := tpl, crypto.Signer(key)
	if parent != nil {
		issuer, ikey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, issuer, key.Public(), ikey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &node{c, key}
}

func leafEdit(c *x509.Certificate) {
	c.IsCA, c.KeyUsage = false, x509.KeyUsageDigitalSignature
}

func TestBuildAndConstraints(t *testing.T) {
	root := mint(t, "Root", nil, nil)
	inter := mint(t, "Inter", root, nil)
	pathZero := mint(t, "PathZero", root, func(c *x509.Certificate) { c.MaxPathLen, c.MaxPathLenZero = 0, true })
	underZero := mint(t, "UnderZero", pathZero, nil)
	notCA := mint(t, "NotCA", root, func(c *x509.Certificate) { c.IsCA = false; c.KeyUsage = x509.KeyUsageDigitalSignature })
	noCertSign := mint(t, "NoCertSign", root, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCRLSign })
	constrained := mint(t, "Constrained", root, func(c *x509.Certificate) { c.PermittedDNSDomains = []string{"gov.pl"} })

	tsaEKU := func(critical bool) func(*x509.Certificate) {
		return func(c *x509.Certificate) {
			leafEdit(c)
			v, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
			c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: critical, Value: v}}
		}
	}
	cases := []struct {
		name    string
		leaf    *node
		purpose Purpose
		noChain bool
		bad     bool
	}{
		{"good leaf", mint(t, "Leaf", inter, leafEdit), PurposeSignature, false, false},
		{"leaf without signing key usage", mint(t, "Enc", inter, func(c *x509.Certificate) { leafEdit(c); c.KeyUsage = x509.KeyUsageKeyEncipherment }), PurposeSignature, false, true},
		{"path length 0 with a CA below", mint(t, "Deep", underZero, leafEdit), PurposeSignature, false, true},
		{"path length 0 directly", mint(t, "Shallow", pathZero, leafEdit), PurposeSignature, false, false},
		{"issuer not a CA", mint(t, "UnderNotCA", notCA, leafEdit), PurposeSignature, false, true},
		{"issuer without keyCertSign", mint(t, "UnderNoCertSign", noCertSign, leafEdit), PurposeSignature, false, true},
		{"DNS name inside constraints", mint(t, "In", constrained, func(c *x509.Certificate) { leafEdit(c); c.DNSNames = []string{"puesc.gov.pl"} }), PurposeSignature, false, false},
		{"DNS name outside constraints", mint(t, "Out", constrained, func(c *x509.Certificate) { leafEdit(c); c.DNSNames = []string{"evil.example"} }), PurposeSignature, false, true},
		{"TSA with critical EKU", mint(t, "TSA", inter, tsaEKU(true)), PurposeTimestamping, false, false},
		{"TSA with non-critical EKU", mint(t, "TSA2", inter, tsaEKU(false)), PurposeTimestamping, false, true},
		{"signing certificate used as TSA", mint(t, "NotTSA", inter, leafEdit), PurposeTimestamping, false, true},
		{"other root", mint(t, "Stranger", mint(t, "Root", nil, nil), leafEdit), PurposeSignature, true, false},
	}
	b := NewBuilder(NewAnchors(root.cert), inter.cert, pathZero.cert, underZero.cert, notCA.cert, noCertSign.cert, constrained.cert)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			chains, err := b.Build(c.leaf.cert)
			if c.noChain {
				if !errors.Is(err, ErrNoChain) {
					t.Fatalf("built %d chains, want none", len(chains))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !chains[0].Anchor().Equal(root.cert) {
				t.Fatal("chain does not end at the anchor")
			}
			err = Constraints(chains[0], c.purpose)
			if (err != nil) != c.bad {
				t.Fatalf("constraints: %v, want failure %v", err, c.bad)
			}
		})
	}
}

func TestValidity(t *testing.T) {
	root := mint(t, "Root", nil, nil)
	leaf := mint(t, "Leaf", root, leafEdit)
	chain := Chain{leaf.cert, root.cert}
	for _, c := range []struct {
		at    time.Time
		bad   bool
		early bool
	}{
		{time.Now(), false, false},
		{time.Now().Add(-2 * time.Hour), true, true},
		{time.Now().Add(2 * time.Hour), true, false},
	} {
		cert, early := Validity(chain, c.at)
		if (cert != nil) != c.bad || early != c.early {
			t.Errorf("at %v: cert %v early %v", c.at, cert != nil, early)
		}
	}
}
