package cades_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esig/internal/testpki"
)

// BenchmarkDetached1GiB signs and verifies a 1 GiB file detached with the
// esig binary, each as its own process so that its peak RSS can be read
// from rusage, and times openssl cms -sign and -verify on the same inputs
// in the same run. Target: esig under 64 MiB peak RSS.
func BenchmarkDetached1GiB(b *testing.B) {
	if testing.Short() {
		b.Skip("1 GiB benchmark skipped in -short mode")
	}
	p := testpki.New(b)
	leaf := p.Leaf(b, testpki.LeafOptions{Name: "Bench Signer"})
	crls := p.WriteCRLs(b, time.Now())
	bin := testpki.BuildESig(b)
	dir := b.TempDir()
	big := filepath.Join(dir, "big.bin")
	writeBigFile(b, big, 1<<30)
	ours, theirs := filepath.Join(dir, "esig.p7s"), filepath.Join(dir, "openssl.p7s")

	var esSign, esVerify, osSign, osVerify testpki.Run
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		esSign = testpki.Measure(b, bin, "sign", "cades", "--key", leaf.KeyPath, "--cert", leaf.CertPath, "--chain", p.ChainFile(),
			"--detached", big, "-o", ours)
		esVerify = testpki.Measure(b, bin, "verify", "--offline", "--trust", p.TrustFile(), "--crl", crls[0], "--crl", crls[1],
			"--detached-content", big, "--format", "json", ours)
		osSign = testpki.Measure(b, "openssl", "cms", "-sign", "-binary", "-in", big, "-signer", leaf.CertPath, "-inkey", leaf.KeyPath,
			"-certfile", p.ChainFile(), "-outform", "DER", "-out", theirs)
		osVerify = testpki.Measure(b, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", theirs, "-content", big,
			"-CAfile", p.TrustFile(), "-purpose", "any", "-out", os.DevNull)
	}
	b.StopTimer()
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	b.ReportMetric(esSign.Wall.Seconds(), "esig-sign-s")
	b.ReportMetric(mib(esSign.PeakRSS), "esig-sign-MiB")
	b.ReportMetric(esVerify.Wall.Seconds(), "esig-verify-s")
	b.ReportMetric(mib(esVerify.PeakRSS), "esig-verify-MiB")
	b.ReportMetric(osSign.Wall.Seconds(), "openssl-sign-s")
	b.ReportMetric(mib(osSign.PeakRSS), "openssl-sign-MiB")
	b.ReportMetric(osVerify.Wall.Seconds(), "openssl-verify-s")
	b.ReportMetric(mib(osVerify.PeakRSS), "openssl-verify-MiB")
	b.ReportMetric(esSign.Wall.Seconds()/osSign.Wall.Seconds(), "sign-time-esig/openssl")
	b.ReportMetric(esVerify.Wall.Seconds()/osVerify.Wall.Seconds(), "verify-time-esig/openssl")
	for name, r := range map[string]testpki.Run{"sign": esSign, "verify": esVerify} {
		if r.PeakRSS > 64<<20 {
			b.Errorf("esig %s peaked at %.1f MiB, target under 64 MiB", name, mib(r.PeakRSS))
		}
	}
}

// writeBigFile writes n bytes of incompressible data: a random MiB repeated.
func writeBigFile(tb testing.TB, path string, n int64) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 1<<20)
	rand.Read(block)
	for written := int64(0); written < n; written += int64(len(block)) {
		block[0]++ // no two MiB alike
		if _, err := f.Write(block); err != nil {
			tb.Fatal(err)
		}
	}
}
