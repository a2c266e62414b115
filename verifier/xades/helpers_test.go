package xades_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"esig/internal/testpki"
	"esig/internal/xmldsig"
	"esig/internal/xmldsig/c14n"
	"esig/signer/cades"
	"esig/signer/tsp"
	xsign "esig/signer/xades"
	"esig/verifier"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
	"esig/verifier/xades"
)

var xmlDoc = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Wniosek xmlns="urn:esig:test:puesc"><Nadawca>Jan Kowalski</Nadawca><Kwota>1500.00</Kwota><Opis>zgłoszenie celne</Opis></Wniosek>`)

var binDoc = []byte("%PDF-1.7 fikcyjny załącznik\x00\x01\x02")

// fixture is a test PKI with an RSA and an ECDSA signer.
type fixture struct {
	p       *testpki.PKI
	rsa, ec *testpki.Cert
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	p := testpki.New(t)
	return &fixture{p: p,
		rsa: p.Leaf(t, testpki.LeafOptions{Name: "Jan Kowalski"}),
		ec:  p.Leaf(t, testpki.LeafOptions{Name: "Anna Nowak", Key: testpki.ECDSAP256})}
}

func (f *fixture) timestamper() xsign.Timestamper {
	c := &tsp.Client{URL: f.p.TSAURL()}
	return cades.TimestamperFunc(func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
		r, err := c.Timestamp(ctx, d, h)
		if err != nil {
			return nil, err
		}
		return r.Token, nil
	})
}

// sign signs with leaf (RSA by default) at the options' level and
// packaging.
func (f *fixture) sign(t testing.TB, leaf *testpki.Cert, content []byte, o xsign.Options) []byte {
	t.Helper()
	if leaf == nil {
		leaf = f.rsa
	}
	o.Signer, o.Certificate = leaf.Key, leaf.Cert
	o.Chain = append(o.Chain, f.p.CA.Cert, f.p.Root.Cert)
	if o.Level >= xsign.LevelT {
		o.Timestamper = f.timestamper()
	}
	if o.Level >= xsign.LevelLT {
		o.Validation = cades.OnlineValidation{Fetcher: revocation.NewHTTPFetcher()}
	}
	sig, err := xsign.Sign(context.Background(), content, o)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// engine trusts the test root and fetches revocation data from the test
// PKI's server.
func (f *fixture) engine(t testing.TB) *verifier.Engine {
	t.Helper()
	eng, err := verifier.New(verifier.Config{Anchors: trust.NewAnchors(f.p.Root.Cert),
		Intermediates: []*x509.Certificate{f.p.CA.Cert}, Fetcher: revocation.NewHTTPFetcher()})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func (f *fixture) verify(t testing.TB, data []byte, detached map[string][]byte) *xades.Result {
	t.Helper()
	var o xades.Options
	if detached != nil {
		o.Detached = xmldsig.DetachedContent(detached)
	}
	return xades.Verify(context.Background(), f.engine(t), data, o)
}

// only returns the one signature of a result.
func only(t testing.TB, r *xades.Result) *xades.Signature {
	t.Helper()
	if len(r.Signatures) != 1 || len(r.Report.Signatures) != 1 {
		t.Fatalf("%d signatures, want 1", len(r.Signatures))
	}
	return r.Signatures[0]
}

// expect checks a verdict and that some error mentions each of contains.
func expect(t testing.TB, s *report.Signature, ind report.Indication, sub report.SubIndication, contains ...string) {
	t.Helper()
	if s.Indication != ind || s.SubIndication != sub {
		t.Fatalf("%s/%s, want %s/%s; errors %q; warnings %q", s.Indication, s.SubIndication, ind, sub, s.Errors, s.Warnings)
	}
	all := strings.Join(s.Errors, "\n")
	for _, c := range contains {
		if !strings.Contains(all, c) {
			t.Errorf("errors %q do not mention %q", s.Errors, c)
		}
	}
}

// parse reads XML for a test to edit (our own output: no hostile input).
func parse(t testing.TB, data []byte) *etree.Document {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(data); err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Child {
		if pi, ok := c.(*etree.ProcInst); ok && pi.Target == "xml" {
			d.RemoveChild(pi) // Serialize writes its own declaration
			break
		}
	}
	return d
}

func serialize(t testing.TB, d *etree.Document) []byte {
	t.Helper()
	b, err := xmldsig.Serialize(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// find returns the first element with the local name, failing the test
// when there is none.
func find(t testing.TB, d *etree.Document, local string) *etree.Element {
	t.Helper()
	e := d.FindElement("//" + local)
	if e == nil {
		t.Fatalf("no %s element", local)
	}
	return e
}

// qualifyingProperties returns a QualifyingProperties element for
// signature sigID naming cert in SigningCertificateV2, for signatures a
// test builds by hand.
func qualifyingProperties(t testing.TB, sigID, spID string, cert *x509.Certificate) *etree.Element {
	t.Helper()
	sum := sha256.Sum256(cert.Raw)
	d := etree.NewDocument()
	err := d.ReadFromString(fmt.Sprintf(`<xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Target="#%s">`+
		`<xades:SignedProperties Id="%s"><xades:SignedSignatureProperties><xades:SigningTime>%s</xades:SigningTime>`+
		`<xades:SigningCertificateV2><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="%s"/><ds:DigestValue>%s</ds:DigestValue></xades:CertDigest></xades:Cert></xades:SigningCertificateV2>`+
		`</xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties>`,
		sigID, spID, time.Now().UTC().Format(time.RFC3339), xmldsig.DigestSHA256, base64.StdEncoding.EncodeToString(sum[:])))
	if err != nil {
		t.Fatal(err)
	}
	return d.Root()
}

// handBuilt signs, with the core's Builder, an enveloping signature over
// an Object "data" whose qualifying properties and references the test
// shapes: spType is the Type of the Reference to the SignedProperties
// ("-" for no such Reference), and edit may change the tree before signing.
func (f *fixture) handBuilt(t testing.TB, spType string, edit func(sig *etree.Element, qp *etree.Element)) []byte {
	t.Helper()
	b, err := xmldsig.NewBuilder(xmldsig.SignOptions{Signer: f.rsa.Key, Certificates: []*x509.Certificate{f.rsa.Cert, f.p.CA.Cert},
		ID: "sig", SignatureValueID: "sig-value"})
	if err != nil {
		t.Fatal(err)
	}
	obj := b.AddObject("data")
	obj.CreateElement("Dane").SetText("treść podpisana")
	if _, err := b.AddReference(xmldsig.ReferenceSpec{URI: "#data", ID: "ref-data", Type: xmldsig.TypeObject,
		Transforms: []xmldsig.TransformSpec{{Algorithm: c14n.ExcC14N}}}); err != nil {
		t.Fatal(err)
	}
	qp := qualifyingProperties(t, "sig", "sp", f.rsa.Cert)
	b.AddObject("").AddChild(qp)
	if edit != nil {
		edit(b.Element(), qp)
	}
	if spType != "-" {
		if _, err := b.AddReference(xmldsig.ReferenceSpec{URI: "#sp", Type: spType,
			Transforms: []xmldsig.TransformSpec{{Algorithm: c14n.ExcC14N}}}); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := b.Sign(nil)
	if err != nil {
		t.Fatal(err)
	}
	return serialize(t, doc)
}
