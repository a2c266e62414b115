package cades

import (
	"crypto/x509"
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esig/internal/cms"
	"esig/internal/testpki"
	signer "esig/signer/cades"
	"esig/verifier"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
)

var content = []byte("Wniosek o wydanie zaświadczenia, PUESC, 2026.\n")

// TestVerdicts covers every verdict of the validation engine with a file
// that produces it: each negative check has a signature that fails it.
func TestVerdicts(t *testing.T) {
	e := newEnv(t)
	p := e.pki
	now := time.Now()
	good := p.Leaf(t, testpki.LeafOptions{Name: "Jan Dobry"})

	type tc struct {
		name string
		make func(t *testing.T) ([]byte, verifier.Config, Content)
		ind  report.Indication
		sub  report.SubIndication
	}
	cases := []tc{
		{"good B-B with CRL files", func(t *testing.T) ([]byte, verifier.Config, Content) {
			return e.sign(good, content, signer.Options{}), e.config(), nil
		}, report.TotalPassed, ""},
		{"good B-B online revocation", func(t *testing.T) ([]byte, verifier.Config, Content) {
			cfg := e.config()
			cfg.CRLs, cfg.Fetcher = nil, revocation.NewHTTPFetcher()
			return e.sign(good, content, signer.Options{}), cfg, nil
		}, report.TotalPassed, ""},
		{"good OCSP response file", func(t *testing.T) ([]byte, verifier.Config, Content) {
			cfg := e.config()
			cfg.CRLs = [][]byte{p.CRL(t, p.Root, now)} // the CA's status comes from the root CRL
			cfg.OCSPResponses = [][]byte{p.OCSPResponse(t, good.Cert, now)}
			return e.sign(good, content, signer.Options{}), cfg, nil
		}, report.TotalPassed, ""},
		{"offline without revocation data", func(t *testing.T) ([]byte, verifier.Config, Content) {
			cfg := e.config()
			cfg.CRLs = nil
			return e.sign(good, content, signer.Options{}), cfg, nil
		}, report.Indeterminate, report.TryLater},
		{"stale CRL", func(t *testing.T) ([]byte, verifier.Config, Content) {
			cfg := e.config()
			cfg.CRLs = [][]byte{p.CRL(t, p.Root, now.Add(-48*time.Hour)), p.CRL(t, p.CA, now.Add(-48*time.Hour))}
			return e.sign(good, content, signer.Options{}), cfg, nil
		}, report.Indeterminate, report.TryLater},
		{"untrusted root", func(t *testing.T) ([]byte, verifier.Config, Content) {
			other := testpki.New(t)
			cfg := e.config()
			cfg.Anchors = trust.NewAnchors(other.Root.Cert)
			return e.sign(good, content, signer.Options{}), cfg, nil
		}, report.Indeterminate, report.NoCertificateChainFound},
		{"no trust anchors at all", func(t *testing.T) ([]byte, verifier.Config, Content) {
			cfg := e.config()
			cfg.Anchors = nil
			return e.sign(good, content, signer.Options{}), cfg, nil
		}, report.Indeterminate, report.NoCertificateChainFound},
		{"tampered content", func(t *testing.T) ([]byte, verifier.Config, Content) {
			return flipContentByte(t, e.sign(good, content, signer.Options{})), e.config(), nil
		}, report.TotalFailed, report.HashFailure},
		{"tampered content under an untrusted root", func(t *testing.T) ([]byte, verifier.Config, Content) {
			cfg := e.config()
			cfg.Anchors = nil
			return flipContentByte(t, e.sign(good, content, signer.Options{})), cfg, nil
		}, report.TotalFailed, report.HashFailure},
		{"tampered signature value", func(t *testing.T) ([]byte, verifier.Config, Content) {
			return flipSignatureByte(t, e.sign(good, content, signer.Options{})), e.config(), nil
		}, report.TotalFailed, report.SigCryptoFailure},
		{"signing-certificate-v2 digest of another certificate", func(t *testing.T) ([]byte, verifier.Config, Content) {
			// Same key, two certificates: sign as B, then name A as signer.
			a := p.Leaf(t, testpki.LeafOptions{Name: "Anna A"})
			b := p.Leaf(t, testpki.LeafOptions{Name: "Anna B"})
			sig := e.sign(b, content, signer.Options{})
			return rewrite(t, sig, [][]byte{a.Cert.Raw, p.CA.Cert.Raw}, sidOf(t, a.Cert)), e.config(), nil
		}, report.Indeterminate, report.NoSigningCertificateFound},
		{"signer certificate swapped for one with the same issuer and serial", func(t *testing.T) ([]byte, verifier.Config, Content) {
			fake := p.Leaf(t, testpki.LeafOptions{Name: "Jan Dobry", Serial: good.Cert.SerialNumber, SignerKey: testpki.NewKey(testpki.RSA2048)})
			sig := e.sign(good, content, signer.Options{})
			return rewrite(t, sig, [][]byte{fake.Cert.Raw, p.CA.Cert.Raw}, nil), e.config(), nil
		}, report.Indeterminate, report.NoSigningCertificateFound},
		{"signer certificate absent", func(t *testing.T) ([]byte, verifier.Config, Content) {
			sig := e.sign(good, content, signer.Options{})
			return rewrite(t, sig, [][]byte{p.CA.Cert.Raw}, nil), e.config(), nil
		}, report.Indeterminate, report.NoSigningCertificateFound},
		{"revoked signer, signed after revocation", func(t *testing.T) ([]byte, verifier.Config, Content) {
			r := p.Leaf(t, testpki.LeafOptions{Name: "Rafał Odwołany"})
			p.Revoke(r, now.Add(-time.Hour), 1)
			return e.sign(r, content, signer.Options{}), e.config(), nil
		}, report.TotalFailed, report.Revoked},
		{"revoked signer, claims to have signed before, no proof", func(t *testing.T) ([]byte, verifier.Config, Content) {
			r := p.Leaf(t, testpki.LeafOptions{Name: "Rafał Wcześniejszy", NotBefore: now.Add(-5 * time.Hour)})
			p.Revoke(r, now.Add(-time.Hour), 1)
			return e.sign(r, content, signer.Options{SigningTime: now.Add(-2 * time.Hour)}), e.config(), nil
		}, report.Indeterminate, report.RevokedNoPOE},
		{"revoked signer, time stamp proves the signature came first", func(t *testing.T) ([]byte, verifier.Config, Content) {
			r := p.Leaf(t, testpki.LeafOptions{Name: "Rafał Uprzedzony", NotBefore: now.Add(-5 * time.Hour)})
			p.SetTSAClock(func() time.Time { return now.Add(-2 * time.Hour) })
			defer p.SetTSAClock(time.Now)
			sig := e.sign(r, content, signer.Options{Level: signer.LevelT, SigningTime: now.Add(-2 * time.Hour)})
			p.Revoke(r, now.Add(-time.Hour), 1)
			return sig, e.config(), nil
		}, report.TotalPassed, ""},
		{"expired signer, no proof of existence", func(t *testing.T) ([]byte, verifier.Config, Content) {
			x := p.Leaf(t, testpki.LeafOptions{Name: "Ewa Wygasła", NotBefore: now.Add(-3 * time.Hour), NotAfter: now.Add(-time.Hour)})
			return e.sign(x, content, signer.Options{SigningTime: now.Add(-2 * time.Hour)}), e.config(), nil
		}, report.Indeterminate, report.OutOfBoundsNoPOE},
		{"expired signer, signed after expiry", func(t *testing.T) ([]byte, verifier.Config, Content) {
			x := p.Leaf(t, testpki.LeafOptions{Name: "Ewa Spóźniona", NotBefore: now.Add(-3 * time.Hour), NotAfter: now.Add(-time.Hour)})
			return e.sign(x, content, signer.Options{}), e.config(), nil
		}, report.TotalFailed, report.Expired},
		{"expired signer, time stamp and CRL from before expiry", func(t *testing.T) ([]byte, verifier.Config, Content) {
			x := p.Leaf(t, testpki.LeafOptions{Name: "Ewa Zdążyła", NotBefore: now.Add(-3 * time.Hour), NotAfter: now.Add(-time.Hour)})
			p.SetTSAClock(func() time.Time { return now.Add(-2 * time.Hour) })
			defer p.SetTSAClock(time.Now)
			sig := e.sign(x, content, signer.Options{Level: signer.LevelT, SigningTime: now.Add(-2 * time.Hour)})
			cfg := e.config()
			cfg.CRLs = [][]byte{p.CRL(t, p.Root, now.Add(-90*time.Minute)), p.CRL(t, p.CA, now.Add(-90*time.Minute))}
			return sig, cfg, nil
		}, report.TotalPassed, ""},
		{"certificate signed with SHA-1", func(t *testing.T) ([]byte, verifier.Config, Content) {
			s := p.Leaf(t, testpki.LeafOptions{Name: "Stary SHA-1", SHA1: true})
			return e.sign(s, content, signer.Options{}), e.config(), nil
		}, report.Indeterminate, report.CryptoConstraintsFailure},
		{"SHA-1 signature made by openssl", func(t *testing.T) ([]byte, verifier.Config, Content) {
			return opensslSign(t, good, "-md", "sha1", "-nodetach"), e.config(), nil
		}, report.Indeterminate, report.CryptoConstraintsFailure},
		{"RSA-1024 signer made by openssl", func(t *testing.T) ([]byte, verifier.Config, Content) {
			weak := p.Leaf(t, testpki.LeafOptions{Name: "Słaby Klucz", Key: testpki.RSA1024})
			return opensslSign(t, weak, "-nodetach"), e.config(), nil
		}, report.Indeterminate, report.CryptoConstraintsFailure},
		{"SHA-1 accepted under a policy that allows it", func(t *testing.T) ([]byte, verifier.Config, Content) {
			// Policy dates are what matter: a policy moving the SHA-1 sunset
			// past now accepts the same file.
			cfg := e.config()
			pol, err := policyWith(`{"digests": {"SHA-1": {"until": "2099-12-31"}}}`)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Policy = pol
			return opensslSign(t, good, "-md", "sha1", "-nodetach"), cfg, nil
		}, report.TotalPassed, ""},
		{"detached without its content", func(t *testing.T) ([]byte, verifier.Config, Content) {
			return e.sign(good, content, signer.Options{Detached: true}), e.config(), nil
		}, report.Indeterminate, report.SignedDataNotFound},
		{"detached with other content", func(t *testing.T) ([]byte, verifier.Config, Content) {
			return e.sign(good, content, signer.Options{Detached: true}), e.config(), bytesContent{"other.txt", []byte("something else")}
		}, report.TotalFailed, report.HashFailure},
		{"detached with its content", func(t *testing.T) ([]byte, verifier.Config, Content) {
			return e.sign(good, content, signer.Options{Detached: true}), e.config(), bytesContent{"doc.txt", content}
		}, report.TotalPassed, ""},
		{"key usage without digitalSignature", func(t *testing.T) ([]byte, verifier.Config, Content) {
			k := p.Leaf(t, testpki.LeafOptions{Name: "Tylko Szyfrowanie", KeyUsage: x509.KeyUsageKeyEncipherment})
			return e.sign(k, content, signer.Options{}), e.config(), nil
		}, report.Indeterminate, report.ChainConstraintsFailure},
		{"not yet valid when time-stamped", func(t *testing.T) ([]byte, verifier.Config, Content) {
			n := p.Leaf(t, testpki.LeafOptions{Name: "Nowy", NotBefore: now.Add(-30 * time.Minute)})
			p.SetTSAClock(func() time.Time { return now.Add(-2 * time.Hour) })
			defer p.SetTSAClock(time.Now)
			return e.sign(n, content, signer.Options{Level: signer.LevelT}), e.config(), nil
		}, report.TotalFailed, report.NotYetValid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sig, cfg, det := c.make(t)
			expect(t, e.verify(sig, cfg, det), c.ind, c.sub)
		})
	}
}

func sidOf(t *testing.T, c *x509.Certificate) []byte {
	t.Helper()
	serial, err := asn1.Marshal(c.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	return cms.Sequence(c.RawIssuer, serial)
}

// opensslSign signs content with openssl cms -sign as leaf, with the CA
// certificate included; extra flags choose the variant.
func opensslSign(t *testing.T, leaf *testpki.Cert, extra ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	out := filepath.Join(dir, "out.p7m")
	os.WriteFile(in, content, 0o644)
	args := append([]string{"cms", "-sign", "-binary", "-in", in, "-signer", leaf.CertPath, "-inkey", leaf.KeyPath,
		"-certfile", filepath.Join(filepath.Dir(leaf.CertPath), "chain.pem"), "-outform", "DER", "-out", out}, extra...)
	openssl(t, args...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
