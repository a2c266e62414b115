package pades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"strings"
	"testing"

	"esig/internal/testpki"
	"esig/signer/cades"
	signer "esig/signer/pades"
	"esig/signer/tsp"
	"esig/verifier"
	"esig/verifier/pades/padestest"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
)

// env is a throwaway PKI with a signer and a time-stamp authority.
type env struct {
	pki  *testpki.PKI
	leaf *testpki.Cert
}

func newEnv(t *testing.T) *env {
	t.Helper()
	p := testpki.New(t)
	return &env{pki: p, leaf: p.Leaf(t, testpki.LeafOptions{Name: "Jan Kowalski"})}
}

func (e *env) chain() []*x509.Certificate { return []*x509.Certificate{e.pki.CA.Cert, e.pki.Root.Cert} }

func (e *env) timestamper() signer.Timestamper {
	client := &tsp.Client{URL: e.pki.TSAURL()}
	return cades.TimestamperFunc(func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
		r, err := client.Timestamp(ctx, d, h)
		if err != nil {
			return nil, err
		}
		return r.Token, nil
	})
}

// sign signs doc with esig's signer as the leaf, filling in what the
// options leave out.
func (e *env) sign(t *testing.T, doc []byte, o signer.Options) []byte {
	t.Helper()
	if o.Signer == nil {
		o.Signer, o.Certificate = e.leaf.Key, e.leaf.Cert
	}
	if o.Chain == nil {
		o.Chain = e.chain()
	}
	if o.Level >= signer.LevelT {
		o.Timestamper = e.timestamper()
	}
	if o.Level >= signer.LevelLT {
		o.Validation = cades.OnlineValidation{Fetcher: revocation.NewHTTPFetcher()}
	}
	out, err := signer.Sign(context.Background(), doc, o)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// handSign signs doc by hand as the leaf (see padestest.HandSign).
func (e *env) handSign(t *testing.T, doc []byte, s padestest.Sig) []byte {
	t.Helper()
	if s.Signer == nil {
		s.Signer, s.Certificate, s.Chain = e.leaf.Key, e.leaf.Cert, e.chain()
	}
	return padestest.HandSign(t, doc, s)
}

// verify verifies data with the PKI's root as the only anchor, fetching
// revocation data from the PKI's server when online.
func (e *env) verify(t *testing.T, data []byte, online bool) *Result {
	t.Helper()
	anchors := trust.NewAnchors()
	anchors.Add(e.pki.Root.Cert)
	cfg := verifier.Config{Anchors: anchors}
	if online {
		cfg.Fetcher = revocation.NewHTTPFetcher()
	}
	eng, err := verifier.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Verify(context.Background(), eng, data)
}

// only returns the one signature of a report.
func only(t *testing.T, r *Result) *report.Signature {
	t.Helper()
	if len(r.Report.Signatures) != 1 {
		t.Fatalf("%d signatures, want 1", len(r.Report.Signatures))
	}
	return r.Report.Signatures[0]
}

func has(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// flip changes one byte of data at the first occurrence of probe.
func flip(t *testing.T, data []byte, probe string) []byte {
	t.Helper()
	i := bytes.Index(data, []byte(probe))
	if i < 0 {
		t.Fatalf("%q not in the document", probe)
	}
	out := append([]byte(nil), data...)
	out[i] ^= 0x01
	return out
}
