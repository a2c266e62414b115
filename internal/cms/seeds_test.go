package cms_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"esig/internal/testpki"
	"esig/signer/cades"
	"esig/signer/tsp"
	"esig/verifier/revocation"
)

// TestWriteFuzzSeeds regenerates the committed seed corpora of the CMS,
// time-stamp, OCSP and verifier fuzz targets from a throwaway PKI (no real
// person's certificate). It runs only with ESIG_WRITE_FUZZ_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("ESIG_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set ESIG_WRITE_FUZZ_SEEDS=1 to regenerate the fuzz seed corpora")
	}
	p := testpki.New(t)
	rsaLeaf := p.Leaf(t, testpki.LeafOptions{Name: "Seed RSA"})
	ecLeaf := p.Leaf(t, testpki.LeafOptions{Name: "Seed EC", Key: testpki.ECDSAP256})
	client := &tsp.Client{URL: p.TSAURL()}
	ts := cades.TimestamperFunc(func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
		r, err := client.Timestamp(ctx, d, h)
		if err != nil {
			return nil, err
		}
		return r.Token, nil
	})
	sign := func(leaf *testpki.Cert, o cades.Options) []byte {
		o.Signer, o.Certificate, o.Chain, o.Timestamper = leaf.Key, leaf.Cert, []*x509.Certificate{p.CA.Cert, p.Root.Cert}, ts
		o.Validation = cades.OnlineValidation{Fetcher: revocation.NewHTTPFetcher()}
		var out bytes.Buffer
		if err := cades.Sign(context.Background(), bytes.NewReader([]byte("seed content")), &out, o); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	bb := sign(rsaLeaf, cades.Options{})
	lta := sign(rsaLeaf, cades.Options{Level: cades.LevelLTA, Detached: true})
	pss := sign(rsaLeaf, cades.Options{PSS: true, Level: cades.LevelT})
	ec := sign(ecLeaf, cades.Options{Level: cades.LevelLT})
	counter, err := cades.CounterSign(bb, 0, cades.Options{Signer: ecLeaf.Key, Certificate: ecLeaf.Cert})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.WriteFile(in, []byte("seed content"), 0o644)
	ber := filepath.Join(dir, "ber")
	if out, err := exec.Command("openssl", "cms", "-sign", "-binary", "-nodetach", "-stream", "-in", in, "-signer", rsaLeaf.CertPath,
		"-inkey", rsaLeaf.KeyPath, "-outform", "DER", "-out", ber).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	berSig, _ := os.ReadFile(ber)
	if berSig[1] != 0x80 {
		t.Fatalf("openssl -stream output is not indefinite-length BER")
	}
	d := make([]byte, 32)
	resp, err := client.Timestamp(context.Background(), d, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	ocsp := p.OCSPResponse(t, rsaLeaf.Cert, time.Now())

	signatures := map[string][]byte{"b-b": bb, "b-lta-detached": lta, "b-t-pss": pss, "b-lt-ecdsa": ec, "countersigned": counter, "ber-indefinite": berSig}
	write(t, "testdata/fuzz/FuzzParseContentInfo", signatures)
	write(t, "../../verifier/cades/testdata/fuzz/FuzzVerify", signatures)
	write(t, "testdata/fuzz/FuzzBER", map[string][]byte{"ber-indefinite": berSig, "b-b": bb})
	write(t, "testdata/fuzz/FuzzParseToken", map[string][]byte{"token": resp.Token, "response": resp.Raw})
	write(t, "../../verifier/revocation/testdata/fuzz/FuzzParseOCSPResponse", map[string][]byte{"good": ocsp})
}

func write(t *testing.T, dir string, seeds map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
