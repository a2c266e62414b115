package xades_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"esig/internal/testpki"
	xsign "esig/signer/xades"
)

// xadesIDAttr tells xmlsec1 that the Id of xades:SignedProperties is an
// identifier (without a schema it knows only the XMLDSig ones).
var xadesIDAttr = []string{"--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties"}

func needXmlsec(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		t.Skip("xmlsec1 not installed")
	}
}

// TestXmlsecVerifiesOurSignatures is the independent judge: xmlsec1 must
// accept what we sign, in every packaging, with RSA and ECDSA keys, the
// certificate chain checked against the test root. (RSA-PSS is left out:
// xmlsec1 1.2 does not know the sha256-rsa-MGF1 identifier.)
func TestXmlsecVerifiesOurSignatures(t *testing.T) {
	needXmlsec(t)
	p := testpki.New(t)
	rsaLeaf := p.Leaf(t, testpki.LeafOptions{Name: "Jan Kowalski RSA"})
	ecLeaf := p.Leaf(t, testpki.LeafOptions{Name: "Anna Nowak EC", Key: testpki.ECDSAP256})
	cases := []struct {
		name    string
		leaf    *testpki.Cert
		content []byte
		opts    xsign.Options
	}{
		{"enveloped RSA", rsaLeaf, xmlDoc, xsign.Options{Packaging: xsign.Enveloped}},
		{"enveloped ECDSA", ecLeaf, xmlDoc, xsign.Options{Packaging: xsign.Enveloped}},
		{"enveloping XML RSA", rsaLeaf, xmlDoc, xsign.Options{Packaging: xsign.Enveloping}},
		{"enveloping binary ECDSA", ecLeaf, binDoc, xsign.Options{Packaging: xsign.Enveloping}},
		{"detached RSA", rsaLeaf, binDoc, xsign.Options{Packaging: xsign.Detached, Name: "wniosek.bin"}},
		{"detached ECDSA", ecLeaf, xmlDoc, xsign.Options{Packaging: xsign.Detached, Name: "deklaracja.xml"}},
		{"enveloped RSA LTA", rsaLeaf, xmlDoc, xsign.Options{Packaging: xsign.Enveloped, Level: xsign.LevelLTA}},
		{"detached ECDSA LTA", ecLeaf, binDoc, xsign.Options{Packaging: xsign.Detached, Level: xsign.LevelLTA, Name: "wniosek.bin"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := options(p, c.leaf, c.opts)
			sig, err := xsign.Sign(context.Background(), c.content, o)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "sig.xml"), sig, 0o600); err != nil {
				t.Fatal(err)
			}
			if o.Packaging == xsign.Detached {
				if err := os.WriteFile(filepath.Join(dir, o.Name), c.content, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"--verify", "--trusted-pem", p.Root.CertPath, "--untrusted-pem", p.CA.CertPath}, xadesIDAttr...)
			cmd := exec.Command("xmlsec1", append(args, "sig.xml")...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("xmlsec1 --verify: %v\n%s", err, out)
			}
		})
	}
}
