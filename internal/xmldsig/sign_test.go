package xmldsig

import (
	"crypto"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/c14n"
)

const sampleDoc = `<?xml version="1.0" encoding="UTF-8"?>
<!-- leading comment -->
<dok:Dokument xmlns:dok="urn:esig:test:dokument" xmlns:x="urn:esig:test:unused" xml:lang="pl">
  <dok:Naglowek Id="hdr" atrybut="tab&#9;i&#10;nowa linia">Zażółć gęślą jaźń &amp; &lt;tag&gt;</dok:Naglowek>
  <!-- inner comment -->
  <dok:Tresc id="body"><dok:Akapit>Pierwszy</dok:Akapit><dok:Akapit x:typ="a">Drugi</dok:Akapit></dok:Tresc>
</dok:Dokument>
`

func parseSample(t testing.TB) *etree.Document {
	t.Helper()
	d, err := Parse([]byte(sampleDoc), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return d.Tree()
}

// signCase builds one signature and returns the serialized document and the
// files (name -> bytes) a detached signature refers to.
type signCase struct {
	name    string
	key     string
	pss     bool
	xmlsec  bool     // xmlsec1 can check it (no RSA-PSS in xmlsec1 1.2)
	idAttrs []string // --id-attr arguments xmlsec1 needs
	build   func(t *testing.T, k *testKey) ([]byte, map[string][]byte)
}

func opts(k *testKey, pss bool) SignOptions {
	o := SignOptions{Signer: k.signer, Certificates: []*x509.Certificate{k.cert}, PSS: pss}
	if k.name == "ec384" {
		o.Hash = crypto.SHA384
	}
	return o
}

func mustSerialize(t *testing.T, d *etree.Document) []byte {
	t.Helper()
	b, err := Serialize(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func enveloped(refC14N string, sigC14N string) func(t *testing.T, k *testKey) ([]byte, map[string][]byte) {
	return func(t *testing.T, k *testKey) ([]byte, map[string][]byte) {
		d := parseSample(t)
		o := opts(k, false)
		o.Canonicalization = sigC14N
		if _, err := SignEnveloped(d, o, refC14N); err != nil {
			t.Fatal(err)
		}
		return mustSerialize(t, d), nil
	}
}

func signCases() []signCase {
	return []signCase{
		{name: "enveloped exc-c14n RSA", key: "rsa2048", xmlsec: true, build: enveloped(c14n.ExcC14N, "")},
		{name: "enveloped c14n 1.0 / SignedInfo c14n 1.1 ECDSA P-256", key: "ec256", xmlsec: true, build: enveloped(c14n.C14N10, c14n.C14N11)},
		{name: "enveloped c14n 1.1 with comments ECDSA P-384", key: "ec384", xmlsec: true, build: enveloped(c14n.C14N11WithComments, c14n.C14N10)},
		{name: "enveloped RSA-PSS", key: "rsa2048", pss: true, build: enveloped(c14n.ExcC14N, "")},
		{name: "enveloping XML object RSA", key: "rsa2048", xmlsec: true, build: func(t *testing.T, k *testKey) ([]byte, map[string][]byte) {
			content := parseSample(t).Root()
			d, err := SignEnveloping(opts(k, false), "obj-1", "text/xml", c14n.C14N10, content)
			if err != nil {
				t.Fatal(err)
			}
			return mustSerialize(t, d), nil
		}},
		{name: "enveloping base64 object ECDSA", key: "ec256", xmlsec: true, build: func(t *testing.T, k *testKey) ([]byte, map[string][]byte) {
			b, err := NewBuilder(opts(k, false))
			if err != nil {
				t.Fatal(err)
			}
			b.AddObject("bin").SetText("UG9kcGlzYW5 5IGRva3VtZW50\nIGJpbmFybnk=")
			if _, err := b.AddReference(ReferenceSpec{URI: "#bin", Transforms: []TransformSpec{{Algorithm: TransformBase64}}}); err != nil {
				t.Fatal(err)
			}
			d, err := b.Sign(nil)
			if err != nil {
				t.Fatal(err)
			}
			return mustSerialize(t, d), nil
		}},
		{name: "detached external files RSA", key: "rsa2048", xmlsec: true, build: func(t *testing.T, k *testKey) ([]byte, map[string][]byte) {
			files := map[string][]byte{"wniosek.pdf": []byte("%PDF-1.4 not really a pdf\x00\x01\x02"), "dane.xml": []byte(sampleDoc)}
			d, err := SignDetached(opts(k, false),
				ReferenceSpec{URI: "wniosek.pdf", Detached: files["wniosek.pdf"]},
				ReferenceSpec{URI: "dane.xml", Detached: files["dane.xml"], Transforms: []TransformSpec{{Algorithm: c14n.ExcC14N}}})
			if err != nil {
				t.Fatal(err)
			}
			return mustSerialize(t, d), files
		}},
		{name: "detached sibling elements ECDSA", key: "ec256", xmlsec: true, idAttrs: []string{"--id-attr:Id", "urn:esig:test:dokument:Naglowek", "--id-attr:id", "urn:esig:test:dokument:Tresc"},
			build: func(t *testing.T, k *testKey) ([]byte, map[string][]byte) {
				d := parseSample(t)
				b, err := NewBuilder(opts(k, false))
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range []string{"#hdr", "#body"} {
					if _, err := b.AddReference(ReferenceSpec{URI: u, Transforms: []TransformSpec{{Algorithm: c14n.ExcC14N, PrefixList: []string{"x"}}}}); err != nil {
						t.Fatal(err)
					}
				}
				d.Root().AddChild(b.Element())
				if _, err := b.Sign(d); err != nil {
					t.Fatal(err)
				}
				return mustSerialize(t, d), nil
			}},
		{name: "enveloped via XPath transform RSA", key: "rsa2048", xmlsec: true, build: func(t *testing.T, k *testKey) ([]byte, map[string][]byte) {
			d := parseSample(t)
			b, err := NewBuilder(opts(k, false))
			if err != nil {
				t.Fatal(err)
			}
			b.AddReference(ReferenceSpec{URI: "", Transforms: []TransformSpec{
				{Algorithm: TransformXPath, XPath: "not(ancestor-or-self::ds:Signature)"}, {Algorithm: c14n.C14N10}}})
			d.Root().AddChild(b.Element())
			if _, err := b.Sign(d); err != nil {
				t.Fatal(err)
			}
			return mustSerialize(t, d), nil
		}},
		{name: "enveloped via XPath Filter 2.0 ECDSA", key: "ec256", xmlsec: true, build: func(t *testing.T, k *testKey) ([]byte, map[string][]byte) {
			d := parseSample(t)
			b, err := NewBuilder(opts(k, false))
			if err != nil {
				t.Fatal(err)
			}
			b.AddReference(ReferenceSpec{URI: "", Transforms: []TransformSpec{
				{Algorithm: TransformFilter2, Filters: []Filter{{Operation: "subtract", XPath: "here()/ancestor::ds:Signature[1]"}}}, {Algorithm: c14n.ExcC14N}}})
			d.Root().AddChild(b.Element())
			if _, err := b.Sign(d); err != nil {
				t.Fatal(err)
			}
			return mustSerialize(t, d), nil
		}},
		{name: "XAdES-shaped: SignedProperties reference and Object", key: "rsa2048", xmlsec: true,
			idAttrs: []string{"--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties"},
			build: func(t *testing.T, k *testKey) ([]byte, map[string][]byte) {
				d := parseSample(t)
				o := opts(k, false)
				o.ID, o.SignatureValueID, o.KeyInfoID = "sig-1", "sig-1-value", "sig-1-keyinfo"
				b, err := NewBuilder(o)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := b.AddReference(EnvelopedReference(c14n.ExcC14N, 0)); err != nil {
					t.Fatal(err)
				}
				qp := b.AddObject("").CreateElement("xades:QualifyingProperties")
				qp.CreateAttr("xmlns:xades", "http://uri.etsi.org/01903/v1.3.2#")
				qp.CreateAttr("Target", "#sig-1")
				sp := qp.CreateElement("xades:SignedProperties")
				sp.CreateAttr("Id", "sig-1-signedprops")
				sp.CreateElement("xades:SignedSignatureProperties").CreateElement("xades:SigningTime").SetText("2026-11-22T10:00:00Z")
				if _, err := b.AddReference(ReferenceSpec{URI: "#sig-1-signedprops", Type: SignedPropertiesType,
					Transforms: []TransformSpec{{Algorithm: c14n.ExcC14N}}}); err != nil {
					t.Fatal(err)
				}
				d.Root().AddChild(b.Element())
				if _, err := b.Sign(d); err != nil {
					t.Fatal(err)
				}
				return mustSerialize(t, d), nil
			}},
	}
}

// TestSignAndVerify signs each packaging with each key type, then verifies
// the serialized result with this package and with xmlsec1.
func TestSignAndVerify(t *testing.T) {
	for _, tc := range signCases() {
		t.Run(tc.name, func(t *testing.T) {
			k := newTestKey(t, tc.key)
			tc.pss = tc.pss || false
			var out []byte
			var files map[string][]byte
			if tc.pss {
				out, files = envelopedPSS(t, k)
			} else {
				out, files = tc.build(t, k)
			}
			_, sigs := verifyAll(t, out, VerifyOptions{Detached: DetachedContent(files)})
			if len(sigs) != 1 {
				t.Fatalf("%d signatures", len(sigs))
			}
			if err := sigs[0].Problem(); err != nil {
				t.Fatalf("our verifier: %v\n%s", err, out)
			}
			if err := sigs[0].VerifyValue(k.cert.PublicKey); err != nil {
				t.Fatalf("our verifier: %v", err)
			}
			if !tc.xmlsec {
				return
			}
			needXmlsec(t)
			dir := t.TempDir()
			_, certPath := k.files(t, dir)
			for name, b := range files {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			sigPath := filepath.Join(dir, "signed.xml")
			if err := os.WriteFile(sigPath, out, 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"--verify", "--insecure", "--pubkey-cert-pem", certPath}, tc.idAttrs...)
			cmd := exec.Command("xmlsec1", append(args, "signed.xml")...)
			cmd.Dir = dir
			res, err := cmd.CombinedOutput()
			if err != nil || !strings.HasPrefix(string(res), "OK") {
				t.Fatalf("xmlsec1 rejects our signature: %v\n%s\n%s", err, res, out)
			}
			// Negative control: the same check must fail on tampered content.
			tampered := strings.Replace(string(out), "Pierwszy", "Pierwszx", 1)
			for name, b := range files {
				os.WriteFile(filepath.Join(dir, name), []byte(strings.Replace(string(b), "Pierwszy", "Pierwszx", 1)), 0o600)
			}
			if tampered == string(out) && len(files) == 0 {
				return
			}
			os.WriteFile(sigPath, []byte(tampered), 0o600)
			cmd = exec.Command("xmlsec1", append(args, "signed.xml")...)
			cmd.Dir = dir
			if res, err := cmd.CombinedOutput(); err == nil {
				t.Fatalf("xmlsec1 accepts tampered content:\n%s", res)
			}
		})
	}
}

func envelopedPSS(t *testing.T, k *testKey) ([]byte, map[string][]byte) {
	d := parseSample(t)
	if _, err := SignEnveloped(d, opts(k, true), ""); err != nil {
		t.Fatal(err)
	}
	return mustSerialize(t, d), nil
}

// TestPSSWithOpenSSL checks an RSA-PSS SignatureValue (which xmlsec1 1.2
// cannot) with openssl over the canonical SignedInfo.
func TestPSSWithOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed; skipping")
	}
	k := newTestKey(t, "rsa2048")
	out, _ := envelopedPSS(t, k)
	_, sigs := verifyAll(t, out, VerifyOptions{})
	s := sigs[0]
	if s.SignatureMethod.URI != RSAPSSSHA256 {
		t.Fatalf("method %s", s.SignatureMethod.URI)
	}
	dir := t.TempDir()
	_, certPath := k.files(t, dir)
	si, sv := filepath.Join(dir, "si.xml"), filepath.Join(dir, "sig.bin")
	os.WriteFile(si, s.SignedInfo, 0o600)
	os.WriteFile(sv, s.SignatureValue, 0o600)
	pub := filepath.Join(dir, "pub.pem")
	if res, err := exec.Command("openssl", "x509", "-in", certPath, "-pubkey", "-noout", "-out", pub).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, res)
	}
	verify := func() error {
		return exec.Command("openssl", "dgst", "-sha256", "-verify", pub, "-sigopt", "rsa_padding_mode:pss",
			"-sigopt", "rsa_pss_saltlen:32", "-signature", sv, si).Run()
	}
	if err := verify(); err != nil {
		t.Fatalf("openssl rejects the RSA-PSS signature: %v", err)
	}
	os.WriteFile(si, append(s.SignedInfo, ' '), 0o600)
	if err := verify(); err == nil {
		t.Fatal("openssl accepts the signature over different bytes")
	}
}

// TestCounterSignature nests a signature over another's SignatureValue in
// that signature's Object (the XAdES CounterSignature shape) and checks that
// Verify finds and verifies both.
func TestCounterSignature(t *testing.T) {
	rsaKey, ecKey := newTestKey(t, "rsa2048"), newTestKey(t, "ec256")
	d := parseSample(t)
	o := opts(rsaKey, false)
	o.ID, o.SignatureValueID = "outer", "outer-value"
	outer, err := NewBuilder(o)
	if err != nil {
		t.Fatal(err)
	}
	outer.AddReference(EnvelopedReference("", 0))
	d.Root().AddChild(outer.Element())
	if _, err := outer.Sign(d); err != nil {
		t.Fatal(err)
	}
	inner, err := NewBuilder(opts(ecKey, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inner.AddReference(ReferenceSpec{URI: "#outer-value", Type: "http://uri.etsi.org/01903#CountersignedSignature",
		Transforms: []TransformSpec{{Algorithm: c14n.ExcC14N}}}); err != nil {
		t.Fatal(err)
	}
	outer.AddObject("").AddChild(inner.Element())
	if _, err := inner.Sign(d); err != nil {
		t.Fatal(err)
	}
	_, sigs := verifyAll(t, mustSerialize(t, d), VerifyOptions{})
	if len(sigs) != 2 {
		t.Fatalf("%d signatures, want 2", len(sigs))
	}
	for i, k := range []*testKey{rsaKey, ecKey} {
		if err := sigs[i].Problem(); err != nil {
			t.Errorf("signature %d: %v", i, err)
		}
		if err := sigs[i].VerifyValue(k.cert.PublicKey); err != nil {
			t.Errorf("signature %d: %v", i, err)
		}
	}
	if el := sigs[1].References[0].Content.Element(); el != sigs[0].SignatureValueElement() {
		t.Error("the counter-signature does not cover the outer SignatureValue element")
	}
}
