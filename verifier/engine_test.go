package verifier

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
	"time"

	"esig/internal/cms"
	"esig/internal/testpki"
	"esig/signer/tsp"
	"esig/verifier/report"
	"esig/verifier/trust"
)

// rawInput is a signature format that is not CMS at all: an ECDSA
// signature over the SHA-256 of some bytes, as a future format layer
// (XAdES, PAdES) would hand over. The engine must judge it the same way.
func rawInput(leaf *testpki.Cert, data []byte, sig []byte) *Input {
	sum := sha256.Sum256(data)
	return &Input{
		ID: "R1", Format: "RAW-ECDSA",
		SignerID:     func(c *x509.Certificate) bool { return c.Equal(leaf.Cert) },
		SignerIDText: "the test leaf",
		VerifySignature: func(pub crypto.PublicKey) (cms.SignatureAlgorithm, error) {
			k, ok := pub.(*ecdsa.PublicKey)
			if !ok || !ecdsa.VerifyASN1(k, sum[:], sig) {
				return cms.SignatureAlgorithm{}, errors.New("bad signature")
			}
			return cms.SignatureAlgorithm{Key: cms.KeyECDSA, Hash: crypto.SHA256}, nil
		},
		DigestAlgorithm: crypto.SHA256,
		Certificates:    []*x509.Certificate{leaf.Cert},
	}
}

func TestEngineIsFormatIndependent(t *testing.T) {
	p := testpki.New(t)
	leaf := p.Leaf(t, testpki.LeafOptions{Key: testpki.ECDSAP256})
	data := []byte("payload")
	sum := sha256.Sum256(data)
	sig, err := leaf.Key.Sign(nil, sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cfg := Config{Anchors: trust.NewAnchors(p.Root.Cert), Intermediates: []*x509.Certificate{p.CA.Cert},
		CRLs: [][]byte{p.CRL(t, p.Root, now), p.CRL(t, p.CA, now)}}
	ts, err := (&tsp.Client{URL: p.TSAURL()}).Timestamp(context.Background(), sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	tsToken := ts.Token
	cases := []struct {
		name string
		in   func() *Input
		ind  report.Indication
		sub  report.SubIndication
	}{
		{"good", func() *Input { return rawInput(leaf, data, sig) }, report.TotalPassed, ""},
		{"other data", func() *Input { return rawInput(leaf, []byte("other"), sig) }, report.TotalFailed, report.SigCryptoFailure},
		{"format error", func() *Input { in := rawInput(leaf, data, sig); in.FormatError = errors.New("broken"); return in }, report.TotalFailed, report.FormatFailure},
		{"hash error", func() *Input { in := rawInput(leaf, data, sig); in.HashError = errors.New("digest"); return in }, report.TotalFailed, report.HashFailure},
		{"missing data", func() *Input { in := rawInput(leaf, data, sig); in.MissingData = []string{"doc.xml"}; return in }, report.Indeterminate, report.SignedDataNotFound},
		{"missing data, signature value forged", func() *Input {
			in := rawInput(leaf, []byte("other"), sig)
			in.MissingData = []string{"doc.xml"}
			return in
		}, report.TotalFailed, report.SigCryptoFailure},
		{"missing data and a digest mismatch", func() *Input {
			in := rawInput(leaf, data, sig)
			in.MissingData, in.HashError = []string{"doc.xml"}, errors.New("digest of other.xml")
			return in
		}, report.TotalFailed, report.HashFailure},
		{"bound by the format layer", func() *Input {
			in := rawInput(leaf, data, sig)
			in.BindSigningCertificate = func(c *x509.Certificate) error { return nil }
			return in
		}, report.TotalPassed, ""},
		{"refused by the format layer", func() *Input {
			in := rawInput(leaf, data, sig)
			in.BindSigningCertificate = func(c *x509.Certificate) error { return errors.New("issuer/serial differ") }
			return in
		}, report.Indeterminate, report.NoSigningCertificateFound},
		{"time-stamped data not available", func() *Input {
			in := rawInput(leaf, data, sig)
			in.Timestamps = []TimestampInput{{Type: report.ArchiveTimestamp, Token: tsToken,
				Imprint: func(crypto.Hash) ([]byte, error) { return nil, fmt.Errorf("%w: doc.xml", ErrDataNotAvailable) }}}
			return in
		}, report.TotalPassed, ""},
		{"no signer identifier", func() *Input { in := rawInput(leaf, data, sig); in.SignerID = nil; return in }, report.Indeterminate, report.NoSigningCertificateFound},
		{"reference to another certificate", func() *Input {
			in := rawInput(leaf, data, sig)
			d := sha256.Sum256(p.CA.Cert.Raw)
			in.SigningCertRefs = []cms.CertRef{{Hash: crypto.SHA256, Digest: d[:]}}
			return in
		}, report.Indeterminate, report.NoSigningCertificateFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eng, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			in := c.in()
			r, signer := eng.ValidateSigner(context.Background(), in)
			if r.Indication != c.ind || r.SubIndication != c.sub {
				t.Fatalf("got %s/%s %q, want %s/%s", r.Indication, r.SubIndication, r.Errors, c.ind, c.sub)
			}
			identified := r.Indication == report.TotalPassed || r.SubIndication == report.SignedDataNotFound
			if identified != (signer != nil && signer.Equal(leaf.Cert)) {
				t.Errorf("ValidateSigner returned a signer: %v, for %s/%s", signer != nil, r.Indication, r.SubIndication)
			}
			for _, ts := range r.Timestamps {
				if ts.SubIndication != report.SignedDataNotFound {
					t.Errorf("time stamp %s/%s, want SIGNED_DATA_NOT_FOUND", ts.Indication, ts.SubIndication)
				}
			}
		})
	}
}

// TestCRLAfterExpiryProvesNothing: a CRL issued after a certificate
// expired need not list it any more, so it cannot show the certificate
// unrevoked (RFC 5280, 3.3): the verdict stays INDETERMINATE.
func TestCRLAfterExpiryProvesNothing(t *testing.T) {
	p := testpki.New(t)
	now := time.Now()
	leaf := p.Leaf(t, testpki.LeafOptions{Key: testpki.ECDSAP256, NotBefore: now.Add(-3 * time.Hour), NotAfter: now.Add(-time.Hour)})
	data := []byte("payload")
	sum := sha256.Sum256(data)
	sig, _ := leaf.Key.Sign(nil, sum[:], crypto.SHA256)
	in := rawInput(leaf, data, sig)
	// A time stamp from while the certificate was valid gives the POE.
	p.SetTSAClock(func() time.Time { return now.Add(-2 * time.Hour) })
	sigSum := sha256.Sum256(sig)
	ts, err := (&tsp.Client{URL: p.TSAURL()}).Timestamp(context.Background(), sigSum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	in.Timestamps = []TimestampInput{{Type: report.SignatureTimestamp, Token: ts.Token, Imprint: func(h crypto.Hash) ([]byte, error) {
		d := h.New()
		d.Write(sig)
		return d.Sum(nil), nil
	}}}
	for _, c := range []struct {
		name    string
		crlTime time.Time
		ind     report.Indication
	}{
		{"CRL from the validity period", now.Add(-90 * time.Minute), report.TotalPassed},
		{"CRL from after expiry", now, report.Indeterminate},
	} {
		t.Run(c.name, func(t *testing.T) {
			eng, _ := New(Config{Anchors: trust.NewAnchors(p.Root.Cert), Intermediates: []*x509.Certificate{p.CA.Cert},
				CRLs: [][]byte{p.CRL(t, p.Root, c.crlTime), p.CRL(t, p.CA, c.crlTime)}})
			if r := eng.Validate(context.Background(), in); r.Indication != c.ind {
				t.Fatalf("got %s/%s %q, want %s", r.Indication, r.SubIndication, r.Errors, c.ind)
			}
		})
	}
}
