package cades

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esig/internal/testpki"
	signer "esig/signer/cades"
	"esig/verifier"
)

// BenchmarkVerifySmall measures CAdES B-B verification of a small document
// three ways on the same file in the same run: in process (a fresh engine
// per document, as a portal backend would), as an esig verify process per
// document, and as an openssl cms -verify process per document. It reports
// documents per second and the ratios; the target is esig faster than
// openssl per document.
func BenchmarkVerifySmall(b *testing.B) {
	e := newEnv(b)
	leaf := e.pki.Leaf(b, testpki.LeafOptions{})
	sig := e.sign(leaf, content, signer.Options{})
	var cfg verifier.Config
	crls := e.pki.WriteCRLs(b, time.Now())
	dir := b.TempDir()
	path := filepath.Join(dir, "sig.p7m")
	os.WriteFile(path, sig, 0o644)
	bin := testpki.BuildESig(b)

	anchors, _ := loadAnchors(e.pki.TrustFile())
	var crlData [][]byte
	for _, c := range crls {
		d, _ := os.ReadFile(c)
		crlData = append(crlData, d)
	}
	cfg.Anchors, cfg.CRLs = anchors, crlData
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		eng, err := verifier.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if rep := Verify(context.Background(), eng, sig, nil); rep.Indication != "TOTAL-PASSED" {
			b.Fatalf("verdict %s", rep.Indication)
		}
	}
	inproc := float64(b.N) / time.Since(start).Seconds()
	b.StopTimer()

	const runs = 20
	var esig, ossl time.Duration
	for i := 0; i < runs; i++ {
		esig += testpki.Measure(b, bin, "verify", "--offline", "--trust", e.pki.TrustFile(), "--crl", crls[0], "--crl", crls[1], "--format", "json", path).Wall
		ossl += testpki.Measure(b, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", path, "-CAfile", e.pki.TrustFile(),
			"-purpose", "any", "-out", os.DevNull).Wall
	}
	esigRate := runs / esig.Seconds()
	osslRate := runs / ossl.Seconds()
	b.ReportMetric(inproc, "esig-inprocess-docs/s")
	b.ReportMetric(esigRate, "esig-process-docs/s")
	b.ReportMetric(osslRate, "openssl-process-docs/s")
	b.ReportMetric(inproc/osslRate, "inprocess/openssl")
	b.ReportMetric(esigRate/osslRate, "process/openssl")
}
