package xades_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"esig/internal/testpki"
	"esig/verifier/report"
)

func needXmlsec(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		t.Skip("xmlsec1 not installed")
	}
}

// xmlsecIDAttr tells xmlsec1 that xades:SignedProperties/@Id is an
// identifier (it knows only the XMLDSig ones without a schema).
var xmlsecIDAttr = []string{"--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties"}

// template is a XAdES signature template for xmlsec1 to sign: enveloping
// (an Object with the content) or enveloped (inside a document), with
// SignedProperties naming certDigestOf in SigningCertificateV2 and
// covered by a Reference of Type spType ("" for none at all).
type template struct {
	enveloped    bool
	ecdsa        bool
	certDigestOf *testpki.Cert
	spType       string
	noSPRef      bool
}

func (tp template) String() string {
	sum := sha256.Sum256(tp.certDigestOf.Cert.Raw)
	method := "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	if tp.ecdsa {
		method = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	}
	dataRef := `<ds:Reference Id="ref-data" URI="#data" Type="http://www.w3.org/2000/09/xmldsig#Object"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>`
	dataObj := `<ds:Object Id="data"><Zgloszenie xmlns="urn:esig:test:sekap">Wniosek o dofinansowanie, 20 000 PLN</Zgloszenie></ds:Object>`
	if tp.enveloped {
		dataRef = `<ds:Reference Id="ref-data" URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>`
		dataObj = ""
	}
	spRef := fmt.Sprintf(`<ds:Reference URI="#sp" Type="%s"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>`, tp.spType)
	if tp.noSPRef {
		spRef = ""
	}
	sig := `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="sig"><ds:SignedInfo>` +
		`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="` + method + `"/>` +
		dataRef + spRef + `</ds:SignedInfo><ds:SignatureValue Id="sig-value"/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo>` + dataObj +
		`<ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" Target="#sig"><xades:SignedProperties Id="sp">` +
		`<xades:SignedSignatureProperties><xades:SigningTime>` + time.Now().UTC().Format(time.RFC3339) + `</xades:SigningTime>` +
		`<xades:SigningCertificateV2><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>` +
		`<ds:DigestValue>` + base64.StdEncoding.EncodeToString(sum[:]) + `</ds:DigestValue></xades:CertDigest></xades:Cert></xades:SigningCertificateV2>` +
		`</xades:SignedSignatureProperties><xades:SignedDataObjectProperties><xades:DataObjectFormat ObjectReference="#ref-data"><xades:MimeType>text/xml</xades:MimeType></xades:DataObjectFormat></xades:SignedDataObjectProperties>` +
		`</xades:SignedProperties></xades:QualifyingProperties></ds:Object></ds:Signature>`
	if tp.enveloped {
		return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Zgloszenie xmlns="urn:esig:test:sekap"><Kwota>20000.00</Kwota>` + sig + `</Zgloszenie>`
	}
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + sig
}

// xmlsecSign has xmlsec1 sign a template with leaf's key, putting the leaf
// and the issuing CA in KeyInfo.
func xmlsecSign(t *testing.T, f *fixture, leaf *testpki.Cert, tmpl string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tmpl.xml"), []byte(tmpl), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--sign", "--privkey-pem", leaf.KeyPath + "," + leaf.CertPath + "," + f.p.CA.CertPath, "--output", "signed.xml"}, xmlsecIDAttr...)
	cmd := exec.Command("xmlsec1", append(args, "tmpl.xml")...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmlsec1 --sign: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "signed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// xmlsecVerify reports whether xmlsec1 accepts a signature, with the
// certificate chain checked against the test root.
func xmlsecVerify(t *testing.T, f *fixture, data []byte) (bool, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sig.xml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--verify", "--trusted-pem", f.p.Root.CertPath, "--untrusted-pem", f.p.CA.CertPath}, xmlsecIDAttr...)
	cmd := exec.Command("xmlsec1", append(args, "sig.xml")...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return err == nil, string(out)
}

// TestXmlsecSignsWeVerify has xmlsec1 sign XAdES templates: well-formed
// ones must pass ours; ones with a XAdES fault that xmlsec1 cannot see
// (it checks References and the value, not what XAdES means by them) must
// pass xmlsec1 and fail ours.
func TestXmlsecSignsWeVerify(t *testing.T) {
	needXmlsec(t)
	f := newFixture(t)
	other := f.p.Leaf(t, testpki.LeafOptions{Name: "Inny Podpisujący", Key: testpki.ECDSAP256})
	const spType = "http://uri.etsi.org/01903#SignedProperties"
	cases := []struct {
		name     string
		leaf     *testpki.Cert
		tmpl     template
		edit     func(*etree.Document)
		ind      report.Indication
		sub      []report.SubIndication
		contains string
	}{
		{name: "enveloping RSA", leaf: f.rsa, tmpl: template{certDigestOf: f.rsa, spType: spType}, ind: report.TotalPassed},
		{name: "enveloped ECDSA", leaf: f.ec, tmpl: template{enveloped: true, ecdsa: true, certDigestOf: f.ec, spType: spType}, ind: report.TotalPassed},
		{name: "SigningCertificate of another certificate", leaf: f.ec, tmpl: template{ecdsa: true, certDigestOf: other, spType: spType},
			ind: report.Indeterminate, sub: []report.SubIndication{report.NoSigningCertificateFound}, contains: "matches no Cert entry"},
		{name: "SigningCertificate of the issuing CA", leaf: f.rsa, tmpl: template{certDigestOf: &testpki.Cert{Cert: f.p.CA.Cert}, spType: spType},
			ind: report.TotalFailed, sub: []report.SubIndication{report.SigCryptoFailure}},
		{name: "SignedProperties not signed", leaf: f.rsa, tmpl: template{certDigestOf: f.rsa, noSPRef: true},
			ind: report.TotalFailed, sub: []report.SubIndication{report.FormatFailure}, contains: "not covered by any Reference"},
		{name: "SignedProperties under a Reference of another Type", leaf: f.rsa, tmpl: template{certDigestOf: f.rsa, spType: "http://www.w3.org/2000/09/xmldsig#Object"},
			ind: report.TotalFailed, sub: []report.SubIndication{report.FormatFailure}, contains: "whose Type"},
		{name: "fake SignedProperties added after signing", leaf: f.rsa, tmpl: template{certDigestOf: f.rsa, spType: spType},
			edit: func(d *etree.Document) {
				qp := d.FindElement("//QualifyingProperties").Copy()
				qp.FindElement("./SignedProperties").RemoveAttr("Id")
				qp.FindElement(".//SigningTime").SetText("2001-01-01T00:00:00Z")
				d.FindElement("//Signature").CreateElement("ds:Object").AddChild(qp)
			},
			ind: report.TotalFailed, sub: []report.SubIndication{report.FormatFailure}, contains: "two QualifyingProperties"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			signed := xmlsecSign(t, f, c.leaf, c.tmpl.String())
			if c.edit != nil {
				signed = edit(t, signed, c.edit)
			}
			if ok, out := xmlsecVerify(t, f, signed); !ok {
				t.Fatalf("xmlsec1 refuses what it signed: %s", out)
			}
			s := only(t, f.verify(t, signed, nil))
			r := s.Report
			if c.ind == report.TotalPassed {
				expect(t, r, report.TotalPassed, "")
				if !s.SigningCertificate.Equal(c.leaf.Cert) {
					t.Errorf("signing certificate %v", s.SigningCertificate.Subject)
				}
				return
			}
			if r.Indication != c.ind || !hasSub(c.sub, r.SubIndication) {
				t.Fatalf("%s/%s, want %s/%v; errors %q", r.Indication, r.SubIndication, c.ind, c.sub, r.Errors)
			}
			if !strings.Contains(strings.Join(r.Errors, "\n"), c.contains) {
				t.Errorf("errors %q do not mention %q", r.Errors, c.contains)
			}
		})
	}
	t.Run("SignedProperties tampered (both see it)", func(t *testing.T) {
		signed := xmlsecSign(t, f, f.rsa, template{certDigestOf: f.rsa, spType: spType}.String())
		tampered := edit(t, signed, func(d *etree.Document) { d.FindElement("//SigningTime").SetText("2001-01-01T00:00:00Z") })
		if ok, _ := xmlsecVerify(t, f, tampered); ok {
			t.Errorf("xmlsec1 accepts tampered SignedProperties")
		}
		expect(t, only(t, f.verify(t, tampered, nil)).Report, report.TotalFailed, report.HashFailure, "SignedProperties were altered")
	})
}

func hasSub(list []report.SubIndication, s report.SubIndication) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
