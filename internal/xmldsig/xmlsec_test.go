package xmldsig

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// xmlsecTemplates are the templates under testdata/xmlsec that xmlsec1
// signs; the file name starts with the key kind. idAttrs are the --id-attr
// options xmlsec1 needs for identifiers outside ds:Signature; files are
// detached content placed next to the template.
var xmlsecTemplates = []struct {
	file    string
	idAttrs []string
	files   map[string][]byte
}{
	{file: "rsa-enveloped-exc.xml"},
	{file: "ec256-enveloped-xpointer-comments.xml"},
	{file: "rsa-enveloping-object.xml"},
	{file: "ec384-exc-prefixlist.xml", idAttrs: []string{"--id-attr:Id", "urn:esig:test:default:Dane"}},
	{file: "rsa-xpath.xml"},
	{file: "ec256-xpath2-filters.xml"},
	{file: "rsa-base64-object.xml"},
	{file: "ec256-detached-sibling-and-file.xml", idAttrs: []string{"--id-attr:ID", "urn:esig:test:paczka:Dokument"},
		files: map[string][]byte{"zalacznik.bin": []byte("załącznik\x00\xff binarny")}},
}

// TestXmlsecSignsWeVerify has xmlsec1 sign every template and checks that
// this package finds every reference valid and the SignatureValue verifying
// under the certificate xmlsec1 put in KeyInfo.
func TestXmlsecSignsWeVerify(t *testing.T) {
	needXmlsec(t)
	for _, tc := range xmlsecTemplates {
		t.Run(tc.file, func(t *testing.T) {
			kind := strings.SplitN(tc.file, "-", 2)[0]
			if kind == "rsa" {
				kind = "rsa2048"
			}
			k := newTestKey(t, kind)
			dir := t.TempDir()
			keyPath, certPath := k.files(t, dir)
			tmpl, err := os.ReadFile(filepath.Join("testdata", "xmlsec", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "tmpl.xml"), tmpl, 0o600); err != nil {
				t.Fatal(err)
			}
			for name, b := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"--sign", "--privkey-pem", keyPath + "," + certPath, "--output", "signed.xml"}, tc.idAttrs...)
			cmd := exec.Command("xmlsec1", append(args, "tmpl.xml")...)
			cmd.Dir = dir
			if res, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("xmlsec1 --sign: %v\n%s", err, res)
			}
			signed, err := os.ReadFile(filepath.Join(dir, "signed.xml"))
			if err != nil {
				t.Fatal(err)
			}
			_, sigs := verifyAll(t, signed, VerifyOptions{Detached: DetachedContent(tc.files)})
			if len(sigs) != 1 {
				t.Fatalf("%d signatures", len(sigs))
			}
			s := sigs[0]
			for _, r := range s.References {
				if r.Status() != Valid {
					t.Errorf("reference %d %q: %s: %v", r.Index, r.URI, r.Status(), r.Err)
					if r.Content != nil {
						t.Logf("our digested bytes:\n%s", r.Content.Octets)
					}
				}
			}
			if len(s.Certificates) == 0 || !bytes.Equal(s.Certificates[0].Raw, k.cert.Raw) {
				t.Errorf("KeyInfo certificate not found")
			}
			if err := s.VerifyValue(k.cert.PublicKey); err != nil {
				t.Errorf("SignatureValue: %v", err)
			}
			if t.Failed() {
				store := exec.Command("xmlsec1", append([]string{"--verify", "--insecure", "--store-references", "--pubkey-cert-pem", certPath}, append(tc.idAttrs, "signed.xml")...)...)
				store.Dir = dir
				res, _ := store.CombinedOutput()
				t.Logf("xmlsec1 --store-references:\n%s", res)
			}
		})
	}
}
