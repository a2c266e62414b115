package tsa_test

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"esig/ca/tsa"
	"esig/internal/cms"
	"esig/internal/testpki"
)

func newTSA(t *testing.T, p *testpki.PKI, clock func() time.Time) *tsa.TSA {
	t.Helper()
	a, err := tsa.New(p.TSA.Key, p.TSA.Cert, []*x509.Certificate{p.CA.Cert}, testpki.TSAPolicy, clock)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func request(t *testing.T, r timestamp.Request) []byte {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRespond checks granted tokens and every rejection.
func TestRespond(t *testing.T) {
	p := testpki.New(t)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	a := newTSA(t, p, func() time.Time { return at })
	d := sha256.Sum256([]byte("data"))
	d1 := sha1.Sum([]byte("data"))
	cases := []struct {
		name     string
		req      []byte
		status   int
		failInfo int // bit number, -1 for none
	}{
		{"granted", request(t, timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: d[:], Certificates: true, Nonce: big.NewInt(42)}), 0, -1},
		{"granted with our policy", request(t, timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: d[:], TSAPolicyOID: testpki.TSAPolicy}), 0, -1},
		{"SHA-1 imprint", request(t, timestamp.Request{HashAlgorithm: crypto.SHA1, HashedMessage: d1[:]}), 2, 0},
		{"imprint of the wrong length", request(t, timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: d[:20]}), 2, 5},
		{"other policy", request(t, timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: d[:], TSAPolicyOID: asn1.ObjectIdentifier{1, 2, 3}}), 2, 15},
		{"garbage", []byte("garbage"), 2, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, err := a.Respond(c.req)
			if err != nil {
				t.Fatal(err)
			}
			r, err := cms.ParseTimeStampResp(raw)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != c.status {
				t.Fatalf("status %d, want %d", r.Status, c.status)
			}
			if c.failInfo >= 0 && r.FailInfo.At(c.failInfo) != 1 {
				t.Errorf("failInfo bit %d not set: %v", c.failInfo, r.FailInfo)
			}
			if c.status != 0 {
				if r.Token != nil {
					t.Error("rejection carries a token")
				}
				return
			}
			tok, err := cms.ParseToken(r.Token)
			if err != nil {
				t.Fatal(err)
			}
			if !tok.Info.GenTime.Equal(at) || !bytes.Equal(tok.Info.HashedMessage, d[:]) || !tok.Info.Policy.Equal(testpki.TSAPolicy) {
				t.Errorf("TSTInfo %+v", tok.Info)
			}
			if tok.Info.Accuracy != time.Second {
				t.Errorf("accuracy %v", tok.Info.Accuracy)
			}
			refs, err := tok.Signer().SigningCertificateRefs()
			if err != nil || len(refs) == 0 || !refs[0].MatchesDigest(p.TSA.Cert) {
				t.Errorf("signing-certificate-v2 does not bind the TSA certificate: %v", err)
			}
		})
	}
}

// TestNewRefusesUnfitCertificates: RFC 3161 2.3 wants exactly a critical
// id-kp-timeStamping.
func TestNewRefusesUnfitCertificates(t *testing.T) {
	p := testpki.New(t)
	leaf := p.Leaf(t, testpki.LeafOptions{})
	cases := []struct {
		name   string
		signer crypto.Signer
		cert   *x509.Certificate
		policy asn1.ObjectIdentifier
	}{
		{"not a TSA certificate", leaf.Key, leaf.Cert, testpki.TSAPolicy},
		{"key of another certificate", leaf.Key, p.TSA.Cert, testpki.TSAPolicy},
		{"no policy", p.TSA.Key, p.TSA.Cert, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := tsa.New(c.signer, c.cert, nil, c.policy, nil); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestHTTP checks the handler: method, content types and body limit.
func TestHTTP(t *testing.T) {
	p := testpki.New(t)
	srv := httptest.NewServer(newTSA(t, p, nil))
	defer srv.Close()
	d := sha256.Sum256([]byte("x"))
	good := request(t, timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: d[:]})
	cases := []struct {
		name, method, ctype string
		body                []byte
		code                int
	}{
		{"granted", http.MethodPost, tsa.ContentTypeQuery, good, 200},
		{"GET", http.MethodGet, "", nil, 405},
		{"wrong content type", http.MethodPost, "text/plain", good, 415},
		{"too large", http.MethodPost, tsa.ContentTypeQuery, make([]byte, tsa.MaxRequestSize+1), 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, srv.URL, bytes.NewReader(c.body))
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != c.code {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, c.code)
			}
			if c.code == 200 && resp.Header.Get("Content-Type") != tsa.ContentTypeReply {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
}

// TestOpenSSLAcceptsTokens: openssl ts -verify is the independent judge of
// our tokens, with and without certificates requested.
func TestOpenSSLAcceptsTokens(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	p := testpki.New(t)
	a := newTSA(t, p, nil)
	dir := t.TempDir()
	data := filepath.Join(dir, "data.txt")
	os.WriteFile(data, []byte("Zgłoszenie celne SAD\n"), 0o644)
	for _, certReq := range []bool{true, false} {
		q := filepath.Join(dir, "q.tsq")
		args := []string{"ts", "-query", "-data", data, "-sha256", "-out", q}
		if certReq {
			args = append(args, "-cert")
		}
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		req, _ := os.ReadFile(q)
		resp, err := a.Respond(req)
		if err != nil {
			t.Fatal(err)
		}
		tsr := filepath.Join(dir, "r.tsr")
		os.WriteFile(tsr, resp, 0o644)
		untrusted := p.CA.CertPath
		if !certReq {
			untrusted = filepath.Join(dir, "both.pem")
			ca, _ := os.ReadFile(p.CA.CertPath)
			ts, _ := os.ReadFile(p.TSA.CertPath)
			os.WriteFile(untrusted, append(ca, ts...), 0o644)
		}
		out, err := exec.Command("openssl", "ts", "-verify", "-queryfile", q, "-in", tsr, "-CAfile", p.TrustFile(), "-untrusted", untrusted).CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("Verification: OK")) {
			t.Fatalf("certReq=%v: openssl ts -verify: %v\n%s", certReq, err, out)
		}
	}
}
