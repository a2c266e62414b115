package api_test

import (
	"crypto/x509"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"esig/api/apitest"
	"esig/internal/softhsmtest"
)

// TestIssueVerifyRevoke is the CA's promise end to end, judged by openssl
// and zlint: issue from an openssl CSR, verify the chain, OCSP good,
// revoke, OCSP revoked, the CRL shard lists the serial with its reason.
func TestIssueVerifyRevoke(t *testing.T) {
	needOpenSSL(t)
	variants := []struct {
		name string
		opts func(t *testing.T) apitest.Options
	}{
		{"sqlite", func(*testing.T) apitest.Options { return apitest.Options{} }},
		{"sqlite-rsa3072", func(*testing.T) apitest.Options { return apitest.Options{KeyType: "rsa-3072"} }},
		{"postgres", func(*testing.T) apitest.Options { return apitest.Options{Postgres: true} }},
		{"softhsm", func(t *testing.T) apitest.Options { return apitest.Options{HSM: softhsmtest.New(t).URI("")} }},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			env := apitest.Start(t, v.opts(t))
			issueVerifyRevoke(t, env)
		})
	}
}

func issueVerifyRevoke(t *testing.T, env *apitest.Env) {
	dir := t.TempDir()
	csr, _ := opensslCSR(t, ecKey...)
	resp, body := env.Do(t, "POST", "/v1/certificates", env.AdminToken, issueBody(csr, "person-signing", person))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("issue: %d %s", resp.StatusCode, body)
	}
	var cr certResponse
	if err := json.Unmarshal(body, &cr); err != nil {
		t.Fatal(err)
	}
	cert := parsePEMCert(t, cr.Certificate)
	if got := cert.Subject.CommonName; got != "Jan Kowalski" {
		t.Errorf("CN = %q: the subject must come from the request, not the CSR", got)
	}
	if findings := zlintFindings(t, cert.Raw); len(findings) != 0 {
		t.Errorf("zlint findings: %v", findings)
	}
	leaf := writeFile(t, dir, "leaf.pem", cr.Certificate)

	// The chain as a relying party fetches it.
	chainResp, err := http.Get(env.URL + "/v1/ca/chain")
	if err != nil {
		t.Fatal(err)
	}
	chain, _ := io.ReadAll(chainResp.Body)
	chainResp.Body.Close()
	if string(chain) != cr.Chain {
		t.Error("chain in the issuance answer differs from /v1/ca/chain")
	}
	chainFile := writeFile(t, dir, "chain.pem", string(chain))
	issuing, root := splitChain(t, dir, string(chain))
	if out := run(t, "openssl", "verify", "-CAfile", root, "-untrusted", issuing, leaf); !strings.Contains(out, "OK") {
		t.Fatalf("openssl verify: %s", out)
	}

	ocsp := func(want string) {
		t.Helper()
		out := run(t, "openssl", "ocsp", "-issuer", issuing, "-cert", leaf, "-url", env.URL+"/ocsp", "-CAfile", chainFile)
		if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, leaf+": "+want) {
			t.Fatalf("openssl ocsp, want %q:\n%s", want, out)
		}
		if strings.Contains(out, "WARNING: no nonce") {
			t.Errorf("the responder did not echo the nonce:\n%s", out)
		}
	}
	ocsp("good")

	resp, body = env.Do(t, "POST", "/v1/certificates/"+cr.Serial+"/revoke", env.AdminToken, []byte(`{"reason":"keyCompromise"}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	ocsp("revoked")

	crlURL := cert.CRLDistributionPoints[0]
	if !strings.HasPrefix(crlURL, env.URL+"/crl/") {
		t.Fatalf("CRL distribution point %q is not served here", crlURL)
	}
	crlResp, err := http.Get(crlURL)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(crlResp.Body)
	crlResp.Body.Close()
	crlFile := filepath.Join(dir, "shard.crl")
	os.WriteFile(crlFile, der, 0o600)
	text := run(t, "openssl", "crl", "-inform", "DER", "-in", crlFile, "-CAfile", issuing, "-verify", "-noout", "-text")
	if !strings.Contains(text, "verify OK") || !strings.Contains(text, strings.ToUpper(cr.Serial)) || !strings.Contains(text, "Key Compromise") || !strings.Contains(text, "URI:"+crlURL) {
		t.Fatalf("CRL shard does not list the serial with its reason and IDP:\n%s", text)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := new(big.Int).SetString(cr.Serial, 16)
	found := false
	for _, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(serial) == 0 && e.ReasonCode == 1 {
			found = true
		}
	}
	if !found || rl.Number.Sign() <= 0 || len(rl.AuthorityKeyId) == 0 {
		t.Fatalf("CRL entries %v number %v AKI %x", rl.RevokedCertificateEntries, rl.Number, rl.AuthorityKeyId)
	}
}
