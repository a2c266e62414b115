package xmldsig

import (
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkVerify times a full verification per document (parse, all
// references, SignatureValue) by this package and, in the same run, by
// `xmlsec1 --verify` on the same file (a process per document, which is how
// xmlsec1 is used from the command line; the xmlsec1-startup case shows how
// much of that is process start).
//
//	go test ./internal/xmldsig -run '^$' -bench Verify -benchtime 50x
func BenchmarkVerify(b *testing.B) {
	k := newTestKey(b, "rsa2048")
	d := parseSample(b)
	if _, err := SignEnveloped(d, SignOptions{Signer: k.signer, Certificates: []*x509.Certificate{k.cert}}, ""); err != nil {
		b.Fatal(err)
	}
	small, err := Serialize(d)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	_, certPath := k.files(b, dir)
	smallPath := filepath.Join(dir, "small.xml")
	if err := os.WriteFile(smallPath, small, 0o600); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name, path string
		data       []byte
		xmlsecArgs []string
	}{
		{"small-enveloped", smallPath, small, []string{"--verify", "--insecure", "--pubkey-cert-pem", certPath, smallPath}},
	}
	ojPath := filepath.Join(corpusDir, "xades", "OJ_C_2017_173_FULL.xml")
	if oj, err := os.ReadFile(ojPath); err == nil {
		cases = append(cases, struct {
			name, path string
			data       []byte
			xmlsecArgs []string
		}{"OJ-1.9MB", ojPath, oj, []string{"--verify", "--insecure", "--ignore-manifests", "--id-attr:Id", "SignedProperties", ojPath}})
	} else {
		b.Logf("corpus file %s absent; benchmarking the small document only", ojPath)
	}
	tslPath := filepath.Join(corpusDir, "tsl", "PL-TSL-seq110.xml")
	if tsl, err := os.ReadFile(tslPath); err == nil {
		cases = append(cases, struct {
			name, path string
			data       []byte
			xmlsecArgs []string
		}{"PL-TSL-0.7MB", tslPath, tsl, []string{"--verify", "--insecure", "--id-attr:Id", "SignedProperties", tslPath}})
	}
	for _, c := range cases {
		// The signer's certificate is not always first in KeyInfo; find it
		// once, as a caller binding it to SigningCertificate would.
		_, sigs := verifyAll(b, c.data, VerifyOptions{})
		signer := -1
		for i, cert := range sigs[0].Certificates {
			if sigs[0].VerifyValue(cert.PublicKey) == nil {
				signer = i
			}
		}
		if signer < 0 {
			b.Fatalf("%s: no KeyInfo certificate verifies", c.name)
		}
		b.Run(c.name+"/esig", func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				doc, err := Parse(c.data, Limits{})
				if err != nil {
					b.Fatal(err)
				}
				sigs, err := doc.Verify(VerifyOptions{})
				if err != nil {
					b.Fatal(err)
				}
				s := sigs[0]
				for _, r := range s.References {
					if r.Status() != Valid {
						b.Fatalf("reference %q: %v", r.URI, r.Err)
					}
				}
				if err := s.VerifyValue(s.Certificates[signer].PublicKey); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/xmlsec1", func(b *testing.B) {
			if _, err := exec.LookPath("xmlsec1"); err != nil {
				b.Skip("xmlsec1 not installed")
			}
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if out, err := exec.Command("xmlsec1", c.xmlsecArgs...).CombinedOutput(); err != nil {
					b.Fatalf("xmlsec1: %v\n%s", err, out)
				}
			}
		})
	}
	b.Run("xmlsec1-startup", func(b *testing.B) {
		if _, err := exec.LookPath("xmlsec1"); err != nil {
			b.Skip("xmlsec1 not installed")
		}
		for b.Loop() {
			if err := exec.Command("xmlsec1", "--version").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
