package keys_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// signAndVerify signs two digests with s and verifies each signature with
// pub, an independently obtained public key, in every padding the key type
// allows. A tampered digest must then fail, so the check cannot pass
// vacuously.
func signAndVerify(t *testing.T, s crypto.Signer, pub crypto.PublicKey) {
	t.Helper()
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384} {
		hh := h.New()
		hh.Write([]byte("esig: dokument elektroniczny " + h.String()))
		digest := hh.Sum(nil)
		bad := append([]byte(nil), digest...)
		bad[0] ^= 1

		switch pub := pub.(type) {
		case *ecdsa.PublicKey:
			sig, err := s.Sign(rand.Reader, digest, h)
			if err != nil {
				t.Fatalf("Sign(%v): %v", h, err)
			}
			if !ecdsa.VerifyASN1(pub, digest, sig) {
				t.Fatalf("ECDSA signature with %v does not verify", h)
			}
			if ecdsa.VerifyASN1(pub, bad, sig) {
				t.Fatalf("ECDSA signature verifies over a different digest")
			}
		case *rsa.PublicKey:
			sig, err := s.Sign(rand.Reader, digest, h)
			if err != nil {
				t.Fatalf("Sign(%v, PKCS#1 v1.5): %v", h, err)
			}
			if err := rsa.VerifyPKCS1v15(pub, h, digest, sig); err != nil {
				t.Fatalf("PKCS#1 v1.5 signature with %v: %v", h, err)
			}
			if rsa.VerifyPKCS1v15(pub, h, bad, sig) == nil {
				t.Fatalf("PKCS#1 v1.5 signature verifies over a different digest")
			}
			for _, salt := range []int{rsa.PSSSaltLengthEqualsHash, rsa.PSSSaltLengthAuto} {
				sig, err := s.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: salt, Hash: h})
				if err != nil {
					t.Fatalf("Sign(%v, PSS salt %d): %v", h, salt, err)
				}
				if err := rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}); err != nil {
					t.Fatalf("PSS signature with %v, salt %d: %v", h, salt, err)
				}
			}
		default:
			t.Fatalf("unexpected public key type %T", pub)
		}
	}
}

// certify uses s the way the CA does: a self-signed certificate, a CRL and
// an OCSP response, each checked against the certificate's public key.
func certify(t *testing.T, s crypto.Signer, alg x509.SignatureAlgorithm) {
	t.Helper()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(20261122),
		Subject:               pkix.Name{CommonName: "esig keys test CA", Country: []string{"PL"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		SignatureAlgorithm:    alg,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), s)
	if err != nil {
		t.Fatalf("x509.CreateCertificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Fatalf("self-signed certificate does not verify: %v", err)
	}
	if alg != x509.UnknownSignatureAlgorithm && cert.SignatureAlgorithm != alg {
		t.Fatalf("certificate signed with %v, want %v", cert.SignatureAlgorithm, alg)
	}

	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(1),
		ThisUpdate: now,
		NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{
			{SerialNumber: big.NewInt(7), RevocationTime: now.Add(-time.Minute)},
		},
		SignatureAlgorithm: alg,
	}, cert, s)
	if err != nil {
		t.Fatalf("x509.CreateRevocationList: %v", err)
	}
	crl, err := x509.ParseRevocationList(crlDER)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(cert); err != nil {
		t.Fatalf("CRL does not verify: %v", err)
	}

	respDER, err := ocsp.CreateResponse(cert, cert, ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: big.NewInt(8),
		ThisUpdate:   now,
		NextUpdate:   now.Add(time.Hour),
	}, s)
	if err != nil {
		t.Fatalf("ocsp.CreateResponse: %v", err)
	}
	resp, err := ocsp.ParseResponse(respDER, cert) // checks the signature
	if err != nil {
		t.Fatalf("OCSP response does not verify: %v", err)
	}
	if resp.Status != ocsp.Good {
		t.Fatalf("OCSP status %d", resp.Status)
	}
}
