package xades_test

import (
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esig/internal/testpki"
	xsign "esig/signer/xades"
	"esig/verifier"
	"esig/verifier/trust"
	"esig/verifier/xades"
)

// BenchmarkVerify measures XAdES verification per document, by esig (a
// fresh engine per document, offline, as esig verify runs) and, in the same
// run and on the same file, by `xmlsec1 --verify` (a process per document,
// how xmlsec1 is used). Each reports docs/s; the ratio is esig's docs/s over
// xmlsec1's. xmlsec1 only checks References and the signature value;
// esig also does the XAdES and EN 319 102-1 work (properties, time stamps
// and their imprints, chains).
//
//	go test ./verifier/xades -run '^$' -bench Verify -benchtime 5s
func BenchmarkVerify(b *testing.B) {
	p := testpki.New(b)
	leaf := p.Leaf(b, testpki.LeafOptions{Name: "Jan Kowalski"})
	small, err := xsign.Sign(context.Background(), xmlDoc, xsign.Options{Signer: leaf.Key, Certificate: leaf.Cert,
		Chain: []*x509.Certificate{p.CA.Cert}, Packaging: xsign.Enveloped})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	smallPath := filepath.Join(dir, "small-xades-b.xml")
	if err := os.WriteFile(smallPath, small, 0o600); err != nil {
		b.Fatal(err)
	}
	type benchCase struct {
		name       string
		data       []byte
		anchors    *trust.Anchors
		xmlsecArgs []string
	}
	cases := []benchCase{{"small-XAdES-B", small, trust.NewAnchors(p.Root.Cert),
		[]string{"--verify", "--trusted-pem", p.Root.CertPath, "--untrusted-pem", p.CA.CertPath,
			"--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties", smallPath}}}
	ojPath := filepath.Join("..", "..", "..", "shared", "corpus", "xades", "OJ_C_2017_173_FULL.xml")
	if oj, err := os.ReadFile(ojPath); err == nil {
		cases = append(cases, benchCase{"OJ-1.9MB-XAdES-LTA", oj, nil,
			[]string{"--verify", "--insecure", "--ignore-manifests", "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties", ojPath}})
	} else {
		b.Logf("corpus file %s absent; benchmarking the small document only", ojPath)
	}
	_, xmlsecErr := exec.LookPath("xmlsec1")
	for _, c := range cases {
		b.Run(c.name+"/esig", func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				eng, err := verifier.New(verifier.Config{Anchors: c.anchors})
				if err != nil {
					b.Fatal(err)
				}
				res := xades.Verify(context.Background(), eng, c.data, xades.Options{})
				if len(res.Signatures) != 1 || res.Signatures[0].SigningCertificate == nil {
					b.Fatalf("signature not verified: %q", res.Report.Signatures[0].Errors)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
		b.Run(c.name+"/xmlsec1", func(b *testing.B) {
			if xmlsecErr != nil {
				b.Skip("xmlsec1 not installed")
			}
			b.SetBytes(int64(len(c.data)))
			for i := 0; i < b.N; i++ {
				if out, err := exec.Command("xmlsec1", c.xmlsecArgs...).CombinedOutput(); err != nil {
					b.Fatalf("xmlsec1: %v\n%s", err, out)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// BenchmarkNestingBomb times the refusal of a 7 MB document of 1 Mi nested
// elements: the parser stops at MaxDepth, after a few hundred elements,
// whatever the size.
func BenchmarkNestingBomb(b *testing.B) {
	bomb := []byte(strings.Repeat("<a>", 1<<20) + strings.Repeat("</a>", 1<<20))
	eng, err := verifier.New(verifier.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		res := xades.Verify(context.Background(), eng, bomb, xades.Options{})
		if len(res.Signatures) != 1 || res.Signatures[0].Report.SubIndication != "FORMAT_FAILURE" {
			b.Fatal("the bomb was not refused")
		}
	}
}
