package cades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"esig/internal/testpki"
	signer "esig/signer/cades"
	"esig/signer/tsp"
	"esig/verifier"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
)

// env is one throwaway PKI with helpers to sign and verify against it.
type env struct {
	t   testing.TB
	pki *testpki.PKI
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return &env{t: t, pki: testpki.New(t)}
}

// timestamper asks the test PKI's real TSA over HTTP.
func (e *env) timestamper() signer.Timestamper {
	c := &tsp.Client{URL: e.pki.TSAURL()}
	return signer.TimestamperFunc(func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
		r, err := c.Timestamp(ctx, d, h)
		if err != nil {
			return nil, err
		}
		return r.Token, nil
	})
}

// sign makes a signature with the Go signer.
func (e *env) sign(leaf *testpki.Cert, content []byte, o signer.Options) []byte {
	e.t.Helper()
	o.Signer, o.Certificate = leaf.Key, leaf.Cert
	if o.Chain == nil {
		o.Chain = []*x509.Certificate{e.pki.CA.Cert, e.pki.Root.Cert}
	}
	if o.Level >= signer.LevelT && o.Timestamper == nil {
		o.Timestamper = e.timestamper()
	}
	if o.Level >= signer.LevelLT && o.Validation == nil {
		o.Validation = signer.OnlineValidation{Fetcher: revocation.NewHTTPFetcher()}
	}
	var out bytes.Buffer
	if err := signer.Sign(context.Background(), bytes.NewReader(content), &out, o); err != nil {
		e.t.Fatalf("signing: %v", err)
	}
	return out.Bytes()
}

// config is a verifier configuration trusting the test root, with the
// CRLs current now, offline.
func (e *env) config() verifier.Config {
	var crls [][]byte
	for _, c := range []*testpki.Cert{e.pki.Root, e.pki.CA} {
		crls = append(crls, e.pki.CRL(e.t, c, time.Now()))
	}
	return verifier.Config{Anchors: trust.NewAnchors(e.pki.Root.Cert), CRLs: crls}
}

func (e *env) verify(data []byte, cfg verifier.Config, detached Content) *report.Report {
	e.t.Helper()
	eng, err := verifier.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return Verify(context.Background(), eng, data, detached)
}

// expect checks the verdict of the only (or first) signature.
func expect(t *testing.T, rep *report.Report, ind report.Indication, sub report.SubIndication) {
	t.Helper()
	if len(rep.Signatures) == 0 {
		t.Fatalf("no signatures in report; want %s/%s", ind, sub)
	}
	s := rep.Signatures[0]
	if s.Indication != ind || s.SubIndication != sub {
		t.Fatalf("got %s/%s, want %s/%s\nerrors: %q\nwarnings: %q", s.Indication, s.SubIndication, ind, sub, s.Errors, s.Warnings)
	}
}

// bytesContent is detached content held in memory.
type bytesContent struct {
	name string
	b    []byte
}

func (c bytesContent) Name() string { return c.name }
func (c bytesContent) Open() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(c.b)), nil
}

// openssl runs openssl, failing the test with its output on error.
func openssl(t *testing.T, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
	return out
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func signerOptions() signer.Options { return signer.Options{} }
