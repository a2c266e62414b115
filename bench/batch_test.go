package bench

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"esig/internal/testpki"
	cadessign "esig/signer/cades"
	xadessign "esig/signer/xades"
)

// batchFiles is the size of the auditor's batch of issue #8.
const batchFiles = 1000

// writeBatch signs batchFiles documents into dir: half CAdES (attached,
// RSA-2048), half XAdES (enveloped, ECDSA P-256), all B-B under the test
// PKI's issuing CA.
func writeBatch(b *testing.B, p *testpki.PKI, dir string) {
	b.Helper()
	rsa := p.Leaf(b, testpki.LeafOptions{Name: "Jan Kowalski"})
	ec := p.Leaf(b, testpki.LeafOptions{Name: "Anna Nowak", Key: testpki.ECDSAP256})
	chain := []*x509.Certificate{p.CA.Cert, p.Root.Cert}
	ctx := context.Background()
	for i := range batchFiles {
		var out []byte
		name := fmt.Sprintf("wniosek-%04d.p7m", i)
		if i%2 == 1 {
			name = fmt.Sprintf("deklaracja-%04d.xml", i)
			doc := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Deklaracja xmlns="urn:esig:bench"><Numer>%d</Numer></Deklaracja>`, i)
			var err error
			if out, err = xadessign.Sign(ctx, []byte(doc), xadessign.Options{Signer: ec.Key, Certificate: ec.Cert, Chain: chain}); err != nil {
				b.Fatal(err)
			}
		} else {
			var buf bytes.Buffer
			err := cadessign.Sign(ctx, strings.NewReader("Wniosek nr "+strconv.Itoa(i)), &buf, cadessign.Options{Signer: rsa.Key, Certificate: rsa.Cert, Chain: chain})
			if err != nil {
				b.Fatal(err)
			}
			out = buf.Bytes()
		}
		if err := os.WriteFile(filepath.Join(dir, name), out, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBatchVerify runs esig verify, as a separate process, over a
// directory of 1,000 signatures (CAdES and XAdES) with --jobs 1 and 2 and
// reports files per second, process start and output included; revocation
// comes from CRL files (--offline), so the figure is the verifier's own.
// Every verdict must be TOTAL-PASSED (exit status 0), or the run fails.
func BenchmarkBatchVerify(b *testing.B) {
	esig := testpki.BuildESig(b)
	p := testpki.New(b)
	dir := b.TempDir()
	writeBatch(b, p, dir)
	args := []string{"verify", "--trust", p.TrustFile(), "--offline", "--format", "json"}
	for _, c := range p.WriteCRLs(b, time.Now()) {
		args = append(args, "--crl", c)
	}
	for _, jobs := range []int{1, 2} {
		b.Run("jobs="+strconv.Itoa(jobs), func(b *testing.B) {
			var wall time.Duration
			for b.Loop() {
				wall += testpki.Measure(b, esig, append(args, "--jobs", strconv.Itoa(jobs), dir)...).Wall
			}
			b.ReportMetric(float64(batchFiles*b.N)/wall.Seconds(), "files/s")
		})
	}
}
