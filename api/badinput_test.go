package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	"esig/api/apitest"
	"esig/api/auth"
)

// TestBadInputRefusedAndNothingStored sends each kind of bad request and
// checks the problem (status, type, the field at fault) and that neither a
// certificate nor an audit entry was written.
func TestBadInputRefusedAndNothingStored(t *testing.T) {
	needOpenSSL(t)
	env := apitest.Start(t, apitest.Options{})
	good, _ := opensslCSR(t, ecKey...)
	rsa1024, _ := opensslCSR(t, "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024")

	// A CSR whose self-signature does not match its content.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
	der[len(der)-5] ^= 0xff
	badSig := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))

	readOnly, _, err := auth.Create(t.Context(), env.App.Store, "reader", []string{auth.ScopeRead}, "test")
	if err != nil {
		t.Fatal(err)
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range person {
			m[a] = b
		}
		m[k] = v
		return m
	}
	seal := map[string]string{"organizationName": "Urząd", "nip": "5252955038"}
	big := `{"csr":"` + strings.Repeat("A", 2<<20) + `"}`

	tests := []struct {
		name   string
		token  string
		body   string
		status int
		ptype  string
		field  string
	}{
		{"garbage CSR", env.AdminToken, string(issueBody("-----BEGIN CERTIFICATE REQUEST-----\nnonsense\n-----END CERTIFICATE REQUEST-----\n", "person-signing", person)), 400, "invalid-request", "csr"},
		{"not PEM nor DER", env.AdminToken, string(issueBody("hello", "person-signing", person)), 400, "invalid-request", "csr"},
		{"bad self-signature", env.AdminToken, string(issueBody(badSig, "person-signing", person)), 400, "invalid-request", "csr"},
		{"RSA-1024 key", env.AdminToken, string(issueBody(rsa1024, "person-signing", person)), 400, "invalid-request", "csr"},
		{"PESEL checksum", env.AdminToken, string(issueBody(good, "person-signing", with("pesel", "44051401358"))), 400, "invalid-request", "subject.pesel"},
		{"NIP checksum", env.AdminToken, string(issueBody(good, "organization-seal", seal)), 400, "invalid-request", "subject.nip"},
		{"unknown profile", env.AdminToken, string(issueBody(good, "server-tls", person)), 400, "invalid-request", "profile"},
		{"service profile", env.AdminToken, string(issueBody(good, "ocsp", person)), 400, "invalid-request", "profile"},
		{"unknown field", env.AdminToken, `{"csr":"x","profile":"person-signing","subject":{},"extra":1}`, 400, "invalid-request", "extra"},
		{"wrong type", env.AdminToken, `{"csr":5}`, 400, "invalid-request", "csr"},
		{"trailing data", env.AdminToken, string(issueBody(good, "person-signing", person)) + "{}", 400, "invalid-request", ""},
		{"missing key", "", string(issueBody(good, "person-signing", person)), 401, "unauthorized", ""},
		{"wrong key", "esig_0123456789abcdef_" + strings.Repeat("A", 43), string(issueBody(good, "person-signing", person)), 401, "unauthorized", ""},
		{"malformed key", "not-a-key", string(issueBody(good, "person-signing", person)), 401, "unauthorized", ""},
		{"wrong scope", readOnly, string(issueBody(good, "person-signing", person)), 403, "forbidden", ""},
		{"oversized body", env.AdminToken, big, 413, "request-too-large", ""},
	}
	certs0, audit0 := counts(t, env)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := env.Do(t, "POST", "/v1/certificates", tt.token, []byte(tt.body))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			var p struct{ Type, Title, Detail, Field string }
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("problem is not JSON: %s", body)
			}
			if p.Type != "urn:esig:problem:"+tt.ptype || p.Field != tt.field || p.Title == "" || p.Detail == "" {
				t.Errorf("problem %+v, want type %s field %q with title and detail", p, tt.ptype, tt.field)
			}
			if certs, entries := counts(t, env); certs != certs0 || entries != audit0 {
				t.Errorf("refused request stored something: certificates %d->%d, audit entries %d->%d", certs0, certs, audit0, entries)
			}
		})
	}
	// The wrong media type is refused before the body is read.
	req, _ := http.NewRequest("POST", env.URL+"/v1/certificates", strings.NewReader("csr=x"))
	req.Header.Set("Authorization", "Bearer "+env.AdminToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form body: status %d, want 415", resp.StatusCode)
	}
}
