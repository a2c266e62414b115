package cades

import (
	"os"
	"path/filepath"
	"testing"

	"esig/internal/cms"
	"esig/internal/testpki"
	"esig/verifier/report"
)

// TestOpenSSLSignaturesPass checks that what openssl cms -sign produces,
// in each of its forms, passes our verifier.
func TestOpenSSLSignaturesPass(t *testing.T) {
	e := newEnv(t)
	rsaLeaf := e.pki.Leaf(t, testpki.LeafOptions{Name: "RSA Signer"})
	ecLeaf := e.pki.Leaf(t, testpki.LeafOptions{Name: "ECDSA Signer", Key: testpki.ECDSAP256})
	cases := []struct {
		name     string
		leaf     *testpki.Cert
		args     []string
		detached bool
		format   string
	}{
		{"attached RSA", rsaLeaf, []string{"-nodetach"}, false, "PKCS7"},
		{"detached RSA", rsaLeaf, nil, true, "PKCS7"},
		{"attached CAdES RSA", rsaLeaf, []string{"-nodetach", "-cades"}, false, "CAdES-BASELINE-B"},
		{"detached CAdES ECDSA", ecLeaf, []string{"-cades"}, true, "CAdES-BASELINE-B"},
		{"attached ECDSA", ecLeaf, []string{"-nodetach"}, false, "PKCS7"},
		{"signer by subject key identifier", rsaLeaf, []string{"-nodetach", "-keyid", "-cades"}, false, "CAdES-BASELINE-B"},
		{"ECDSA by subject key identifier", ecLeaf, []string{"-keyid"}, true, "PKCS7"},
		{"SHA-512", rsaLeaf, []string{"-nodetach", "-md", "sha512", "-cades"}, false, "CAdES-BASELINE-B"},
		{"RSA-PSS", rsaLeaf, []string{"-nodetach", "-keyopt", "rsa_padding_mode:pss", "-cades"}, false, "CAdES-BASELINE-B"},
		{"no signed attributes", rsaLeaf, []string{"-nodetach", "-noattr"}, false, "PKCS7"},
		{"PEM output", rsaLeaf, []string{"-nodetach", "-outform", "PEM"}, false, "PKCS7"},
		{"BER indefinite lengths (-stream)", rsaLeaf, []string{"-nodetach", "-stream", "-cades"}, false, "CAdES-BASELINE-B"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sig := opensslSign(t, c.leaf, c.args...)
			var det Content
			if c.detached {
				det = bytesContent{"in.txt", content}
			}
			rep := e.verify(sig, e.config(), det)
			expect(t, rep, report.TotalPassed, "")
			if got := rep.Signatures[0].Format; got != c.format {
				t.Errorf("format %q, want %q", got, c.format)
			}
		})
	}
}

// TestOpenSSLSeveralSigners checks that each signer of a multi-signer file
// is judged on its own.
func TestOpenSSLSeveralSigners(t *testing.T) {
	e := newEnv(t)
	a := e.pki.Leaf(t, testpki.LeafOptions{Name: "Signer A"})
	b := e.pki.Leaf(t, testpki.LeafOptions{Name: "Signer B", Key: testpki.ECDSAP256})
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	out := filepath.Join(dir, "out.p7m")
	os.WriteFile(in, content, 0o644)
	openssl(t, "cms", "-sign", "-binary", "-nodetach", "-cades", "-in", in, "-signer", a.CertPath, "-inkey", a.KeyPath,
		"-signer", b.CertPath, "-inkey", b.KeyPath, "-certfile", e.pki.ChainFile(), "-outform", "DER", "-out", out)
	sig, _ := os.ReadFile(out)
	rep := e.verify(sig, e.config(), nil)
	if len(rep.Signatures) != 2 {
		t.Fatalf("%d signatures, want 2", len(rep.Signatures))
	}
	for _, s := range rep.Signatures {
		if s.Indication != report.TotalPassed {
			t.Errorf("%s: %s/%s %q", s.ID, s.Indication, s.SubIndication, s.Errors)
		}
	}
	// Revoke one signer: only its verdict changes, the report's is the worst.
	e.pki.Revoke(b, a.Cert.NotBefore, 1)
	rep = e.verify(sig, e.config(), nil)
	if rep.Signatures[0].Indication == rep.Signatures[1].Indication {
		t.Errorf("both signers judged %s after revoking one", rep.Signatures[0].Indication)
	}
	if rep.Indication != report.TotalFailed {
		t.Errorf("report indication %s, want TOTAL-FAILED", rep.Indication)
	}
}

// TestOpenSSLTimestampTokenPasses builds a time stamp with openssl ts
// -reply, signed by the test TSA, over one of our signatures, adds it as
// its signature-time-stamp, and expects our verifier to accept it.
func TestOpenSSLTimestampTokenPasses(t *testing.T) {
	e := newEnv(t)
	leaf := e.pki.Leaf(t, testpki.LeafOptions{})
	sig := e.sign(leaf, content, signerOptions())
	sd, err := cms.ParseContentInfo(sig)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	value := filepath.Join(dir, "sigvalue.bin")
	os.WriteFile(value, sd.SignerInfos[0].Signature, 0o644)
	cnf := filepath.Join(dir, "ts.cnf")
	os.WriteFile(cnf, []byte(`[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = `+filepath.Join(dir, "serial")+`
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1.1
digests = sha256
accuracy = secs:1
ess_cert_id_alg = sha256
ess_cert_id_chain = no
`), 0o644)
	os.WriteFile(filepath.Join(dir, "serial"), []byte("01\n"), 0o644)
	openssl(t, "ts", "-query", "-data", value, "-sha256", "-cert", "-out", filepath.Join(dir, "q.tsq"))
	openssl(t, "ts", "-reply", "-config", cnf, "-queryfile", filepath.Join(dir, "q.tsq"), "-signer", e.pki.TSA.CertPath,
		"-inkey", e.pki.TSA.KeyPath, "-chain", e.pki.CA.CertPath, "-token_out", "-out", filepath.Join(dir, "tok.der"))
	tok, _ := os.ReadFile(filepath.Join(dir, "tok.der"))
	stamped, err := cms.AddUnsignedAttribute(sig, 0, cms.EncodeAttribute(cms.OIDAttrSignatureTimestamp, tok))
	if err != nil {
		t.Fatal(err)
	}
	rep := e.verify(stamped, e.config(), nil)
	expect(t, rep, report.TotalPassed, "")
	s := rep.Signatures[0]
	if s.Format != "CAdES-BASELINE-T" || len(s.Timestamps) != 1 || s.Timestamps[0].Indication != report.TotalPassed {
		t.Fatalf("format %s, time stamps %+v", s.Format, s.Timestamps)
	}
	if !s.BestSignatureTime.Equal(*s.Timestamps[0].ProductionTime) {
		t.Errorf("best-signature-time %v is not the time stamp's %v", s.BestSignatureTime, s.Timestamps[0].ProductionTime)
	}
}
