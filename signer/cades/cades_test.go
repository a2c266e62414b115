package cades_test

import (
	"bytes"
	"context"
	"crypto"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"esig/internal/testpki"
	"esig/signer/cades"
	"esig/signer/tsp"
	"esig/verifier/revocation"
)

var content = []byte("Deklaracja ZUS DRA, styczeń 2026\n")

func tsaFor(p *testpki.PKI) cades.Timestamper {
	c := &tsp.Client{URL: p.TSAURL()}
	return cades.TimestamperFunc(func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
		r, err := c.Timestamp(ctx, d, h)
		if err != nil {
			return nil, err
		}
		return r.Token, nil
	})
}

// TestOpenSSLVerifiesOurSignatures is the independent judge: openssl cms
// -verify must accept what we sign, with -cades checking the
// signing-certificate-v2 binding.
func TestOpenSSLVerifiesOurSignatures(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	p := testpki.New(t)
	rsaLeaf := p.Leaf(t, testpki.LeafOptions{Name: "RSA"})
	ecLeaf := p.Leaf(t, testpki.LeafOptions{Name: "EC", Key: testpki.ECDSAP256})
	cases := []struct {
		name string
		leaf *testpki.Cert
		opts cades.Options
	}{
		{"B-B attached RSA", rsaLeaf, cades.Options{}},
		{"B-B detached RSA", rsaLeaf, cades.Options{Detached: true}},
		{"B-B attached ECDSA", ecLeaf, cades.Options{}},
		{"B-B detached ECDSA SHA-384", ecLeaf, cades.Options{Detached: true, Hash: crypto.SHA384}},
		{"B-B RSA-PSS", rsaLeaf, cades.Options{PSS: true}},
		{"B-T", rsaLeaf, cades.Options{Level: cades.LevelT}},
		{"B-LT", rsaLeaf, cades.Options{Level: cades.LevelLT}},
		{"B-LTA detached", rsaLeaf, cades.Options{Level: cades.LevelLTA, Detached: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := c.opts
			o.Signer, o.Certificate = c.leaf.Key, c.leaf.Cert
			o.Chain = append(o.Chain, p.CA.Cert)
			if o.Level >= cades.LevelT {
				o.Timestamper = tsaFor(p)
			}
			if o.Level >= cades.LevelLT {
				o.Validation = cades.OnlineValidation{Fetcher: revocation.NewHTTPFetcher()}
				o.Chain = append(o.Chain, p.Root.Cert)
			}
			var out bytes.Buffer
			if err := cades.Sign(context.Background(), bytes.NewReader(content), &out, o); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			sig := filepath.Join(dir, "sig.p7m")
			data := filepath.Join(dir, "data.txt")
			os.WriteFile(sig, out.Bytes(), 0o644)
			os.WriteFile(data, content, 0o644)
			args := []string{"cms", "-verify", "-binary", "-cades", "-purpose", "any", "-CAfile", p.TrustFile(), "-inform", "DER", "-in", sig, "-out", filepath.Join(dir, "out.txt")}
			if o.Detached {
				args = append(args, "-content", data)
			}
			msg, err := exec.Command("openssl", args...).CombinedOutput()
			if err != nil {
				t.Fatalf("openssl cms -verify: %v\n%s", err, msg)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "out.txt"))
			if !bytes.Equal(got, content) {
				t.Errorf("openssl recovered %q, want %q", got, content)
			}
		})
	}
}

// TestRefusesWeakAlgorithms checks that new signatures are never made
// with algorithms the policy would refuse.
func TestRefusesWeakAlgorithms(t *testing.T) {
	p := testpki.New(t)
	weak := p.Leaf(t, testpki.LeafOptions{Key: testpki.RSA1024})
	good := p.Leaf(t, testpki.LeafOptions{})
	cases := []struct {
		name string
		opts cades.Options
	}{
		{"RSA-1024", cades.Options{Signer: weak.Key, Certificate: weak.Cert}},
		{"SHA-1", cades.Options{Signer: good.Key, Certificate: good.Cert, Hash: crypto.SHA1}},
		{"key of another certificate", cades.Options{Signer: testpki.NewKey(testpki.ECDSAP256), Certificate: good.Cert}},
		{"B-T without a TSA", cades.Options{Signer: good.Key, Certificate: good.Cert, Level: cades.LevelT}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := cades.Sign(context.Background(), bytes.NewReader(content), &out, c.opts); err == nil {
				t.Fatal("signed; want an error")
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written despite the error", out.Len())
			}
		})
	}
}
