package signer

import (
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"

	"esig/internal/testpki"
)

// fakeSource answers every question with one CRL shared by all and one
// OCSP response per certificate, and records who asked about whom.
type fakeSource struct {
	asked []string // "subject CN <- issuer CN"
	fail  string   // the subject CN to fail on
}

func (f *fakeSource) Revocation(_ context.Context, cert, issuer *x509.Certificate) ([][]byte, [][]byte, error) {
	f.asked = append(f.asked, cert.Subject.CommonName+" <- "+issuer.Subject.CommonName)
	if cert.Subject.CommonName == f.fail {
		return nil, nil, errors.New("responder down")
	}
	return [][]byte{[]byte("crl")}, [][]byte{[]byte("ocsp " + cert.Subject.CommonName)}, nil
}

func TestCollectValidation(t *testing.T) {
	p := testpki.New(t)
	leaf := p.Leaf(t, testpki.LeafOptions{})
	certs := []*x509.Certificate{leaf.Cert, p.CA.Cert, p.Root.Cert, p.CA.Cert, p.TSA.Cert, p.OCSP.Cert}
	src := &fakeSource{}
	v, err := CollectValidation(context.Background(), certs, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Certificates) != 5 || !v.Certificates[0].Equal(leaf.Cert) {
		t.Errorf("%d certificates, the first %q; want 5, the signer's first", len(v.Certificates), v.Certificates[0].Subject.CommonName)
	}
	want := []string{
		leaf.Cert.Subject.CommonName + " <- " + p.CA.Cert.Subject.CommonName,
		p.CA.Cert.Subject.CommonName + " <- " + p.Root.Cert.Subject.CommonName,
		p.TSA.Cert.Subject.CommonName + " <- " + p.CA.Cert.Subject.CommonName,
	}
	if !slices.Equal(src.asked, want) {
		t.Errorf("asked %q, want %q (no question about the root or the no-check responder)", src.asked, want)
	}
	if len(v.CRLs) != 1 || len(v.OCSPs) != 3 {
		t.Errorf("%d CRLs and %d OCSP responses, want 1 (shared) and 3", len(v.CRLs), len(v.OCSPs))
	}

	for name, tt := range map[string]struct {
		certs []*x509.Certificate
		fail  string
		want  string
	}{
		"issuer missing": {[]*x509.Certificate{leaf.Cert}, "", "is not among the certificates given"},
		"source fails":   {certs, p.CA.Cert.Subject.CommonName, "revocation data for"},
	} {
		if _, err := CollectValidation(context.Background(), tt.certs, &fakeSource{fail: tt.fail}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tt.want)
		}
	}
}
